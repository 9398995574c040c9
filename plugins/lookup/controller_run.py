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
    process and its C(started) time in clock ticks since boot, for M(lastgood.webstack.release)'s O(lastgood.webstack.release#module:lease_holder).
  - With lease records as terms (as M(lastgood.webstack.release_info) returns RV(lastgood.webstack.release_info#module:lease)),
    returns for each whether it is stale, that is held by a run of this controller that no longer runs (killed,
    or its machine restarted), so the next deploy from this controller can break it at once instead of waiting
    for it to expire. A lease held from another controller is never called stale.
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

from ansible.plugins.lookup import LookupBase


def _stat(pid):
    """``(parent pid, start time in ticks)`` of a process, or None."""
    try:
        with open("/proc/%d/stat" % pid) as handle:
            text = handle.read()
    except (OSError, ValueError):
        return None
    # The command name is in parentheses and may hold spaces; count fields after it.
    fields = text[text.rindex(")") + 2:].split()
    return int(fields[1]), int(fields[19])


def _cmdline(pid):
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as handle:
            return handle.read()
    except OSError:
        return None


def playbook_process():
    """The ansible-playbook process this code runs in or under: Ansible's
    workers are forks of it with the same command line, so climb the
    parents while they share it."""
    pid = os.getpid()
    own = _cmdline(pid)
    while True:
        parent = os.getppid() if pid == os.getpid() else (_stat(pid) or (1, 0))[0]
        if parent <= 1 or _cmdline(parent) != own:
            return pid
        pid = parent


def identity():
    pid = playbook_process()
    stat = _stat(pid)
    return {"host": socket.gethostname(), "pid": pid, "started": stat[1] if stat else None}


def is_stale(lease):
    """True when ``lease`` was taken by a run on this controller that is gone."""
    holder = (lease or {}).get("controller") or {}
    if holder.get("host") != socket.gethostname() or not isinstance(holder.get("pid"), int):
        return False
    stat = _stat(holder["pid"])
    return stat is None or stat[1] != holder.get("started")


class LookupModule(LookupBase):

    def run(self, terms, variables=None, **kwargs):
        if not terms:
            return [identity()]
        return [is_stale(term if isinstance(term, dict) else {}) for term in terms]
