"""The timeline callback: events from results, deduplication, the durations
of an incident, the text it prints; and one real ansible-playbook run."""

import datetime
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys

import pytest

from ansible_collections.lastgood.webstack.plugins.callback import timeline
from ansible_collections.lastgood.webstack.plugins.callback.timeline import (
    Timeline,
    action_kind,
    describe,
    durations,
    events_file_name,
    marker_kind,
    probe_event,
    release_events,
    render,
)

# .../ansible_collections/lastgood/webstack/plugins/callback/timeline.py
COLLECTIONS_DIR = os.path.abspath(timeline.__file__).rsplit(os.sep + "ansible_collections" + os.sep, 1)[0]
COLLECTION_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(timeline.__file__))))
UTC = datetime.timezone.utc
RUN_STARTED = datetime.datetime(2026, 11, 28, 5, 2, 0, tzinfo=UTC)


def at(clock):
    """'05:02:09.000' -> the modules' timestamp of that time on the run's day."""
    return "2026-11-28T%s000Z" % clock


def event(kind, clock, release=None, site="demo", **fields):
    return dict({"at": at(clock), "event": kind, "site": site, "release": release}, **fields)


def switched(clock, from_release, to_release, **fields):
    return event("switched", clock, to_release, **dict({"from": from_release, "to": to_release}, **fields))


def rolled_back(clock, from_release, to_release, by="deploy alice@ci1"):
    return event("rolled_back", clock, to_release, by=by, **{"from": from_release, "to": to_release})


def probe_failed(clock, release, started_clock, first_failure_after_ms):
    return event("probe_failed", clock, release, total=20, ok=3, errors=17, started_at=at(started_clock),
                 first_failure_after_ms=first_failure_after_ms, reason="17 of 20 requests failed")


def on(host, *events):
    return [dict(item, host=host) for item in events]


def moment(clock):
    return timeline.parse_timestamp(at(clock))


# Events from results ---------------------------------------------------------

def test_action_kind_knows_the_collections_modules_only():
    assert action_kind("lastgood.webstack.release") == "release"
    assert action_kind("lastgood.webstack.release_info") == "release_info"
    assert action_kind("lastgood.webstack.health_probe") == "health_probe"
    assert action_kind("health_probe") == "health_probe"
    assert action_kind("other.collection.health_probe") is None
    assert action_kind("ansible.builtin.debug") is None
    assert action_kind(None) is None


def test_release_events_keeps_the_well_formed_ones_as_copies():
    good = {"at": at("05:02:09.000"), "event": "switched", "site": "demo", "release": "v3"}
    result = {"events": [good, {"event": "no time"}, {"at": 3, "event": "x"}, "junk", {"at": at("05:02:10.000")}]}
    events = release_events(result)
    assert events == [good]
    events[0]["host"] = "changed"
    assert "host" not in good
    assert release_events({"events": "not a list"}) == []
    assert release_events({}) == []
    assert release_events(None) == []


def test_probe_event_passed_takes_site_and_release_from_the_context():
    arrived = datetime.datetime(2026, 11, 28, 5, 2, 9, 100000, tzinfo=UTC)
    result = {"total": 20, "ok": 20, "errors": 0, "elapsed_ms": 100.0, "first_failure_after_ms": None, "p95_ms": 3.2}
    probe = probe_event(result, True, arrived, {"site": "demo", "release": "v3"})
    assert probe["event"] == "probe_passed"
    assert (probe["site"], probe["release"]) == ("demo", "v3")
    assert probe["at"] == "2026-11-28T05:02:09.100000Z"
    assert probe["started_at"] == "2026-11-28T05:02:09.000000Z"
    assert probe["p95_ms"] == 3.2 and probe["first_failure_after_ms"] is None
    assert "detected_at" not in probe and "reason" not in probe


def test_probe_event_failed_records_detection_and_reason():
    arrived = datetime.datetime(2026, 11, 28, 5, 2, 10, 40000, tzinfo=UTC)
    result = {"total": 5, "ok": 0, "errors": 5, "elapsed_ms": 20.0, "first_failure_after_ms": 2.5,
              "p95_ms": 1.0, "msg": "5 consecutive requests failed"}
    probe = probe_event(result, False, arrived, {})
    assert probe["event"] == "probe_failed"
    assert probe["detected_at"] == probe["at"] == "2026-11-28T05:02:10.040000Z"
    assert probe["started_at"] == "2026-11-28T05:02:10.020000Z"
    assert probe["reason"] == "5 consecutive requests failed"
    assert probe["site"] is None and probe["release"] is None


def test_marker_kind_from_the_tasks_own_vars():
    assert marker_kind({"__deploy_timeline_event": "gate_refused", "other": 1}) == "gate_refused"
    assert marker_kind({"x_timeline_event": "{{ kind }}"}) is None
    assert marker_kind({"unrelated": "gate_refused"}) is None
    assert marker_kind(None) is None


def test_timeline_keeps_each_event_once_per_host():
    history = [event("staged", "05:02:08.000", "v3"), switched("05:02:09.000", "v1", "v3")]
    entries = Timeline()
    assert [entries.add("prod1", item) is not None for item in history] == [True, True]
    # release_info returns the same history again, and more
    assert [entries.add("prod1", item) is not None for item in history] == [False, False]
    assert entries.add("prod1", event("known_good", "05:02:09.200", "v3")) is not None
    # the same event on another host is another event
    assert entries.add("prod2", history[1]) is not None
    assert [(entry["host"], entry["event"]) for entry in entries.entries] == [
        ("prod1", "staged"), ("prod1", "switched"), ("prod1", "known_good"), ("prod2", "switched")]


def test_live_context_is_the_release_of_the_hosts_last_switch_by_time():
    entries = Timeline()
    entries.add("prod1", rolled_back("05:02:12.000", "v2b", "v1"))
    entries.add("prod1", event("bad", "05:02:12.100", "v2b"))
    # history arriving later, older by time
    entries.add("prod1", switched("05:02:10.000", "v1", "v2b"))
    assert entries.live_context("prod1") == {"site": "demo", "release": "v1"}
    entries.add("staging1", event("invalid", "05:02:05.000", "v2"))
    assert entries.live_context("staging1") == {"site": "demo", "release": "v2"}
    assert entries.live_context("nobody") == {}


# Durations -------------------------------------------------------------------

def test_failed_deploy_detected_by_its_probe_and_rolled_back_by_its_rescue():
    entries = on("prod1",
                 event("staged", "05:02:08.000", "v2b"),
                 switched("05:02:10.000", "v1", "v2b"),
                 probe_failed("05:02:10.040", "v2b", "05:02:10.020", 10.0),
                 rolled_back("05:02:12.700", "v2b", "v1"),
                 event("bad", "05:02:12.800", "v2b", reason="probe failed"),
                 event("probe_passed", "05:02:13.000", "v1", total=20, ok=20))
    incidents, intervals = durations(entries)
    assert len(incidents) == 1
    incident = incidents[0]
    assert (incident["host"], incident["release"]) == ("prod1", "v2b")
    assert (incident["detected_at"] - incident["switched_at"]).total_seconds() == pytest.approx(0.04)
    assert incident["detected_by"] == "probe"
    assert (incident["first_failure_at"] - incident["switched_at"]).total_seconds() == pytest.approx(0.03)
    assert (incident["recovered_at"] - incident["switched_at"]).total_seconds() == pytest.approx(2.7)
    assert incident["recovered_to"] == "v1" and incident["recovered_to_known_good"]
    assert len(intervals) == 1
    assert intervals[0]["seconds"] == pytest.approx(2.7)
    assert intervals[0]["outcome"] == "known-good v1 serving again"


def test_good_deploy_bakes_then_becomes_known_good():
    entries = on("prod1",
                 switched("05:02:09.000", "v1", "v3"),
                 event("probe_passed", "05:02:39.000", "v3", total=500, ok=500),
                 event("known_good", "05:02:39.200", "v3"))
    incidents, intervals = durations(entries)
    assert incidents == []
    assert [(item["release"], item["outcome"]) for item in intervals] == [("v3", "known good")]
    assert intervals[0]["seconds"] == pytest.approx(30.2)


def test_watchdog_rollback_without_a_probe_failure_is_the_detection():
    entries = on("prod2",
                 switched("05:10:00.000", "v3", "v4"),
                 event("known_good", "05:10:30.000", "v4"),
                 rolled_back("05:14:00.000", "v4", "v3", by="watchdog"),
                 event("bad", "05:14:00.100", "v4", reason="watchdog: 500 on /"))
    incidents, intervals = durations(entries)
    assert len(incidents) == 1
    incident = incidents[0]
    assert incident["detected_by"] == "watchdog rollback"
    assert incident["detected_at"] == incident["recovered_at"] == moment("05:14:00.000")
    assert incident["first_failure_at"] is None
    # v4 was known good from 05:10:30 on: only the bake counts as not known good
    assert [item["seconds"] for item in intervals] == [pytest.approx(30.0)]


def test_watchdog_alert_detects_before_a_later_rollback():
    entries = on("prod2",
                 switched("05:10:00.000", "v3", "v4"),
                 event("watchdog_alert", "05:11:00.000", "v4", by="watchdog", reason="500 on /; not rolling back"),
                 rolled_back("05:12:00.000", "v4", "v3", by="rollback bob@ops"))
    incident = durations(entries)[0][0]
    assert incident["detected_by"] == "watchdog alert"
    assert incident["detected_at"] == moment("05:11:00.000")
    assert incident["recovered_at"] == moment("05:12:00.000")


def test_open_interval_counts_until_the_end_and_stays_open():
    entries = on("prod1", switched("05:20:00.000", "v4", "v5"))
    incidents, intervals = durations(entries, end=moment("05:20:05.500"))
    assert incidents == []
    assert intervals[0]["end_at"] is None and intervals[0]["outcome"] is None
    assert intervals[0]["seconds"] == pytest.approx(5.5)
    assert durations(entries)[1][0]["seconds"] is None


def test_first_release_that_fails_goes_back_to_no_release():
    entries = on("staging1",
                 switched("05:02:00.000", None, "v1"),
                 probe_failed("05:02:01.000", "v1", "05:02:00.900", 5.0),
                 rolled_back("05:02:02.000", "v1", None))
    incident = durations(entries)[0][0]
    assert incident["recovered_to"] is None
    assert incident["recovered_at"] == moment("05:02:02.000")


def test_switch_to_a_release_known_good_before_opens_no_interval():
    entries = on("prod1",
                 event("known_good", "04:00:00.000", "v1"),
                 switched("05:00:00.000", "v1", "v2"),
                 event("known_good", "05:00:10.000", "v2"),
                 switched("05:30:00.000", "v2", "v1"))
    intervals = durations(entries)[1]
    assert [(item["release"], item["seconds"]) for item in intervals] == [("v2", pytest.approx(10.0))]


# Rendering --------------------------------------------------------------------

def incident_run():
    return (on("staging1", event("invalid", "05:02:05.123", "v2", reason="web_refs: " + "x" * 300))
            + on("prod1",
                 switched("05:02:09.000", "v1", "v2b"),
                 probe_failed("05:02:09.040", "v2b", "05:02:09.020", 10.0),
                 rolled_back("05:02:11.700", "v2b", "v1"),
                 event("bad", "05:02:11.800", "v2b", reason="probe failed"))
            + on("prod2",
                 switched("05:02:12.000", "v1", "v3"),
                 event("probe_passed", "05:02:12.100", "v3", total=20, ok=20, p95_ms=3.2),
                 event("known_good", "05:02:14.600", "v3"),
                 event("mystery_kind", "05:02:15.000", "v3", reason="shown as it is")))


def test_render_prints_the_timeline_in_time_order_and_the_durations():
    text = "\n".join(render(incident_run(), ["deploy.yml"], RUN_STARTED, events_path="./lastgood-timeline/x.jsonl",
                            production_hosts={"prod1", "prod2"}))
    lines = text.splitlines()
    assert lines[0].startswith("LASTGOOD TIMELINE  deploy.yml  2026-11-28 (UTC)")
    assert lines[0].endswith("events in ./lastgood-timeline/x.jsonl")
    assert lines[1].startswith("05:02:05.123  staging1  demo v2 ")
    assert "validation blocked: web_refs: xxx" in lines[1]
    assert len(lines[1].split("validation blocked: ", 1)[1]) == 160
    assert "05:02:09.000  prod1     demo v2b  switched v1 -> v2b" in lines
    assert "05:02:09.040  prod1     demo v2b  probe FAILED 3/20 ok, first failure after 10 ms: " \
           "17 of 20 requests failed" in lines
    assert "05:02:11.700  prod1     demo v1   rolled back v2b -> v1 (by deploy alice@ci1)" in lines
    assert "05:02:12.100  prod2     demo v3   probe passed 20/20, p95 3.2 ms" in lines
    assert "05:02:14.600  prod2     demo v3   known good" in lines
    assert "05:02:15.000  prod2     demo v3   mystery_kind: shown as it is" in lines
    durations_at = lines.index("DURATIONS")
    assert lines[durations_at + 1] == (
        "  prod1  demo v2b: switched 05:02:09.000; first failed probe request after 0.03 s; "
        "failure detected after 0.04 s (probe); known-good v1 serving again after 2.70 s")
    assert lines[durations_at + 2] == (
        "  production served a release that was not known good: 5.3 s in total (prod1 2.7 s, prod2 2.6 s)")


def test_render_counts_all_hosts_without_a_production_group_and_reports_open_intervals():
    entries = on("web1", switched("05:20:00.000", "v4", "v5"))
    lines = render(entries, ["deploy.yml"], RUN_STARTED, events_path="x.jsonl", end=moment("05:20:03.000"))
    assert ("  web1  demo v5: switched 05:20:00.000; still not known good at the end of the run "
            "(3.00 s since the switch)") in lines
    assert "  the hosts served a release that was not known good: 3.0 s in total (web1 3.0 s and counting)" in lines


def test_render_is_quiet_without_release_events():
    assert render([], ["site.yml"], RUN_STARTED) == []
    probes_only = on("prod1", event("probe_passed", "05:02:12.100", None, total=20, ok=20))
    assert render(probes_only, ["site.yml"], RUN_STARTED) == []


def test_render_shows_history_of_other_days_and_a_write_failure():
    entries = on("prod1", event("known_good", "05:02:14.600", "v3"))
    entries.append(dict(event("frozen", "05:00:00.000", "v3", by="alice", reason="incident 42"),
                        at="2026-11-27T23:59:00.000000Z", host="prod1"))
    lines = render(entries, ["status.yml"], RUN_STARTED, write_error="/nope/x.jsonl: Permission denied")
    assert lines[0].endswith("events not written: /nope/x.jsonl: Permission denied")
    assert lines[1:5] == [
        "-- 2026-11-27 --",
        "23:59:00.000  prod1  demo v3  frozen (by alice): incident 42",
        "-- 2026-11-28 --",
        "05:02:14.600  prod1  demo v3  known good",
    ]


def test_describe_every_known_kind():
    assert describe(event("staged", "05:00:00.000", "v1", checksum="0123456789abcdef")) == \
        "staged (checksum 0123456789ab)"
    assert describe(event("thawed", "05:00:00.000", "v1", by="bob")) == "thawed (by bob)"
    assert describe(event("lease_broken", "05:00:00.000", "v1", reason="broke the lease of deploy x")) == \
        "lease broken: broke the lease of deploy x"
    assert describe(event("watchdog_alert", "05:00:00.000", "v1", reason="v1 fails\ntoo")) == \
        "WATCHDOG ALERT: v1 fails too"
    assert describe(event("gate_refused", "05:00:00.000", reason="staging has v2 as invalid")) == \
        "promotion gate refused: staging has v2 as invalid"
    assert describe(event("freeze_refused", "05:00:00.000", reason="demo is frozen")) == \
        "refused, the site is frozen: demo is frozen"
    assert describe(rolled_back("05:00:00.000", "v1", None, by="")) == "rolled back v1 -> no release"
    assert describe(event("something_new", "05:00:00.000")) == "something_new"


def test_events_file_name():
    assert events_file_name(datetime.datetime(2026, 11, 28, 5, 2, 5, tzinfo=UTC), ["deploy.yml", "x.yml"], 1234) == \
        "20261128T050205Z-deploy-1234.jsonl"
    assert events_file_name(RUN_STARTED, [], 7) == "20261128T050200Z-run-7.jsonl"


# The callback with results as Ansible hands them over -------------------------

class FakeHost:
    def __init__(self, name):
        self.name = name

    def get_name(self):
        return self.name


class FakeTask:
    def __init__(self, action, uuid="task-1", task_vars=None, delegate_to=None):
        self.action = action
        self.resolved_action = action
        self.vars = task_vars or {}
        self.delegate_to = delegate_to
        self._uuid = uuid


class FakeResult:
    def __init__(self, host, task, result):
        self.host = FakeHost(host)
        self.task = task
        self.result = result


class FakeDisplay:
    verbosity = 0

    def __init__(self):
        self.warnings = []
        self.shown = []

    def warning(self, message, *args, **kwargs):
        self.warnings.append(message)

    def display(self, message, *args, **kwargs):
        self.shown.append(message)


@pytest.fixture
def callback(tmp_path):
    plugin = timeline.CallbackModule(display=FakeDisplay())
    plugin.events_dir = str(tmp_path / "timeline")
    plugin.playbooks = ["deploy.yml"]
    return plugin


def written(plugin):
    with open(plugin.events_path) as handle:
        return [json.loads(line) for line in handle]


def test_callback_records_loop_items_once_and_failed_results_too(callback):
    release = FakeTask("lastgood.webstack.release", uuid="stage")
    staged = event("staged", "05:02:08.000", "v3")
    callback.v2_runner_item_on_ok(FakeResult("prod1", release, {"events": [staged], "item": "v3"}))
    callback.v2_runner_on_ok(FakeResult("prod1", release, {"results": [{"events": [staged], "item": "v3"}]}))
    failed_switch = switched("05:02:09.000", "v1", "v3")
    callback.v2_runner_on_failed(FakeResult("prod1", FakeTask("lastgood.webstack.release", uuid="live"),
                                            {"events": [failed_switch], "msg": "the reload failed"}))
    # a loop whose items were not handed over one by one
    history = FakeTask("lastgood.webstack.release_info", uuid="history")
    callback.v2_runner_on_ok(FakeResult("prod2", history, {"results": [{"events": [staged, failed_switch]}]}))
    assert [(entry["host"], entry["event"]) for entry in written(callback)] == [
        ("prod1", "staged"), ("prod1", "switched"), ("prod2", "staged"), ("prod2", "switched")]
    assert os.path.basename(callback.events_path).startswith(callback.started.strftime("%Y%m%dT%H%M%SZ") + "-deploy-")


def test_callback_probe_takes_the_live_release_and_delegation_names_the_host(callback):
    callback.v2_runner_on_ok(FakeResult("prod1", FakeTask("lastgood.webstack.release", uuid="live"),
                                        {"events": [switched("05:02:09.000", "v1", "v3")]}))
    callback.v2_runner_on_failed(FakeResult("prod1", FakeTask("lastgood.webstack.health_probe", uuid="probe"),
                                            {"total": 5, "ok": 0, "elapsed_ms": 12.0, "msg": "all failed",
                                             "first_failure_after_ms": 1.0, "p95_ms": 1.0}))
    callback.v2_runner_item_on_ok(FakeResult("prod1", FakeTask("lastgood.webstack.release_info", uuid="gate",
                                                               delegate_to="staging1"),
                                             {"events": [event("known_good", "05:01:00.000", "v3")]}))
    entries = written(callback)
    assert (entries[1]["event"], entries[1]["site"], entries[1]["release"]) == ("probe_failed", "demo", "v3")
    assert entries[2]["host"] == "staging1"


def test_callback_turns_a_failed_marked_task_into_an_event(callback):
    callback.v2_runner_on_ok(FakeResult("prod1", FakeTask("lastgood.webstack.release", uuid="live"),
                                        {"events": [switched("05:02:09.000", "v1", "v3")]}))
    refusal = FakeTask("ansible.builtin.assert", uuid="gate", task_vars={"__deploy_timeline_event": "gate_refused"})
    callback.v2_runner_on_failed(FakeResult("prod1", refusal, {"msg": "Promotion gate: staging has v4 invalid"}))
    # the same marker on a task that succeeded is nothing
    callback.v2_runner_on_ok(FakeResult("prod1", refusal, {"msg": "All assertions passed"}))
    entries = written(callback)
    assert [entry["event"] for entry in entries] == ["switched", "gate_refused"]
    assert entries[1]["reason"] == "Promotion gate: staging has v4 invalid"
    assert entries[1]["site"] == "demo"


def test_callback_prints_at_the_end_and_only_with_release_events(callback):
    callback.v2_runner_on_ok(FakeResult("prod1", FakeTask("lastgood.webstack.health_probe", uuid="probe"),
                                        {"total": 20, "ok": 20, "elapsed_ms": 50.0, "p95_ms": 2.0}))
    callback.v2_playbook_on_stats(None)
    assert callback._display.shown == []
    assert callback.events_path is None
    callback.v2_runner_on_ok(FakeResult("prod1", FakeTask("lastgood.webstack.release", uuid="live"),
                                        {"events": [switched("05:02:09.000", "v1", "v3")]}))
    # the probe held back until then is written too
    assert [entry["event"] for entry in written(callback)] == ["probe_passed", "switched"]
    callback.v2_playbook_on_stats(None)
    assert "05:02:09.000  prod1  demo v3  switched v1 -> v3" in callback._display.shown[0]
    assert "events in %s" % callback.events_path in callback._display.shown[0]


def test_callback_warns_once_when_it_cannot_write_and_goes_on(callback, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    callback.events_dir = str(blocker / "timeline")
    for clock in ("05:02:09.000", "05:02:10.000"):
        callback.v2_runner_on_ok(FakeResult("prod1", FakeTask("lastgood.webstack.release", uuid=clock),
                                            {"events": [event("known_good", clock, "v3")]}))
    assert len(callback._display.warnings) == 1
    assert "cannot write the events" in callback._display.warnings[0]
    callback.v2_playbook_on_stats(None)
    assert "events not written" in callback._display.shown[0]
    assert callback._display.shown[0].count("known good") == 2


def test_callback_never_raises(callback):
    class Broken:
        @property
        def result(self):
            raise RuntimeError("no result here")

    callback.v2_runner_on_ok(Broken())
    callback.v2_runner_on_failed(Broken())
    callback.v2_playbook_on_play_start(object())
    assert len(callback._display.warnings) == 3
    assert all(warning.startswith("lastgood.webstack.timeline: ") for warning in callback._display.warnings)


def test_playbook_shim_is_idle_when_the_callback_is_enabled_by_name(monkeypatch):
    path = os.path.join(COLLECTION_ROOT, "playbooks", "callback_plugins", "lastgood_timeline.py")
    spec = importlib.util.spec_from_file_location("lastgood_timeline_shim", path)
    shim = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(shim)
    assert issubclass(shim.CallbackModule, timeline.CallbackModule)
    assert shim.CallbackModule.CALLBACK_NEEDS_ENABLED is False
    monkeypatch.setattr(shim.constants, "CALLBACKS_ENABLED", ["lastgood.webstack.timeline"])
    assert shim.CallbackModule(display=FakeDisplay()).disabled
    monkeypatch.setattr(shim.constants, "CALLBACKS_ENABLED", [])
    assert not shim.CallbackModule(display=FakeDisplay()).disabled


# A real run ------------------------------------------------------------------

PLAYBOOK = """\
- name: Release v1 on this machine
  hosts: localhost
  connection: local
  gather_facts: false
  vars:
    ansible_python_interpreter: "{{ ansible_playbook_python }}"
  tasks:
    - name: Stage
      lastgood.webstack.release:
        site: demo
        base_dir: "%(base_dir)s"
        release_id: "{{ item }}"
        state: staged
        src: "%(src)s"
      loop: [v1]
    - name: Switch in
      lastgood.webstack.release:
        site: demo
        base_dir: "%(base_dir)s"
        release_id: v1
        state: live
    - name: Mark known good
      lastgood.webstack.release:
        site: demo
        base_dir: "%(base_dir)s"
        release_id: v1
        state: known_good
    - name: Read the history, which repeats the events
      lastgood.webstack.release_info:
        site: demo
        base_dir: "%(base_dir)s"
        events: 20
"""


def ansible_playbook(tmp_path, *args, **env):
    executable = shutil.which("ansible-playbook", path=os.path.dirname(sys.executable)) or shutil.which(
        "ansible-playbook")
    environ = {name: value for name, value in os.environ.items()
               if name not in ("ANSIBLE_CONFIG", "ANSIBLE_CALLBACKS_ENABLED")}
    environ.update(ANSIBLE_COLLECTIONS_PATH=COLLECTIONS_DIR, ANSIBLE_NOCOLOR="1",
                   ANSIBLE_LOCAL_TEMP=str(tmp_path / "ansible-tmp"))
    environ.update((name, value) for name, value in env.items() if value is not None)
    return subprocess.run([executable, "-i", "localhost,"] + list(args), cwd=str(tmp_path), env=environ,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True, timeout=300,
                          check=False)


def release_v1(tmp_path, **env):
    src = tmp_path / "src"
    (src / "app").mkdir(parents=True)
    (src / "app" / "index.php").write_text("<?php echo 'v1';\n")
    playbook = tmp_path / "release-v1.yml"
    playbook.write_text(PLAYBOOK % {"base_dir": tmp_path / "srv", "src": src})
    return ansible_playbook(tmp_path, str(playbook), **env)


def test_a_real_run_writes_the_events_and_prints_the_timeline(tmp_path):
    events_dir = tmp_path / "events"
    run = release_v1(tmp_path, ANSIBLE_CALLBACKS_ENABLED="lastgood.webstack.timeline",
                     LASTGOOD_TIMELINE_DIR=str(events_dir))
    assert run.returncode == 0, run.stdout
    files = os.listdir(str(events_dir))
    assert len(files) == 1 and re.match(r"^[0-9]{8}T[0-9]{6}Z-release-v1-[0-9]+[.]jsonl$", files[0]), files
    with open(str(events_dir / files[0])) as handle:
        entries = [json.loads(line) for line in handle]
    assert [(entry["host"], entry["event"], entry["release"]) for entry in entries] == [
        ("localhost", "staged", "v1"), ("localhost", "switched", "v1"), ("localhost", "known_good", "v1")]
    output = run.stdout
    assert output.count("LASTGOOD TIMELINE  release-v1.yml  ") == 1
    assert "events in %s" % (events_dir / files[0]) in output
    assert "  localhost  demo v1  switched nothing -> v1" in output
    assert "  localhost  demo v1  known good" in output
    assert "  the hosts served a release that was not known good: " in output
    assert "lastgood.webstack.timeline:" not in output, output


def test_the_collections_playbooks_turn_it_on_by_themselves_once(tmp_path):
    """The status playbook reads the registry's history with release_info;
    the callback beside the collection's playbooks prints it, once, also
    when the callback is enabled by name as well."""
    assert release_v1(tmp_path).returncode == 0
    status = ("-c", "local", "lastgood.webstack.status", "-e", "lastgood_status_hosts=localhost",
              "-e", "lastgood_site=demo", "-e", "lastgood_base_dir=%s" % (tmp_path / "srv"))
    for enabled in (None, "lastgood.webstack.timeline"):
        run = ansible_playbook(tmp_path, *status, ANSIBLE_PYTHON_INTERPRETER=sys.executable,
                               ANSIBLE_CALLBACKS_ENABLED=enabled, LASTGOOD_TIMELINE_DIR=str(tmp_path / "events"))
        assert run.returncode == 0, run.stdout
        assert run.stdout.count("LASTGOOD TIMELINE  status.yml  ") == 1, run.stdout
        assert "  localhost  demo v1  switched nothing -> v1" in run.stdout
    assert len(os.listdir(str(tmp_path / "events"))) == 2


def test_callback_a_probe_failed_under_failed_when_false_is_a_failed_probe(callback):
    probe = FakeTask("lastgood.webstack.health_probe", uuid="restored-probe")
    callback.v2_runner_on_ok(FakeResult("prod1", probe, {"total": 20, "ok": 2, "elapsed_ms": 30.0,
                                                         "msg": "18 of 20 failed", "failed_when_result": False}))
    callback.v2_runner_on_ok(FakeResult("prod1", probe, {"total": 20, "ok": 20, "elapsed_ms": 30.0,
                                                         "failed_when_result": False}))
    callback.v2_runner_on_ok(FakeResult("prod1", FakeTask("lastgood.webstack.release", uuid="known-good"),
                                        {"events": [event("known_good", "05:02:09.000", "v1")]}))
    assert [entry["event"] for entry in written(callback)] == ["probe_failed", "probe_passed", "known_good"]
