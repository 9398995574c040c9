"""The deploy role on a real test host (podman container running nginx and
PHP-FPM), under load on the host's own loopback, as in the molecule
scenarios, repeated for several cycles. Each cycle deploys a good release,
then a release that passes every static check and dies with a PHP fatal
error on every request, which the role's probe catches and rolls back.

Printed per cycle and as median/min/max:
  good deploy     requests the load sent and how many failed (goal: 0)
  failing deploy  switch -> first failed request the load saw
                  switch -> switch back (probe detection and Ansible's turn
                                         from the probe task to the rollback)
                  switch back -> last failed request (the reload taking effect)
                  failed requests in all
The switch times come from the registry (live_at of each release), the
failures from the load generator's clock, both on the host. With nginx's
Debian's PHP block (SCRIPT_FILENAME through current) a switch reaches PHP
with the graceful PHP-FPM reload that follows it; requests begun in between
are answered by the old release, which the load reports as its staleness.
The good release of each cycle names itself, so the load counts an answer
from the release before it, after the switch (beyond its 1 s grace), as a
failed request.

    python benchmarks/bench_deploy.py [--quick] [--cycles N] [--keep]
"""

import argparse
import datetime
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import _timing  # noqa: E402

CONTAINER = "lastgood-bench-deploy"


def run(argv, **kwargs):
    completed = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               check=False, **kwargs)
    if completed.returncode != 0:
        sys.stderr.write(completed.stdout[-4000:])
        raise SystemExit("failed (exit %d): %s" % (completed.returncode, " ".join(argv)))
    return completed.stdout


def epoch(stamp):
    return datetime.datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
        tzinfo=datetime.timezone.utc).timestamp()


def cycle_figures(directory, cycle):
    with open(os.path.join(directory, "state.json")) as handle:
        state = json.load(handle)
    with open(os.path.join(directory, "lastgood-load-good-%d.json" % cycle)) as handle:
        good = json.load(handle)
    with open(os.path.join(directory, "lastgood-load-fatal-%d.json" % cycle)) as handle:
        fatal = json.load(handle)
    bad = [record for record in state["releases"].values()
           if record["status"] == "bad" and record.get("bad_at")]
    bad.sort(key=lambda record: record["bad_at"])
    failing = bad[-1]
    restored = state["releases"][state["current"]]
    switch = epoch(failing["live_at"])
    switch_back = epoch(restored["live_at"])
    if not fatal["failed"]:
        raise SystemExit("cycle %d: the load saw no failure of the failing release" % cycle)
    first_failure = fatal["started_at"] + fatal["first_failure_s"]
    last_failure = fatal["started_at"] + fatal["last_failure_s"]
    # The load saw current switch to the good release (it polls the link).
    good_switch = good["switches"][-1]
    first_new_end = good["answered_span_s"][good_switch["to"]][1]
    return {
        "good_requests": good["total"],
        "good_failed": good["failed"],
        "good_wrong_release": good["wrong_release"],
        "good_switch_to_new_ms": (first_new_end - good_switch["at_s"]) * 1000.0,
        "good_stale_max_ms": good["stale_max_s"] * 1000.0,
        "good_keepalive_retries": good.get("stale_keepalive_retries", 0),
        "switch_to_first_failure_ms": (first_failure - switch) * 1000.0,
        "switch_to_switch_back_ms": (switch_back - switch) * 1000.0,
        "switch_back_to_last_failure_ms": (last_failure - switch_back) * 1000.0,
        "failure_window_ms": fatal["failure_window_s"] * 1000.0,
        "fatal_failed": fatal["failed"],
        "fatal_requests": fatal["total"],
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    parser.add_argument("--quick", action="store_true", help="2 cycles instead of 5")
    parser.add_argument("--cycles", type=int)
    parser.add_argument("--runs", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--keep", action="store_true", help="keep the bench host afterwards")
    args = parser.parse_args()
    cycles = args.cycles or (2 if args.quick else 5)
    image = _timing.test_image()

    work = tempfile.mkdtemp(prefix="lastgood-bench-deploy-")
    inventory = os.path.join(work, "inventory.yml")
    with open(inventory, "w") as handle:
        handle.write(
            "all:\n  hosts:\n    bench1:\n      ansible_host: %s\n"
            "      ansible_connection: containers.podman.podman\n"
            "      ansible_python_interpreter: /usr/bin/python3\n"
            "  vars:\n    lastgood_site: demo\n    lastgood_server: nginx\n"
            "    deploy_probe_host_header: demo.test\n" % CONTAINER)
    print("== deploy: %d cycles on one podman host (nginx, PHP-FPM 8.2), load on its loopback ==" % cycles)
    _timing.start_hosts([CONTAINER], image)
    try:
        run(["ansible-playbook", "-i", inventory, os.path.join(HERE, "deploy", "prepare.yml")])
        figures = []
        for cycle in range(1, cycles + 1):
            run(["ansible-playbook", "-i", inventory, os.path.join(HERE, "deploy", "cycle.yml"),
                 "-e", "cycle=%d" % cycle, "-e", "results_dir=%s" % work])
            figure = cycle_figures(os.path.join(work, "cycle-%d" % cycle), cycle)
            figures.append(figure)
            print("cycle %d: good deploy %d requests, %d failed, the old release answered until %.0f ms after "
                  "the switch; failing deploy: first failure %.0f ms after "
                  "the switch, switch back after %.0f ms, last failure %.0f ms after that, %d requests failed"
                  % (cycle, figure["good_requests"], figure["good_failed"], figure["good_stale_max_ms"],
                     figure["switch_to_first_failure_ms"],
                     figure["switch_to_switch_back_ms"], figure["switch_back_to_last_failure_ms"],
                     figure["fatal_failed"]))
    finally:
        if not args.keep:
            _timing.remove_hosts([CONTAINER])
            shutil.rmtree(work, ignore_errors=True)

    rows = []
    result = {"cycles": figures}
    for key, label in (
            ("good_failed", "good deploy: failed requests under load"),
            ("good_requests", "good deploy: requests under load"),
            ("good_wrong_release", "good deploy: answers from a release not live"),
            ("good_switch_to_new_ms", "good deploy: switch -> first answer of the new release (ms)"),
            ("good_stale_max_ms", "good deploy: switch -> last request the old release answered (ms)"),
            ("switch_to_first_failure_ms", "failing deploy: switch -> first failed request (ms)"),
            ("switch_to_switch_back_ms", "failing deploy: switch -> switch back (ms)"),
            ("switch_back_to_last_failure_ms", "failing deploy: switch back -> last failed request (ms)"),
            ("failure_window_ms", "failing deploy: first -> last failed request (ms)"),
            ("fatal_failed", "failing deploy: failed requests")):
        values = [figure[key] for figure in figures]
        result[key] = {"median": statistics.median(values), "min": min(values), "max": max(values)}
        rows.append((label, "%.0f" % statistics.median(values), "%.0f" % min(values), "%.0f" % max(values)))
    print()
    print(_timing.markdown_table(rows, ("measure", "median", "min", "max")))
    print("\nsaved %s" % _timing.save("deploy", result))
    if any(figure["good_failed"] for figure in figures):
        raise SystemExit("a good deploy lost requests under load")


if __name__ == "__main__":
    main()
