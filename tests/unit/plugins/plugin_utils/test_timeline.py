"""The timeline library: events from results, deduplication, the durations
of an incident, the text it prints."""

import datetime

import pytest

from ansible_collections.lastgood.webstack.plugins.plugin_utils import _timeline as timeline
from ansible_collections.lastgood.webstack.plugins.plugin_utils._timeline import (
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
from ansible_collections.lastgood.webstack.tests.unit.plugins.plugin_utils.timeline_events import (
    RUN_STARTED,
    UTC,
    at,
    event,
    on,
    probe_failed,
    rolled_back,
    switched,
    two_runs,
    write_run,
)


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


# Several runs -------------------------------------------------------------------

def test_event_files_takes_files_as_they_are_and_directories_in_name_order(tmp_path):
    runs = tmp_path / "runs"
    first, second = two_runs(runs)
    (runs / "notes.txt").write_text("not events")
    (runs / "sub.jsonl").mkdir()
    other = write_run(tmp_path / "elsewhere", "events.jsonl", *on("web1", event("staged", "05:00:00.000", "v1")))
    assert timeline.event_files([other, str(runs), first]) == [other, first, second]
    (tmp_path / "empty").mkdir()
    assert timeline.event_files([str(tmp_path / "empty")]) == []


def test_event_files_refuses_a_path_that_is_not_there(tmp_path):
    with pytest.raises(timeline.EventsFileError, match="neither an events file nor a directory"):
        timeline.event_files([str(tmp_path / "missing")])


def test_read_events_skips_and_names_the_lines_it_cannot_use(tmp_path):
    path = write_run(tmp_path, "run.jsonl", *on("prod1", event("staged", "05:02:08.000", "v1")),
                     junk=["\n", "[1, 2]\n", '{"host": "prod1", "event": "staged"}\n', '{"host": 3, "at": "x", "ev',
                           ])
    pairs, skipped = timeline.read_events(path)
    assert pairs == [("prod1", event("staged", "05:02:08.000", "v1"))]
    assert skipped == ["%s:3" % path, "%s:4" % path, "%s:5" % path]
    with pytest.raises(timeline.EventsFileError, match="cannot read"):
        timeline.read_events(str(tmp_path))


def test_merge_keeps_each_event_once_across_runs(tmp_path):
    files = two_runs(tmp_path)
    story, found, skipped = timeline.merge([str(tmp_path)])
    assert (found, skipped) == (files, [])
    assert [(entry["host"], entry["event"]) for entry in story.ordered()] == [
        ("prod1", "switched"), ("prod1", "probe_failed"), ("prod1", "rolled_back"), ("prod2", "switched"),
        ("prod2", "known_good")]


def test_runs_label_counts_the_runs_and_names_their_playbooks_once():
    assert timeline.runs_label(["a/20261128T050200Z-deploy-1.jsonl", "a/20261128T050300Z-deploy-2.jsonl",
                                "20261128T050400Z-release-v1-3.jsonl"]) == "3 runs (deploy, release-v1)"
    assert timeline.runs_label(["events.jsonl"]) == "1 run"


def test_render_merged_is_one_timeline_from_the_first_event_to_the_last(tmp_path):
    story, files, _skipped = timeline.merge(two_runs(tmp_path))
    lines = timeline.render_merged(story.entries, files, ["runs/"], production_hosts={"prod1", "prod2"})
    assert lines[0] == "LASTGOOD TIMELINE  2 runs (deploy, status)  2026-11-28 (UTC)  events in runs/"
    assert lines[1:6] == [
        "05:02:09.000  prod1  demo v2b  switched v1 -> v2b",
        "05:02:09.040  prod1  demo v2b  probe FAILED 3/20 ok, first failure after 10 ms: 17 of 20 requests failed",
        "05:02:11.700  prod1  demo v1   rolled back v2b -> v1 (by deploy alice@ci1)",
        "05:03:00.000  prod2  demo v3   switched v1 -> v3",
        "05:03:05.000  prod2  demo v3   known good",
    ]
    assert lines[lines.index("DURATIONS") + 1] == (
        "  prod1  demo v2b: switched 05:02:09.000; first failed probe request after 0.03 s; "
        "failure detected after 0.04 s (probe); known-good v1 serving again after 2.70 s")
    assert lines[-1] == "  production served a release that was not known good: 7.7 s in total (prod1 2.7 s, prod2 5.0 s)"


def test_render_merged_is_quiet_without_release_events():
    probes = on("prod1", event("probe_passed", "05:02:12.100", "v1", total=20, ok=20))
    assert timeline.render_merged(probes, ["x.jsonl"], ["x.jsonl"]) == []
    assert timeline.render_merged(on("prod1", dict(event("staged", "05:00:00.000"), at="yesterday")),
                                  ["x.jsonl"], ["x.jsonl"]) == []
