# -*- coding: utf-8 -*-
# Copyright: lastgood.webstack contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r"""
---
name: promotion_problems
short_description: Why production must not accept a release, by staging host
version_added: 0.1.0
description:
  - The decision of the promotion gate of the P(lastgood.webstack.deploy#role) role. Production accepts a release
    only when every staging host holds this exact content, by checksum, as a known-good release.
  - Takes the results of M(lastgood.webstack.release_info) run for each staging host (a registered loop over the
    staging hosts, with C(ignore_unreachable) and C(failed_when=false)) and returns one sentence per host that does
    not vouch for the release; an empty list lets the release through.
  - Fails closed. A staging host that is unreachable, cannot read its registry, never had the content, or has it
    with another status than C(known_good) is a problem, and so is an inventory without staging hosts.
author:
  - lastgood.webstack contributors (!UNKNOWN)
positional: checksum
options:
  _input:
    description: The C(results) of the registered loop, one per staging host (C(item) is the host).
    type: list
    elements: dict
    required: true
  checksum:
    description: The release's checksum (the sha256 of its manifest).
    type: str
    required: true
"""

EXAMPLES = r"""
- name: Refuse unless every staging host holds this content as known good
  ansible.builtin.assert:
    that: problems | length == 0
    fail_msg: "Promotion gate: {{ problems | join('; ') }}"
  vars:
    problems: "{{ staging_registries.results | lastgood.webstack.promotion_problems(checksum) }}"
"""

RETURN = r"""
_value:
  description: One sentence per staging host that does not vouch for the release; empty when all do.
  type: list
  elements: str
"""

from ansible.errors import AnsibleFilterError


def _reason(text):
    text = (text or "").strip()
    return " (%s)" % text if text else ""


def host_problem(result, checksum):
    """Why one staging host does not vouch for ``checksum``, or None when it
    holds that content as a known-good release."""
    host = result.get("item", "a staging host")
    if result.get("unreachable"):
        return "%s is unreachable%s" % (host, _reason(result.get("msg")))
    if result.get("failed"):
        return "%s cannot tell%s" % (host, _reason(result.get("msg")))
    same = [release for release in result.get("releases") or [] if release.get("checksum") == checksum]
    if not same:
        return "%s never had this content" % host
    known_good = [release for release in same if release.get("status") == "known_good"]
    if known_good:
        return None
    release = same[0]
    return "%s has it as release %s with status %s%s" % (
        host, release.get("id"), release.get("status"), _reason(release.get("reason")))


def promotion_problems(staging_results, checksum):
    """One sentence per staging host that does not vouch for ``checksum``."""
    if not isinstance(staging_results, list):
        raise AnsibleFilterError("promotion_problems needs the results list of a registered loop, not %s"
                                 % type(staging_results).__name__)
    if not checksum:
        raise AnsibleFilterError("promotion_problems needs the release's checksum")
    if not staging_results:
        return ["the inventory has no host in the group staging"]
    problems = []
    for result in staging_results:
        problem = host_problem(result, checksum)
        if problem is not None:
            problems.append(problem)
    return problems


class FilterModule(object):
    def filters(self):
        return {"promotion_problems": promotion_problems}
