# -*- coding: utf-8 -*-
# Copyright: lastgood.webstack contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The lease a change of many steps (a deploy) holds on a site: taken,
checked, dropped, and broken when its holder is gone."""

from __future__ import annotations

import datetime
import json
import os
import socket
import time

from ansible_collections.lastgood.webstack.plugins.module_utils._release.fsops import write_atomic
from ansible_collections.lastgood.webstack.plugins.module_utils._release.layout import (
    LeaseHeld,
    ReleaseError,
    now,
    user,
)
from ansible_collections.lastgood.webstack.plugins.module_utils._release.registry import add_event


def describe_lease(lease):
    return "%s (%s on %s) since %s, until %s" % (
        lease.get("owner"), lease.get("user"), lease.get("host"), lease.get("since"), lease.get("expires"))


def check_lease(site, owner, state=None):
    """Raise unless the site is free or leased to ``owner``, and ``owner``'s
    lease was not broken by a rollback."""
    if owner and state is not None:
        for broken in state.get("broken_leases") or []:
            if broken.get("owner") == owner:
                raise ReleaseError("the lease of %s on site %s was broken by %s at %s; this change stops here" % (
                    owner, site.name, broken.get("by") or "a rollback", broken.get("at")))
    lease = site.lease()
    if lease is not None and lease.get("owner") != owner:
        raise LeaseHeld("site %s is held by %s; wait for that change to finish" % (site.name, describe_lease(lease)))


def take_lease(site, owner, seconds, check_mode, holder=None):
    """Hold the site for ``owner``. ``holder``: who runs the change on the
    controller (host, pid, start time), so that a later run there can tell
    a killed deploy's lease from a live one."""
    lease = site.lease()
    if lease is not None and lease.get("owner") == owner:
        return []
    check_lease(site, owner)
    if not check_mode:
        expires = time.time() + seconds
        record = {"owner": owner, "user": user(), "host": socket.gethostname(), "since": now(),
                  "expires_epoch": expires,
                  "expires": datetime.datetime.fromtimestamp(expires, datetime.timezone.utc).strftime(
                      "%Y-%m-%dT%H:%M:%SZ")}
        if holder:
            record["controller"] = holder
        write_atomic(site.lease_path, (json.dumps(record, sort_keys=True) + "\n").encode())
    return ["leased site %s to %s" % (site.name, owner)]


def drop_lease(site, owner, force, check_mode):
    lease = site.lease()
    if lease is None:
        if os.path.lexists(site.lease_path) and not check_mode:
            os.unlink(site.lease_path)
        return []
    if lease.get("owner") != owner and not force:
        raise ReleaseError("site %s is held by %s, not by %s; use force to break the lease" % (
            site.name, describe_lease(lease), owner))
    if not check_mode:
        os.unlink(site.lease_path)
    return ["released the lease of %s" % lease.get("owner")]


def break_lease(site, state, by, check_mode):
    """Remove the lease of another change (a deploy that died or is stuck)
    and remember its owner, so that the change it belonged to cannot go on
    after a rollback. Returns the lease broken, or None."""
    lease = site.lease()
    if lease is None or lease.get("owner") == by:
        return None
    if not check_mode:
        broken = state.setdefault("broken_leases", [])
        broken.append({"owner": lease.get("owner"), "by": by, "at": now()})
        del broken[:-10]
        add_event(state, "lease_broken", site.current(), reason="broke the lease of %s" % describe_lease(lease))
        os.unlink(site.lease_path)
    return lease


def break_stale_lease(site, state, stale_owner, by, check_mode):
    """Break the lease only if ``stale_owner`` still holds it: the caller
    found that change's run gone, and a lease taken since by anyone else
    is left alone. Returns the lease broken, or None."""
    lease = site.lease()
    if lease is None or lease.get("owner") != stale_owner:
        return None
    return break_lease(site, state, by, check_mode)
