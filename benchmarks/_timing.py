"""Timing helpers shared by the benchmarks: alternating runs of the compared
commands, wall-clock medians, and results kept as JSON and Markdown.

Runs alternate between the contenders (A B A B ...) so that a noisy moment on
the machine hurts both alike; every figure quoted is the median of the runs,
with min and max beside it."""

import concurrent.futures
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


SITE_VARS = (
    "all:\n  vars:\n    lastgood_site: demo\n    lastgood_server: nginx\n"
    "    deploy_probe_host_header: demo.test\n    rollback_probe_host_header: demo.test\n"
    "    ansible_python_interpreter: /usr/bin/python3\n")
PODMAN_CONNECTION = {"ansible_connection": "containers.podman.podman"}
PRODUCTION_GROUP = "  children:\n    production:\n      hosts:\n"
# The normal user of the test image (hack/build-test-image.sh): sudo without a password.
SSH_USER = "lastgood"
# Started by ssh for each connection, inside the container: no network needed.
SSH_PROXY_COMMAND = "podman exec -i %h /usr/sbin/sshd -i -E /var/log/sshd-lastgood.log"
# Parallel `podman` commands when hosts are started: more only queue on 2 cores.
PODMAN_PARALLEL = 4


def test_image():
    """The test image hack/env.sh names; the benchmarks that start hosts need it."""
    image = os.environ.get("LASTGOOD_TEST_IMAGE")
    if not image:
        raise SystemExit("LASTGOOD_TEST_IMAGE is not set: run through hack/bench.sh")
    return image


def write_production_inventory(path, hosts, connection=None):
    """An inventory of the demo site with ``hosts`` in group production, reached
    through ``connection`` (variables; default: the podman connection)."""
    with open(path, "w") as handle:
        handle.write(SITE_VARS)
        for name, value in sorted((connection or PODMAN_CONNECTION).items()):
            # JSON is YAML: the ssh arguments keep their quotes.
            handle.write("    %s: %s\n" % (name, json.dumps(value)))
        handle.write(PRODUCTION_GROUP)
        for name in hosts:
            handle.write("        %s:\n" % name)


def ssh_connection(ssh_dir):
    """The variables of a host reached as users reach theirs: ssh as a normal
    user with sudo, pipelining, ControlMaster/ControlPersist, host keys checked
    against ``ssh_dir``/known_hosts, the key pair in ``ssh_dir``."""
    return {
        "ansible_connection": "ansible.builtin.ssh",
        "ansible_user": SSH_USER,
        "ansible_become": True,
        "ansible_ssh_pipelining": True,
        "ansible_ssh_private_key_file": os.path.join(ssh_dir, "id_ed25519"),
        "ansible_ssh_common_args": '-o "ProxyCommand=%s" -o "UserKnownHostsFile=%s"' % (
            SSH_PROXY_COMMAND, os.path.join(ssh_dir, "known_hosts")),
        "ansible_ssh_args": "-o ControlMaster=auto -o ControlPersist=60s",
        "ansible_ssh_host_key_checking": True,
    }


def in_parallel(function, items):
    """``function`` on every item, PODMAN_PARALLEL at a time; the results in order."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=PODMAN_PARALLEL) as pool:
        return list(pool.map(function, items))


def remove_hosts(hosts):
    def remove(name):
        subprocess.run(["podman", "rm", "-f", "-t", "0", name], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, check=False)
    in_parallel(remove, hosts)


def start_hosts(hosts, image):
    """Fresh test containers named ``hosts``: no network, an init, nothing running but sleep."""
    remove_hosts(hosts)
    in_parallel(lambda name: run_command(["podman", "run", "-d", "--name", name, "--network", "none", "--init",
                                          image, "/bin/sleep", "infinity"]), hosts)


def let_in_over_ssh(hosts, ssh_dir):
    """Make a key pair in ``ssh_dir``, authorize it for SSH_USER on every host
    and write known_hosts with each host's key; return ssh_connection(ssh_dir).
    The image has sshd, its host keys and /run/sshd."""
    os.makedirs(ssh_dir, mode=0o700, exist_ok=True)
    key = os.path.join(ssh_dir, "id_ed25519")
    if not os.path.exists(key):
        run_command(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "lastgood-bench", "-f", key])
    with open(key + ".pub") as handle:
        public_key = handle.read()
    home = "/home/%s/.ssh" % SSH_USER
    authorize = ("install -d -o {user} -g {user} -m 0700 {home} && cat > {home}/authorized_keys"
                 " && chown {user}:{user} {home}/authorized_keys && chmod 0600 {home}/authorized_keys"
                 " && cat /etc/ssh/ssh_host_ed25519_key.pub").format(user=SSH_USER, home=home)

    def authorize_key(name):
        completed = subprocess.run(["podman", "exec", "-i", name, "/bin/sh", "-c", authorize], input=public_key,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, check=False)
        if completed.returncode != 0:
            raise SystemExit("could not let %s in over ssh on %s: %s" % (SSH_USER, name, completed.stderr))
        return "%s %s\n" % (name, " ".join(completed.stdout.split()[:2]))

    with open(os.path.join(ssh_dir, "known_hosts"), "w") as handle:
        handle.writelines(in_parallel(authorize_key, hosts))
    return ssh_connection(ssh_dir)
