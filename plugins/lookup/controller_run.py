# -*- coding: utf-8 -*-
# Copyright: lastgood.webstack contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r"""
---
name: controller_run
short_description: Which ansible-playbook run this is, and whether the run that holds a site is gone
version_added: 0.1.0
description:
  - Without terms, returns this run's identity on the controller, C(host), C(pid) of the C(ansible-playbook)
    process and its C(started) time (clock ticks since boot from C(/proc) on Linux, the C(lstart) of
    C(ps) elsewhere), for M(lastgood.webstack.release)'s O(lastgood.webstack.release#module:lease_holder).
  - With lease records as terms (as M(lastgood.webstack.release_info) returns RV(lastgood.webstack.release_info#module:lease)),
    returns for each whether it is stale, that is held by a run of this controller that no longer runs (killed,
    or its machine restarted), so the next deploy from this controller can break it at once instead of waiting
    for it to expire. A lease held from another controller is never called stale, nor one whose holder this
    controller cannot tell from another process (no C(started) recorded); such a lease waits for its expiry.
author:
  - lastgood.webstack contributors (!UNKNOWN)
options:
  _terms:
    description: Lease records to judge; none to get this run's identity.
    required: false
    type: list
    elements: dict
"""

EXAMPLES = r"""
- name: Break the lease of a deploy from this controller that was killed
  lastgood.webstack.release:
    site: shop
    state: leased
    lock_owner: "deploy v2 from {{ lookup('ansible.builtin.pipe', 'hostname') }}"
    lease_holder: "{{ lookup('lastgood.webstack.controller_run') }}"
    break_lease_of: "{{ shop_info.lease.owner if (shop_info.lease and lookup('lastgood.webstack.controller_run', shop_info.lease)) else omit }}"
"""

RETURN = r"""
_raw:
  description: This run's identity (C(host), C(pid), C(started)), or one boolean per lease record.
  type: list
  elements: raw
"""

import os
import socket
import subprocess

from ansible.plugins.lookup import LookupBase


def _from_proc(pid):
    """``(parent pid, start time in clock ticks since boot, command line)``
    of a process from Linux's /proc, or None."""
    try:
        with open("/proc/%d/stat" % pid) as handle:
            stat = handle.read()
        with open("/proc/%d/cmdline" % pid, "rb") as handle:
            cmdline = handle.read()
    except (OSError, ValueError):
        return None
    # The command name is in parentheses and may hold spaces; count fields after it.
    fields = stat[stat.rindex(")") + 2:].split()
    return int(fields[1]), int(fields[19]), cmdline


# ps(1)'s lstart is 24 characters wide on procps and BSD alike: "Thu Dec  3 06:40:00 2026".
_LSTART_WIDTH = 24


def _from_ps(pid):
    """The same from POSIX ps(1), for controllers without /proc (macOS,
    the BSDs); the start time is ps's ``lstart`` text. None when the process
    does not exist or ps cannot tell."""
    try:
        listing = subprocess.run(
            ["ps", "-o", "ppid=", "-o", "lstart=", "-o", "command=", "-p", str(pid)],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, check=False,
            env=dict(os.environ, LC_ALL="C"))
    except OSError:
        return None
    line = listing.stdout.decode("utf-8", "replace").strip()
    if listing.returncode != 0 or not line:
        return None
    parent, rest = line.split(None, 1)
    rest = rest.strip()
    return int(parent), rest[:_LSTART_WIDTH], rest[_LSTART_WIDTH:].strip().encode("utf-8")


def _process(pid):
    """``(parent pid, start time, command line)`` of a process, or None when
    it does not exist or nothing on this controller can tell."""
    if os.path.isdir("/proc/self"):
        return _from_proc(pid)
    return _from_ps(pid)


def _exists(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        # Someone else's process: it exists.
        return True
    return True


def playbook_process():
    """The ansible-playbook process this code runs in or under: Ansible's
    workers are forks of it with the same command line, so climb the
    parents while they share it. None when the processes cannot be read."""
    pid = os.getpid()
    own = _process(pid)
    if own is None:
        return None
    while True:
        parent = _process(own[0]) if own[0] > 1 else None
        if parent is None or parent[2] != own[2]:
            return pid
        pid, own = own[0], parent


def identity():
    pid = playbook_process()
    if pid is None:
        # Nothing tells this run's process apart: a lease with no start time
        # is never judged stale, so it waits for its expiry instead.
        return {"host": socket.gethostname(), "pid": os.getpid(), "started": None}
    return {"host": socket.gethostname(), "pid": pid, "started": _process(pid)[1]}


def is_stale(lease):
    """True when ``lease`` was taken by a run on this controller that is
    gone. A run that may still be alive, or that this controller cannot
    judge, is never stale."""
    holder = (lease or {}).get("controller") or {}
    if holder.get("host") != socket.gethostname() or not isinstance(holder.get("pid"), int):
        return False
    if holder.get("started") is None:
        return False
    if not _exists(holder["pid"]):
        return True
    process = _process(holder["pid"])
    # The pid taken by a later process is a gone run; unreadable is not.
    return process is not None and process[1] != holder["started"]


class LookupModule(LookupBase):

    def run(self, terms, variables=None, **kwargs):
        if not terms:
            return [identity()]
        return [is_stale(term if isinstance(term, dict) else {}) for term in terms]
