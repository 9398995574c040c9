"""Deploy and rollback wall time against the number of hosts, over the podman
connection and over ssh as users run it, lastgood.webstack against the stock
playbook (benchmarks/stock/, through bench_stock.Bench), the two
alternating; and the remote calls each makes to a host (issue 21).

Hosts: test containers without network. Over ssh, Ansible logs in as the
normal user lastgood with sudo, pipelining and ControlMaster/ControlPersist,
through `ProxyCommand podman exec -i %h /usr/sbin/sshd -i` (the inventory of
molecule/ssh). The hosts are set up once over podman (stock/prepare.yml);
the measured runs use the connection measured. forks = max(20, hosts), so
that every host of a fleet runs at once, as docs/usage.md advises.

The deploy role runs with deploy_bake_seconds = --bake (default 0): the
stock playbook does not bake, so both watch the release for the same time.

Remote calls: one deploy and one rollback of each tool on one host with
-vvv, every `<host> SSH: EXEC` (ssh, scp or sftp: a round trip to the host)
or `<host> RUN` (a podman command) of that host counted, with the tasks that
reached the host and the file transfers (PUT); first calibrated on a
playbook of one module call (fleet/one-module-call.yml).

Printed: Markdown tables per connection, the counts and the goals; saved to
results/fleet.json; the plot of wall time against hosts (one line per tool,
operation and connection) to --plot (docs/benchmarks/fleet.svg).

    python benchmarks/bench_fleet.py [--connection podman,ssh] [--hosts 1,4,8,16,32] [--quick] [--runs N]
                                     [--bake S] [--plot FILE] [--keep]
"""

import argparse
import collections
import os
import re
import shutil
import statistics
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import _plot  # noqa: E402
import _timing  # noqa: E402
import bench_stock  # noqa: E402

CONNECTIONS = ("podman", "ssh")
FLEET_SIZES = (1, 4, 8, 16, 32)
HOST_NAME = "lastgood-bench-fleet%d"
OPERATIONS = ("deploy", "rollback")
TOOLS = bench_stock.TOOLS
PLOT = os.path.join(HERE, "..", "docs", "benchmarks", "fleet.svg")
CALIBRATION_PLAYBOOK = os.path.join(HERE, "fleet", "one-module-call.yml")
# What one remote call looks like in -vvv output, per connection.
REMOTE_CALL = {"ssh": re.compile(r"^<(?P<host>[^>]+)> SSH: EXEC "),
               "podman": re.compile(r"^<(?P<host>[^>]+)> RUN ")}
TRANSFER = re.compile(r"^<(?P<host>[^>]+)> PUT ")
TASK_HEADER = re.compile(r"^(TASK|RUNNING HANDLER) \[(?P<task>.*)\]")
# The goals, per host on the happy path.
MOST_CALLS = {"deploy": 6, "rollback": 2}
ROLLBACK_GOAL_S = {"hosts": 8, "connection": "ssh", "seconds": 3.0}
FLAT_WITHIN = 2.0
LINE_COLORS = {("lastgood", "deploy"): "#1f5fa8", ("lastgood", "rollback"): "#2e9e44",
               ("stock", "deploy"): "#c8352b", ("stock", "rollback"): "#e08a1e"}
LINE_DASH = {"ssh": None, "podman": "7,4"}


def remote_calls(output, connection):
    """{host: {"calls", "transfers", "tasks", "calls_by_task"}} from the -vvv
    output of a run: the connection's remote calls, the files put, the tasks
    (and handlers) in which the host was called at least once, and the calls
    of each of them."""
    counts = collections.defaultdict(lambda: {"calls": 0, "transfers": 0,
                                              "calls_by_task": collections.OrderedDict()})
    task = None
    for line in output.splitlines():
        header = TASK_HEADER.match(line)
        if header:
            task = header.group("task")
            continue
        call = REMOTE_CALL[connection].match(line)
        if call:
            count = counts[call.group("host")]
            count["calls"] += 1
            count["calls_by_task"][task] = count["calls_by_task"].get(task, 0) + 1
            continue
        transfer = TRANSFER.match(line)
        if transfer:
            counts[transfer.group("host")]["transfers"] += 1
    return {host: dict(count, tasks=len(count["calls_by_task"]), calls_by_task=dict(count["calls_by_task"]))
            for host, count in counts.items()}


def count_remote_calls(bench, connection, host):
    """One module call, then one deploy and one rollback of each tool on
    ``host`` with -vvv: the counts of ``host`` in each."""
    bench.ansible_args = ["-vvv"]
    try:
        counts = {}
        bench.playbook([CALIBRATION_PLAYBOOK, "-e", "stock_hosts=%s" % host])
        counts["one module call"] = remote_calls(bench.last_output, connection)[host]
        for tool in TOOLS:
            bench.deploy(tool, [host], "demo-v3", "count")
            counts["%s deploy" % tool] = remote_calls(bench.last_output, connection)[host]
            bench.rollback(tool, [host])
            counts["%s rollback" % tool] = remote_calls(bench.last_output, connection)[host]
    finally:
        bench.ansible_args = []
    for name, count in counts.items():
        print("  %-6s %-18s %3d calls in %2d tasks, %2d transfers: %s" % (
            connection, name, count["calls"], count["tasks"], count["transfers"], "; ".join(
                "%s %d" % (task, calls) for task, calls in count["calls_by_task"].items())), flush=True)
    return counts


def measure(bench, hosts, sizes, runs):
    """{size: {operation: {tool: [seconds, ...]}}}, the tools alternating."""
    times = {size: {operation: {tool: [] for tool in TOOLS} for operation in OPERATIONS} for size in sizes}
    for number in range(runs):
        order = TOOLS if number % 2 == 0 else tuple(reversed(TOOLS))
        for size in sizes:
            bench.forks = max(20, size)
            for tool in order:
                deploy_wall, dummy = bench.deploy(tool, hosts[:size], "demo-v3", "fleet")
                rollback_wall, dummy = bench.rollback(tool, hosts[:size])
                times[size]["deploy"][tool].append(deploy_wall)
                times[size]["rollback"][tool].append(rollback_wall)
                print("  run %d %-8s %2d host%s: deploy %5.1f s, rollback %5.1f s" % (
                    number + 1, tool, size, "" if size == 1 else "s", deploy_wall, rollback_wall), flush=True)
    return times


def parse_list(text, choices=None, convert=str):
    values = [convert(value) for value in text.split(",") if value.strip()]
    if not values or (choices and not set(values) <= set(choices)):
        raise argparse.ArgumentTypeError("a comma-separated list of %s" % (", ".join(map(str, choices or ["values"]))))
    return values


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    parser.add_argument("--connection", type=lambda text: parse_list(text, CONNECTIONS), default=list(CONNECTIONS),
                        help="connections to measure, comma-separated (default podman,ssh)")
    parser.add_argument("--hosts", type=lambda text: sorted(set(parse_list(text, convert=int))),
                        default=list(FLEET_SIZES), help="fleet sizes, comma-separated (default 1,4,8,16,32)")
    parser.add_argument("--quick", action="store_true", help="1 run instead of 2 (as hack/bench.sh --quick asks)")
    parser.add_argument("--runs", type=int, help="runs of each tool per size (default 2)")
    parser.add_argument("--bake", type=float, default=0, help="the deploy role's deploy_bake_seconds (default 0, "
                        "as the stock playbook has no bake)")
    parser.add_argument("--plot", default=PLOT, help="where to write the SVG plot (default docs/benchmarks/fleet.svg)")
    parser.add_argument("--keep", action="store_true", help="keep the hosts and the work directory afterwards")
    args = parser.parse_args(argv)
    args.runs = args.runs or (1 if args.quick else 2)
    if args.hosts[0] < 1:
        parser.error("--hosts: at least 1")
    return args


def main(argv=None):
    args = parse_args(argv)
    image = _timing.test_image()
    hosts = [HOST_NAME % number for number in range(1, args.hosts[-1] + 1)]
    work = tempfile.mkdtemp(prefix="lastgood-bench-fleet-")
    inventories = {connection: os.path.join(work, "%s.yml" % connection) for connection in CONNECTIONS}
    started = time.time()
    print("== fleet: lastgood.webstack against the stock playbook on %s hosts over %s, %d run%s, bake %s s ==" % (
        ",".join(map(str, args.hosts)), " and ".join(args.connection), args.runs, "" if args.runs == 1 else "s",
        args.bake), flush=True)
    times, counts = {}, {}
    try:
        _timing.start_hosts(hosts, image)
        _timing.write_production_inventory(inventories["podman"], hosts)
        if "ssh" in args.connection:
            _timing.write_production_inventory(inventories["ssh"], hosts,
                                               _timing.let_in_over_ssh(hosts, os.path.join(work, "ssh")))
        bench = bench_stock.Bench(work, rate=0, inventory=inventories["podman"], bake_seconds=args.bake)
        os.makedirs(bench.bundles)
        bench.forks = max(20, len(hosts))
        bench.playbook([os.path.join(HERE, "stock", "prepare.yml")])
        print("  %d hosts started and set up in %.0f s" % (len(hosts), time.time() - started), flush=True)
        for connection in args.connection:
            bench.inventory = inventories[connection]
            counts[connection] = count_remote_calls(bench, connection, hosts[0])
            times[connection] = measure(bench, hosts, args.hosts, args.runs)
    finally:
        if not args.keep:
            _timing.remove_hosts(hosts)
            shutil.rmtree(work, ignore_errors=True)

    result = summarize(times, counts, args)
    write_plot(result, args.plot)
    print("wrote %s" % os.path.relpath(args.plot))
    result["seconds"] = round(time.time() - started)
    print("saved %s" % _timing.save("fleet", result))


def median(values):
    return statistics.median(values)


def cell(values):
    text = "%.1f s" % median(values)
    if len(values) > 1:
        text += " (%.1f–%.1f)" % (min(values), max(values))
    return text


def summarize(times, counts, args):
    """Print the tables and notes and return the result to save."""
    result = {"runs": args.runs, "sizes": args.hosts, "connections": args.connection, "bake_seconds": args.bake,
              "fleet": {}, "remote_calls": counts}
    for connection in args.connection:
        rows = []
        result["fleet"][connection] = {}
        for size in args.hosts:
            by_size = times[connection][size]
            result["fleet"][connection][str(size)] = {
                operation: {tool: _timing.summary(by_size[operation][tool]) for tool in TOOLS}
                for operation in OPERATIONS}
            row = ["%d" % size]
            for operation in OPERATIONS:
                row += [cell(by_size[operation]["lastgood"]), cell(by_size[operation]["stock"]),
                        "%.2f" % (median(by_size[operation]["stock"]) / median(by_size[operation]["lastgood"]))]
            rows.append(row)
        title = "Wall time against hosts over %s (%s), median of %d run%s" % (
            connection, "pipelining, sudo, ControlPersist" if connection == "ssh" else "no pipelining",
            args.runs, "" if args.runs == 1 else "s")
        print()
        print(title)
        print(_timing.markdown_table(rows, ["hosts", "deploy: lastgood", "deploy: stock", "stock/lastgood",
                                            "rollback: lastgood", "rollback: stock", "stock/lastgood"], title=title))
    rows = []
    for connection in args.connection:
        one_call = counts[connection]["one module call"]["calls"]
        for name, count in counts[connection].items():
            rows.append([connection, name, count["calls"], count["tasks"], count["transfers"],
                         "%.1f" % (count["calls"] / float(one_call))])
    title = "Remote calls to one host (-vvv: `SSH: EXEC` over ssh, `RUN` of a podman command over podman)"
    print()
    print(title)
    print(_timing.markdown_table(rows, ["connection", "run", "remote calls", "tasks calling the host",
                                        "file transfers", "calls / calls of one module call"], title=title))
    print()
    goal_notes(result, args)
    return result


def goal_notes(result, args):
    fleet, counts = result["fleet"], result["remote_calls"]
    for connection in args.connection:
        compared = [size for size in (1, 4, 8) if size in args.hosts]
        if compared:
            slower = [size for size in compared
                      if fleet[connection][str(size)]["deploy"]["lastgood"]["median_s"]
                      > fleet[connection][str(size)]["deploy"]["stock"]["median_s"]]
            _timing.note("goal: deploy wall time at most the stock playbook's on %s hosts over %s (bake %s s): %s" % (
                ", ".join(map(str, compared)), connection, args.bake,
                "met" if not slower else "NOT met on %s hosts" % ", ".join(map(str, slower))))
        if len(args.hosts) > 1:
            for operation in OPERATIONS:
                medians = [fleet[connection][str(size)][operation]["lastgood"]["median_s"] for size in args.hosts]
                growth = max(medians) / min(medians)
                flat = "goal: flat within %gx: %s" % (FLAT_WITHIN, "met" if growth <= FLAT_WITHIN else "NOT met")
                _timing.note("lastgood %s over %s from %d to %d hosts: %.1f to %.1f s, most/least %.2f%s" % (
                    operation, connection, args.hosts[0], args.hosts[-1], medians[0], medians[-1], growth,
                    "; " + flat if operation == "rollback" else " (all hosts in one batch: "
                    "benchmarks/stock/ours-deploy.yml has no serial)"))
        for operation in OPERATIONS:
            calls = counts[connection]["lastgood %s" % operation]
            one_call = counts[connection]["one module call"]["calls"]
            if connection == "ssh":
                _timing.note("goal: at most %d remote calls per host for a %s over ssh: %s (%d)" % (
                    MOST_CALLS[operation], operation,
                    "met" if calls["calls"] <= MOST_CALLS[operation] else "NOT met", calls["calls"]))
            else:
                _timing.note("%s over podman: %d podman commands in %d tasks (one module call is %d commands): "
                             "at most %d tasks reaching the host: %s" % (
                                 operation, calls["calls"], calls["tasks"], one_call, MOST_CALLS[operation],
                                 "met" if calls["tasks"] <= MOST_CALLS[operation] else "NOT met"))
    goal = ROLLBACK_GOAL_S
    if goal["connection"] in args.connection and goal["hosts"] in args.hosts:
        rollback = fleet[goal["connection"]][str(goal["hosts"])]["rollback"]["lastgood"]
        _timing.note("goal: rollback on %d hosts over %s under %g s: %s (median %.2f s, max %.2f s)" % (
            goal["hosts"], goal["connection"], goal["seconds"],
            "met" if rollback["median_s"] < goal["seconds"] else "NOT met", rollback["median_s"], rollback["max_s"]))


def write_plot(result, path):
    series = []
    for connection in result["connections"]:
        for tool in TOOLS:
            for operation in OPERATIONS:
                series.append({
                    "label": "%s %s, %s" % (tool, operation, connection),
                    "points": [(int(size), figures[operation][tool]["median_s"])
                               for size, figures in result["fleet"][connection].items()],
                    "color": LINE_COLORS[(tool, operation)], "dash": LINE_DASH[connection]})
    title = "Wall time against hosts, median of %d run%s (bake %s s)" % (
        result["runs"], "" if result["runs"] == 1 else "s", result["bake_seconds"])
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w") as handle:
        handle.write(_plot.line_plot(series, title, "hosts", "wall time (s)"))
    result["plot"] = os.path.relpath(path, os.path.join(HERE, ".."))


if __name__ == "__main__":
    main()
