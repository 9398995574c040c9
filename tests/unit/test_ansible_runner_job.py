# -*- coding: utf-8 -*-
# Copyright: lastgood.webstack contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""tests/runner/ansible_runner_job.py, which runs the collection's playbooks
as AWX runs a job (molecule/apache runs the whole pipeline story through it):
a real ansible-runner job against this machine, its private data directory,
its output and its rc."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import glob
import importlib.util
import json
import os
import re
import subprocess
import sys

import yaml

from ansible_collections.lastgood.webstack.tests.unit.plugins.callback.test_timeline_callback import (
    COLLECTIONS_DIR,
    release_v1,
)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
JOB = os.path.join(ROOT, "tests", "runner", "ansible_runner_job.py")


def load_job_module():
    spec = importlib.util.spec_from_file_location("ansible_runner_job", JOB)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_job(tmp_path, *args, **env):
    environ = {name: value for name, value in os.environ.items()
               if name not in ("ANSIBLE_CONFIG", "ANSIBLE_CALLBACKS_ENABLED")}
    environ.update(ANSIBLE_COLLECTIONS_PATH=COLLECTIONS_DIR, ANSIBLE_NOCOLOR="1", TMPDIR=str(tmp_path / "tmp"),
                   ANSIBLE_LOCAL_TEMP=str(tmp_path / "ansible-tmp"),
                   PATH=os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""))
    environ.update(env)
    (tmp_path / "tmp").mkdir(exist_ok=True)
    return subprocess.run([sys.executable, JOB] + list(args), cwd=str(tmp_path), env=environ,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, timeout=300,
                          check=False)


def inventory(tmp_path):
    path = tmp_path / "inventory.yml"
    path.write_text(yaml.safe_dump({"all": {"children": {
        "staging": {"hosts": {}},
        "production": {"hosts": {"localhost": {"ansible_connection": "local",
                                               "ansible_python_interpreter": sys.executable}}}}}}))
    return str(path)


def test_extra_vars_are_merged_as_ansible_playbook_merges_them(tmp_path):
    more = tmp_path / "more.yml"
    more.write_text("d: {e: 3}\nb: from the file\n")
    merged = load_job_module().extra_vars(
        ['a=1 b="two words"', '{"c": [1, 2], "a": "x"}', "@%s" % more])
    assert merged == {"a": "x", "b": "from the file", "c": [1, 2], "d": {"e": 3}}


def test_a_job_runs_a_collection_playbook_from_a_private_data_directory(tmp_path):
    assert release_v1(tmp_path).returncode == 0
    settings = tmp_path / "job-vars.yml"
    settings.write_text("lastgood_site: demo\nlastgood_base_dir: %s\n" % (tmp_path / "srv"))
    data_dir = tmp_path / "job"
    job = run_job(tmp_path, "-i", inventory(tmp_path), "lastgood.webstack.status", "-e", "@%s" % settings,
                  "-e", '{"lastgood_status_events": 2}', "--limit", "production",
                  "--private-data-dir", str(data_dir), LASTGOOD_TIMELINE_DIR=str(tmp_path / "events"))
    assert job.returncode == 0, job.stdout + job.stderr
    assert "ansible-runner job 1: successful, rc 0" in job.stderr

    # The job's output, made of its events' stdout as AWX shows it.
    assert "TASK [Read the registry] " in job.stdout
    assert job.stdout.count("LASTGOOD TIMELINE  status.yml  ") == 1, job.stdout
    assert "  localhost  demo v1  switched nothing -> v1" in job.stdout

    # The private data directory as AWX lays it out.
    project_playbook = yaml.safe_load((data_dir / "project" / "status.yml").read_text())
    assert project_playbook[0]["import_playbook"] == "lastgood.webstack.status"
    # AWX lists a project file as a playbook when a line starts so.
    lines = (data_dir / "project" / "status.yml").read_text().splitlines()
    assert any(re.match(r"^\s*-?\s*(hosts|include|import_playbook):", line) for line in lines)
    hosts = data_dir / "inventory" / "hosts"
    assert os.access(str(hosts), os.X_OK)
    exported = json.loads(subprocess.check_output([str(hosts), "--list"], universal_newlines=True))
    assert exported["production"]["hosts"] == ["localhost"]
    assert exported["_meta"]["hostvars"]["localhost"]["ansible_connection"] == "local"
    assert json.loads((data_dir / "env" / "extravars").read_text()) == {
        "lastgood_site": "demo", "lastgood_base_dir": str(tmp_path / "srv"), "lastgood_status_events": 2}
    assert json.loads((data_dir / "env" / "envvars").read_text())["JOB_ID"] == "1"

    # ansible-runner's record of the job.
    artifacts = data_dir / "artifacts" / "1"
    assert (artifacts / "rc").read_text() == "0"
    assert (artifacts / "status").read_text() == "successful"
    command = json.loads((artifacts / "command").read_text())
    assert command["cwd"] == str(data_dir / "project")
    assert command["command"][0] == "ansible-playbook"
    assert command["command"][-1] == "status.yml"
    assert ["--limit", "production"] == command["command"][3:5]
    assert "-e" in command["command"] and "@%s" % (data_dir / "env" / "extravars") in command["command"]
    events = []
    for path in sorted(glob.glob(str(artifacts / "job_events" / "*.json"))):
        with open(path) as handle:
            events.append(json.load(handle))
    timeline = [event for event in events if "LASTGOOD TIMELINE" in event.get("stdout", "")]
    assert [event["event"] for event in timeline] == ["verbose"]
    assert any(event["event"] == "playbook_on_stats" for event in events)


def test_a_failed_job_exits_with_its_rc_and_leaves_no_data_directory(tmp_path):
    playbook = tmp_path / "fail.yml"
    playbook.write_text("- name: Fail\n  hosts: production\n  gather_facts: false\n  tasks:\n"
                        "    - name: Stop here\n      ansible.builtin.fail:\n        msg: stopped on {{ reason }}\n")
    job = run_job(tmp_path, "-i", inventory(tmp_path), str(playbook), "-e", "reason=purpose")
    assert job.returncode == 2, job.stdout + job.stderr
    assert "stopped on purpose" in job.stdout
    assert "ansible-runner job 1: failed, rc 2" in job.stderr
    assert os.listdir(str(tmp_path / "tmp")) == []
