"""Kill a deploy at every task boundary, and inside the switch, and check
that the site never ends up worse than it was.

For each kill point: start ``ansible-playbook lastgood.webstack.deploy`` of
a new release on the test host, SIGKILL its whole process group when the
chosen task starts (for points inside the switch, after a random delay in
that task, together with the module process on the host), then check:

- the site answers 200, from a known-good release or from the release the
  killed deploy had switched in and was still watching (never a bad one);
- state.json parses; a half-copied staging folder is swept by the next deploy;
- a lease left behind is judged stale by the controller_run lookup;
- the next deploy of the same release succeeds (it breaks the stale lease);
- the rollback playbook then succeeds and the site serves the release before.

Then two deploys of different releases start at the same moment, each
waiting at most 5 s for the site: one deploys, the other fails naming the
deploy that holds the site, and nothing is half-written.

Usage: kill_deploys.py --inventory INV [--inventory INV ...] --host NAME
       --release-src DIR --results FILE [--points all|ci|N,M,...]
"""

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "plugins", "lookup"))
from controller_run import is_stale  # noqa: E402

SITE_DIR = "/srv/lastgood/demo"
# The kill points of the README's test command (--points ci): a boundary
# while the site is held and the release being staged, the boundary after
# the guarded switch (the release known good, the lease still held), and one
# moment inside the guarded switch. --points all runs every boundary.
CI_BOUNDARIES = ("Hold the site, upload and stage the release", "Remove old releases")
CI_SWITCH_KILLS = 1
SWITCH_TASK = "Point current at the release"


def on_host(host, script):
    """Run a shell script in the test container."""
    return subprocess.run(["podman", "exec", host, "sh", "-c", script], capture_output=True, text=True, check=False)


def host_state(host):
    """What the host serves and what its registry says, read directly."""
    served = on_host(host, "curl -sS -m 5 -H 'Host: demo.test' -w '\\n%{http_code}' http://127.0.0.1/")
    body, _newline, status = served.stdout.rpartition("\n")
    current = on_host(host, "readlink %s/current" % SITE_DIR).stdout.strip().rsplit("/", 1)[-1]
    raw = on_host(host, "cat %s/state.json" % SITE_DIR).stdout
    try:
        state = json.loads(raw)
        state_error = None
    except ValueError as error:
        state, state_error = {}, str(error)
    lease_raw = on_host(host, "cat %s/.lease 2>/dev/null" % SITE_DIR).stdout
    lease = json.loads(lease_raw) if lease_raw.strip() else None
    leftovers = on_host(host, "ls -A %s/releases | grep '^\\.' || true" % SITE_DIR).stdout.split()
    return {
        "status": status,
        "body": body[:60],
        "current": current,
        "current_status": (state.get("releases", {}).get(current) or {}).get("status"),
        "known_good": state.get("known_good"),
        "state_error": state_error,
        "lease": lease,
        "leftovers": leftovers,
    }


def playbook(inventories, name, extra):
    argv = ["ansible-playbook"]
    for inventory in inventories:
        argv += ["-i", inventory]
    return argv + ["lastgood.webstack.%s" % name] + extra


def run_playbook(inventories, name, extra):
    done = subprocess.run(playbook(inventories, name, extra), capture_output=True, text=True, check=False)
    return done.returncode, done.stdout + done.stderr


def deploy_args(release_src, release_id):
    return ["-e", "lastgood_release_src=%s" % release_src, "-e", "lastgood_release_id=%s" % release_id,
            "-e", "deploy_bake_seconds=1"]


def kill_module_on_host(host, delay):
    """Wait until the task's module runs on the host, let it run ``delay``
    seconds, then SIGKILL it. Returns whether it was found running."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if on_host(host, "pgrep -f AnsiballZ_release >/dev/null").returncode == 0:
            time.sleep(delay)
            on_host(host, "pkill -KILL -f AnsiballZ_release || true")
            return True
        time.sleep(0.02)
    return False


def killed_deploy(inventories, host, release_src, release_id, task_index, inside_delay):
    """Start a deploy and SIGKILL it when task number ``task_index`` starts;
    with ``inside_delay``, first kill the task's module on the host that
    many seconds after it started. Returns the name of the task it was
    killed in, or None when the deploy ended before."""
    process = subprocess.Popen(playbook(inventories, "deploy", deploy_args(release_src, release_id)),
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               start_new_session=True)
    seen = 0
    killed_in = None
    for line in process.stdout:
        if line.startswith("TASK ["):
            seen += 1
            if seen == task_index:
                killed_in = line[6:line.index("]")] if "]" in line else line.strip()
                if inside_delay and not kill_module_on_host(host, inside_delay):
                    killed_in += " (its module was never seen running)"
                os.killpg(process.pid, signal.SIGKILL)
                break
    process.stdout.close()
    process.wait()
    return killed_in


def task_names(inventories, release_src, release_id):
    """The tasks a full deploy of a new release runs, in order."""
    code, output = run_playbook(inventories, "deploy", deploy_args(release_src, release_id))
    if code != 0:
        raise SystemExit("the reference deploy failed:\n" + output[-3000:])
    return [line[6:line.index("]")] for line in output.splitlines() if line.startswith("TASK [") and "]" in line]


def choose_points(tasks, wanted, rng):
    """(task index, delay inside it) pairs: one per task boundary, and kills at
    random moments inside the switch-and-reload task."""
    switch = [index for index, name in enumerate(tasks, 1) if SWITCH_TASK in name]
    boundaries = [(index, 0.0) for index in range(1, len(tasks) + 1)]
    # Python starts the module in about 0.3 s, then it switches, reloads and
    # bakes: a kill within 0.4 s lands before, at or just after the switch.
    inside = [(index, round(rng.uniform(0.0, 0.4), 3)) for index in switch for _repeat in range(3)]
    if wanted == "all":
        return boundaries + inside
    if wanted == "ci":
        chosen = [(index, 0.0) for index, name in enumerate(tasks, 1) if any(part in name for part in CI_BOUNDARIES)]
        return chosen + inside[:CI_SWITCH_KILLS]
    chosen = [int(part) for part in wanted.split(",")]
    return [point for point in boundaries if point[0] in chosen] + inside


def concurrent_deploys(inventories, host, release_src):
    """Two deploys of the same site at once; what went wrong, in words."""
    releases = ("race-a", "race-b")
    before = host_state(host)
    processes = [subprocess.Popen(playbook(inventories, "deploy", deploy_args(release_src, release_id)
                                           + ["-e", "deploy_lock_timeout=5"]),
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
                 for release_id in releases]
    outputs = [process.communicate()[0] for process in processes]
    codes = [process.returncode for process in processes]
    after = host_state(host)
    problems = []
    winners = [release_id for release_id, code in zip(releases, codes) if code == 0]
    if len(winners) != 1:
        problems.append("%d of the 2 deploys succeeded (exit codes %s)" % (len(winners), codes))
    for release_id, code, output in zip(releases, codes, outputs):
        if code != 0 and "is held by deploy" not in output:
            problems.append("deploy %s failed without naming the holder: %s" % (
                release_id, " | ".join(output.splitlines()[-6:])))
    if winners and (after["current"] != winners[0] or after["current_status"] != "known_good"):
        problems.append("serves %s (%s), not %s" % (after["current"], after["current_status"], winners[0]))
    if after["status"] != "200" or after["state_error"] or after["leftovers"] or after["lease"] is not None:
        problems.append("after both: answered %s, state.json %s, leftovers %s, lease %s" % (
            after["status"], after["state_error"] or "parses", after["leftovers"] or "none", after["lease"]))
    losers = [release_id for release_id in releases if release_id not in winners]
    registered = on_host(host, "ls %s/releases" % SITE_DIR).stdout.split()
    if any(release_id in registered for release_id in losers):
        problems.append("the refused deploy left its release in releases/: %s" % registered)
    return {"before": before["current"], "winner": winners[0] if len(winners) == 1 else None, "exit_codes": codes,
            "survived": not problems, "problems": problems}


def check(after, release_id, previous):
    problems = []
    if after["status"] != "200":
        problems.append("answered %s" % after["status"])
    acceptable = after["current_status"] == "known_good" or (
        after["current"] == release_id and after["current_status"] in ("live", "validated", "staged"))
    if not acceptable:
        problems.append("serves %s with status %s" % (after["current"], after["current_status"]))
    if after["current"] not in (release_id, previous):
        problems.append("serves %s, neither the release before (%s) nor the new one" % (after["current"], previous))
    if after["state_error"]:
        problems.append("state.json does not parse: %s" % after["state_error"])
    if after["lease"] is not None and not is_stale(after["lease"]):
        problems.append("the lease left behind is not recognised as stale: %s" % after["lease"])
    return problems


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    parser.add_argument("--inventory", action="append", required=True)
    parser.add_argument("--host", required=True)
    parser.add_argument("--release-src", required=True)
    parser.add_argument("--results", required=True)
    parser.add_argument("--points", default=os.environ.get("LASTGOOD_KILL_POINTS", "ci"))
    parser.add_argument("--seed", type=int, default=int(os.environ.get("LASTGOOD_KILL_SEED", "8")))
    args = parser.parse_args()
    rng = random.Random(args.seed)

    tasks = task_names(args.inventory, args.release_src, "kill-ref")
    points = choose_points(tasks, args.points, rng)
    print("a deploy runs %d tasks; %d kill points" % (len(tasks), len(points)), flush=True)
    results = []
    for number, (task_index, delay) in enumerate(points, 1):
        release_id = "kill-%02d" % number
        before = host_state(args.host)
        previous = before["current"]
        started = time.monotonic()
        killed_in = killed_deploy(args.inventory, args.host, args.release_src, release_id, task_index, delay)
        after = host_state(args.host)
        problems = check(after, release_id, previous)
        if killed_in and "never seen running" in killed_in:
            problems.append("the kill inside the switch missed: the module was never seen running on the host")
        lease_left = after["lease"] is not None
        code, output = run_playbook(args.inventory, "deploy", deploy_args(args.release_src, release_id))
        if code != 0:
            problems.append("the next deploy failed: %s" % " | ".join(output.splitlines()[-6:]))
        redeployed = host_state(args.host)
        if redeployed["current"] != release_id or redeployed["current_status"] != "known_good":
            problems.append("after the next deploy: serves %s (%s)" % (
                redeployed["current"], redeployed["current_status"]))
        if redeployed["leftovers"]:
            # A copy killed half-way is swept by the next staging, under the lock.
            problems.append("still in releases/ after the next deploy: %s" % ", ".join(redeployed["leftovers"]))
        code, output = run_playbook(args.inventory, "rollback", ["-e", "lastgood_rollback_hosts=all"])
        rolled = host_state(args.host)
        if code != 0:
            problems.append("the rollback failed: %s" % " | ".join(output.splitlines()[-6:]))
        elif rolled["status"] != "200" or rolled["current_status"] != "known_good" or rolled["current"] == release_id:
            problems.append("after the rollback: %s serves %s (%s)" % (rolled["status"], rolled["current"],
                                                                       rolled["current_status"]))
        result = {
            "point": number,
            "task_index": task_index,
            "task": killed_in or "(deploy ended first)",
            "inside_delay_s": delay,
            "after_kill": {key: after[key] for key in ("status", "current", "current_status", "leftovers")},
            "lease_left": lease_left,
            "survived": not problems,
            "problems": problems,
            "seconds": round(time.monotonic() - started, 1),
        }
        results.append(result)
        shown_task = ("%s +%.2fs" % (result["task"], delay)) if delay else result["task"]
        outcome = "; ".join(problems) or "serves %s (%s)%s" % (
            after["current"], after["current_status"], ", stale lease" if lease_left else "")
        print("%2d/%d %-7s %-60s %s" % (number, len(points), "ok" if not problems else "FAILED", shown_task, outcome),
              flush=True)
    survived = sum(1 for result in results if result["survived"])
    concurrent = concurrent_deploys(args.inventory, args.host, args.release_src)
    print("two deploys at once: %s" % ("; ".join(concurrent["problems"]) or "%s deployed, the other refused naming "
                                       "the holder" % concurrent["winner"]), flush=True)
    summary = {"tasks_in_a_deploy": len(tasks), "points": args.points, "tried": len(results),
               "survived": survived, "results": results, "concurrent": concurrent}
    os.makedirs(os.path.dirname(os.path.abspath(args.results)), exist_ok=True)
    with open(args.results, "w") as handle:
        json.dump(summary, handle, indent=2)
    print("kill points survived: %d of %d (deploy of %d tasks, points: %s)" % (
        survived, len(results), len(tasks), args.points))
    return 0 if survived == len(results) and concurrent["survived"] else 1


if __name__ == "__main__":
    sys.exit(main())
