"""Validation coverage: the broken-reference cases of coverage_cases.py
(typos the web_refs and php_refs tests inject into Debian's nginx and Apache
configurations, WordPress, DokuWiki and the PHP-FPM pool, and the
incident's change), each in a fresh test container, through the stock tool
(`nginx -t`, `apachectl -t`, `php -l` on the changed file, `php-fpm -t`)
and through our check (web_refs or php_refs, their module_utils run in the
same container on the same files). A tool catches a case when it fails
(stock: non-zero exit) or reports an error the group's control, the
configuration as shipped, does not have (ours).

Prints a Markdown table per case and the counts, keeps
results/coverage.json, and exits non-zero when our check misses a case
it is meant to catch or when a control fails the stock tool.

    python benchmarks/bench_coverage.py [--only TEXT]
"""

import argparse
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)

import _timing  # noqa: E402
from coverage_cases import CASES, GROUPS  # noqa: E402

MOUNT = "/opt/lastgood/ansible_collections/lastgood/webstack"
# Not a reference to a missing file: php_refs does not lint unless told to (lint: true).
NOT_OURS = ("a syntax error (what php -l is for)",)


def run_case(image, case):
    group = GROUPS[case["group"]]
    payload = dict(case, setup=group["setup"], stock=group["stock"], ours=group["ours"],
                   control_file=group.get("control_file"))
    argv = ["podman", "run", "--rm", "--network", "none", "-v", "%s:%s:ro" % (ROOT, MOUNT),
            "-e", "PYTHONPATH=/opt/lastgood", image, "python3", MOUNT + "/benchmarks/coverage_probe.py",
            json.dumps(payload)]
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit("case %s / %s failed to run (exit %d):\n%s%s" % (
            case["group"], case["name"], done.returncode, done.stdout[-2000:], done.stderr[-2000:]))
    return json.loads(done.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    parser.add_argument("--only", default="", help="only the cases whose group or name holds this")
    parser.add_argument("--quick", action="store_true", help="accepted for hack/bench.sh; every case runs once anyway")
    args = parser.parse_args()
    image = os.environ.get("LASTGOOD_TEST_IMAGE")
    if not image:
        raise SystemExit("LASTGOOD_TEST_IMAGE is not set: run through hack/bench.sh")

    controls = {}
    rows = []
    results = []
    problems = []
    for case in CASES:
        if args.only and args.only not in case["group"] and args.only not in case["name"]:
            continue
        outcome = run_case(image, case)
        control = case["file"] is None
        stock_caught = outcome["stock"]["rc"] != 0
        if control:
            controls[case["group"]] = set(outcome["ours"])
            new_errors = outcome["ours"]
        else:
            if case["group"] not in controls:
                controls[case["group"]] = set(run_case(image, {"group": case["group"], "file": None})["ours"])
            new_errors = [error for error in outcome["ours"] if error not in controls[case["group"]]]
        ours_caught = bool(new_errors)
        if control and stock_caught:
            problems.append("%s as shipped fails %s" % (case["group"], " ".join(outcome["stock"]["argv"])))
        if not control and not ours_caught and case["name"] not in NOT_OURS:
            problems.append("%s / %s: our check missed it" % (case["group"], case["name"]))
        results.append(dict(case, stock=outcome["stock"], ours_errors=outcome["ours"], new_errors=new_errors,
                            stock_caught=stock_caught, ours_caught=ours_caught, control=control))
        stock_cell = ("fails (exit %d)" % outcome["stock"]["rc"]) if stock_caught else "passes"
        if control:
            ours_cell = "%d errors" % len(new_errors) if new_errors else "no error"
        else:
            ours_cell = ("**caught**: " + new_errors[0].replace("|", "\\|")) if ours_caught else "missed"
        rows.append([case["group"], case["name"], " ".join(GROUPS[case["group"]]["stock"]).replace("{file}", "<file>"),
                     stock_cell, ours_cell])
        print("%-9s %-58s stock: %-16s ours: %s" % (
            case["group"], case["name"][:58], stock_cell, ours_cell[:110]), flush=True)

    broken = [result for result in results if not result["control"]]
    counts = {
        "cases": len(broken),
        "stock_caught": sum(1 for result in broken if result["stock_caught"]),
        "ours_caught": sum(1 for result in broken if result["ours_caught"]),
        "both": sum(1 for result in broken if result["stock_caught"] and result["ours_caught"]),
    }
    print()
    print(_timing.markdown_table(rows, ["group", "case", "stock tool", "stock tool says", "web_refs / php_refs"]))
    print()
    _timing.note("broken cases: %(cases)d; caught by the stock tools: %(stock_caught)d; by web_refs/php_refs: "
                 "%(ours_caught)d; by both: %(both)d" % counts)
    for group, control in sorted(controls.items()):
        if control:
            _timing.note("%s as shipped already has %d error finding(s) of ours, not counted against the cases: %s"
                         % (group, len(control), "; ".join(sorted(control))))
    path = _timing.save("coverage", {"counts": counts, "cases": results,
                                     "groups": {name: group["what"] for name, group in GROUPS.items()}})
    print("results: %s" % os.path.relpath(path, ROOT))
    if problems:
        print("\n".join(["PROBLEMS:"] + problems))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
