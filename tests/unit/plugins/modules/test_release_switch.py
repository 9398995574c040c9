"""The guarded switch end to end on a real registry and a real HTTP server
on 127.0.0.1 that answers as the release ``current`` points at: its
``app/answer`` file holds the status and body."""

import http.server
import json
import os
import threading
import time

import pytest

from ansible.module_utils.testing import patch_module_args
from ansible_collections.lastgood.webstack.plugins.modules import release_switch


class SiteServer(http.server.ThreadingHTTPServer):
    daemon_threads = True


def serve(site_dir, log):
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self):  # noqa: N802 -- the http.server API
            try:
                with open(os.path.join(site_dir, "current", "app", "answer")) as handle:
                    status, body = handle.read().split(" ", 1)
            except OSError:
                status, body = "404", "no release"
            log.append((time.monotonic(), int(status), body))
            data = body.encode()
            self.send_response(int(status))
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    server = SiteServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture
def site(env):
    base, source, call = env
    log = []
    server = serve(str(base / "shop"), log)

    def stage(release_id, answer, known_good=False):
        src = source(release_id, {"app/answer": answer, "probe.json": json.dumps(
            {"expect_body": "release %s" % release_id})})
        call(state="staged", release_id=release_id, src=src)
        if known_good:
            call(state="live", release_id=release_id)
            call(state="known_good", release_id=release_id)

    def switch(capsys, release_id, expect_ok=True, options=None, **probe):
        probe.setdefault("urls", ["http://127.0.0.1:%d/" % server.server_address[1]])
        probe.setdefault("bake_seconds", 0.3)
        args = dict(site="shop", base_dir=str(base), release_id=release_id, lock_owner="test", probe=probe,
                    **(options or {}))
        with patch_module_args(args):
            with pytest.raises(SystemExit) as exited:
                release_switch.main()
        result = json.loads(capsys.readouterr().out)
        assert (exited.value.code == 0) == expect_ok, result
        return result

    yield stage, switch, call, log
    server.shutdown()


def test_a_good_release_is_switched_in_baked_and_marked_known_good(site, capsys):
    stage, switch, call, log = site
    stage("v1", "200 release v1", known_good=True)
    stage("v2", "200 release v2")
    result = switch(capsys, "v2")
    assert result["outcome"] == "known_good"
    assert result["switched_from"] == "v1"
    assert result["current"] == "v2" and result["known_good"] == "v2"
    assert result["probe"]["total"] > 0 and result["probe"]["errors"] == 0
    assert [event["event"] for event in result["events"]] == ["switched", "known_good"]
    assert all(body == "release v2" for at, status, body in log)


def test_a_release_that_fails_is_switched_back_at_once_and_marked_bad(site, capsys):
    stage, switch, call, log = site
    stage("v1", "200 release v1", known_good=True)
    stage("v2", "500 fatal error")
    started = time.monotonic()
    result = switch(capsys, "v2", expect_ok=False, bake_seconds=10)
    assert time.monotonic() - started < 5, "a failure ends the bake"
    assert result["outcome"] == "rolled_back" and result["restored"] == "v1"
    assert result["current"] == "v1" and result["known_good"] == "v1"
    assert "Release v2 of shop failed after the switch (probe after the switch:" in result["msg"]
    assert "back on v1" in result["msg"] and "which answered 20 of 20 probe requests" in result["msg"]
    assert [event["event"] for event in result["events"]] == ["switched", "rolled_back", "bad"]
    info = call(release_id="v2")
    assert info["release"]["status"] == "bad" and info["release"]["reason"].startswith("probe after the switch:")
    # With max_error_rate 0 the first failed answer is the burst: one 500 at most per worker in flight.
    failed = [entry for entry in log if entry[1] == 500]
    assert 1 <= len(failed) <= 2
    assert result["timings"]["failure_to_restored_ms"] < 1000
    last_failure = max(at for at, status, body in failed)
    assert all(status == 200 for at, status, body in log if at > last_failure)


def test_an_answer_from_the_wrong_release_is_a_failure(site, capsys):
    stage, switch, call, log = site
    stage("v1", "200 release v1", known_good=True)
    # Answers 200, but says it is v1: expect_body comes from v2's probe.json.
    stage("v2", "200 release v1")
    result = switch(capsys, "v2", expect_ok=False)
    assert "body does not match expect_body" in result["msg"]
    assert result["current"] == "v1"


def test_without_a_known_good_release_a_failing_first_release_is_unswitched(site, capsys):
    stage, switch, call, log = site
    stage("v1", "500 broken")
    result = switch(capsys, "v1", expect_ok=False)
    assert result["current"] is None and result["restored"] is None
    assert "back on no release" in result["msg"]
    assert call(release_id="v1")["release"]["status"] == "bad"


def test_a_release_that_is_not_staged_is_refused_naming_the_releases(site, capsys):
    stage, switch, call, log = site
    stage("v1", "200 release v1", known_good=True)
    result = switch(capsys, "v9", expect_ok=False)
    assert result["msg"] == "release v9 of shop is not staged on this host (releases: v1)"


def test_a_switch_refused_changes_nothing_and_marks_nothing_bad(site, capsys):
    stage, switch, call, log = site
    stage("v1", "200 release v1", known_good=True)
    stage("v2", "200 release v2")
    call(state="invalid", release_id="v2", reason="web_refs")
    result = switch(capsys, "v2", expect_ok=False)
    assert result["outcome"] == "not_switched"
    assert "Release v2 of shop was not switched in" in result["msg"] and "nothing live was changed" in result["msg"]
    assert result["current"] == "v1"
    assert call(release_id="v2")["release"]["status"] == "invalid"


def test_mark_known_good_false_leaves_the_release_live(site, capsys):
    stage, switch, call, log = site
    stage("v1", "200 release v1", known_good=True)
    stage("v2", "200 release v2")
    result = switch(capsys, "v2", options=dict(mark_known_good=False), bake_seconds=0, requests=3)
    assert result["outcome"] == "live" and result["probe"]["total"] == 3
    assert result["current"] == "v2" and result["known_good"] == "v1"


def test_check_mode_switches_nothing(site, capsys):
    stage, switch, call, log = site
    stage("v1", "200 release v1", known_good=True)
    stage("v2", "200 release v2")
    result = switch(capsys, "v2", options=dict(_ansible_check_mode=True))
    assert result["outcome"] == "would_switch" and result["changed"]
    assert result["current"] == "v1" and not log


def test_the_preview_judges_only_what_shows_the_release_failing():
    results = [(1.0, 200, True), (1.0, 500, False), (1.0, 0, False), (1.0, 200, False), (1.0, 301, False),
               (1.0, 404, False)]
    failed, other = release_switch.preview_failures(results, [200])
    # No answer, a 5xx, and an expected status with the wrong body; a redirect or a 404 is not judged there.
    assert failed == [500, 0, 200] and other == [301, 404]


class FakeWatch:
    """A traffic watch that fires once told to."""

    def __init__(self):
        self.fire = None
        self.polls = 0
        self.closed = False

    def poll(self):
        self.polls += 1

    def verdict(self):
        return self.fire

    def summary(self):
        return {"polls": self.polls}

    def close(self):
        self.closed = True


def test_real_traffic_switches_back_while_the_probe_still_passes(site, capsys, monkeypatch):
    stage, switch, call, log = site
    stage("v1", "200 release v1", known_good=True)
    stage("v2", "200 release v2")
    watch = FakeWatch()
    monkeypatch.setattr(release_switch, "traffic_watch", lambda params: watch)
    threading.Timer(0.3, lambda: setattr(watch, "fire", "6 of 8 real requests answered 5xx in the last 10 s")).start()
    started = time.monotonic()
    result = switch(capsys, "v2", expect_ok=False, bake_seconds=10)
    assert time.monotonic() - started < 5
    assert result["problem"] == "real traffic: 6 of 8 real requests answered 5xx in the last 10 s"
    assert result["current"] == "v1" and result["traffic"]["polls"] > 1 and watch.closed
    assert call(release_id="v2")["release"]["reason"].startswith("real traffic:")
