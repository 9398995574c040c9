# -*- coding: utf-8 -*-
# Copyright: lastgood.webstack contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Run a playbook of the collection the way AWX runs a job: through
ansible-runner, from a private data directory laid out as AWX lays it out.

Takes the arguments of ansible-playbook that a job template has fields for:

    python tests/runner/ansible_runner_job.py -i inventory.yml lastgood.webstack.deploy \\
        -e lastgood_release_src=build/shop -e @vars.yml --limit staging

and builds, in a new private data directory (or --private-data-dir):

    project/<name>.yml   the job template's playbook, a file of the project
                         that imports the one named
    inventory/hosts      the inventory as AWX hands it to a job: an executable
                         that prints what ``ansible-inventory --list --export``
                         read from the -i sources (AWX's inventory sync)
    env/extravars        the extra variables, every -e merged into one mapping
    env/envvars          the variables AWX sets for each job
    env/settings         ansible-runner's settings
    artifacts/<ident>/   ansible-runner's record: job_events/, stdout, rc, status

then calls ansible_runner.run() and prints each job event's stdout as it
arrives, which is the job output AWX shows, and exits with the job's rc.
ansible-runner runs ansible-playbook on this machine (no execution
environment container) with this process's environment, so the collection,
ANSIBLE_CONFIG and the connection plugins are found as they are here.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile

import yaml

# The job template fields AWX maps to ansible-playbook's options, by option.
PARSER = argparse.ArgumentParser(
    description="Run a playbook through ansible-runner from a private data directory laid out as AWX lays out a job's.")
PARSER.add_argument("-i", "--inventory", action="append", required=True, help="an inventory source (repeatable)")
PARSER.add_argument("-e", "--extra-vars", action="append", default=[],
                    help="key=value, JSON or YAML, or @file (repeatable; later ones win, as in ansible-playbook)")
PARSER.add_argument("-l", "--limit")
PARSER.add_argument("-t", "--tags")
PARSER.add_argument("--skip-tags")
PARSER.add_argument("-f", "--forks", type=int)
PARSER.add_argument("-v", "--verbose", action="count", default=0)
PARSER.add_argument("-C", "--check", action="store_true")
PARSER.add_argument("-D", "--diff", action="store_true")
PARSER.add_argument("--private-data-dir",
                    help="lay the job out here and keep it (default: a new temporary directory, removed at the end)")
PARSER.add_argument("--job-id", default="1", help="the job's id: ansible-runner's ident, JOB_ID in its environment")
PARSER.add_argument("playbook", help="a playbook of a collection (lastgood.webstack.deploy) or a playbook file")


def extra_vars(values):
    """Every -e merged into one mapping, as ansible-playbook merges them."""
    # ansible-playbook's own key=value parser, quoting rules included.
    from ansible.parsing.splitter import parse_kv

    merged = {}
    for value in values:
        if value.startswith("@"):
            with open(value[1:], encoding="utf-8") as handle:
                data = yaml.safe_load(handle)
        elif value.lstrip()[:1] in ("{", "["):
            data = yaml.safe_load(value)
        else:
            data = parse_kv(value)
        if data is None:
            continue
        if not isinstance(data, dict):
            raise SystemExit("extra vars %r are not a mapping" % value)
        merged.update(data)
    return merged


def exported_inventory(sources):
    """The inventory as AWX's inventory sync stores it: ansible-inventory's
    export of the sources, group variables kept on their groups."""
    command = [shutil.which("ansible-inventory") or "ansible-inventory", "--list", "--export"]
    for source in sources:
        command += ["-i", source]
    run = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, check=False)
    if run.returncode != 0:
        raise SystemExit("ansible-inventory failed (exit %d):\n%s" % (run.returncode, run.stderr))
    return json.loads(run.stdout)


def write(path, text, mode=0o600):
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.chmod(path, mode)


def lay_out(data_dir, args):
    """The private data directory of the job; returns the playbook's name in the project."""
    for name in ("project", "inventory", "env"):
        os.makedirs(os.path.join(data_dir, name), exist_ok=True)

    playbook = args.playbook
    if os.path.isfile(playbook):
        playbook = os.path.abspath(playbook)
        name = os.path.basename(playbook)
    else:
        name = playbook.rsplit(".", 1)[-1] + ".yml"
    # The short key, as in the README: AWX lists a project file as a playbook
    # only when a line starts with hosts:, include: or import_playbook:.
    write(os.path.join(data_dir, "project", name),
          "---\n- name: Run %s\n  import_playbook: %s\n" % (playbook, json.dumps(playbook)), 0o644)

    # AWX writes the inventory as a script that prints it, with every host's
    # variables under _meta, so ansible never asks it host by host.
    inventory = json.dumps(exported_inventory(args.inventory))
    write(os.path.join(data_dir, "inventory", "hosts"),
          "#! /usr/bin/env python3\n# -*- coding: utf-8 -*-\nprint(%r)\n" % inventory, 0o700)

    write(os.path.join(data_dir, "env", "extravars"), json.dumps(extra_vars(args.extra_vars), indent=2))

    # What AWX sets in every job's environment on top of the execution
    # environment's own (the per-job SSH control path directory among them).
    control_path_dir = os.path.join(data_dir, "cp")
    os.makedirs(control_path_dir, mode=0o700, exist_ok=True)
    write(os.path.join(data_dir, "env", "envvars"), json.dumps({
        "JOB_ID": args.job_id,
        "ANSIBLE_RETRY_FILES_ENABLED": "False",
        "ANSIBLE_INVENTORY_UNPARSED_FAILED": "True",
        "ANSIBLE_PARAMIKO_RECORD_HOST_KEYS": "False",
        "ANSIBLE_SSH_CONTROL_PATH_DIR": control_path_dir,
    }, indent=2))

    # AWX reads a job's output from its events, not from ansible's stdout.
    write(os.path.join(data_dir, "env", "settings"), json.dumps({
        "suppress_ansible_output": True,
        "suppress_output_file": False,
        "job_timeout": 0,
        "idle_timeout": 0,
    }, indent=2))

    cmdline = [option for option, given in (("--check", args.check), ("--diff", args.diff)) if given]
    if cmdline:
        write(os.path.join(data_dir, "env", "cmdline"), " ".join(cmdline))
    return name


def run_job(data_dir, project_playbook, args):
    import ansible_runner

    cancel = []

    def stop(signum, frame):
        cancel.append(signum)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)

    def show(event):
        text = event.get("stdout")
        if text:
            sys.stdout.write(text + "\n")
            sys.stdout.flush()
        return True

    job = ansible_runner.run(
        private_data_dir=data_dir,
        ident=args.job_id,
        playbook=project_playbook,
        limit=args.limit,
        tags=args.tags,
        skip_tags=args.skip_tags,
        forks=args.forks,
        verbosity=args.verbose or None,
        event_handler=show,
        cancel_callback=lambda: bool(cancel),
    )
    sys.stderr.write("ansible-runner job %s: %s, rc %s (%s)\n" % (
        args.job_id, job.status, job.rc, " ".join(job.config.command)))
    if job.rc is None or (job.rc == 0 and job.status != "successful"):
        return 1
    return job.rc


def main(argv=None):
    args = PARSER.parse_args(argv)
    data_dir = args.private_data_dir or tempfile.mkdtemp(prefix="lastgood-runner-")
    data_dir = os.path.abspath(data_dir)
    try:
        project_playbook = lay_out(data_dir, args)
        return run_job(data_dir, project_playbook, args)
    finally:
        if not args.private_data_dir:
            shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
