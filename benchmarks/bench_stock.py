"""lastgood.webstack against the stock way of releasing, on the same podman
hosts (nginx, PHP-FPM 8.2) in the same run, the two alternating.

The stock way (benchmarks/stock/): copy the code into a directory per
release, render the nginx site with `template`, `validate` (nginx -t) and
`backup`, reload, check with `uri` (5 retries, 1 s apart), and on failure put
the backup back and reload; its rollback puts the newest backup back. Both
sites live side by side in each host's nginx (demo.test for the deploy role,
stock.test for the stock playbook).

1. Under load on one host (a steady loop on the host's loopback, paced at
   --rate requests a second per thread, two threads), for each tool:
     good deploy      a new release that works
     rollback         back from that release to the one before
     runtime failure  a release that passes every static check and dies with a
                      PHP fatal error on every request
     incident         the change of the incident: SCRIPT_FILENAME names a PHP
                      file that does not exist (nginx -t passes it)
   Printed: failed requests, the failure window (first to last failed
   request: switch to known-good serving again), detection (first failed
   request to the moment the probe or the uri check failed), wall time.
2. Fleet: wall time of a deploy and of a rollback on 1, 4 and 8 hosts, for
   each tool, with forks = 20 (pipelining does not apply to the podman
   connection).

    python benchmarks/bench_stock.py [--quick] [--runs N] [--rate R] [--keep]
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import _timing  # noqa: E402

RELEASES = os.path.join(HERE, "..", "molecule", "resources", "releases")
HOSTS = ["lastgood-bench-st%d" % number for number in range(1, 9)]
FLEET_SIZES = (1, 4, 8)
SCENARIOS = ("good", "rollback", "runtime_failure", "fails_live", "unprobed", "incident")
SCENARIO_LABELS = {
    "good": "good deploy",
    "rollback": "rollback",
    "runtime_failure": "deploy failing at run time (PHP fatal)",
    "fails_live": "deploy failing only once live (on the probe, after the switch)",
    "unprobed": "deploy failing only on a page no probe asks for (load on it)",
    "incident": "the incident's change (missing SCRIPT_FILENAME)",
}
TOOLS = ("lastgood", "stock")
SITE_HEADER = {"lastgood": "demo.test", "stock": "stock.test"}
INCIDENT_SCRIPT = "$document_root/front.php"


def podman(*argv, check=True):
    completed = subprocess.run(["podman"] + list(argv), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True, check=False)
    if check and completed.returncode != 0:
        raise SystemExit("podman %s failed: %s" % (" ".join(argv), completed.stdout[-2000:]))
    return completed.stdout


class Bench:
    """Runs the two tools' playbooks on the hosts of ``self.inventory`` (by
    default HOSTS over podman), with ``self.forks`` forks; ``self.ansible_args``
    go to every ansible-playbook (-vvv), whose output is kept in
    ``self.last_output``; ``bake_seconds``, when given, is the deploy role's bake."""

    def __init__(self, work, rate, inventory=None, bake_seconds=None):
        self.work = work
        self.rate = rate
        self.inventory = inventory or os.path.join(work, "inventory.yml")
        self.events = os.path.join(work, "events.jsonl")
        self.bundles = os.path.join(work, "bundles")
        self.bake_seconds = bake_seconds
        self.forks = 20
        self.ansible_args = []
        self.last_output = ""
        self.serial = 0
        if inventory is None:
            _timing.write_production_inventory(self.inventory, HOSTS)

    def playbook(self, argv, expect_success=True):
        """Run ansible-playbook; return (wall seconds, events of failed tasks)."""
        if os.path.exists(self.events):
            os.unlink(self.events)
        # TMPDIR: the deploy role packs its bundles there, apart from other runs'.
        env = dict(os.environ, LC_ALL="C.UTF-8", ANSIBLE_FORKS=str(self.forks), LASTGOOD_BENCH_EVENTS=self.events,
                   ANSIBLE_CALLBACK_PLUGINS=os.path.join(HERE, "callback_plugins"),
                   ANSIBLE_CALLBACKS_ENABLED="bench_events", TMPDIR=self.work,
                   LASTGOOD_TIMELINE_DIR=os.path.join(self.work, "timeline"))
        started = time.time()
        completed = subprocess.run(["ansible-playbook", "-i", self.inventory] + self.ansible_args + argv, env=env,
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, check=False)
        wall = time.time() - started
        self.last_output = completed.stdout
        if (completed.returncode == 0) != expect_success:
            sys.stderr.write(completed.stdout[-5000:])
            raise SystemExit("ansible-playbook %s: exit %d, expected %s" % (
                " ".join(argv), completed.returncode, "success" if expect_success else "a failure"))
        events = []
        if os.path.exists(self.events):
            with open(self.events) as handle:
                events = [json.loads(line) for line in handle if line.strip()]
        return wall, events

    def bundle(self, source, label):
        """A copy of a release with a marker file, so that every deploy ships new content."""
        self.serial += 1
        name = "%s-%d" % (label, self.serial)
        path = os.path.join(self.bundles, name)
        shutil.copytree(os.path.join(RELEASES, source), path)
        with open(os.path.join(path, "app", "serial.txt"), "w") as handle:
            handle.write("%d\n" % self.serial)
        return name, path

    def deploy(self, tool, hosts, source, label, expect_success=True, incident=False):
        release_id, path = self.bundle(source, label)
        limit = ",".join(hosts)
        if tool == "lastgood":
            argv = [os.path.join(HERE, "stock", "ours-deploy.yml"), "-e", "stock_hosts=%s" % limit,
                    "-e", "lastgood_release_src=%s" % path, "-e", "lastgood_release_id=%s" % release_id]
            if self.bake_seconds is not None:
                argv += ["-e", "deploy_bake_seconds=%s" % self.bake_seconds]
        else:
            argv = [os.path.join(HERE, "stock", "deploy.yml"), "-e", "stock_hosts=%s" % limit,
                    "-e", "stock_release_src=%s" % path, "-e", "stock_release_id=%s" % release_id]
            if incident:
                argv += ["-e", "stock_script_filename=%s" % INCIDENT_SCRIPT]
        return self.playbook(argv, expect_success)

    def rollback(self, tool, hosts):
        limit = ",".join(hosts)
        if tool == "lastgood":
            return self.playbook(["lastgood.webstack.rollback", "-e", "lastgood_rollback_hosts=%s" % limit])
        return self.playbook([os.path.join(HERE, "stock", "restore.yml"), "-e", "stock_hosts=%s" % limit])

    def under_load(self, tool, host, action, path="/"):
        """Run ``action`` with the load on ``host``; return (its result, the load's summary)."""
        self.serial += 1
        base = "/var/tmp/lastgood-bench-load-%d" % self.serial
        # Our releases are judged by their probe.json (an answer from a release
        # not live is a failure); the stock way gives every release its own
        # root in the configuration, so the load only asks for a 200 there.
        judge = ["--site-dir", "/srv/lastgood/demo"] if tool == "lastgood" else []
        podman("exec", "-d", host, "python3", "/usr/local/lib/lastgood-load.py", "--host", SITE_HEADER[tool],
               "--stop-file", base + ".stop", "--out", base + ".json", "--rate", str(self.rate), "--path", path, *judge)
        time.sleep(1.5)
        result = action()
        time.sleep(1.5)
        podman("exec", host, "touch", base + ".stop")
        for dummy in range(100):
            output = podman("exec", host, "cat", base + ".json", check=False)
            if output.startswith("{"):
                return result, json.loads(output)
            time.sleep(0.2)
        raise SystemExit("the load on %s wrote no summary" % host)


def scenario_figures(wall, events, load):
    figure = {"wall_s": wall, "requests": load["total"], "failed": load["failed"],
              "failure_window_s": load["failure_window_s"], "detection_s": None,
              "blocked_before_switch": bool(events) and not load["failed"]}
    if load["failed"]:
        first_failure = load["started_at"] + load["first_failure_s"]
        failed_tasks = [event["at"] for event in events if event["at"] >= first_failure]
        if failed_tasks:
            figure["detection_s"] = min(failed_tasks) - first_failure
    return figure


def run_scenarios(bench, host, tool):
    figures = {}
    steps = (
        ("good", lambda: bench.deploy(tool, [host], "demo-v2", "good")),
        ("rollback", lambda: bench.rollback(tool, [host])),
        ("runtime_failure", lambda: bench.deploy(tool, [host], "demo-v2-fatal", "fatal", expect_success=False)),
        # It fails when lastgood's current points at it: the stock layout never does.
        ("fails_live", None if tool == "stock" else
         lambda: bench.deploy(tool, [host], "demo-v2-fails-live", "fails-live", expect_success=False)),
        # The stock uri check asks for / and passes it.
        ("unprobed", lambda: bench.deploy(tool, [host], "demo-v4-checkout", "checkout",
                                          expect_success=tool == "stock")),
        ("incident", lambda: bench.deploy(tool, [host], "demo-v2-missing-script", "incident", expect_success=False,
                                          incident=True)),
    )
    for name, action in steps:
        if action is None:
            continue
        path = "/?page=checkout" if name == "unprobed" else "/"
        (wall, events), load = bench.under_load(tool, host, action, path=path)
        figures[name] = scenario_figures(wall, events, load)
        print("  %-8s %-16s %6.1f s, %5d requests, %4d failed, window %.2f s, detection %s" % (
            tool, name, wall, load["total"], load["failed"], load["failure_window_s"],
            "-" if figures[name]["detection_s"] is None else "%.2f s" % figures[name]["detection_s"]), flush=True)
    return figures


def stats(values):
    values = [value for value in values if value is not None]
    if not values:
        return None
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def cell(summary, scale=1.0, unit="", digits=0, blocked=False):
    if summary is None:
        return "blocked before the switch" if blocked else "–"
    fmt = "%%.%df%s" % (digits, unit)
    text = fmt % (summary["median"] * scale)
    if summary["min"] != summary["max"]:
        text += " (" + fmt % (summary["min"] * scale) + "–" + fmt % (summary["max"] * scale) + ")"
    return text


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    parser.add_argument("--quick", action="store_true", help="1 run instead of 2")
    parser.add_argument("--runs", type=int)
    parser.add_argument("--rate", type=float, default=250.0,
                        help="requests a second per load thread (two threads; default 250)")
    parser.add_argument("--keep", action="store_true", help="keep the bench hosts afterwards")
    args = parser.parse_args()
    runs = args.runs or (1 if args.quick else 2)
    image = _timing.test_image()

    work = tempfile.mkdtemp(prefix="lastgood-bench-stock-")
    bench = Bench(work, args.rate)
    os.makedirs(bench.bundles)
    print("== stock: lastgood.webstack against the stock playbook, %d runs, %d podman hosts ==" % (runs, len(HOSTS)))
    _timing.start_hosts(HOSTS, image)
    scenario_runs = {tool: {name: [] for name in SCENARIOS} for tool in TOOLS}
    fleet_runs = {tool: {size: {"deploy": [], "rollback": []} for size in FLEET_SIZES} for tool in TOOLS}
    try:
        bench.playbook([os.path.join(HERE, "stock", "prepare.yml")])
        for number in range(runs):
            order = TOOLS if number % 2 == 0 else tuple(reversed(TOOLS))
            print("run %d: under load on %s" % (number + 1, HOSTS[0]), flush=True)
            for tool in order:
                for name, figure in run_scenarios(bench, HOSTS[0], tool).items():
                    scenario_runs[tool][name].append(figure)
            for size in FLEET_SIZES:
                for tool in order:
                    hosts = HOSTS[:size]
                    deploy_wall, dummy = bench.deploy(tool, hosts, "demo-v3", "fleet")
                    rollback_wall, dummy = bench.rollback(tool, hosts)
                    fleet_runs[tool][size]["deploy"].append(deploy_wall)
                    fleet_runs[tool][size]["rollback"].append(rollback_wall)
                    print("  %-8s %d host%s: deploy %.1f s, rollback %.1f s" % (
                        tool, size, "" if size == 1 else "s", deploy_wall, rollback_wall), flush=True)
    finally:
        if not args.keep:
            _timing.remove_hosts(HOSTS)
            shutil.rmtree(work, ignore_errors=True)

    result = summarize(scenario_runs, fleet_runs, runs, args.rate)
    print("saved %s" % _timing.save("stock", result))
    lost = [name for name in ("good", "rollback", "incident")
            if any(figure["failed"] for figure in scenario_runs["lastgood"][name])]
    if lost:
        raise SystemExit("lastgood.webstack lost requests under load in: %s" % ", ".join(lost))


def summarize(scenario_runs, fleet_runs, runs, rate):
    """Print the tables and notes of the runs and return the result to save."""
    result = {"runs": runs, "rate_per_thread": rate, "load_threads": 2, "scenarios": {}, "fleet": {}}
    availability_rows = []
    for name in SCENARIOS:
        result["scenarios"][name] = {}
        row = [SCENARIO_LABELS[name]]
        for tool in TOOLS:
            figures = scenario_runs[tool][name]
            summary = {key: stats([figure[key] for figure in figures])
                       for key in ("failed", "requests", "failure_window_s", "detection_s", "wall_s")}
            summary["all"] = figures
            summary["blocked_before_switch"] = bool(figures) and all(
                figure["blocked_before_switch"] for figure in figures)
            result["scenarios"][name][tool] = summary
        for key, scale, unit, digits in (("failed", 1, "", 0), ("failure_window_s", 1, " s", 2),
                                         ("detection_s", 1, " s", 2), ("wall_s", 1, " s", 1)):
            for tool in TOOLS:
                blocked = key == "detection_s" and result["scenarios"][name][tool]["blocked_before_switch"]
                row.append(cell(result["scenarios"][name][tool][key], scale, unit, digits, blocked))
        availability_rows.append(row)
    availability_header = ["scenario (1 host, under load)",
                           "failed requests: lastgood", "failed requests: stock",
                           "switch → known-good again: lastgood", "switch → known-good again: stock",
                           "detection: lastgood", "detection: stock",
                           "wall: lastgood", "wall: stock"]
    fleet_rows = []
    for size in FLEET_SIZES:
        result["fleet"][str(size)] = {}
        row = ["%d host%s" % (size, "" if size == 1 else "s")]
        for operation in ("deploy", "rollback"):
            for tool in TOOLS:
                summary = stats(fleet_runs[tool][size][operation])
                result["fleet"][str(size)].setdefault(operation, {})[tool] = dict(
                    summary, all=fleet_runs[tool][size][operation])
                row.append(cell(summary, 1, " s", 1))
            lastgood = result["fleet"][str(size)][operation]["lastgood"]["median"]
            stock = result["fleet"][str(size)][operation]["stock"]["median"]
            row.append("%.2f" % (stock / lastgood))
        fleet_rows.append(row)
    fleet_header = ["hosts", "deploy: lastgood", "deploy: stock", "ratio stock/lastgood",
                    "rollback: lastgood", "rollback: stock", "ratio stock/lastgood"]
    print()
    print("Availability, detection and recovery against the stock playbook")
    print(_timing.markdown_table(availability_rows, availability_header,
                                 title="Availability, detection and recovery against the stock playbook"))
    print()
    print("Deploy and rollback wall time on 1, 4 and 8 hosts")
    print(_timing.markdown_table(fleet_rows, fleet_header, title="Deploy and rollback wall time on 1, 4 and 8 hosts"))
    print()
    scenarios = result["scenarios"]
    for name in ("runtime_failure", "incident"):
        ours, stock = scenarios[name]["lastgood"], scenarios[name]["stock"]
        if ours["failure_window_s"]["median"] and stock["failure_window_s"]["median"]:
            _timing.note("%s: switch to known-good serving again, stock / lastgood = %.1f; detection, stock / "
                         "lastgood = %.1f; failed requests %d against %d" % (
                             SCENARIO_LABELS[name], stock["failure_window_s"]["median"] / ours["failure_window_s"]["median"],
                             stock["detection_s"]["median"] / ours["detection_s"]["median"],
                             ours["failed"]["median"], stock["failed"]["median"]))
        elif ours["blocked_before_switch"]:
            _timing.note("%s: lastgood.webstack blocked it before the switch in every run (0 failed requests); the "
                         "stock playbook put it live (nginx -t passed it) and served failures for %.1f s (median), "
                         "%d failed requests" % (SCENARIO_LABELS[name], stock["failure_window_s"]["median"],
                                                 stock["failed"]["median"]))
    goal = {name: scenarios[name]["lastgood"]["failed"]["max"] for name in ("good", "incident", "rollback")}
    _timing.note("goal: 0 failed requests during a good deploy, a blocked bad deploy and a rollback: %s "
                 "(most failed in a run: %d, %d and %d)" % (
                     "met" if not any(goal.values()) else "NOT met", goal["good"], goal["incident"], goal["rollback"]))
    ours = {name: scenarios[name]["lastgood"] for name in ("runtime_failure", "fails_live", "unprobed")}
    _timing.note("goal: 0 failed requests for a release failing on its probe URLs (caught on the preview): %s "
                 "(most failed in a run: %d)" % ("met" if not ours["runtime_failure"]["failed"]["max"] else "NOT met",
                                                 ours["runtime_failure"]["failed"]["max"]))
    for name, goal_s in (("fails_live", 0.3), ("unprobed", 1.0)):
        window = ours[name]["failure_window_s"]
        if window:
            _timing.note("goal: %s, first failed request to known-good serving again under %.1f s (median): %s "
                         "(median %.3f s, most %.3f s)" % (SCENARIO_LABELS[name], goal_s,
                                                           "met" if window["median"] < goal_s else "NOT met",
                                                           window["median"], window["max"]))
    for operation in ("deploy", "rollback"):
        _timing.note("%s wall time, stock / lastgood on 1, 4, 8 hosts: %s" % (operation, ", ".join(
            "%.2f" % (result["fleet"][str(size)][operation]["stock"]["median"]
                      / result["fleet"][str(size)][operation]["lastgood"]["median"]) for size in FLEET_SIZES)))
    return result


if __name__ == "__main__":
    main()
