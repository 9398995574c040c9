"""Real traffic watched from the logs: what counts, what is left out, when
the verdict fires and when it must not, and how the files are followed
(rotation, truncation, partial lines, a restart).

The lines in traffic_logs/ were written by the real servers of the test
image: nginx 1.22 and Apache 2.4 in front of PHP-FPM 8.2, asked with curl
for a page that works, pages that die with a fatal error (display_errors off
and on), a page that throws, one that kills its worker (SIGSEGV), a missing
page, an upstream socket that is not there, and the probe's own request."""

import os

import pytest

from ansible_collections.lastgood.webstack.plugins.module_utils import _traffic
from ansible_collections.lastgood.webstack.plugins.module_utils._traffic import TrafficWatch, parse_access

HERE = os.path.join(os.path.dirname(__file__), "traffic_logs")


def real(name):
    with open(os.path.join(HERE, name), encoding="utf-8") as handle:
        return handle.read().splitlines()


NGINX = real("nginx-access.log")
OK_LINE = NGINX[0]            # GET /ok.php 200
FAIL_LINE = NGINX[4]          # GET /exc.php 500
FATAL200_LINE = NGINX[3]      # GET /fatal200.php 200, a PHP fatal error shown with display_errors on
PROBE_LINE = NGINX[10]        # the probe's own request


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def append(path, *lines, end="\n"):
    with open(path, "a", encoding="utf-8") as handle:
        handle.write("\n".join(lines) + end)


def with_path(line, path):
    return line.replace("/exc.php", path).replace("/ok.php", path)


@pytest.fixture
def logs(tmp_path):
    access = str(tmp_path / "access.log")
    error = str(tmp_path / "error.log")
    for path in (access, error):
        append(path, "old line from before the watch")
    return access, error


# What each format gives ---------------------------------------------------------

@pytest.mark.parametrize("name, requests, errors, ignored", [
    # 13 lines: the probe's left out, nginx's 400 for a junk request counts.
    ("nginx-access.log", 12, 5, 1),
    ("apache-access.log", 8, 4, 1),
    ("apache-vhost.log", 8, 4, 1),
    # common has no User-Agent: the probe's request counts as a real one.
    ("apache-common.log", 9, 4, 0),
])
def test_it_counts_the_real_requests_of_each_stock_format(tmp_path, name, requests, errors, ignored):
    path = str(tmp_path / "access.log")
    append(path, "before")
    watch = TrafficWatch([path], clock=Clock())
    append(path, *real(name))
    watch.poll()
    summary = watch.summary()
    assert (summary["requests"], summary["errors"], summary["ignored"], summary["unparsed"]) == (
        requests, errors, ignored, 0)


def test_it_reads_request_status_and_agent_with_quotes_escaped_either_way():
    assert parse_access(NGINX[11]) == ("GET /exc.php HTTP/1.1", 500, "Mozilla/5.0 (X11; \\x22quoted\\x22)")
    assert parse_access(real("apache-access.log")[8])[1:] == (500, 'Mozilla/5.0 (X11; \\"quoted\\")')
    assert parse_access(real("apache-common.log")[2]) == ("GET /fatal.php HTTP/1.1", 500, None)


def test_a_custom_format_with_fields_between_request_and_status_is_read():
    line = ('203.0.113.9 - - [03/Dec/2026:16:02:17 +0000] demo.test "GET /cart?id=1 HTTP/2.0" 0.012 upstream=0.011 '
            '502 157 "-" "Mozilla/5.0" "198.51.100.7"')
    assert parse_access(line) == ("GET /cart?id=1 HTTP/2.0", 502, "Mozilla/5.0")


def test_lines_that_do_not_parse_are_counted_and_never_fatal(logs):
    access, _error = logs
    watch = TrafficWatch([access], clock=Clock())
    append(access, "", "garbage", "\x00\xff binary", '"GET / HTTP/1.1" no status here', FAIL_LINE)
    watch.poll()
    summary = watch.summary()
    assert (summary["unparsed"], summary["requests"], summary["errors"]) == (4, 1, 1)


def test_the_probe_and_excluded_paths_are_left_out(logs):
    access, _error = logs
    watch = TrafficWatch([access], ignore_paths=["/healthz", "/status/"], clock=Clock())
    append(access, PROBE_LINE.replace(" 200 ", " 500 "), with_path(FAIL_LINE, "/healthz"),
           with_path(FAIL_LINE, "/status/fpm?full"), with_path(FAIL_LINE, "/statusx"))
    watch.poll()
    summary = watch.summary()
    assert (summary["requests"], summary["errors"], summary["ignored"]) == (1, 1, 3)


# Error logs ---------------------------------------------------------------------

@pytest.mark.parametrize("name, fatals", [
    # Each entry's stack trace is on lines of its own; only its first line counts.
    ("nginx-error.log", 4),
    ("apache-error.log", 4),
    # PHP-FPM with catch_workers_output: 8 fatal errors (nginx's and Apache's
    # requests), one written to stderr by hand, two workers killed by SIGSEGV.
    ("php-fpm.log", 11),
])
def test_php_fatal_errors_and_crashes_are_found_in_each_error_log(tmp_path, name, fatals):
    path = str(tmp_path / "error.log")
    watch = TrafficWatch([], [path], clock=Clock())
    append(path, *real(name))
    watch.poll()
    summary = watch.summary()
    assert summary["fatals"] == {path: fatals}
    assert summary["samples"][0]["what"].startswith(("PHP Fatal error", "child"))
    assert summary["samples"][0]["where"].startswith(path + ":")


def _fatal_entry(index):
    """An nginx error log entry of a fatal error, stack trace and all."""
    lines = real("nginx-error.log")[:4]
    return [line.replace("*5 ", "*%d " % index) for line in lines]


def test_fatal_errors_php_answered_200_to_count(logs):
    # display_errors on: the access log says 200, only the error log knows.
    access, error = logs
    clock = Clock()
    watch = TrafficWatch([access], [error], clock=clock)
    for index in range(5):
        append(access, OK_LINE, FATAL200_LINE)
        append(error, *_fatal_entry(index))
        watch.poll()
        clock.now += 0.05
        if index < 4:
            assert watch.verdict() is None
    verdict = watch.verdict()
    assert verdict.startswith("5 PHP fatal errors (and 0 of 10 real requests answered 5xx) in the last 10 s")
    assert "PHP Fatal error:  Uncaught Error: Call to undefined function" in verdict
    assert verdict.endswith(", %s:2)" % error)


def test_a_fatal_error_that_answered_500_is_not_counted_twice(logs, tmp_path):
    # The same error in the access log (500), nginx's error log and PHP-FPM's.
    access, error = logs
    fpm = str(tmp_path / "php-fpm.log")
    watch = TrafficWatch([access], [error, fpm], min_errors=3, clock=Clock())
    for index in range(2):
        append(access, FAIL_LINE, OK_LINE)
        append(error, *_fatal_entry(index))
        append(fpm, *real("php-fpm.log")[3:7])
    watch.poll()
    assert watch.window_counts()[1:3] == (2, 2)
    assert watch.verdict() is None


# When it fires ------------------------------------------------------------------

def test_a_quiet_site_with_one_error_does_not_fire(logs):
    access, _error = logs
    clock = Clock()
    watch = TrafficWatch([access], clock=clock)
    for second in range(60):
        append(access, OK_LINE if second != 30 else FAIL_LINE)
        watch.poll()
        clock.now += 1.0
        assert watch.verdict() is None
    assert watch.summary()["errors"] == 1


def test_a_busy_site_with_half_a_percent_of_errors_does_not_fire(logs):
    # 400 requests a second for a minute, 1 in 200 answered 500, polled every 50 ms.
    access, _error = logs
    clock = Clock()
    watch = TrafficWatch([access], clock=clock)
    number = 0
    for _poll in range(1200):
        batch = []
        for _request in range(20):
            number += 1
            batch.append(with_path(FAIL_LINE, "/search") if number % 200 == 0 else OK_LINE)
        append(access, *batch)
        watch.poll()
        clock.now += 0.05
        assert watch.verdict() is None
    summary = watch.summary()
    assert (summary["requests"], summary["errors"]) == (24000, 120)


def test_a_broken_page_under_load_fires_at_its_fifth_error(logs):
    # Three pages asked in turn, /checkout broken; a poll every 50 ms sees 3 requests.
    access, _error = logs
    clock = Clock()
    watch = TrafficWatch([access], clock=clock)
    fired_at = None
    for poll in range(40):
        append(access, with_path(OK_LINE, "/"), with_path(OK_LINE, "/product/7"),
               with_path(FAIL_LINE, "/checkout"))
        watch.poll()
        if watch.verdict() is not None:
            fired_at = poll
            break
        clock.now += 0.05
    assert fired_at == 4
    verdict = watch.verdict()
    assert verdict.startswith("5 of 15 real requests answered 5xx in the last 10 s (first 0.2 s ago, "
                              "e.g. GET /checkout -> 500, %s:4)" % access)


def test_errors_older_than_the_window_do_not_count(logs):
    access, _error = logs
    clock = Clock()
    watch = TrafficWatch([access], window=10.0, clock=clock)
    append(access, *[FAIL_LINE] * 4)
    watch.poll()
    clock.now += 10.5
    append(access, *[FAIL_LINE] * 4)
    watch.poll()
    assert watch.verdict() is None
    append(access, FAIL_LINE)
    watch.poll()
    assert watch.verdict().startswith("5 of 5 real requests")


def test_reset_forgets_the_counts_and_keeps_the_place(logs):
    access, _error = logs
    watch = TrafficWatch([access], min_errors=2, clock=Clock())
    append(access, FAIL_LINE, FAIL_LINE)
    watch.poll()
    assert watch.verdict()
    watch.reset()
    watch.poll()
    assert watch.verdict() is None and watch.summary()["requests"] == 0
    append(access, FAIL_LINE)
    watch.poll()
    assert watch.summary()["errors"] == 1


def test_it_refuses_thresholds_that_make_no_sense():
    with pytest.raises(ValueError):
        TrafficWatch([], min_errors=0)
    with pytest.raises(ValueError):
        TrafficWatch([], max_error_rate=1.5)
    with pytest.raises(ValueError):
        TrafficWatch([], window=0)


# Following the files ------------------------------------------------------------

def test_it_starts_at_the_end_and_reads_only_complete_lines(logs):
    access, _error = logs
    append(access, FAIL_LINE, FAIL_LINE)
    watch = TrafficWatch([access], clock=Clock())
    watch.poll()
    assert watch.summary()["requests"] == 0
    append(access, FAIL_LINE[:30], end="")
    watch.poll()
    assert watch.summary()["requests"] == 0
    append(access, FAIL_LINE[30:])
    watch.poll()
    summary = watch.summary()
    assert (summary["requests"], summary["unparsed"]) == (1, 0)
    # before, 2 old lines, then ours: line 4
    assert summary["samples"][0]["where"] == access + ":4"


def test_started_in_the_middle_of_a_line_it_skips_that_line(logs):
    access, _error = logs
    append(access, FAIL_LINE[:30], end="")
    watch = TrafficWatch([access], clock=Clock())
    append(access, FAIL_LINE[30:], FAIL_LINE)
    watch.poll()
    summary = watch.summary()
    assert (summary["requests"], summary["unparsed"]) == (1, 0)
    assert summary["samples"][0]["where"] == access + ":3"


def test_a_missing_file_is_watched_for_its_creation(tmp_path):
    access = str(tmp_path / "later" / "access.log")
    watch = TrafficWatch([access], clock=Clock())
    watch.poll()
    assert watch.positions() == {}
    os.makedirs(os.path.dirname(access))
    append(access, FAIL_LINE, OK_LINE)
    watch.poll()
    assert watch.summary()["requests"] == 2


def test_rotation_reads_the_old_file_to_its_end_and_the_new_one_from_its_start(logs):
    access, _error = logs
    clock = Clock()
    watch = TrafficWatch([access], clock=clock)
    append(access, FAIL_LINE)
    os.rename(access, access + ".1")
    # The server writes to the old file until it reopens its logs.
    append(access + ".1", FAIL_LINE)
    watch.poll()
    append(access + ".1", FAIL_LINE)
    append(access, OK_LINE, FAIL_LINE)
    watch.poll()
    summary = watch.summary()
    assert (summary["requests"], summary["errors"]) == (5, 4)
    assert summary["samples"][-1]["where"] == access + ":2"
    assert summary["positions"][access]["inode"] == os.stat(access).st_ino
    # The old file is let go after a while.
    clock.now += _traffic.RETIRE_AFTER + 1
    watch.poll()
    assert watch.logs[0].retired == []


def test_a_truncated_file_is_read_again_from_its_start(logs):
    access, _error = logs
    watch = TrafficWatch([access], clock=Clock())
    append(access, OK_LINE, OK_LINE)
    watch.poll()
    with open(access, "w"):
        pass
    append(access, FAIL_LINE)
    watch.poll()
    summary = watch.summary()
    assert (summary["requests"], summary["errors"]) == (3, 1)
    assert summary["samples"][0]["where"] == access + ":1"


def test_positions_let_another_run_continue_where_this_one_was(logs):
    access, error = logs
    first = TrafficWatch([access], [error], clock=Clock())
    append(access, OK_LINE)
    first.poll()
    saved = first.positions()
    first.close()
    append(access, FAIL_LINE)
    second = TrafficWatch([access], [error], clock=Clock())
    second.restore(saved)
    second.poll()
    summary = second.summary()
    assert (summary["requests"], summary["errors"]) == (1, 1)
    assert summary["samples"][0]["where"] == access + ":3"


def test_restored_positions_of_a_file_rotated_meanwhile_start_the_new_file_from_its_start(logs):
    access, _error = logs
    first = TrafficWatch([access], clock=Clock())
    saved = first.positions()
    first.close()
    os.rename(access, access + ".1")
    append(access, FAIL_LINE)
    second = TrafficWatch([access], clock=Clock())
    second.restore(dict(saved, **{"/not/watched": {"inode": 1}}))
    second.poll()
    assert second.summary()["errors"] == 1


def test_a_poll_with_nothing_new_reads_nothing(logs, monkeypatch):
    access, error = logs
    watch = TrafficWatch([access], [error], clock=Clock())
    reads = []
    real_pread = os.pread
    monkeypatch.setattr(_traffic.os, "pread", lambda *args: reads.append(args) or real_pread(*args))
    for _poll in range(100):
        watch.poll()
    assert reads == []
