# -*- coding: utf-8 -*-
# Copyright: lastgood.webstack contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The repair of a registry after damage: leftover staging and removal
directories, a ``state.json`` that cannot be read (restored from its
backup), releases whose files no longer match their manifest, a
``current`` that points nowhere or outside the registry."""

from __future__ import annotations

import datetime
import json
import os
import re
import shutil

from ansible_collections.lastgood.webstack.plugins.module_utils._release.layout import (
    MANIFEST,
    RELEASE_ID,
    ReleaseError,
    STATE_BACKUP,
    TIME_FORMAT,
    now,
)
from ansible_collections.lastgood.webstack.plugins.module_utils._release.manifest import (
    checksum_of,
    describe_differences,
    read_probe,
    verify,
)
from ansible_collections.lastgood.webstack.plugins.module_utils._release.registry import (
    MISSING,
    add_event,
    empty_state,
    known_good_by_age,
    new_record,
    read_registry,
    releases_by_age,
    set_status,
)


_LEFTOVER = re.compile(r"^\.[A-Za-z0-9][A-Za-z0-9._-]{0,63}\.[0-9]+\.(staging|removing)$")


def _point_known_good(state):
    """Point known_good and previous_known_good at the newest two releases
    whose status is known_good; what changed, in words."""
    newest = known_good_by_age(state)
    wanted = {"known_good": newest[0] if newest else None,
              "previous_known_good": newest[1] if len(newest) > 1 else None}
    if state.get("known_good") in state["releases"] and \
            state["releases"][state["known_good"]].get("status") == "known_good":
        # The pointer is kept where it is right; only the previous one follows it.
        wanted["known_good"] = state["known_good"]
        older = known_good_by_age(state, exclude=state["known_good"])
        wanted["previous_known_good"] = older[0] if older else None
    done = []
    for key, value in wanted.items():
        if state.get(key) != value:
            done.append("%s is now %s (was %s)" % (key, value or "none", state.get(key) or "none"))
            state[key] = value
    return done


def repair(site, check_mode):
    """Rebuild the registry of ``site`` from what can be trusted: state.json
    when it parses, else its backup, else nothing; then the release folders
    and their manifests. A registered release whose folder is gone is
    dropped; one whose files differ from its manifest is marked damaged (a
    rollback never picks it; it gets its status back once its files match
    again); a folder with a manifest but no record is registered as staged
    (live when current points at it); the known-good pointers follow;
    leftovers of killed runs (``.<id>.<pid>.staging`` or ``.removing``)
    are removed. Nothing in a release is changed or removed.

    Returns ``(state, before, actions, report)``: the registry to save
    (in check mode, the one that would be saved; ``before`` is the one it
    started from), what changed in words, and
    ``report`` (``started_from``, ``damaged_state`` with what was wrong
    with state.json and ``kept_as``, where the caller moves it before
    saving, and lists ``dropped``, ``damaged``, ``intact_again``,
    ``registered``, ``leftovers_removed`` and ``not_releases``, and
    ``warnings``, what it could not mend)."""
    report = {"started_from": "state.json", "damaged_state": None, "kept_as": None, "dropped": [], "damaged": [],
              "intact_again": [], "registered": [], "leftovers_removed": [], "not_releases": []}
    actions = []
    state = _trusted_registry(site, report, actions)
    before = json.loads(json.dumps(state))
    on_disk = _release_folders(site, report, actions, check_mode)
    _check_registered(site, state, on_disk, report, actions)
    probe_warnings = _register_unknown(site, state, on_disk, report, actions)
    report["warnings"] = ["left %s alone: not a release folder with a manifest" % site.release_dir(name)
                          for name in report["not_releases"] if not name.startswith(".")] + probe_warnings
    current = site.current()
    if current is not None and current not in state["releases"]:
        report["warnings"].append("current points at %s, which is not a registered release; a rollback or a "
                                  "deploy mends it" % current)
    if state.get("current") != current:
        actions.append("current is %s (the symlink), the registry said %s" % (
            current or "none", state.get("current") or "none"))
        state["current"] = current
    if current in state["releases"] and state["releases"][current].get("status") in ("staged", "validated"):
        set_status(state, current, "live")
        actions.append("marked release %s live: current points at it" % current)
    actions.extend(_point_known_good(state))
    if actions:
        add_event(state, "repaired", current, reason="; ".join(actions))
    return state, before, actions, report


def _trusted_registry(site, report, actions):
    """state.json when it parses, else its backup, else an empty registry."""
    state, damage = read_registry(site.state_path, site.name)
    if state is None and damage == MISSING:
        report["started_from"] = "nothing (no state.json)"
        return empty_state(site.name)
    if state is not None:
        return state
    report["damaged_state"] = damage
    report["kept_as"] = "%s.damaged-%s" % (site.state_path, now().replace(":", ""))
    backup, backup_damage = read_registry(site.backup_path, site.name)
    if backup is not None:
        state = backup
        report["started_from"] = STATE_BACKUP
        actions.append("state.json %s: started from %s, the registry before the last change" % (
            damage, site.backup_path))
    else:
        state = empty_state(site.name)
        report["started_from"] = "the release folders alone"
        actions.append("state.json %s and %s %s: rebuilt the registry from the release folders alone" % (
            damage, site.backup_path, "does not exist" if backup_damage == MISSING else backup_damage))
    actions.append("kept the damaged state.json as %s" % report["kept_as"])
    return state


def _release_folders(site, report, actions, check_mode):
    """The release folders on disk; leftovers of killed runs are removed,
    anything else that is not a release is listed in ``not_releases``."""
    try:
        names = sorted(os.listdir(site.releases_dir))
    except FileNotFoundError:
        names = []
    on_disk = set()
    for name in names:
        path = site.release_dir(name)
        if _LEFTOVER.match(name) and os.path.isdir(path) and not os.path.islink(path):
            report["leftovers_removed"].append(name)
            actions.append("removed %s, left by a run killed while staging or removing a release" % path)
            if not check_mode:
                shutil.rmtree(path)
        elif RELEASE_ID.match(name) and os.path.isdir(path) and not os.path.islink(path):
            on_disk.add(name)
        else:
            report["not_releases"].append(name)
    return on_disk


def _check_registered(site, state, on_disk, report, actions):
    """Drop records whose folder is gone; mark damaged those whose files
    differ from their manifest, and give back their status to those that
    match again."""
    for release_id in releases_by_age(state):
        record = state["releases"][release_id]
        if release_id not in on_disk:
            report["dropped"].append(release_id)
            actions.append("dropped release %s (%s) from the registry: its folder %s is gone" % (
                release_id, record.get("status"), site.release_dir(release_id)))
            del state["releases"][release_id]
            continue
        differences = verify(site, state, release_id)
        if differences:
            described = describe_differences(differences)
            if record.get("status") != "damaged" or record.get("damage") != described:
                report["damaged"].append(release_id)
                actions.append("marked release %s damaged, it was %s: %s" % (
                    release_id, record.get("status"), described))
                if record.get("status") != "damaged":
                    record["status_before_damage"] = record.get("status")
                set_status(state, release_id, "damaged")
                record["damage"] = described
        elif record.get("status") == "damaged":
            restored = record.pop("status_before_damage", None) or "staged"
            record.pop("damage", None)
            record["status"] = restored
            report["intact_again"].append(release_id)
            actions.append("release %s matches its manifest again: %s as before" % (release_id, restored))


def _register_unknown(site, state, on_disk, report, actions):
    """Register, as staged, each folder with a manifest but no record;
    the warnings about probe settings that could not be read."""
    probe_warnings = []
    for release_id in sorted(on_disk - set(state["releases"])):
        manifest_path = os.path.join(site.release_dir(release_id), MANIFEST)
        try:
            recorded = site.read_manifest(release_id)
            staged_at = datetime.datetime.fromtimestamp(os.stat(manifest_path).st_mtime, datetime.timezone.utc)
        except OSError:
            report["not_releases"].append(release_id)
            continue
        try:
            probe = read_probe(site.release_dir(release_id))
        except (OSError, ReleaseError) as error:
            probe_warnings.append("release %s is registered without its probe settings: %s" % (release_id, error))
            probe = None
        record = new_record(checksum_of(recorded), probe, staged_at.strftime(TIME_FORMAT))
        record["registered_by_repair"] = True
        state["releases"][release_id] = record
        report["registered"].append(release_id)
        differences = verify(site, state, release_id)
        if differences:
            record.update(status="damaged", status_before_damage="staged", damage=describe_differences(differences))
            actions.append("registered release %s from its folder, damaged: %s" % (release_id, record["damage"]))
        else:
            actions.append("registered release %s from its folder and manifest (checksum %s) as staged" % (
                release_id, record["checksum"]))
    return probe_warnings
