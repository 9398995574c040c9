"""The rollback playbook (ansible-playbook lastgood.webstack.rollback) on 1
and on 4 production hosts (podman containers running nginx and PHP-FPM),
each time from a release deployed on top of the known-good v1 back to v1.

Printed as median/min/max of the runs:
  wall time of the whole playbook, as a user runs it (ansible-playbook start-up included)
  switch and reloads inside it, as the release module measured them on the host:
  everything under the site's lock (choosing the target, checking it file by
  file against its manifest, nginx -t with it in place, the symlink switch and
  the registry write), then PHP-FPM's graceful reload until it runs again
  (so that the restored release's PHP code answers), then nginx's graceful reload
Goals: the playbook under 5 s on 1 host, switch and reload under 1 s.

    python benchmarks/bench_rollback.py [--quick] [--runs N] [--keep]
"""

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import _timing  # noqa: E402

HOSTS = ["lastgood-bench-rb%d" % number for number in range(1, 5)]
REPORT = re.compile(r"demo on (\S+): rolled back from (\S+) to v1 "
                    r"\(switch ([\d.]+) ms, PHP-FPM reload ([\d.]+) ms, reload ([\d.]+) ms\)")


def run(argv, **kwargs):
    completed = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               check=False, **kwargs)
    if completed.returncode != 0:
        sys.stderr.write(completed.stdout[-4000:])
        raise SystemExit("failed (exit %d): %s" % (completed.returncode, " ".join(argv)))
    return completed.stdout


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    parser.add_argument("--quick", action="store_true", help="2 runs instead of 5")
    parser.add_argument("--runs", type=int)
    parser.add_argument("--keep", action="store_true", help="keep the bench hosts afterwards")
    args = parser.parse_args()
    runs = args.runs or (2 if args.quick else 5)
    image = _timing.test_image()

    work = tempfile.mkdtemp(prefix="lastgood-bench-rollback-")
    inventory = os.path.join(work, "inventory.yml")
    _timing.write_production_inventory(inventory, HOSTS)
    print("== rollback: the rollback playbook on 1 and 4 podman hosts (nginx, PHP-FPM 8.2), %d runs each ==" % runs)
    _timing.start_hosts(HOSTS, image)
    figures = {count: {"wall": [], "switch": [], "php_fpm": [], "reload": []} for count in (1, 4)}
    try:
        run(["ansible-playbook", "-i", inventory, os.path.join(HERE, "rollback", "prepare.yml")])
        number = 0
        for _run in range(runs):
            for count in (1, 4):
                number += 1
                limit = ",".join(HOSTS[:count])
                run(["ansible-playbook", "-i", inventory, "--limit", limit, os.path.join(HERE, "rollback", "redeploy.yml"),
                     "-e", "run=%d" % number])
                started = time.perf_counter()
                output = run(["ansible-playbook", "-i", inventory, "lastgood.webstack.rollback",
                              "-e", "lastgood_rollback_hosts=%s" % limit])
                wall = time.perf_counter() - started
                reports = REPORT.findall(output)
                if len(reports) != count:
                    sys.stderr.write(output[-3000:])
                    raise SystemExit("expected %d rollbacks to v1, the playbook reported %d" % (count, len(reports)))
                figures[count]["wall"].append(wall * 1000.0)
                figures[count]["switch"].extend(float(report[2]) for report in reports)
                figures[count]["php_fpm"].extend(float(report[3]) for report in reports)
                figures[count]["reload"].extend(float(report[4]) for report in reports)
                print("run %d, %d host%s: %.0f ms; switch %s ms; PHP-FPM reload %s ms; reload %s ms" % (
                    number, count, "" if count == 1 else "s", wall * 1000.0,
                    "/".join(report[2] for report in reports), "/".join(report[3] for report in reports),
                    "/".join(report[4] for report in reports)))
    finally:
        if not args.keep:
            _timing.remove_hosts(HOSTS)
            shutil.rmtree(work, ignore_errors=True)

    rows = []
    result = {"runs": runs, "machine": _timing.machine()}
    for count in (1, 4):
        for key, label in (("wall", "rollback playbook, wall time"),
                           ("switch", "under the lock: manifest check, `nginx -t`, switch, registry write; per host"),
                           ("php_fpm", "PHP-FPM graceful reload until it runs again, per host"),
                           ("reload", "nginx graceful reload, per host")):
            values = figures[count][key]
            summary = {"median": statistics.median(values), "min": min(values), "max": max(values)}
            result["%s_%d" % (key, count)] = summary
            rows.append(("%s, %d host%s" % (label, count, "" if count == 1 else "s"), "%.0f ms" % summary["median"],
                         "%.0f ms" % summary["min"], "%.0f ms" % summary["max"]))
    print()
    print(_timing.markdown_table(rows, ("measure", "median", "min", "max"),
                                 title="the rollback playbook on 1 and 4 hosts, %d runs each, alternating" % runs))
    print()
    wall_1 = result["wall_1"]["median"] / 1000.0
    one_host = figures[1]
    parts = zip(one_host["switch"], one_host["php_fpm"], one_host["reload"])
    switch_reload = statistics.median(sum(part) for part in parts)
    _timing.note("goal: the playbook under 5 s on 1 host: %s (median %.2f s, max %.2f s)" % (
        "met" if wall_1 < 5 else "NOT met", wall_1, result["wall_1"]["max"] / 1000.0))
    _timing.note("goal: switch and reload under 1 s: %s (median %.0f ms)" % (
        "met" if switch_reload < 1000 else "NOT met", switch_reload))
    print("saved %s" % _timing.save("rollback", result))


if __name__ == "__main__":
    main()
