# -*- coding: utf-8 -*-
# Copyright: lastgood.webstack contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The release module's states, each the change it makes to the registry:
the dispatch from ``state`` to the lifecycle, lease, freeze, rollback and
repair functions, with the checks that belong to the request (freeze,
lease, the options a state needs). Pure standard library."""

from __future__ import annotations

import copy
import os
import time

from ansible_collections.lastgood.webstack.plugins.module_utils._release import (
    fsops,
    layout,
    lease,
    lifecycle,
    registry,
    repair,
    rollback,
    shared,
)
from ansible_collections.lastgood.webstack.plugins.module_utils._release.services import read_pid, running_php_fpm

NEEDS_RELEASE_ID = ("staged", "validated", "live", "known_good", "invalid", "bad", "absent", "verified")


def summary(state):
    """The registry in a few lines, for diff mode."""
    lines = ["current: %s" % state.get("current"), "known_good: %s" % state.get("known_good"),
             "previous_known_good: %s" % state.get("previous_known_good")]
    for release_id in registry.releases_by_age(state):
        record = state["releases"][release_id]
        lines.append("release %s: %s %s" % (release_id, record.get("status"), record.get("checksum", "")[:12]))
    return "\n".join(lines) + "\n"


def change(site, state, params, check_mode, extra, config_test=None):
    """Make the change ``params["state"]`` asks for in ``state`` (and on
    disk unless ``check_mode``), then record ``params["note"]``; the list of
    what was done. ``extra`` receives what the module returns besides the
    registry (lease_broken, rollback, config_test)."""
    actions = change_state(site, state, params, check_mode, extra, config_test)
    note = params["note"]
    if note and params["release_id"] in state["releases"]:
        notes = state["releases"][params["release_id"]].setdefault("notes", {})
        if any(notes.get(key) != value for key, value in note.items()):
            notes.update(note)
            actions = actions + ["noted %s on release %s" % (", ".join(sorted(note)), params["release_id"])]
    return actions


def change_state(site, state, params, check_mode, extra, config_test=None):
    wanted = params["state"]
    release_id = params["release_id"]
    frozen = site.freeze()
    if frozen is not None:
        record = state["releases"].get(release_id or "") or {}
        if wanted == "staged" or (wanted == "live" and record.get("status") != "known_good"
                                  and site.current() != release_id):
            raise layout.ReleaseError(
                "site %s is frozen (%s): new releases are refused until it is thawed (the freeze playbook with "
                "lastgood_freeze=false, or state=thawed); switching back to a known-good release is still allowed"
                % (site.name, registry.describe_freeze(frozen)))
    if wanted == "unleased":
        actions = []
        if params.get("prune_keep") is not None:
            if params["prune_keep"] < 1:
                raise layout.ReleaseError("prune_keep must be at least 1, not %s" % params["prune_keep"])
            # The finish of a deploy: prune under the lease, then let go of it.
            lease.check_lease(site, params["lock_owner"], state)
            actions = lifecycle.prune(site, state, params["prune_keep"], check_mode)
        return actions + lease.drop_lease(site, params["lock_owner"], params["force"], check_mode)
    if wanted in ("frozen", "thawed"):
        if wanted == "frozen" and not params["reason"]:
            raise layout.ReleaseError("state=frozen needs reason, why the site is frozen")
        return lifecycle.set_freeze(site, state, params["reason"] if wanted == "frozen" else None,
                                    params["lock_owner"], check_mode)
    if wanted == "rolled_back":
        return roll_back(site, state, params, check_mode, extra, config_test)
    actions = []
    if wanted == "leased" and params["break_lease_of"]:
        broken = lease.break_stale_lease(site, state, params["break_lease_of"], params["lock_owner"], check_mode)
        if broken is not None:
            extra["lease_broken"] = broken
            actions.append("broke the stale lease of %s" % lease.describe_lease(broken))
    if wanted != "verified":
        lease.check_lease(site, params["lock_owner"], state)
    if wanted == "leased":
        if not params["lock_owner"]:
            raise layout.ReleaseError("state=leased needs lock_owner, a name for who holds the site")
        return actions + lease.take_lease(site, params["lock_owner"], params["lease_seconds"], check_mode,
                                          holder=params["lease_holder"])
    if wanted == "staged":
        if not params["src"]:
            raise layout.ReleaseError("state=staged needs src, the directory on the host to stage")
        return lifecycle.stage(site, state, release_id, params["src"], check_mode,
                               shared_paths=params.get("shared_paths"), writable_paths=params.get("writable_paths"),
                               owner_ids=owner_ids(params))
    if wanted == "validated":
        return lifecycle.mark_validated(site, state, release_id, check_mode)
    if wanted == "live":
        if params["php_fpm"] and params["php_fpm"].get("pidfile") and site.current() != release_id:
            require_php_fpm(site, release_id, params["php_fpm"])
        return lifecycle.switch(site, state, release_id, check_mode)
    if wanted == "known_good":
        return lifecycle.mark_known_good(site, state, release_id, check_mode)
    if wanted in ("invalid", "bad"):
        return lifecycle.mark_failed(site, state, release_id, wanted, params["reason"], check_mode)
    if wanted == "absent":
        return lifecycle.remove(site, state, release_id, check_mode)
    if wanted == "pruned":
        if params["keep"] < 1:
            raise layout.ReleaseError("keep must be at least 1, not %s" % params["keep"])
        return lifecycle.prune(site, state, params["keep"], check_mode)
    if wanted == "unswitched":
        return lifecycle.unswitch(site, state, check_mode)
    return []


def roll_back(site, state, params, check_mode, extra, config_test=None):
    """Choose (or take) the known-good release to restore, check its files
    against its manifest and, with ``config_test``, the server's own test
    with it in place; then switch and mark the release rolled back from bad."""
    owner = params["lock_owner"] or "rollback"
    actions = []
    broken = lease.break_lease(site, state, owner, check_mode)
    if broken is not None:
        extra["lease_broken"] = broken
        actions.append("broke the lease of %s" % lease.describe_lease(broken))
    done, restored = rollback.restore_known_good(site, state, params["release_id"], params["reason"], check_mode,
                                                 config_test, server=params["config_test"])
    if "config_test" in restored:
        extra["config_test"] = restored.pop("config_test")
    extra["rollback"] = restored
    return actions + done


def load_and_change(site, params, check_mode, extra, config_test=None):
    """Read the registry and make the change; ``(state, before, actions)``.
    A repair reads the registry its own way: it may not parse; its report
    (with the warnings to show) goes to ``extra["repair"]``."""
    if params["state"] == "repaired":
        lease.check_lease(site, params["lock_owner"])
        state, before, actions, report = repair.repair(site, check_mode)
        extra["repair"] = report
        if actions and not check_mode and report["kept_as"]:
            # A copy: state.json is only ever replaced whole, by save_state.
            with open(site.state_path, "rb") as damaged:
                fsops.write_atomic(report["kept_as"], damaged.read(), mode=0o600)
        return state, before, actions
    state = site.load_state()
    before = copy.deepcopy(state)
    return state, before, change(site, state, params, check_mode, extra, config_test)


def require_php_fpm(site, release_id, php_fpm):
    """Refuse to switch ``release_id`` in while no PHP-FPM runs under the
    pid file: its code could not be made to follow the switch."""
    pid = read_pid(php_fpm["pidfile"])
    if running_php_fpm(php_fpm["pidfile"]) is None:
        raise layout.ReleaseError(
            "no PHP-FPM runs under %s (%s), so the PHP code that answers could not be made to follow a switch to %s; "
            "nothing was switched. Start PHP-FPM (the site role does), or give the pid file it writes (the "
            "deploy role's deploy_php_fpm_pidfile)" % (
                php_fpm["pidfile"], "no pid in it" if pid is None else "pid %d is not a running PHP-FPM" % pid,
                release_id))


def change_locked(site, params, check_mode, extra, config_test=None):
    """Make the change under the site's lock (a lease held by a deploy is
    waited for like the lock, until ``lock_timeout``) and save the registry.
    Reading (``verified``) and check mode take no lock: check mode must not
    even create ``.lock``. Returns the registry after and before, the
    actions, the new events and whether ``current`` was switched."""
    wanted = params["state"]
    if wanted == "verified" or check_mode:
        state, before, actions = load_and_change(site, params, check_mode, extra, config_test)
        return dict(state=state, before=before, actions=actions, events=[], switched=False)
    for path in (site.dir, site.releases_dir):
        if not os.path.isdir(path):
            os.makedirs(path, 0o755)
    deadline = time.monotonic() + params["lock_timeout"]
    while True:
        try:
            with site.lock(max(deadline - time.monotonic(), 0)):
                switched_from = site.current()
                state, before, actions = load_and_change(site, params, check_mode, extra, config_test)
                new_events = state.get("events", [])[len(before.get("events", [])):]
                for event in new_events:
                    event.setdefault("by", params["lock_owner"] or layout.user())
                if actions:
                    site.save_state(state)
            break
        except layout.LeaseHeld:
            # A deploy holds the site: wait for it as for the lock.
            if wanted != "leased" or time.monotonic() >= deadline:
                raise
            time.sleep(0.2)
    switched = wanted in ("live", "unswitched") or (wanted == "rolled_back" and switched_from != site.current())
    return dict(state=state, before=before, actions=actions, events=new_events, switched=switched)


def owner_ids(params):
    """``(uid, gid)`` of the writable_owner and writable_group options (-1 for one not given)."""
    import grp
    import pwd
    return shared.resolve_ids(params.get("writable_owner"), params.get("writable_group"),
                              lambda name: pwd.getpwnam(name).pw_uid, lambda name: grp.getgrnam(name).gr_gid)
