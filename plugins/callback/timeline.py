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
    served again; and, for the hosts of the inventory group C(production) (all hosts without that group), the time
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
requirements:
  - Enabled by name, C(callbacks_enabled = lastgood.webstack.timeline) in the C([defaults]) section of
    C(ansible.cfg) or C(ANSIBLE_CALLBACKS_ENABLED=lastgood.webstack.timeline); the collection's own playbooks
    (C(ansible-playbook lastgood.webstack.<name>)) turn it on by themselves.
"""

import collections.abc
import datetime
import functools
import json
import os
import re

from ansible.errors import AnsibleError
from ansible.plugins.callback import CallbackBase

TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"
DEFAULT_DIR = "./lastgood-timeline/"
REASON_CHARS = 160
BY_CHARS = 60
SWITCHES = ("switched", "rolled_back")
MARKER_SUFFIX = "_timeline_event"
EVENT_KIND = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
WHITESPACE = re.compile(r"\s+")


# Times ----------------------------------------------------------------------

def utc_now():
    return datetime.datetime.now(datetime.timezone.utc)


def format_timestamp(moment):
    """The modules' own format: 2026-11-28T05:02:05.123456Z."""
    return moment.astimezone(datetime.timezone.utc).strftime(TIME_FORMAT)


def parse_timestamp(text):
    """An aware UTC datetime from an event's ``at``, or None."""
    if not isinstance(text, str):
        return None
    try:
        moment = datetime.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.timezone.utc)
    return moment.astimezone(datetime.timezone.utc)


def clock(moment):
    """05:02:05.123"""
    return "%s.%03d" % (moment.strftime("%H:%M:%S"), moment.microsecond // 1000)


def seconds(delta, digits=2):
    return "%.*f s" % (digits, delta.total_seconds())


# Events from task results -----------------------------------------------------

def action_kind(action):
    """``release``, ``release_info`` or ``health_probe`` for this collection's
    modules (by FQCN, or by short name under the ``collections`` keyword), else
    None."""
    if not isinstance(action, str):
        return None
    if action.startswith("lastgood.webstack."):
        name = action[len("lastgood.webstack."):]
    elif "." not in action:
        name = action
    else:
        return None
    return name if name in ("release", "release_info", "health_probe") else None


def release_events(result):
    """Copies of the well-formed events a result carries in ``events``: dicts
    with a string ``at`` and ``event``. Anything else in the list is ignored."""
    if not isinstance(result, collections.abc.Mapping):
        return []
    events = result.get("events")
    if not isinstance(events, list):
        return []
    return [dict(event) for event in events
            if isinstance(event, collections.abc.Mapping)
            and isinstance(event.get("at"), str) and isinstance(event.get("event"), str)]


def _number(value):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return value


def probe_event(result, passed, arrived, context):
    """The event of a health_probe result that arrived at ``arrived``
    (controller UTC). ``context`` is the site and release the host serves.
    The probe started ``elapsed_ms`` before it arrived; a failure counts as
    detected when the result arrived."""
    elapsed_ms = _number(result.get("elapsed_ms"))
    event = {
        "at": format_timestamp(arrived),
        "event": "probe_passed" if passed else "probe_failed",
        "site": context.get("site"),
        "release": context.get("release"),
        "by": "health_probe",
    }
    for key in ("total", "ok", "errors", "elapsed_ms", "p95_ms", "first_failure_after_ms", "stopped_by"):
        if key in result:
            event[key] = result[key]
    if elapsed_ms is not None:
        event["started_at"] = format_timestamp(arrived - datetime.timedelta(milliseconds=elapsed_ms))
    if not passed:
        event["detected_at"] = event["at"]
        event["reason"] = result.get("msg")
    return event


def probe_failed_but_ignored(result):
    """A probe that failed under ``failed_when: false`` (as the deploy's
    probe of the release it restored): health_probe has ``msg`` only when it
    fails, and failed_when leaves it in place."""
    return "failed_when_result" in result and bool(result.get("msg"))


def marker_kind(task_vars):
    """The event kind a task names in a variable ending in ``_timeline_event``
    (``__deploy_timeline_event: gate_refused``), or None."""
    if not isinstance(task_vars, collections.abc.Mapping):
        return None
    for name, value in task_vars.items():
        if str(name).endswith(MARKER_SUFFIX) and isinstance(value, str) and EVENT_KIND.match(value):
            return str(value)
    return None


def marker_event(kind, message, arrived, site=None, release=None):
    return {"at": format_timestamp(arrived), "event": kind, "site": site, "release": release,
            "reason": message if isinstance(message, str) else None}


def _plain(value):
    return value if value is None or isinstance(value, (str, int, float)) else repr(value)


def switch_target(event):
    """The release a switched or rolled_back event made live (None: no release)."""
    return event.get("to") if "to" in event else event.get("release")


class Timeline:
    """The events of one run, each with its ``host``, kept once per
    (host, at, event, release), in the order they arrived."""

    def __init__(self):
        self.entries = []
        self._seen = set()
        self._release_seen = False

    def add(self, host, event):
        """The entry added, or None when it was seen already."""
        entry = dict(event, host=host)
        key = tuple(_plain(entry.get(name)) for name in ("host", "at", "event", "release"))
        if key in self._seen:
            return None
        self._seen.add(key)
        self.entries.append(entry)
        return entry

    def ordered(self):
        return ordered(self.entries)

    def live_context(self, host):
        """The site and release ``host`` serves by its last switch (by time),
        else the site of its last event, else nothing."""
        mine = [entry for entry in self.ordered() if entry.get("host") == host]
        for entry in reversed(mine):
            if entry.get("event") in SWITCHES:
                return {"site": entry.get("site"), "release": switch_target(entry)}
        for entry in reversed(mine):
            if entry.get("site"):
                return {"site": entry.get("site"), "release": entry.get("release")}
        return {}

    def has_release_events(self):
        """Whether anything but probes was seen: a probe alone is no release."""
        if not self._release_seen:
            self._release_seen = any(not str(entry.get("event")).startswith("probe_") for entry in self.entries)
        return self._release_seen


def ordered(entries):
    """By time; entries whose time cannot be read last; otherwise in arrival order."""
    epoch = datetime.datetime.min.replace(tzinfo=datetime.timezone.utc)

    def key(indexed):
        index, entry = indexed
        moment = parse_timestamp(entry.get("at"))
        return (moment is None, moment or epoch, index)

    return [entry for _index, entry in sorted(enumerate(entries), key=key)]


# Durations --------------------------------------------------------------------

def durations(entries, end=None):
    """What the events say happened to each host.

    Returns ``(incidents, intervals)``. An incident is a release switched in
    on a host that then failed (a failed probe, a watchdog alert, marked bad,
    or rolled back from), with ``switched_at``, ``detected_at`` and
    ``detected_by``, ``first_failure_at`` (from the probe, when known), and
    ``recovered_at`` with ``recovered_to`` (the release switched to after it;
    None when nothing recovered). An interval is a time a host served a
    release that was not known good: from its switch until its ``known_good``
    event or the next switch, with ``outcome``; ``end_at`` is None while it is
    still open at the end of the events, and ``end`` (when given) counts as
    its end for its length."""
    incidents = []
    intervals = []
    hosts = {}
    for entry in ordered(entries):
        at = parse_timestamp(entry.get("at"))
        if at is None:
            continue
        state = hosts.setdefault(entry.get("host"), {"known_good": set(), "interval": None, "incident": None})
        kind = entry.get("event")
        release = entry.get("release")
        incident = state["incident"]
        if kind in SWITCHES:
            _switch(state, entry, at, incidents, intervals)
        elif kind == "known_good":
            state["known_good"].add(release)
            interval = state["interval"]
            if interval is not None and interval["release"] == release:
                interval.update(end_at=at, outcome="known good")
                state["interval"] = None
            if incident is not None and incident["release"] == release and incident["failed"]:
                # Failed, then marked known good by hand while it stayed live.
                incident.update(recovered_at=at, recovered_to=release, recovered_to_known_good=True)
                incidents.append(incident)
                state["incident"] = None
        elif kind == "bad":
            state["known_good"].discard(release)
            if incident is not None and incident["release"] == release:
                _detected(incident, at, "marked bad")
        elif kind == "probe_failed":
            if incident is not None:
                _detected(incident, at, "probe")
                started = parse_timestamp(entry.get("started_at"))
                after_ms = _number(entry.get("first_failure_after_ms"))
                if started is not None and after_ms is not None and incident.get("first_failure_at") is None:
                    incident["first_failure_at"] = started + datetime.timedelta(milliseconds=after_ms)
        elif kind == "watchdog_alert":
            if incident is not None and incident["release"] == release:
                _detected(incident, at, "watchdog alert")
    for state in hosts.values():
        incident = state["incident"]
        if incident is not None and incident["failed"]:
            incidents.append(incident)
    incidents.sort(key=lambda incident: incident["switched_at"])
    for interval in intervals:
        closed = interval["end_at"] or end
        interval["seconds"] = (closed - interval["start_at"]).total_seconds() if closed else None
    return incidents, intervals


def _detected(incident, at, how):
    incident["failed"] = True
    if incident["detected_at"] is None:
        incident["detected_at"] = at
        incident["detected_by"] = how


def _switch(state, entry, at, incidents, intervals):
    target = switch_target(entry)
    rollback = entry.get("event") == "rolled_back"
    # The module records a switch back to a known-good release as rolled_back.
    if rollback and target is not None:
        state["known_good"].add(target)
    target_known_good = target is not None and target in state["known_good"]
    interval = state["interval"]
    if interval is not None and interval["release"] != target:
        if target is None:
            outcome = "no release live"
        elif target_known_good:
            outcome = "known-good %s serving again" % target
        else:
            outcome = "replaced by %s" % target
        interval.update(end_at=at, outcome=outcome)
        state["interval"] = None
    incident = state["incident"]
    if incident is not None and incident["release"] != target:
        if rollback and not incident["failed"]:
            by = str(entry.get("by") or "")
            _detected(incident, at, "watchdog rollback" if "watchdog" in by else "rollback")
        if incident["failed"]:
            incident.update(recovered_at=at, recovered_to=target, recovered_to_known_good=target_known_good)
            incidents.append(incident)
        state["incident"] = None
    if target is not None and (incident is None or incident["release"] != target):
        state["incident"] = {
            "host": entry.get("host"), "site": entry.get("site"), "release": target, "switched_at": at,
            "failed": False, "detected_at": None, "detected_by": None, "first_failure_at": None,
            "recovered_at": None, "recovered_to": None, "recovered_to_known_good": False,
        }
        if not target_known_good and state["interval"] is None:
            state["interval"] = {"host": entry.get("host"), "site": entry.get("site"), "release": target,
                                 "start_at": at, "end_at": None, "outcome": None}
            intervals.append(state["interval"])


# Rendering ------------------------------------------------------------------

def one_line(text, limit=REASON_CHARS):
    text = WHITESPACE.sub(" ", str(text)).strip()
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _by(entry):
    return " (by %s)" % one_line(entry["by"], BY_CHARS) if entry.get("by") else ""


def _reason(entry, prefix=": "):
    return prefix + one_line(entry["reason"]) if entry.get("reason") else ""


def describe(entry):
    """What happened, in a few words."""
    kind = str(entry.get("event"))
    if kind == "staged":
        checksum = entry.get("checksum")
        return "staged" + (" (checksum %s)" % str(checksum)[:12] if checksum else "")
    if kind == "invalid":
        return "validation blocked" + _reason(entry)
    if kind == "switched":
        return "switched %s -> %s" % (entry.get("from") or "nothing", switch_target(entry) or "nothing")
    if kind == "rolled_back":
        return "rolled back %s -> %s%s" % (entry.get("from") or "nothing", switch_target(entry) or "no release",
                                           _by(entry))
    if kind == "known_good":
        return "known good"
    if kind == "bad":
        return "marked bad" + _reason(entry)
    if kind == "frozen":
        return "frozen" + _by(entry) + _reason(entry)
    if kind == "thawed":
        return "thawed" + _by(entry)
    if kind == "lease_broken":
        return "lease broken" + _reason(entry)
    if kind == "watchdog_alert":
        return "WATCHDOG ALERT" + _reason(entry)
    if kind in ("probe_passed", "probe_failed"):
        return _describe_probe(entry)
    if kind == "gate_refused":
        return "promotion gate refused" + _reason(entry)
    if kind == "freeze_refused":
        return "refused, the site is frozen" + _reason(entry)
    return kind + _reason(entry)


def _describe_probe(entry):
    total, ok = entry.get("total"), entry.get("ok")
    counts = "%s/%s" % (ok, total) if total is not None else ""
    p95 = _number(entry.get("p95_ms"))
    if entry.get("event") == "probe_passed":
        return "probe passed %s%s" % (counts, ", p95 %.1f ms" % p95 if p95 is not None else "")
    first = _number(entry.get("first_failure_after_ms"))
    return "probe FAILED %s ok%s%s" % (counts, ", first failure after %.0f ms" % first if first is not None else "",
                                       _reason(entry))


def where(entry):
    """Site and release: the release made live for a switch."""
    release = switch_target(entry) if entry.get("event") in SWITCHES else entry.get("release")
    return "%s %s" % (entry.get("site") or "?", release or "-")


def render(entries, playbooks, started, events_path=None, write_error=None, production_hosts=None, end=None):
    """The timeline as lines of text, or [] without release events."""
    if not any(not str(entry.get("event")).startswith("probe_") for entry in entries):
        return []
    rows = ordered(entries)
    if events_path and not write_error:
        saved = "events in %s" % events_path
    else:
        saved = "events not written%s" % (": %s" % write_error if write_error else "")
    lines = ["LASTGOOD TIMELINE  %s  %s (UTC)  %s" % (", ".join(playbooks) or "-", started.date().isoformat(), saved)]
    host_width = max(len(str(entry.get("host"))) for entry in rows)
    where_width = max(len(where(entry)) for entry in rows)
    day = started.date()
    for entry in rows:
        moment = parse_timestamp(entry.get("at"))
        if moment is not None and moment.date() != day:
            day = moment.date()
            lines.append("-- %s --" % day.isoformat())
        lines.append("%-12s  %-*s  %-*s  %s" % (
            clock(moment) if moment is not None else str(entry.get("at"))[:12],
            host_width, entry.get("host"), where_width, where(entry), describe(entry)))
    lines.extend(render_durations(rows, production_hosts, end))
    return lines


def describe_incident(incident):
    """switched 05:02:09.000; failure detected after 0.04 s (probe); ..."""
    def after(moment):
        return seconds(moment - incident["switched_at"])

    parts = ["switched %s" % clock(incident["switched_at"])]
    if incident["first_failure_at"] is not None:
        parts.append("first failed probe request after %s" % after(incident["first_failure_at"]))
    if incident["detected_at"] is not None:
        parts.append("failure detected after %s (%s)" % (after(incident["detected_at"]), incident["detected_by"]))
    recovered_to = incident["recovered_to"]
    if incident["recovered_at"] is None:
        parts.append("not recovered by the end of the run")
    elif recovered_to is None:
        parts.append("no release live after %s" % after(incident["recovered_at"]))
    elif recovered_to == incident["release"]:
        parts.append("marked known good after %s" % after(incident["recovered_at"]))
    elif incident["recovered_to_known_good"]:
        parts.append("known-good %s serving again after %s" % (recovered_to, after(incident["recovered_at"])))
    else:
        parts.append("%s, not known good, live after %s" % (recovered_to, after(incident["recovered_at"])))
    return "; ".join(parts)


def render_durations(entries, production_hosts=None, end=None):
    incidents, intervals = durations(entries, end)
    lines = ["  %s  %s %s: %s" % (incident["host"], incident["site"] or "?", incident["release"],
                                  describe_incident(incident))
             for incident in incidents]
    for interval in intervals:
        if interval["end_at"] is None:
            since = " (%s since the switch)" % seconds(end - interval["start_at"]) if end else ""
            lines.append("  %s  %s %s: switched %s; still not known good at the end of the run%s" % (
                interval["host"], interval["site"] or "?", interval["release"], clock(interval["start_at"]), since))
    if production_hosts is None:
        counted, label = intervals, "the hosts"
    else:
        counted = [interval for interval in intervals if interval["host"] in production_hosts]
        label = "production"
    per_host = {}
    for interval in counted:
        if interval["seconds"] is not None:
            per_host[interval["host"]] = per_host.get(interval["host"], 0.0) + interval["seconds"]
    if per_host:
        still_open = {interval["host"] for interval in counted if interval["end_at"] is None}
        lines.append("  %s served a release that was not known good: %.1f s in total (%s)" % (
            label, sum(per_host.values()), ", ".join(
                "%s %.1f s%s" % (host, total, " and counting" if host in still_open else "")
                for host, total in sorted(per_host.items()))))
    return ["DURATIONS"] + lines if lines else []


def playbook_stem(playbooks):
    """deploy.yml -> deploy: the name of the first playbook, for the file name."""
    if not playbooks:
        return "run"
    name = os.path.basename(playbooks[0])
    for suffix in (".yml", ".yaml"):
        if name.endswith(suffix):
            name = name[:-len(suffix)]
    return re.sub(r"[^A-Za-z0-9_.-]", "_", name) or "run"


def events_file_name(started, playbooks, pid):
    return "%s-%s-%d.jsonl" % (started.strftime("%Y%m%dT%H%M%SZ"), playbook_stem(playbooks), pid)


# The callback ---------------------------------------------------------------

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
            if "production" in groups:
                self.production_hosts = set(groups["production"])

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
        data = result.result
        host = result.host.get_name()
        items = data.get("results")
        if isinstance(items, list) and "events" not in data:
            if (host, result.task._uuid) not in self._itemised:
                for item in items:
                    if isinstance(item, collections.abc.Mapping):
                        self._record(result, item, bool(item.get("failed")))
        else:
            self._record(result, data, failed)
        kind = marker_kind(result.task.vars) if failed else None
        if kind is not None:
            release = self._host_var(result, "lastgood_release_id")
            self._add(self._event_host(result),
                      marker_event(kind, data.get("msg"), utc_now(), self._site_of(result), release))

    def _item_result(self, result, failed):
        self._itemised.add((result.host.get_name(), result.task._uuid))
        self._record(result, result.result, failed)

    def _record(self, result, data, failed):
        host = self._event_host(result)
        if action_kind(self._action(result.task)) == "health_probe":
            passed = not failed and not probe_failed_but_ignored(data)
            self._add(host, probe_event(data, passed, utc_now(), self.timeline.live_context(host)))
            return
        for event in release_events(data):
            self._add(host, event)

    @staticmethod
    def _action(task):
        action = getattr(task, "action", None)
        if not isinstance(action, str) or "{{" in action:
            # resolved_action of a templated action warns outside a few hooks.
            return action
        return task.resolved_action or action

    @staticmethod
    def _event_host(result):
        """The host whose registry the result describes: the delegated one
        when the task is delegated (templated delegate_to is resolved only in
        the results of loop items)."""
        delegate = _plain_var(getattr(result.task, "delegate_to", None))
        return delegate or result.host.get_name()

    def _host_var(self, result, name):
        if self.variable_manager is None:
            return None
        try:
            values = self.variable_manager.get_vars(play=self.play, host=result.host, include_hostvars=False)
            return _plain_var(values.get(name))
        except Exception:  # pylint: disable=broad-exception-caught
            return None

    def _site_of(self, result):
        site = self._host_var(result, "lastgood_site")
        if site is None:
            site = self.timeline.live_context(self._event_host(result)).get("site")
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
