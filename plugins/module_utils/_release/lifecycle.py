# -*- coding: utf-8 -*-
# Copyright: lastgood.webstack contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A release's way through the registry: staged, validated, switched in
(``live``), marked ``known_good``, ``invalid`` or ``bad``, removed, pruned;
and the freeze that refuses new releases."""

from __future__ import annotations

import errno
import json
import os
import shutil

from ansible_collections.lastgood.webstack.plugins.module_utils._release.fsops import (
    copy_tree,
    fsync_dir,
    replace_symlink,
    secure_dir,
    write_atomic,
)
from ansible_collections.lastgood.webstack.plugins.module_utils._release.layout import MANIFEST, ReleaseError, now, user
from ansible_collections.lastgood.webstack.plugins.module_utils._release.manifest import (
    format_size,
    checksum_of,
    manifest_lines,
    read_probe,
    tree_size,
)
from ansible_collections.lastgood.webstack.plugins.module_utils._release.registry import (
    require_release,
    add_event,
    describe_freeze,
    gone_message,
    known_good_by_age,
    new_record,
    prune_candidates,
    set_status,
)
from ansible_collections.lastgood.webstack.plugins.module_utils._release.shared import (
    check_paths,
    link_shared,
    make_writable,
    paths_of,
    plan_shared,
    shared_root,
)


def _record(checksum, probe, shared, writable):
    record = new_record(checksum, probe)
    if shared:
        record["shared_paths"] = shared
    if writable:
        record["writable_paths"] = writable
    return record


def stage(site, state, release_id, src, check_mode, shared_paths=None, writable_paths=None, owner_ids=(-1, -1)):
    """Copy ``src`` to the release's folder and register it. ``shared_paths``
    become links to ``<site>/shared/`` and ``writable_paths`` (globs) the
    application's to write, owned by ``owner_ids`` (uid, gid; -1 leaves
    it); both are recorded with the release and left out of its manifest
    check (see shared.py). The checksum is the bundle's as given."""
    shared, writable = check_paths(shared_paths, writable_paths)
    if not os.path.isdir(src):
        raise ReleaseError("src %s is not a directory on the host" % src)
    probe = read_probe(src)
    lines = manifest_lines(src)
    manifest = "".join(lines)
    checksum = checksum_of(manifest)
    dest = site.release_dir(release_id)
    record = state["releases"].get(release_id)
    again = []
    if record is not None and record.get("status") == "damaged" and record.get("checksum") == checksum:
        # The same content again over a copy whose files were changed: stage it afresh.
        if site.current() == release_id:
            raise ReleaseError("release %s is live and damaged (%s); it cannot be staged again while it serves: "
                               "switch to another release first (state=rolled_back, or deploy another)" % (
                                   release_id, record.get("damage") or "its files differ from its manifest"))
        if check_mode:
            return ["staged release %s again over its damaged copy (checksum %s)" % (release_id, checksum)]
        if os.path.lexists(dest):
            _remove_dir(site, release_id)
        again = ["removed the damaged copy of release %s (%s)" % (release_id, record.get("damage") or "damaged")]
    elif os.path.lexists(dest):
        try:
            existing = checksum_of(site.read_manifest(release_id))
        except OSError:
            existing = None
        if existing != checksum:
            raise ReleaseError(
                "release %s already exists at %s with other content (checksum %s, this src %s); "
                "a staged release never changes: give the new content a new release_id" % (
                    release_id, dest, existing or "unknown", checksum))
        if record is None:
            # Staged on disk but not registered (a run died in between).
            if not check_mode:
                state["releases"][release_id] = _record(checksum, probe, shared, writable)
                add_event(state, "staged", release_id, checksum=checksum)
            return ["registered release %s" % release_id]
        if paths_of(record) != (shared, writable):
            raise ReleaseError(
                "release %s was staged with shared_paths %s and writable_paths %s, not %s and %s; a staged release "
                "never changes: give it a new release_id (or remove it with state=absent and stage it again)" % (
                    release_id, paths_of(record)[0], paths_of(record)[1], shared, writable))
        return []
    if record is not None and record.get("checksum") not in (None, checksum):
        raise ReleaseError("release %s is registered with checksum %s, this src has %s" % (
            release_id, record.get("checksum"), checksum))
    plan = plan_shared(site, src, shared)
    linked = ["linked %s to %s/%s" % (path, shared_root(site), path) for path in shared]
    if check_mode:
        state["releases"][release_id] = _record(checksum, probe, shared, writable)
        add_event(state, "staged", release_id, checksum=checksum)
        return ["staged release %s (checksum %s)" % (release_id, checksum)] + linked
    seeded = _copy_in(site, release_id, src, manifest, plan, writable, owner_ids)
    fsync_dir(site.releases_dir)
    state["releases"][release_id] = _record(checksum, probe, shared, writable)
    add_event(state, "staged", release_id, checksum=checksum)
    return again + ["staged release %s (checksum %s)" % (release_id, checksum)] + seeded + linked


def _copy_in(site, release_id, src, manifest, plan, writable, owner_ids):
    """Copy ``src`` into the release's folder through a temporary one, with
    its shared paths linked and its writable paths given to the
    application; what was created in shared/."""
    dest = site.release_dir(release_id)
    os.makedirs(site.releases_dir, exist_ok=True)
    secure_dir(site.releases_dir)
    temporary = os.path.join(site.releases_dir, ".%s.%d.staging" % (release_id, os.getpid()))
    # Staging happens only under the lock, so any other staging folder was
    # left by a run that was killed while copying.
    for name in os.listdir(site.releases_dir):
        if name.startswith(".") and name.endswith(".staging"):
            shutil.rmtree(os.path.join(site.releases_dir, name), ignore_errors=True)
    try:
        copy_tree(src, temporary)
        copied = "".join(manifest_lines(temporary))
        if copied != manifest:
            raise ReleaseError("src %s changed while it was staged; stage it again" % src)
        if plan and not os.path.isdir(shared_root(site)):
            os.mkdir(shared_root(site), 0o755)
        seeded = link_shared(site, temporary, plan, *owner_ids)
        make_writable(temporary, writable, *owner_ids)
        write_atomic(os.path.join(temporary, MANIFEST), manifest.encode("utf-8", "surrogateescape"))
        os.rename(temporary, dest)
    except BaseException as error:
        shutil.rmtree(temporary, ignore_errors=True)
        if isinstance(error, OSError) and error.errno in (errno.ENOSPC, errno.EDQUOT):
            raise ReleaseError(
                "no space left on device while staging release %s into %s (%s of files from %s); nothing live "
                "changed: current, the live release and the registry are as they were, and the partial copy was "
                "removed. Free space on that filesystem, or remove old releases (state=pruned), then stage again"
                % (release_id, site.releases_dir, format_size(tree_size(src)), src))
        raise
    return seeded


def switch(site, state, release_id, check_mode, allow_statuses=("staged", "validated", "live", "known_good"),
           event="switched"):
    """Point ``current`` at ``release_id``. Going from a release that is not
    known good back to a known-good one is recorded as a rollback."""
    record = require_release(state, release_id)
    if not os.path.isdir(site.release_dir(release_id)):
        raise ReleaseError(gone_message(site, release_id, record))
    current = site.current()
    if current == release_id:
        if record["status"] not in ("live", "known_good"):
            set_status(state, release_id, "live")
            state["current"] = release_id
            return ["recorded release %s as live" % release_id]
        state["current"] = release_id
        return []
    if record["status"] == "damaged":
        raise ReleaseError("release %s is damaged (%s) and is never switched in; stage its bundle again (a deploy "
                           "does) to restore its files" % (release_id, record.get("damage") or "its files differ"))
    if record["status"] not in allow_statuses:
        raise ReleaseError("release %s is %s; only a %s release can be switched in" % (
            release_id, record["status"], " or ".join(allow_statuses)))
    # In check mode the registry is changed in memory only, so that the
    # module's diff shows what would happen; nothing is saved.
    replaced = state["releases"].get(current or "", {}).get("status")
    if record["status"] == "known_good" and current and replaced != "known_good":
        event = "rolled_back"
    if not check_mode:
        replace_symlink(site.current_link, os.path.join("releases", release_id))
    add_event(state, event, release_id, **{"from": current, "to": release_id})
    if record["status"] != "known_good":
        set_status(state, release_id, "live")
    else:
        record["live_at"] = now()
    state["current"] = release_id
    return ["switched current from %s to %s" % (current or "nothing", release_id)]


def unswitch(site, state, check_mode):
    """Remove ``current`` (a first release that failed: back to no release)."""
    current = site.current()
    if current is None and not os.path.lexists(site.current_link):
        return []
    if not check_mode:
        os.unlink(site.current_link)
        fsync_dir(site.dir)
    state["current"] = None
    add_event(state, "rolled_back", None, **{"from": current, "to": None})
    return ["removed current (was %s)" % (current or "a broken link")]


def mark_known_good(site, state, release_id, check_mode):
    record = require_release(state, release_id)
    if site.current() != release_id:
        raise ReleaseError("release %s is not live (current is %s); only the live release can be marked "
                           "known_good, after its probe passed" % (release_id, site.current() or "nothing"))
    if record["status"] == "known_good" and state.get("known_good") == release_id:
        return []
    if record["status"] == "damaged":
        raise ReleaseError("release %s is damaged (%s): its files no longer match its manifest, so it cannot be "
                           "marked known_good; deploy a release to have a known-good one" % (
                               release_id, record.get("damage") or "its files differ"))
    set_status(state, release_id, "known_good")
    add_event(state, "known_good", release_id)
    if state.get("known_good") != release_id:
        state["previous_known_good"] = state.get("known_good")
        state["known_good"] = release_id
    return ["marked release %s known_good" % release_id]


def mark_failed(site, state, release_id, status, reason, check_mode):
    """Mark a release invalid (failed validation) or bad (failed its probe)."""
    record = require_release(state, release_id)
    if status == "invalid" and site.current() == release_id:
        raise ReleaseError("release %s is live; a live release that fails is marked bad, not invalid" % release_id)
    if record["status"] == status and (reason is None or record.get("reason") == reason):
        return []
    set_status(state, release_id, status)
    add_event(state, status, release_id, reason=reason)
    if reason is not None:
        record["reason"] = reason
    if state.get("known_good") == release_id:
        state["known_good"] = state.get("previous_known_good")
        state["previous_known_good"] = None
    elif state.get("previous_known_good") == release_id:
        state["previous_known_good"] = None
    return ["marked release %s %s" % (release_id, status)]


def mark_validated(site, state, release_id, check_mode):
    record = require_release(state, release_id)
    if record["status"] != "staged":
        return []
    set_status(state, release_id, "validated")
    return ["marked release %s validated" % release_id]


def _protected(site, state):
    """Never removed: the live release, the known-good ones a rollback would
    restore first (the newest known-good other than the live one), and the
    known-good pointers."""
    current = site.current()
    fallback = known_good_by_age(state, exclude=current)[:1]
    return {rid for rid in [current, state.get("known_good"), state.get("previous_known_good")] + fallback if rid}


def remove(site, state, release_id, check_mode):
    if release_id not in state["releases"] and not os.path.lexists(site.release_dir(release_id)):
        return []
    if release_id in _protected(site, state):
        raise ReleaseError("release %s is live, known good or the one a rollback would restore; it cannot be removed"
                           % release_id)
    if not check_mode:
        _remove_dir(site, release_id)
    state["releases"].pop(release_id, None)
    if state.get("previous_known_good") == release_id:
        state["previous_known_good"] = None
    return ["removed release %s" % release_id]


def _remove_dir(site, release_id):
    path = site.release_dir(release_id)
    if os.path.lexists(path):
        # Rename first, so a half-removed release is never seen under its id.
        doomed = os.path.join(site.releases_dir, ".%s.%d.removing" % (release_id, os.getpid()))
        os.rename(path, doomed)
        shutil.rmtree(doomed)


def prune(site, state, keep, check_mode):
    done = []
    for release_id in prune_candidates(state, keep, _protected(site, state)):
        done.extend(remove(site, state, release_id, check_mode))
    return done


def set_freeze(site, state, reason, by, check_mode):
    """Freeze the site (new releases refused) with ``reason``, or thaw it
    when ``reason`` is None."""
    current = site.freeze()
    if reason is None:
        if current is None and not os.path.lexists(site.freeze_path):
            return []
        if not check_mode:
            os.unlink(site.freeze_path)
            add_event(state, "thawed", site.current(), reason=(current or {}).get("reason"))
        return ["thawed site %s (was frozen: %s)" % (site.name, describe_freeze(current or {}))]
    if current is not None and current.get("reason") == reason:
        return []
    if not check_mode:
        record = {"reason": reason, "by": by or user(), "since": now()}
        write_atomic(site.freeze_path, (json.dumps(record, sort_keys=True) + "\n").encode())
        add_event(state, "frozen", site.current(), reason=reason)
    return ["froze site %s: %s" % (site.name, reason)]
