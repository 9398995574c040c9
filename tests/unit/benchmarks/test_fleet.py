# -*- coding: utf-8 -*-
# Copyright: lastgood.webstack contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The fleet benchmark's own logic (benchmarks/bench_fleet.py, the inventories
of benchmarks/_timing.py, benchmarks/_plot.py): how it counts remote calls in
-vvv output, what its hosts' inventory says, the plot. No hosts needed."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import sys
from xml.etree import ElementTree

import pytest
import yaml

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "benchmarks"))

import _plot  # noqa: E402  pylint: disable=wrong-import-position
import _timing  # noqa: E402  pylint: disable=wrong-import-position
import bench_fleet  # noqa: E402  pylint: disable=wrong-import-position

SSH_OUTPUT = """TASK [lastgood.webstack.deploy : Read the site's releases] ***
<h1> ESTABLISH SSH CONNECTION FOR USER: lastgood
<h1> SSH: EXEC ssh -o ControlMaster=auto h1 '/bin/sh -c '"'"'sudo -H -S -n -u root /usr/bin/python3'"'"''
<h2> SSH: EXEC ssh -o ControlMaster=auto h2 '/bin/sh -c ...'
<127.0.0.1> EXEC /bin/sh -c 'tar -c -z'
TASK [lastgood.webstack.deploy : Hold the site, upload and stage the release] ***
<h1> SSH: EXEC ssh -o ControlMaster=auto h1 '/bin/sh -c '"'"'( umask 77 && mkdir -p ...'
<h1> PUT /tmp/bundle.tar.gz TO /home/lastgood/.ansible/tmp/x/bundle.tar.gz
<h1> SSH: EXEC sftp -b - -o ControlMaster=auto '[h1]'
<h1> SSH: EXEC ssh -o ControlMaster=auto h1 '/bin/sh -c ...python3...'
RUNNING HANDLER [Reload nginx] ***
<h1> SSH: EXEC ssh -o ControlMaster=auto h1 '/bin/sh -c ...'
"""

PODMAN_OUTPUT = """TASK [Ping] ***
<h1> RUN [b'/usr/bin/podman', b'mount', b'h1']
<h1> RUN [b'/usr/bin/podman', b'exec', b'h1', b'/bin/sh', b'-c', b'echo ~ && sleep 0']
<h1> PUT /root/.ansible/tmp/local/tmp TO /root/.ansible/tmp/remote/AnsiballZ_ping.py
<h1> RUN [b'/usr/bin/podman', b'exec', b'h1', b'/bin/sh', b'-c', b'/usr/bin/python3 AnsiballZ_ping.py']
"""


def test_remote_calls_over_ssh_counts_each_ssh_or_sftp_per_host_and_task():
    counts = bench_fleet.remote_calls(SSH_OUTPUT, "ssh")
    assert counts["h1"] == {"calls": 5, "transfers": 1, "tasks": 3, "calls_by_task": {
        "lastgood.webstack.deploy : Read the site's releases": 1,
        "lastgood.webstack.deploy : Hold the site, upload and stage the release": 3, "Reload nginx": 1}}
    assert counts["h2"]["calls"] == 1 and counts["h2"]["tasks"] == 1
    assert "127.0.0.1" not in counts


def test_remote_calls_over_podman_counts_podman_commands():
    assert bench_fleet.remote_calls(PODMAN_OUTPUT, "podman") == {
        "h1": {"calls": 3, "transfers": 1, "tasks": 1, "calls_by_task": {"Ping": 3}}}
    assert bench_fleet.remote_calls(PODMAN_OUTPUT, "ssh") == {
        "h1": {"calls": 0, "transfers": 1, "tasks": 0, "calls_by_task": {}}}


def test_parse_args_sorts_sizes_and_refuses_unknown_connections():
    args = bench_fleet.parse_args(["--hosts", "8,1,4,4", "--connection", "ssh"])
    assert args.hosts == [1, 4, 8]
    assert args.connection == ["ssh"]
    with pytest.raises(SystemExit):
        bench_fleet.parse_args(["--connection", "local"])


def test_ssh_inventory_reaches_the_hosts_as_a_user_would(tmp_path):
    path = str(tmp_path / "ssh.yml")
    _timing.write_production_inventory(path, ["h1", "h2"], _timing.ssh_connection("/work/ssh"))
    with open(path) as handle:
        inventory = yaml.safe_load(handle)
    variables = inventory["all"]["vars"]
    assert variables["ansible_connection"] == "ansible.builtin.ssh"
    assert variables["ansible_ssh_pipelining"] is True
    assert variables["ansible_become"] is True
    assert variables["ansible_user"] == "lastgood"
    assert "ControlPersist=60s" in variables["ansible_ssh_args"]
    assert variables["ansible_ssh_common_args"] == (
        '-o "ProxyCommand=podman exec -i %h /usr/sbin/sshd -i -E /var/log/sshd-lastgood.log" '
        '-o "UserKnownHostsFile=/work/ssh/known_hosts"')
    assert variables["ansible_ssh_private_key_file"] == "/work/ssh/id_ed25519"
    assert list(inventory["all"]["children"]["production"]["hosts"]) == ["h1", "h2"]


def test_podman_inventory_is_the_default(tmp_path):
    path = str(tmp_path / "podman.yml")
    _timing.write_production_inventory(path, ["h1"])
    with open(path) as handle:
        inventory = yaml.safe_load(handle)
    assert inventory["all"]["vars"]["ansible_connection"] == "containers.podman.podman"
    assert inventory["all"]["vars"]["lastgood_site"] == "demo"


@pytest.mark.parametrize("value, ceiling", [(0.45, 0.5), (1, 1), (7.3, 8), (23, 25), (67.4, 80), (0, 1)])
def test_nice_ceiling(value, ceiling):
    assert _plot.nice_ceiling(value) == pytest.approx(ceiling)


def test_line_plot_is_svg_with_a_line_and_a_legend_entry_per_series():
    series = [{"label": "lastgood deploy, ssh", "points": [(1, 2.0), (4, 3.5)], "color": "#111111", "dash": None},
              {"label": "stock <deploy> & co", "points": [(4, 9.0), (1, 5.0)], "color": "#222222", "dash": "7,4"}]
    svg = ElementTree.fromstring(_plot.line_plot(series, "title", "hosts", "s"))
    namespace = "{http://www.w3.org/2000/svg}"
    lines = svg.findall(namespace + "polyline")
    assert len(lines) == 2
    assert lines[1].get("stroke-dasharray") == "7,4"
    texts = [text.text for text in svg.iter(namespace + "text")]
    assert "stock <deploy> & co" in texts
    assert "10" in texts  # the y axis up to the nice ceiling of 9
