# -*- coding: utf-8 -*-
# Copyright: lastgood.webstack contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r"""
---
name: merged_timeline
short_description: One timeline of the release events of several runs
version_added: 0.1.0
description:
  - Reads, on the controller, the JSON lines files the P(lastgood.webstack.timeline#callback) callback writes (one
    per run) and returns them as one timeline, the text that callback prints at the end of a run, for all the runs
    together, with the durations that matter in an incident across them.
  - Each event is kept once per host, time, kind and release, however many files repeat it (the history that
    M(lastgood.webstack.release_info) returns is recorded again by every run that reads it).
  - A line that is not an event (such as the last line of a run killed while it wrote it) is skipped with a warning
    that names it.
  - The C(lastgood.webstack.timeline) playbook (C(ansible-playbook lastgood.webstack.timeline)) prints what this
    lookup returns.
author:
  - lastgood.webstack contributors (!UNKNOWN)
options:
  _terms:
    description:
      - Events files, or directories whose C(*.jsonl) files are read in name order (the order in which the runs
        started). Relative paths are relative to the current directory, as the callback's C(dir) is.
      - A path that is neither a file nor a directory is an error.
    required: true
    type: list
    elements: path
  production_hosts:
    description:
      - The hosts whose time serving a release that was not known good is summed as C(production), as the callback
        does with the inventory group C(production); when not given, that time is summed over all hosts.
    type: list
    elements: str
notes:
  - Returns a list of lines; use C(query()) or C(lookup(..., wantlist=true)), since C(lookup()) joins a list with
    commas.
seealso:
  - plugin: lastgood.webstack.timeline
    plugin_type: callback
"""

EXAMPLES = r"""
- name: Print one timeline of every run recorded in ./lastgood-timeline/ and of one more run's file
  ansible.builtin.debug:
    msg: "{{ query('lastgood.webstack.merged_timeline', './lastgood-timeline/', '/tmp/incident/deploy.jsonl',
             production_hosts=groups['production'] | default(none)) }}"

- name: Write it to a file
  ansible.builtin.copy:
    content: "{{ query('lastgood.webstack.merged_timeline', './lastgood-timeline/') | join('\n') }}\n"
    dest: ./timeline.txt
    mode: "0644"
"""

RETURN = r"""
_raw:
  description:
    - The lines of the merged timeline, the same text the callback prints at the end of a run; the header names how
      many runs (files) and their playbooks, and open intervals are counted until the last event.
    - Empty when the files hold no release events (probes alone are no release events).
  type: list
  elements: str
"""

import os

from ansible.errors import AnsibleLookupError
from ansible.plugins.lookup import LookupBase
from ansible.utils.display import Display
from ansible_collections.lastgood.webstack.plugins.plugin_utils._timeline import (
    EventsFileError,
    merge,
    render_merged,
)

display = Display()
SKIPPED_SHOWN = 5


def _paths(terms):
    """Each term, or each item of a term that is a list, as an absolute path."""
    paths = []
    for term in terms:
        for item in term if isinstance(term, (list, tuple)) else [term]:
            paths.append(os.path.abspath(os.path.expanduser(str(item))))
    return paths


class LookupModule(LookupBase):

    def run(self, terms, variables=None, **kwargs):
        self.set_options(var_options=variables, direct=kwargs)
        paths = _paths(terms)
        if not paths:
            raise AnsibleLookupError("merged_timeline needs at least one events file or directory")
        try:
            story, files, skipped = merge(paths)
        except EventsFileError as error:
            raise AnsibleLookupError("merged_timeline: %s" % error)
        if skipped:
            display.warning("merged_timeline: skipped %d line(s) that are not events: %s%s" % (
                len(skipped), ", ".join(skipped[:SKIPPED_SHOWN]), ", ..." if len(skipped) > SKIPPED_SHOWN else ""))
        production = self.get_option("production_hosts")
        return render_merged(story.entries, files, paths,
                             production_hosts=set(production) if production is not None else None)
