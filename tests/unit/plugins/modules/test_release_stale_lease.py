"""A deploy killed on the controller leaves its lease behind; the next run
from that controller sees the run is gone and breaks the lease at once,
but never a lease someone else took since."""

import os
import subprocess
import sys

import pytest

from ansible_collections.lastgood.webstack.plugins.lookup import controller_run
from ansible_collections.lastgood.webstack.plugins.lookup.controller_run import identity, is_stale
from ansible_collections.lastgood.webstack.tests.unit.plugins.modules.test_release import V1, V2


def dead_run():
    """The identity of a process that ran on this machine and is gone."""
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    with open("/proc/%d/stat" % child.pid) as handle:
        started = int(handle.read().rsplit(")", 1)[1].split()[19])
    record = {"host": identity()["host"], "pid": child.pid, "started": started}
    child.kill()
    child.wait()
    return record


def test_the_lookup_tells_a_gone_run_from_a_live_one():
    me = identity()
    assert is_stale({"controller": me}) is False
    assert is_stale({"controller": dead_run()}) is True
    # The same pid with another start time is another process: the run is gone.
    assert is_stale({"controller": dict(me, started=me["started"] + 1)}) is True
    # A lease from another controller, or with no holder, is never judged stale.
    assert is_stale({"controller": dict(me, host="another-controller")}) is False
    assert is_stale({"owner": "deploy v1"}) is False


def without_proc(monkeypatch):
    """This controller as macOS or a BSD sees it: no /proc, only ps(1)."""
    real_isdir = os.path.isdir
    monkeypatch.setattr(controller_run.os.path, "isdir",
                        lambda path: False if str(path).startswith("/proc") else real_isdir(path))
    monkeypatch.setattr(controller_run, "_from_proc", lambda pid: pytest.fail("read /proc"))


def test_without_proc_ps_tells_a_gone_run_from_a_live_one(monkeypatch):
    without_proc(monkeypatch)
    me = identity()
    assert isinstance(me["started"], str) and len(me["started"]) == 24
    assert is_stale({"controller": me}) is False
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    gone = {"host": me["host"], "pid": child.pid, "started": controller_run._from_ps(child.pid)[1]}
    assert is_stale({"controller": gone}) is False
    child.kill()
    child.wait()
    assert is_stale({"controller": gone}) is True


def test_a_run_that_cannot_be_told_apart_is_never_stale(monkeypatch):
    monkeypatch.setattr(controller_run, "_process", lambda pid: None)
    me = identity()
    assert me["started"] is None
    # Not even once its pid is gone: without a start time a worker's pid may
    # have been recorded, which ends while the run goes on.
    assert is_stale({"controller": dict(me, pid=dead_run()["pid"])}) is False
    # Alive, but unreadable: not stale either.
    assert is_stale({"controller": dict(me, pid=os.getpid(), started=12345)}) is False


def test_a_stale_lease_is_broken_and_recorded_then_the_new_deploy_holds_the_site(env):  # noqa: F811
    base, source, call = env
    call(release_id="v1", state="staged", src=source("v1", V1))
    killed = dead_run()
    call(state="leased", lock_owner="deploy v1 from ci1 at 10:00", lease_holder=killed)
    held = call()["lease"]
    assert held["controller"] == killed and is_stale(held)
    # Without break_lease_of the next deploy is refused, naming the holder.
    refused = call(expect_ok=False, state="leased", lock_owner="deploy v2 from ci1 at 10:05", lock_timeout=0)
    assert "is held by deploy v1 from ci1 at 10:00" in refused["msg"]
    result = call(state="leased", lock_owner="deploy v2 from ci1 at 10:05", lock_timeout=0,
                  lease_holder=identity(), break_lease_of=held["owner"])
    assert result["lease_broken"]["owner"] == "deploy v1 from ci1 at 10:00"
    assert result["lease"]["owner"] == "deploy v2 from ci1 at 10:05"
    assert [event["event"] for event in result["events"]] == ["lease_broken"]
    # The killed run, were any of its calls still on its way, is refused from now on.
    late = call(expect_ok=False, release_id="v1", state="live", lock_owner="deploy v1 from ci1 at 10:00")
    assert "was broken by deploy v2 from ci1 at 10:05" in late["msg"]


def test_a_lease_taken_since_by_another_run_is_not_broken(env):  # noqa: F811
    base, source, call = env
    call(release_id="v2", state="staged", src=source("v2", V2))
    call(state="leased", lock_owner="deploy v2 from ci2", lease_holder=identity())
    result = call(expect_ok=False, state="leased", lock_owner="deploy v3 from ci1", lock_timeout=0,
                  break_lease_of="deploy v1 from ci1 at 10:00")
    assert "is held by deploy v2 from ci2" in result["msg"]
    assert call()["lease"]["owner"] == "deploy v2 from ci2"
