"""systemd runs the host as PID 1 and the watchdog as its unit: killed with
SIGKILL, systemd started it again, and the restarted watchdog, with no
deploy running, put the known-good release back when the live one started
failing; the restored release's code answers, not only a 200."""

import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "resources"))

from deploy_checks import check_live, load_summary, registry  # noqa: E402

testinfra_hosts = ["podman://wdsys1"]

UNIT = "lastgood-watchdog-demo"


def unit_properties(host, unit, *names):
    out = host.check_output("systemctl show %s %s" % (" ".join("--property=" + name for name in names), unit))
    return dict(line.split("=", 1) for line in out.splitlines())


def journal(host, unit):
    """The unit's journal entries, oldest first, as systemd recorded them
    (with the pid of the process that wrote each line)."""
    out = host.check_output("journalctl --no-pager --output=json --unit=%s" % unit)
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def test_systemd_runs_the_host_and_the_site(host):
    assert host.file("/proc/1/comm").content_string.strip() == "systemd"
    assert host.file("/run/systemd/system").is_directory
    php_fpm = host.check_output(
        "systemctl list-units --no-legend --plain --state=running --type=service 'php*-fpm.service'").split()
    assert len(php_fpm) >= 1 and php_fpm[0].endswith("-fpm.service"), php_fpm
    for unit in ("nginx", php_fpm[0]):
        service = host.service(unit)
        assert service.is_running and service.is_enabled, unit


def test_the_watchdog_runs_as_its_unit(host):
    service = host.service(UNIT)
    assert service.is_running and service.is_enabled
    unit = host.file("/etc/systemd/system/%s.service" % UNIT).content_string
    assert "Restart=always" in unit, unit
    properties = unit_properties(host, UNIT, "ExecStart", "After", "StartLimitIntervalUSec")
    assert "_watchdog" in properties["ExecStart"] and "/etc/lastgood/watchdog-demo.json" in properties["ExecStart"]
    # Started after the site's services, so that a boot never finds them down and rolls back.
    assert "nginx.service" in properties["After"].split(), properties
    assert any(name.startswith("php") and name.endswith("-fpm.service") for name in properties["After"].split())
    # systemd never gives up starting it again.
    assert properties["StartLimitIntervalUSec"] == "0", properties


def test_systemd_restarted_the_watchdog_after_kill_9(host):
    killed = int(host.file("/var/tmp/lastgood-watchdog-killed.pid").content_string)
    properties = unit_properties(host, UNIT, "MainPID", "NRestarts", "ActiveState", "SubState")
    assert properties["ActiveState"] == "active" and properties["SubState"] == "running", properties
    main_pid = int(properties["MainPID"])
    assert main_pid > 0 and main_pid != killed, properties
    # One automatic restart, the one after the kill: no crash loop since.
    assert properties["NRestarts"] == "1", properties
    assert not host.file("/proc/%d" % killed).exists
    assert "_watchdog" in host.file("/proc/%d/cmdline" % main_pid).content_string
    messages = [entry.get("MESSAGE", "") for entry in journal(host, UNIT)]
    assert any("code=killed, status=9/KILL" in message for message in messages), messages


def test_the_restarted_watchdog_restored_the_known_good_release(host):
    v1 = check_live(host, "v1")
    state = registry(host)
    v3 = state["releases"]["v3"]
    assert v3["status"] == "bad", v3
    # Under load, the real requests in the access log may fire before the third failed check.
    assert v3["reason"].startswith(("watchdog: v3 failed 3 consecutive checks",
                                    "watchdog: v3 failed on real traffic")), v3["reason"]
    by_watchdog = [(event["event"], event["release"]) for event in state["events"] if event.get("by") == "watchdog"]
    assert by_watchdog == [("rolled_back", v1), ("bad", "v3")], by_watchdog
    # The process systemd started after the kill did it, and it still runs.
    main_pid = unit_properties(host, UNIT, "MainPID")["MainPID"]
    rolled_back = [entry for entry in journal(host, UNIT)
                   if "rolled back from v3 to %s" % v1 in entry.get("MESSAGE", "")]
    assert [entry["_PID"] for entry in rolled_back] == [main_pid], rolled_back
    assert "probe of %s: 5/5 ok" % v1 in rolled_back[0]["MESSAGE"], rolled_back


def test_the_load_saw_v3_fail_and_v1_answer_again(host):
    summary = load_summary(host, "watchdog-systemd")
    print("load during the watchdog story under systemd:", summary)
    assert summary["failed"] > 0, summary
    # Every failure was a 500 of the broken v3, no answer came from a release
    # that was not live, and the failures ended while the load still ran.
    assert summary["wrong_release"] == 0, summary
    assert summary["status_counts"].get("500", 0) == summary["failed"], summary
    assert summary["answered_by"].get("v3", 0) > 0 and summary["answered_by"].get(registry(host)["current"], 0) > 0
    assert [switch["to"] for switch in summary["switches"]][-1] == registry(host)["current"], summary
    assert summary["last_failure_s"] < summary["seconds"] - 1.5, summary
