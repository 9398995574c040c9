# -*- coding: utf-8 -*-
# Copyright: lastgood.webstack contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r"""
---
name: status_table
short_description: The releases of a site on each host, or their last events, as a text table
version_added: 0.1.0
description:
  - The tables of the C(lastgood.webstack.status) playbook, from what M(lastgood.webstack.release_info) registered on
    each host.
  - With O(table=releases), one row per host, in the order of the input; the current and known-good releases (C(-)
    for none), the last four releases newest first as C(id:status), and the freeze (C(reason (by who, since when)))
    or C(no). A host whose result has no C(releases) (unreachable, registry unreadable, nothing registered) is a row
    of C(?) with C(no answer:) and the result's message, else C(unreachable).
  - With O(table=events), one row per event of each host, in the order release_info returned them; the time to the
    second (UTC), the kind, the release (C(-) for none), and who, with the first 100 characters of the reason.
author:
  - lastgood.webstack contributors (!UNKNOWN)
positional: hostvars
options:
  _input:
    description: The hosts, one row (or group of rows) each, in this order; usually C(ansible_play_hosts_all).
    type: list
    elements: str
    required: true
  hostvars:
    description: The variables of every host, C(hostvars).
    type: dict
    required: true
  table:
    description: Which table.
    type: str
    choices: [releases, events]
    default: releases
  result_var:
    description: The variable each host registered the result of M(lastgood.webstack.release_info) in.
    type: str
    default: lastgood_status
"""

EXAMPLES = r"""
- name: Read the registry
  lastgood.webstack.release_info:
    site: shop
    events: 5
  register: lastgood_status
  failed_when: false

- name: Show the table, then the last events
  ansible.builtin.debug:
    msg: "{{ ansible_play_hosts_all | lastgood.webstack.status_table(hostvars, table=item) | split('\n') }}"
  run_once: true
  loop: [releases, events]
"""

RETURN = r"""
_value:
  description:
    - The table as text, a header line and then the rows, each line ending in a newline.
    - Values are shown as they are, so a reason with a newline in it goes on in a line of its own.
  type: str
  sample: |
    host           current        known good     last releases, newest first                                frozen
    web1           v3             v3             v3:known_good  v2:bad  v1:known_good                       no
"""

from collections.abc import Mapping

from ansible.errors import AnsibleFilterError

RELEASE_ROW = "%-14s %-14s %-14s %-58s %s"
RELEASES_HEADER = RELEASE_ROW % ("host", "current", "known good", "last releases, newest first", "frozen")
EVENT_ROW = "%-14s %s  %-12s %-14s %s"
EVENTS_HEADER = "%-14s %-19s  %-12s %-14s %s" % ("host", "last events (UTC)", "event", "release", "by: reason")
RECENT_RELEASES = 4
REASON_CHARS = 100


def _frozen(frozen):
    """incident 42 (by alice, since 2026-11-28T05:10:00Z), or no."""
    if not frozen:
        return "no"
    if not isinstance(frozen, Mapping):
        return str(frozen)
    return "%s (by %s, since %s)" % (frozen.get("reason"), frozen.get("by", "?"), frozen.get("since", "?"))


def release_row(host, result):
    """One host's row of the releases table."""
    if "releases" not in result:
        return RELEASE_ROW % (host, "?", "?", "no answer: %s" % (result.get("msg", "unreachable"),), "?")
    recent = list(reversed(result["releases"] or []))[:RECENT_RELEASES]
    return RELEASE_ROW % (
        host, result.get("current") or "-", result.get("known_good") or "-",
        "  ".join("%s:%s" % (release.get("id"), release.get("status"))
                  for release in recent if isinstance(release, Mapping)),
        _frozen(result.get("frozen")))


def event_row(host, event):
    """One row of the events table."""
    reason = event.get("reason")
    return EVENT_ROW % (
        host, str(event.get("at"))[:19].replace("T", " "), event.get("event"), event.get("release") or "-",
        "%s%s" % (event.get("by", "?"), ": %s" % str(reason)[:REASON_CHARS] if reason else ""))


def _result(hostvars, host, result_var):
    """What ``host`` registered, or {} when nothing (or no result) was."""
    variables = hostvars.get(host)
    result = variables.get(result_var) if isinstance(variables, Mapping) else None
    return result if isinstance(result, Mapping) else {}


def status_table(hosts, hostvars, table="releases", result_var="lastgood_status"):
    """The releases table or the events table of ``hosts``, as text."""
    if not isinstance(hosts, (list, tuple)):
        raise AnsibleFilterError("status_table needs a list of hosts, such as ansible_play_hosts_all, not %s"
                                 % type(hosts).__name__)
    if not isinstance(hostvars, Mapping):
        raise AnsibleFilterError("status_table needs hostvars, not %s" % type(hostvars).__name__)
    if table == "releases":
        lines = [RELEASES_HEADER] + [release_row(host, _result(hostvars, host, result_var)) for host in hosts]
    elif table == "events":
        lines = [EVENTS_HEADER]
        for host in hosts:
            events = _result(hostvars, host, result_var).get("events") or []
            lines.extend(event_row(host, event) for event in events if isinstance(event, Mapping))
    else:
        raise AnsibleFilterError("status_table: table must be releases or events, not %r" % (table,))
    return "".join(line + "\n" for line in lines)


class FilterModule(object):
    def filters(self):
        return {"status_table": status_table}
