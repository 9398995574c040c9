"""The watchdog watching real traffic: a release whose probe URLs answer but
whose other pages fail for real requests is rolled back, as for failed
checks, and the event says real traffic fired. The logs are real files; the
probe and commands are injected as in test_watchdog."""

import json
import os

import pytest

from ansible_collections.lastgood.webstack.plugins.module_utils._release import lease
from ansible_collections.lastgood.webstack.plugins.module_utils._watchdog import watcher as _watchdog
from ansible_collections.lastgood.webstack.tests.unit.plugins.module_utils.test_watchdog import (  # noqa: F401 pylint: disable=unused-import
    make,
    site,
)

OK = '127.0.0.1 - - [03/Dec/2026:16:02:17 +0000] "GET /ok.php HTTP/1.1" 200 13 "-" "curl/7.88.1"'
FAIL = '127.0.0.1 - - [03/Dec/2026:16:02:17 +0000] "GET /checkout HTTP/1.1" 500 5 "-" "curl/7.88.1"'


def append(path, *lines):
    with open(path, "a") as handle:
        handle.write("".join(line + "\n" for line in lines))


@pytest.fixture
def access(tmp_path):
    path = str(tmp_path / "access.log")
    append(path, OK)
    return path


def test_a_release_failing_only_for_real_requests_is_rolled_back(site, access):
    # The probe finds v2 healthy; real requests to /checkout fail.
    watchdog, ran, alerts, lines = make(site, {"v1", "v2"}, access_logs=[access],
                                        reload_command=["/usr/sbin/nginx", "-s", "reload"])
    assert watchdog.watch_traffic() is False        # starts counting for v2
    assert watchdog.step() == watchdog.config["interval"]
    append(access, *[OK, FAIL] * 4)
    assert watchdog.watch_traffic() is False        # 4 errors: below traffic_min_errors
    append(access, OK, FAIL)
    assert watchdog.watch_traffic() is True
    assert site.current() == "v1"
    state = site.load_state()
    assert state["releases"]["v2"]["status"] == "bad"
    reason = state["releases"]["v2"]["reason"]
    assert "v2 failed on real traffic: 5 of 10 real requests answered 5xx in the last 10 s" in reason, reason
    assert "GET /checkout -> 500, %s:3" % access in reason
    assert ran == [["/usr/sbin/nginx", "-s", "reload"]]
    assert [alert["event"] for alert in alerts] == ["rolled_back"]
    assert any("v2 fails on real traffic" in line for line in lines)
    # v1's count starts from nothing: v2's errors are not held against it.
    assert watchdog.watch_traffic() is False and watchdog.traffic.summary()["errors"] == 0


def test_the_probes_own_requests_and_rare_errors_do_not_make_it_act(site, access):
    watchdog = make(site, {"v1", "v2"}, access_logs=[access])[0]
    watchdog.watch_traffic()
    append(access, *[FAIL.replace('"curl/7.88.1"', '"lastgood-health-probe"')] * 10)
    append(access, *[OK] * 100 + [FAIL] * 5)
    assert watchdog.watch_traffic() is False
    assert site.current() == "v2"


def test_what_was_counted_before_a_switch_or_during_a_deploy_does_not_count(site, access):
    watchdog, _ran, alerts, _lines = make(site, {"v1", "v2"}, access_logs=[access])
    watchdog.watch_traffic()
    append(access, *[FAIL] * 4)
    watchdog.watch_traffic()
    # A deploy takes the site: it bakes and watches by itself.
    lease.take_lease(site, "deploy alice", 600, False)
    append(access, *[FAIL] * 20)
    assert watchdog.watch_traffic() is False
    assert site.current() == "v2" and not alerts
    lease.drop_lease(site, "deploy alice", False, False)
    assert watchdog.watch_traffic() is False        # the count starts again here
    append(access, *[FAIL] * 4)
    assert watchdog.watch_traffic() is False
    append(access, FAIL)
    assert watchdog.watch_traffic() is True and site.current() == "v1"


def test_sleeping_it_polls_the_traffic_and_wakes_when_it_acted(site, access):
    watchdog = make(site, {"v1", "v2"}, access_logs=[access], traffic_poll_interval=0.5)[0]
    watchdog.watch_traffic()
    now = [0.0]
    polls = []

    def sleep(seconds):
        polls.append(seconds)
        now[0] += seconds
        if len(polls) == 3:
            append(access, *[FAIL] * 5)
    watchdog.sleep_watching(5.0, sleep=sleep, clock=lambda: now[0])
    assert polls == [0.5, 0.5, 0.5] and site.current() == "v1"


def test_without_logs_there_is_no_traffic_watch_and_sleep_is_one_sleep(site):
    watchdog = make(site, {"v1", "v2"})[0]
    assert watchdog.traffic is None and watchdog.watch_traffic() is False
    slept = []
    watchdog.sleep_watching(5.0, sleep=slept.append, clock=lambda: 0.0)
    assert slept == [5.0]


def test_where_the_logs_were_read_is_resumed_by_the_next_run(site, access, tmp_path):
    positions = str(tmp_path / "positions.json")
    first = make(site, {"v1", "v2"}, access_logs=[access], traffic_positions_file=positions)[0]
    first.watch_traffic()
    assert json.load(open(positions))[access]["offset"] == os.path.getsize(access)
    # Written while no watcher ran: the next one reads it.
    append(access, FAIL, FAIL)
    second = make(site, {"v1", "v2"}, access_logs=[access], traffic_positions_file=positions)[0]
    second.traffic.poll()
    assert second.traffic.summary()["errors"] == 2
    # Positions saved long ago are not resumed.
    os.utime(positions, (1, 1))
    third = make(site, {"v1", "v2"}, access_logs=[access], traffic_positions_file=positions)[0]
    append(access, FAIL)
    third.traffic.poll()
    assert third.traffic.summary()["errors"] == 1


@pytest.mark.parametrize("settings, message", [
    ({"access_logs": "/var/log/nginx/access.log"}, "access_logs must be a list of non-empty strings"),
    ({"error_logs": ["var/log/nginx/error.log"]}, "error_logs must be absolute paths"),
    ({"traffic_min_errors": 0}, "traffic_min_errors must be an integer of at least 1"),
    ({"traffic_max_error_rate": 2}, "traffic_max_error_rate must be between 0 and 1"),
    ({"traffic_window": 0}, "traffic_window and traffic_poll_interval must be above 0"),
])
def test_bad_traffic_settings_are_refused_clearly(tmp_path, settings, message):
    path = tmp_path / "watchdog.json"
    path.write_text(json.dumps(dict(site="shop", **settings)))
    with pytest.raises(_watchdog.ConfigError, match=message):
        _watchdog.load_config(str(path))
