# -*- coding: utf-8 -*-
# Copyright: lastgood.webstack contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The rollback: which release to go back to (the newest intact known-good
release), its check against its manifest and, optionally, the web server's
own config test of it, and the switch that marks the failing release bad."""

from __future__ import annotations

from ansible_collections.lastgood.webstack.plugins.module_utils._release.layout import REPAIR_HINT, ReleaseError
from ansible_collections.lastgood.webstack.plugins.module_utils._release.lifecycle import mark_failed, switch
from ansible_collections.lastgood.webstack.plugins.module_utils._release.manifest import describe_differences, verify
from ansible_collections.lastgood.webstack.plugins.module_utils._release.registry import known_good_by_age, require_release
from ansible_collections.lastgood.webstack.plugins.module_utils._webconf.candidate import (
    default_config_dir,
    server_binary,
    test_candidate,
)


def rollback_target(site, state, wanted=None):
    """The release a rollback restores, and the ones it passed over.

    ``wanted`` None: the newest known-good release that is not current and
    whose files still match its manifest. A damaged one is skipped (listed
    with its differences) for the next older. Returns ``(target or None,
    skipped)``."""
    current = site.current()
    if wanted is not None:
        record = require_release(state, wanted)
        if record.get("status") != "known_good":
            raise ReleaseError("release %s is %s, not known good; a rollback restores a known-good release (%s)" % (
                wanted, record.get("status"), ", ".join(known_good_by_age(state)) or "there is none"))
        candidates = [wanted]
    else:
        candidates = known_good_by_age(state, exclude=current)
    skipped = []
    for release_id in candidates:
        differences = verify(site, state, release_id)
        if differences:
            skipped.append({"id": release_id, "differences": differences, "reason": describe_differences(differences)})
            continue
        return release_id, skipped
    return None, skipped


def restore_known_good(site, state, wanted, reason, check_mode, config_test=None, server="the server"):
    """The rollback both the release module and the watchdog run, under the
    site's lock: choose the known-good release to restore (``wanted`` or the
    newest intact one other than current, see rollback_target), let
    ``config_test(target)`` judge the server's configuration with it in place
    (it returns ``(rc, output)``), switch, and mark the release rolled back
    from bad. Returns ``(actions, rollback)``: what it did, and the release
    rolled back from, the target and the releases passed over."""
    rolled_from = site.current()
    if wanted is not None and wanted == rolled_from:
        return [], dict(rolled_from=rolled_from, target=rolled_from, skipped=[])
    target, skipped = rollback_target(site, state, wanted)
    rollback = dict(rolled_from=rolled_from, target=target, skipped=skipped)
    if target is None:
        raise ReleaseError(
            "no known-good release %s to roll back to; nothing was switched%s" % (
                "other than %s" % rolled_from if rolled_from else "at all",
                "; passed over as damaged: " + "; ".join(
                    "%s (%s)" % (entry["id"], entry["reason"]) for entry in skipped)
                + ". Deploy a release that passes its probe to have a known-good one again; %s to mark the "
                  "damaged ones, and staging their bundle again (a deploy does) restores their files" % REPAIR_HINT
                if skipped else ""))
    if config_test is not None:
        rc, output = config_test(target)
        rollback["config_test"] = dict(rc=rc, output=output)
        if rc != 0:
            raise ReleaseError("rollback to %s refused, nothing was switched: %s refuses the configuration "
                               "with it in place: %s" % (target, server, output or "exit %d" % rc))
    return roll_back(site, state, target, reason, check_mode), rollback


def roll_back(site, state, release_id, reason, check_mode):
    """Switch to the known-good ``release_id`` and mark the release it
    replaces bad; ``release_id`` becomes the known-good one."""
    current = site.current()
    record = require_release(state, release_id)
    if record.get("status") != "known_good":
        raise ReleaseError("release %s is %s, not known good; a rollback restores a known-good release" % (
            release_id, record.get("status")))
    if current == release_id:
        return []
    actions = switch(site, state, release_id, check_mode, allow_statuses=("known_good",), event="rolled_back")
    if current in state["releases"]:
        actions += mark_failed(site, state, current, "bad", reason or "rolled back to %s" % release_id, check_mode)
    state["known_good"] = release_id
    older = known_good_by_age(state, exclude=release_id)
    state["previous_known_good"] = older[0] if older else None
    return actions


def candidate_config_test(site, server, find_binary, run):
    """The web server's own config test of the release a rollback restores,
    run on a candidate copy of its configuration in which ``current`` names
    that release: a function of the release id returning ``(rc, output)``.
    ``find_binary(name, required, dirs)`` as AnsibleModule.get_bin_path;
    ``run(argv, environ)`` returns ``(rc, stdout, stderr)``."""
    config_dir = default_config_dir(server)
    binary = server_binary(find_binary, server, config_dir)

    def config_test(target):
        try:
            rc, output, _cmd, _files = test_candidate(
                server, config_dir, {site.current_link: site.release_dir(target)}, binary, run)
        except OSError as error:
            raise ReleaseError("cannot copy %s for the config test: %s: %s" % (
                config_dir, error.filename, error.strerror))
        return rc, output
    return config_test
