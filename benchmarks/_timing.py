"""Timing helpers shared by the benchmarks: alternating runs of the compared
commands, wall-clock medians, and results kept as JSON and Markdown.

Runs alternate between the contenders (A B A B ...) so that a noisy moment on
the machine hurts both alike; every figure quoted is the median of the runs,
with min and max beside it."""

import json
import os
import platform
import statistics
import subprocess
import sys
import time

RESULTS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")

# What a benchmark printed as tables and notes since its last save(); save()
# keeps them in the JSON, from which benchmarks/report.py writes the report.
_PRINTED = {"tables": [], "notes": []}


def run_command(argv, env=None, cwd=None, check=True):
    """Run ``argv`` once and return (seconds, completed process)."""
    merged = dict(os.environ, LC_ALL="C")
    if env:
        merged.update(env)
    start = time.perf_counter()
    completed = subprocess.run(argv, env=merged, cwd=cwd, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, check=False)
    elapsed = time.perf_counter() - start
    if check and completed.returncode != 0:
        sys.stderr.write("benchmark command failed (exit %s): %s\n%s%s" % (
            completed.returncode, " ".join(argv), completed.stdout[-2000:], completed.stderr[-2000:]))
        raise SystemExit(1)
    return elapsed, completed


def alternate(contenders, runs):
    """Time each contender ``runs`` times, interleaved.

    ``contenders`` is a list of (name, callable returning seconds). Returns
    {name: [seconds, ...]}."""
    times = {name: [] for name, dummy in contenders}
    for dummy in range(runs):
        for name, measure in contenders:
            times[name].append(measure())
    return times


def summary(seconds):
    return {
        "runs": len(seconds),
        "median_s": statistics.median(seconds),
        "min_s": min(seconds),
        "max_s": max(seconds),
        "all_s": [round(value, 6) for value in seconds],
    }


def cpu_model():
    try:
        with open("/proc/cpuinfo") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine():
    return {
        "cpu_model": cpu_model(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
    }


def save(name, result):
    """Write ``results/<name>.json`` and return its path."""
    os.makedirs(RESULTS_DIR, exist_ok=True)
    path = os.path.join(RESULTS_DIR, name + ".json")
    result = dict(result, machine=machine(), measured_at=time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                  tables=_PRINTED["tables"], notes=_PRINTED["notes"])
    _PRINTED["tables"], _PRINTED["notes"] = [], []
    with open(path, "w") as handle:
        json.dump(result, handle, indent=2, sort_keys=True)
        handle.write("\n")
    return path


def note(text):
    """Print a sentence with a figure in it, and keep it for the report."""
    print(text)
    _PRINTED["notes"].append(text)


def markdown_table(rows, header, title=None):
    """Return ``rows`` as a Markdown table, and keep it for the report."""
    rows = [[str(cell) for cell in row] for row in rows]
    _PRINTED["tables"].append({"title": title, "header": list(header), "rows": rows})
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for dummy in header) + "|"]
    for row in rows:
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


def ms(seconds):
    return "%.1f ms" % (seconds * 1000.0)


PRODUCTION_INVENTORY = (
    "all:\n  vars:\n    lastgood_site: demo\n    lastgood_server: nginx\n"
    "    deploy_probe_host_header: demo.test\n    rollback_probe_host_header: demo.test\n"
    "    ansible_connection: containers.podman.podman\n"
    "    ansible_python_interpreter: /usr/bin/python3\n"
    "  children:\n    production:\n      hosts:\n")


def test_image():
    """The test image hack/env.sh names; the benchmarks that start hosts need it."""
    image = os.environ.get("LASTGOOD_TEST_IMAGE")
    if not image:
        raise SystemExit("LASTGOOD_TEST_IMAGE is not set: run through hack/bench.sh")
    return image


def write_production_inventory(path, hosts):
    """An inventory of the demo site with ``hosts`` as podman containers in group production."""
    with open(path, "w") as handle:
        handle.write(PRODUCTION_INVENTORY)
        for name in hosts:
            handle.write("        %s:\n" % name)


def remove_hosts(hosts):
    for name in hosts:
        subprocess.run(["podman", "rm", "-f", name], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       check=False)


def start_hosts(hosts, image):
    """Fresh test containers named ``hosts``: no network, an init, nothing running but sleep."""
    remove_hosts(hosts)
    for name in hosts:
        run_command(["podman", "run", "-d", "--name", name, "--network", "none", "--init", image,
                     "/bin/sleep", "infinity"])
