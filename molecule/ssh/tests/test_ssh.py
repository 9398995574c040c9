"""The incident through the pipeline over ssh as user lastgood with sudo,
run by ansible-core 2.16: s-staging1, s-prod1."""

import glob
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "resources"))

from pipeline_checks import check_production, check_staging  # noqa: E402

testinfra_hosts = ["podman://s-staging1", "podman://s-prod1"]

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", ".."))
ANSIBLE_PLAYBOOK_2_16 = os.path.join(ROOT, ".cache", "venv-ansible-core-2.16", "bin", "ansible-playbook")
STORY_LOGS = os.path.join(ROOT, ".cache", "test-logs", "story-ssh")


def pipelined(sudo_line):
    """What sudo runs for a module sent through a pipelined connection: the
    interpreter alone (after the task's environment, if any), which reads the
    module on its stdin; no AnsiballZ file left for it in a temporary
    directory."""
    return ("COMMAND=/bin/sh -c 'echo BECOME-SUCCESS-" in sudo_line and sudo_line.endswith(" /usr/bin/python3'")
            and "AnsiballZ_" not in sudo_line)


def test_each_host(host):
    if host.backend.get_hostname().startswith("s-staging"):
        check_staging(host)
    else:
        check_production(host)


def test_the_playbooks_came_over_ssh_as_lastgood_and_ran_modules_through_sudo(host):
    logins = host.file("/var/log/sshd-lastgood.log").content_string
    accepted = re.findall(r"^Accepted publickey for (\S+) ", logins, re.MULTILINE)
    assert accepted and set(accepted) == {"lastgood"}, logins
    sudo = [line for line in host.file("/var/log/sudo-lastgood.log").content_string.splitlines() if line.strip()]
    by_lastgood = [line for line in sudo if " : lastgood : " in line and " ; USER=root ; " in line]
    # The whole story (deploys, rollbacks, freeze, status) makes a few dozen
    # module calls per host; a deploy makes five.
    assert len(by_lastgood) == len(sudo) and len(sudo) > 20, sudo
    assert all(pipelined(line) for line in sudo), [line for line in sudo if not pipelined(line)]
    # ControlPersist: one ssh login serves many tasks.
    assert len(accepted) * 5 < len(sudo), (len(accepted), len(sudo))
    # The release registry was written by root through sudo; ansible's
    # temporary files, lastgood's own.
    assert host.file("/srv/lastgood/demo/state.json").user == "root"
    assert host.file("/home/lastgood/.ansible/tmp").user == "lastgood"


def test_ansible_core_2_16_ran_the_playbooks_and_printed_the_timeline():
    version = subprocess.run([ANSIBLE_PLAYBOOK_2_16, "--version"], stdout=subprocess.PIPE, universal_newlines=True,
                             check=True).stdout
    assert version.startswith("ansible-playbook [core 2.16."), version
    logs = sorted(glob.glob(os.path.join(STORY_LOGS, "*.log")))
    steps = [os.path.basename(path)[:-4] for path in logs]
    assert steps == ["0-deploy-v1", "0-site", "1-deploy-v2", "2-deploy-v2-limit-production", "3-deploy-v2f",
                     "4-deploy-v3", "5-rollback", "5a-rollback-check", "6-status"], steps
    for path in logs:
        with open(path) as handle:
            output = handle.read()
        assert output.startswith("$ %s -i" % ANSIBLE_PLAYBOOK_2_16), output[:300]
        assert "lastgood.webstack.timeline:" not in output, output
        if path.endswith("5a-rollback-check.log"):
            # A check run changes nothing and records no release event.
            assert "LASTGOOD TIMELINE  " not in output, output
        elif not path.endswith("0-site.log"):
            assert output.count("LASTGOOD TIMELINE  ") == 1, output
