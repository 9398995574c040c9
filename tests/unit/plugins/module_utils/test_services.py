"""The reloads after a switch, against real processes that answer SIGUSR2
the ways a PHP-FPM master does (the ``php_fpm_master`` fixture): start
again in place (systemd's --nodaemonize), start again under a new pid
(Debian's init script daemonizes it), stop because its configuration no
longer loads, or take long to let the requests in flight finish."""

import os
import signal
import subprocess
import sys
import time

import pytest

from ansible_collections.lastgood.webstack.plugins.module_utils._release import services


def test_it_waits_until_the_master_started_again(php_fpm_master):
    pidfile, process = php_fpm_master("in-place", delay=0.3)
    started = time.monotonic()
    result = services.reload_php_fpm(pidfile, timeout=10)
    assert time.monotonic() - started >= 0.3
    assert result["running"] and result["reloaded"]
    assert result["pid_before"] == result["pid"] == process.pid
    assert result["elapsed_ms"] >= 300


def test_a_master_that_daemonizes_again_is_followed_to_its_new_pid(php_fpm_master):
    pidfile, process = php_fpm_master("daemonize", delay=0.1)
    result = services.reload_php_fpm(pidfile, timeout=10)
    assert result["reloaded"] and result["pid_before"] == process.pid
    assert result["pid"] != process.pid and services.alive(result["pid"])
    assert not services.alive(process.pid) or process.wait(5) == 0


def test_no_php_fpm_is_nothing_to_reload(tmp_path):
    assert services.reload_php_fpm(str(tmp_path / "missing.pid"))["running"] is False
    stale = tmp_path / "stale.pid"
    finished = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True,
                              check=True)
    stale.write_text(finished.stdout)
    result = services.reload_php_fpm(str(stale))
    assert result == {"pidfile": str(stale), "running": False, "reloaded": False, "pid": None, "elapsed_ms": 0.0}


def test_a_master_that_stops_instead_of_reloading_is_an_error(php_fpm_master, monkeypatch):
    pidfile, process = php_fpm_master("stop")
    monkeypatch.setattr(services, "GONE_SECONDS", 0.3)
    with pytest.raises(services.ServiceError) as raised:
        services.reload_php_fpm(pidfile, timeout=10)
    assert "stopped instead of reloading" in str(raised.value) and pidfile in str(raised.value)
    assert process.wait(5) == 78


def test_a_reload_that_never_finishes_is_an_error_after_the_timeout(php_fpm_master):
    pidfile, process = php_fpm_master("hang")
    started = time.monotonic()
    with pytest.raises(services.ServiceError) as raised:
        services.reload_php_fpm(pidfile, timeout=0.4)
    assert time.monotonic() - started >= 0.4
    assert "did not finish its graceful reload within 0.4 s" in str(raised.value)
    assert process.poll() is None


def test_php_fpm_first_then_the_web_server_and_what_ran_is_kept_on_failure(php_fpm_master, tmp_path):
    pidfile, _process = php_fpm_master("in-place", delay=0.1)
    written = [os.stat(pidfile).st_mtime_ns]
    order = []

    def run(argv):
        # PHP-FPM has written its pid file anew before the web server reloads.
        now = os.stat(pidfile).st_mtime_ns
        order.append(("web after PHP-FPM", now != written[-1]))
        written.append(now)
        return (1, "", "nginx: [emerg] bad") if argv == ["fail"] else (0, "", "")

    done = services.reload_after_switch(run, php_fpm={"pidfile": pidfile}, reload_command=["reload"])
    assert done["php_fpm"]["reloaded"] and done["reload"]["rc"] == 0 and order == [("web after PHP-FPM", True)]
    with pytest.raises(services.ServiceError) as raised:
        services.reload_after_switch(run, php_fpm={"pidfile": pidfile}, reload_command=["fail"])
    assert str(raised.value) == "the reload failed (exit 1): nginx: [emerg] bad"
    assert raised.value.done["php_fpm"]["reloaded"] and raised.value.done["reload"]["rc"] == 1


def test_the_sockets_of_new_pools_are_waited_for(php_fpm_master, tmp_path, monkeypatch):
    pidfile, _process = php_fpm_master("in-place")
    socket_path = tmp_path / "pool.sock"
    started = time.monotonic()
    subprocess.Popen(["/bin/sh", "-c", "sleep 0.3; touch %s" % socket_path])
    done = services.reload_after_switch(lambda argv: (0, "", ""),
                                        php_fpm={"pidfile": pidfile, "wait_for": [str(socket_path)]})
    assert time.monotonic() - started >= 0.3 and done["php_fpm"]["reloaded"]
    monkeypatch.setattr(services, "WAIT_FOR_SECONDS", 0.2)
    with pytest.raises(services.ServiceError) as raised:
        services.reload_after_switch(lambda argv: (0, "", ""),
                                     php_fpm={"pidfile": pidfile, "wait_for": [str(tmp_path / "never")]})
    assert "never did not appear within 0.2 s" in str(raised.value)


def test_a_zombie_is_not_alive():
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    deadline = time.monotonic() + 10
    while services.alive(child.pid):
        assert time.monotonic() < deadline
        time.sleep(0.01)
    # Not reaped yet: a zombie, which no longer runs anything.
    assert child.wait(5) == 0


def test_a_stale_pid_file_never_gets_another_process_signalled(tmp_path):
    other = subprocess.Popen(["sleep", "30"])
    try:
        pidfile = tmp_path / "php-fpm.pid"
        pidfile.write_text("%d\n" % other.pid)
        assert services.running_php_fpm(str(pidfile)) is None
        assert services.reload_php_fpm(str(pidfile))["running"] is False
        time.sleep(0.1)
        assert other.poll() is None
    finally:
        other.kill()
        other.wait()


def test_a_graceful_reload_is_waited_for_until_the_master_runs_a_new_worker(tmp_path):
    # A master like nginx's: on SIGHUP it starts a new worker.
    script = tmp_path / "master.py"
    script.write_text(
        "import signal, subprocess, sys, time\n"
        "workers = [subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(30)'])]\n"
        "signal.signal(signal.SIGHUP, lambda *a: time.sleep(0.2) or workers.append(\n"
        "    subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(30)'])))\n"
        "open(sys.argv[1], 'w').write('%d\\n' % __import__('os').getpid())\n"
        "time.sleep(30)\n")
    pidfile = tmp_path / "master.pid"
    master = subprocess.Popen([sys.executable, str(script), str(pidfile)])
    try:
        for attempt in range(200):
            if pidfile.exists() and pidfile.read_text().strip() and services.children_of(master.pid):
                break
            time.sleep(0.02)
        before = services.workers_before_reload(str(pidfile))
        assert before[0] == master.pid and len(before[1]) == 1
        assert services.wait_for_new_workers(before, timeout=0.1) is None
        os.kill(master.pid, signal.SIGHUP)
        waited = services.wait_for_new_workers(before, timeout=5)
        assert waited is not None and waited >= 100
    finally:
        for pid in services.children_of(master.pid):
            os.kill(pid, signal.SIGKILL)
        master.kill()
        master.wait()
    assert services.workers_before_reload(str(tmp_path / "missing.pid")) is None
