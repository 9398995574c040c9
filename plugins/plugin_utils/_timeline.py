# -*- coding: utf-8 -*-
# Copyright: lastgood.webstack contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The release timeline, on the controller: events from task results, one
run's or several runs' events kept once each, what they say happened to each
host (durations), and the text that shows them.

Used by the ``lastgood.webstack.timeline`` callback, which records a run's
events as JSON lines, and by the ``lastgood.webstack.merged_timeline`` lookup,
which reads those files back and merges several runs into one timeline."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import collections.abc
import datetime
import json
import os
import re

# The times of events, as the release modules write them too:
# 2026-11-28T05:02:05.123456Z.
TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"
# The start of a run in the name of its events file: 20261128T050205Z.
FILE_TIME_FORMAT = "%Y%m%dT%H%M%SZ"
EVENTS_SUFFIX = ".jsonl"
EVENTS_FILE = re.compile(r"^[0-9]{8}T[0-9]{6}Z-(?P<playbook>.*)-[0-9]+[.]jsonl$")
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
    return "%s-%s-%d%s" % (started.strftime(FILE_TIME_FORMAT), playbook_stem(playbooks), pid, EVENTS_SUFFIX)


# Several runs ------------------------------------------------------------------

class EventsFileError(Exception):
    """An events file or directory that cannot be read."""


def event_files(paths):
    """The events files ``paths`` name, each once: a file as it is, a
    directory's ``*.jsonl`` files in name order (the order the runs started
    in, for the callback's names)."""
    files = []
    for path in paths:
        if os.path.isdir(path):
            try:
                names = sorted(os.listdir(path))
            except OSError as error:
                raise EventsFileError("cannot list %s: %s" % (path, error.strerror or error))
            found = [os.path.join(path, name) for name in names if name.endswith(EVENTS_SUFFIX)]
            files.extend(name for name in found if os.path.isfile(name))
        elif os.path.isfile(path):
            files.append(path)
        else:
            raise EventsFileError("%s is neither an events file nor a directory" % path)
    return list(collections.OrderedDict.fromkeys(files))


def read_events(path):
    """The ``(host, event)`` pairs of one events file, and the places of the
    lines skipped (``path:line``): a line that is not a JSON object with a
    string ``host``, ``at`` and ``event``, such as the last line of a run
    killed while it wrote it."""
    pairs = []
    skipped = []
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            for number, line in enumerate(handle, 1):
                if not line.strip():
                    continue
                try:
                    entry = json.loads(line)
                except ValueError:
                    entry = None
                if not isinstance(entry, dict) or not all(
                        isinstance(entry.get(key), str) for key in ("host", "at", "event")):
                    skipped.append("%s:%d" % (path, number))
                    continue
                pairs.append((entry.pop("host"), entry))
    except OSError as error:
        raise EventsFileError("cannot read %s: %s" % (path, error.strerror or error))
    return pairs, skipped


def merge(paths):
    """One Timeline of the events of every file ``paths`` name (see
    event_files), each event once however many runs' files repeat it.
    Returns ``(timeline, files, skipped)``."""
    story = Timeline()
    files = event_files(paths)
    skipped = []
    for path in files:
        pairs, bad = read_events(path)
        skipped.extend(bad)
        for host, event in pairs:
            story.add(host, event)
    return story, files, skipped


def runs_label(files):
    """3 runs (deploy, rollback): how many runs, and their playbooks by the
    callback's file names, each once."""
    playbooks = []
    for path in files:
        match = EVENTS_FILE.match(os.path.basename(path))
        if match and match.group("playbook") not in playbooks:
            playbooks.append(match.group("playbook"))
    label = "%d run%s" % (len(files), "" if len(files) == 1 else "s")
    return "%s (%s)" % (label, ", ".join(playbooks)) if playbooks else label


def render_merged(entries, files, sources, production_hosts=None):
    """The timeline of several runs as lines of text, or [] without release
    events: from the first event's day, and open intervals counted until the
    last event."""
    rows = ordered(entries)
    times = [moment for moment in (parse_timestamp(entry.get("at")) for entry in rows) if moment is not None]
    if not times:
        return []
    return render(rows, [runs_label(files)], times[0], events_path=", ".join(sources),
                  production_hosts=production_hosts, end=times[-1])
