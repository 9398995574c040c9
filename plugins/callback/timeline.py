# -*- coding: utf-8 -*-
# Copyright: lastgood.webstack contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r"""
---
name: timeline
type: notification
short_description: Record the release events of a run and print them as a postmortem timeline
version_added: 0.1.0
description:
  - Records every release event of a run with its host, site, release and UTC time, writes them to one JSON lines
    file per run, and at the end of the run prints them as a timeline with the durations that matter in an incident.
  - The events come from the results of M(lastgood.webstack.release) and M(lastgood.webstack.release_info)
    (RV(lastgood.webstack.release#module:events)), of tasks that succeeded and of tasks that failed, looped or not.
    The history that M(lastgood.webstack.release_info) returns repeats events, from this run and from earlier ones;
    each event is kept once per host, time, kind and release.
  - A M(lastgood.webstack.health_probe) result is an event too, V(probe_passed) or V(probe_failed), for the site and
    release the host serves according to the events seen before it.
  - A failed task with a variable whose name ends in C(_timeline_event) (such as the promotion gate's refusal in
    the C(lastgood.webstack.deploy) role) is an event of the kind that variable names, with the task's message as
    its reason.
  - The durations are, per host and release that was switched in and then failed, the time from the switch until
    the failure was detected (the failed probe, else the watchdog's alert or rollback) and until a known-good release
    served again; and, for the hosts of the inventory group C(production) (or the one the extra variable
    C(lastgood_production_group) names; all hosts without that group), the time
    they served a release that was not, or not yet, known good.
  - A run without release events prints nothing and writes no file.
  - Never fails a run; a problem of its own is one warning.
author:
  - lastgood.webstack contributors (!UNKNOWN)
options:
  dir:
    description:
      - The directory of the JSON lines files, one per run, named
        C(<UTC start, 20261128T050205Z>-<playbook name>-<process id>.jsonl); created when missing.
      - The extra variable C(lastgood_timeline_dir) (C(-e lastgood_timeline_dir=...)) takes precedence.
      - Each line is one event as the modules return it, with C(host) added.
    type: path
    default: ./lastgood-timeline/
    env:
      - name: LASTGOOD_TIMELINE_DIR
    ini:
      - section: lastgood_timeline
        key: dir
notes:
  - The times of release events come from the managed host's clock; those of probe events and refusals from the
    controller's clock.
  - The files of several runs merge into one timeline with the C(lastgood.webstack.timeline) playbook
    (C(ansible-playbook lastgood.webstack.timeline)) or the P(lastgood.webstack.merged_timeline#lookup) lookup.
seealso:
  - plugin: lastgood.webstack.merged_timeline
    plugin_type: lookup
requirements:
  - Enabled by name, C(callbacks_enabled = lastgood.webstack.timeline) in the C([defaults]) section of
    C(ansible.cfg) or C(ANSIBLE_CALLBACKS_ENABLED=lastgood.webstack.timeline); the collection's own playbooks
    (C(ansible-playbook lastgood.webstack.<name>)) turn it on by themselves.
"""

import collections.abc
import functools
import json
import os

from ansible.errors import AnsibleError
from ansible.plugins.callback import CallbackBase
from ansible_collections.lastgood.webstack.plugins.plugin_utils._timeline import (
    DEFAULT_DIR,
    Timeline,
    action_kind,
    events_file_name,
    marker_event,
    marker_kind,
    probe_event,
    probe_failed_but_ignored,
    release_events,
    render,
    utc_now,
)


def _never_raises(hook):
    """A callback must never break a run: an error becomes one warning."""
    @functools.wraps(hook)
    def guarded(self, *args, **kwargs):
        try:
            return hook(self, *args, **kwargs)
        except Exception as error:  # pylint: disable=broad-exception-caught
            self._warn_once("lastgood.webstack.timeline: %s failed (%s: %s); the run goes on without it" % (
                hook.__name__, type(error).__name__, error))
        return None
    return guarded


def _result_part(result, name):
    """A task result's host, task or return data: properties of ansible-core
    2.19 (whose old underscored names warn), attributes with a leading
    underscore in 2.16 to 2.18."""
    try:
        return getattr(result, name)
    except AttributeError:
        return getattr(result, "_" + name)


def _plain_var(value):
    """A variable's value when it is a plain string, not a template."""
    if isinstance(value, str) and value and "{{" not in value and "{%" not in value:
        return str(value)
    return None


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "notification"
    CALLBACK_NAME = "lastgood.webstack.timeline"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, display=None):
        super(CallbackModule, self).__init__(display=display)
        self.timeline = Timeline()
        self.started = utc_now()
        self.playbooks = []
        self.events_dir = None
        self.events_path = None
        self.write_error = None
        self.production_hosts = None
        self.play = None
        self.variable_manager = None
        # (host, task uuid) of the loops whose items arrived one by one, so
        # that their final result's ``results`` are not counted again.
        self._itemised = set()
        self._written = 0
        self._warned = set()

    def _warn_once(self, message):
        if message not in self._warned:
            self._warned.add(message)
            self._display.warning(message)

    # Hooks --------------------------------------------------------------

    @_never_raises
    def v2_playbook_on_start(self, playbook):
        name = getattr(playbook, "_file_name", None)
        if name:
            self.playbooks.append(os.path.basename(str(name)))

    @_never_raises
    def v2_playbook_on_play_start(self, play):
        manager = play.get_variable_manager()
        if manager is None:
            return
        self.play = play
        self.variable_manager = manager
        if self.events_dir is None:
            self.events_dir = _plain_var(manager.extra_vars.get("lastgood_timeline_dir"))
        inventory = getattr(manager, "_inventory", None)
        if inventory is not None:
            groups = inventory.get_groups_dict()
            production_group = _plain_var(manager.extra_vars.get("lastgood_production_group")) or "production"
            if production_group in groups:
                self.production_hosts = set(groups[production_group])

    @_never_raises
    def v2_runner_on_ok(self, result):
        self._task_result(result, failed=False)

    @_never_raises
    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._task_result(result, failed=True)

    @_never_raises
    def v2_runner_item_on_ok(self, result):
        self._item_result(result, failed=False)

    @_never_raises
    def v2_runner_item_on_failed(self, result):
        self._item_result(result, failed=True)

    @_never_raises
    def v2_playbook_on_stats(self, stats):
        lines = render(self.timeline.entries, self.playbooks, self.started, events_path=self.events_path,
                       write_error=self.write_error, production_hosts=self.production_hosts, end=utc_now())
        if lines:
            self._display.display("\n" + "\n".join(lines))

    # Results --------------------------------------------------------------

    def _task_result(self, result, failed):
        data = _result_part(result, "result")
        task = _result_part(result, "task")
        host = _result_part(result, "host")
        items = data.get("results")
        if isinstance(items, list) and "events" not in data:
            if (host.get_name(), task._uuid) not in self._itemised:
                for item in items:
                    if isinstance(item, collections.abc.Mapping):
                        self._record(host, task, item, bool(item.get("failed")))
        else:
            self._record(host, task, data, failed)
        kind = marker_kind(task.vars) if failed else None
        if kind is not None:
            release = self._host_var(host, "lastgood_release_id")
            self._add(self._event_host(host, task),
                      marker_event(kind, data.get("msg"), utc_now(), self._site_of(host, task), release))

    def _item_result(self, result, failed):
        host = _result_part(result, "host")
        task = _result_part(result, "task")
        self._itemised.add((host.get_name(), task._uuid))
        self._record(host, task, _result_part(result, "result"), failed)

    def _record(self, host, task, data, failed):
        event_host = self._event_host(host, task)
        if action_kind(self._action(task)) == "health_probe":
            passed = not failed and not probe_failed_but_ignored(data)
            self._add(event_host, probe_event(data, passed, utc_now(), self.timeline.live_context(event_host)))
            return
        for event in release_events(data):
            self._add(event_host, event)

    @staticmethod
    def _action(task):
        action = getattr(task, "action", None)
        if not isinstance(action, str) or "{{" in action:
            # resolved_action of a templated action warns outside a few hooks.
            return action
        return task.resolved_action or action

    @staticmethod
    def _event_host(host, task):
        """The host whose registry the result describes: the delegated one
        when the task is delegated (templated delegate_to is resolved only in
        the results of loop items)."""
        delegate = _plain_var(getattr(task, "delegate_to", None))
        return delegate or host.get_name()

    def _host_var(self, host, name):
        if self.variable_manager is None:
            return None
        try:
            values = self.variable_manager.get_vars(play=self.play, host=host, include_hostvars=False)
            return _plain_var(values.get(name))
        except Exception:  # pylint: disable=broad-exception-caught
            return None

    def _site_of(self, host, task):
        site = self._host_var(host, "lastgood_site")
        if site is None:
            site = self.timeline.live_context(self._event_host(host, task)).get("site")
        return site

    # The events file -----------------------------------------------------

    def _add(self, host, event):
        """Keep the event; write it, or hold it back while the run has seen
        only probes, so that a run without release events leaves no file."""
        if self.timeline.add(host, event) is None or not self.timeline.has_release_events():
            return
        for entry in self.timeline.entries[self._written:]:
            self._write(entry)
        self._written = len(self.timeline.entries)

    def _events_dir(self):
        if self.events_dir:
            return self.events_dir
        try:
            configured = self.get_option("dir")
        except (KeyError, AnsibleError):
            # Not loaded by Ansible's plugin loader, so without its options.
            configured = os.environ.get("LASTGOOD_TIMELINE_DIR")
        return configured or DEFAULT_DIR

    def _write(self, entry):
        if self.write_error is not None:
            return
        if self.events_path is None:
            directory = os.path.expanduser(self._events_dir())
            path = os.path.join(directory, events_file_name(self.started, self.playbooks, os.getpid()))
            try:
                os.makedirs(directory, exist_ok=True)
            except OSError as error:
                self._write_failed(path, error)
                return
            self.events_path = path
        try:
            with open(self.events_path, "a", encoding="utf-8") as handle:
                handle.write(json.dumps(entry, sort_keys=True, default=str) + "\n")
        except (OSError, ValueError) as error:
            self._write_failed(self.events_path, error)

    def _write_failed(self, path, error):
        self.write_error = "%s: %s" % (path, getattr(error, "strerror", None) or error)
        self._warn_once("lastgood.webstack.timeline: cannot write the events to %s; the timeline is still "
                        "printed at the end" % self.write_error)
