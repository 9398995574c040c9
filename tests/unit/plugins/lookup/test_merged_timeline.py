"""The operator's way to merge the timelines of several runs: the
merged_timeline lookup, and the lastgood.webstack.timeline playbook that
prints it, run as an operator runs it."""

import json

import pytest

from ansible.errors import AnsibleLookupError
from ansible_collections.lastgood.webstack.plugins.lookup import merged_timeline
from ansible_collections.lastgood.webstack.plugins.lookup.merged_timeline import LookupModule
from ansible_collections.lastgood.webstack.tests.unit.plugins.callback.test_timeline_callback import (
    ansible_playbook,
)
from ansible_collections.lastgood.webstack.tests.unit.plugins.plugin_utils.timeline_events import (
    event,
    on,
    two_runs,
    write_run,
)

HEADER = "LASTGOOD TIMELINE  2 runs (deploy, status)  2026-11-28 (UTC)  events in "
PROD1_INCIDENT = ("  prod1  demo v2b: switched 05:02:09.000; first failed probe request after 0.03 s; "
                  "failure detected after 0.04 s (probe); known-good v1 serving again after 2.70 s")


@pytest.fixture
def lookup(monkeypatch):
    """The lookup with its options as the plugin loader would set them."""
    def set_options(self, var_options=None, direct=None):
        self._direct = dict(direct or {})

    monkeypatch.setattr(LookupModule, "set_options", set_options)
    monkeypatch.setattr(LookupModule, "get_option", lambda self, name: self._direct.get(name))
    return LookupModule()


@pytest.fixture
def warnings(monkeypatch):
    shown = []
    monkeypatch.setattr(merged_timeline.display, "warning", shown.append)
    return shown


def test_it_merges_a_directory_of_runs_into_one_timeline(lookup, tmp_path, warnings):
    two_runs(tmp_path / "runs")
    lines = lookup.run([str(tmp_path / "runs")], variables={}, production_hosts=["prod1", "prod2"])
    assert lines[0] == HEADER + str(tmp_path / "runs")
    # the deploy's switch, repeated by the status run, is there once
    assert sum("switched v1 -> v2b" in line for line in lines) == 1
    assert lines[lines.index("DURATIONS") + 1] == PROD1_INCIDENT
    assert lines[-1] == ("  production served a release that was not known good: 7.7 s in total "
                         "(prod1 2.7 s, prod2 5.0 s)")
    assert warnings == []


def test_without_production_hosts_it_counts_every_host(lookup, tmp_path, warnings):
    files = two_runs(tmp_path)
    # a term may be a list of paths, as a playbook variable passes them
    lines = lookup.run([files], variables={})
    assert lines[0] == HEADER + ", ".join(files)
    assert lines[-1].startswith("  the hosts served a release that was not known good: 7.7 s in total")


def test_it_warns_once_about_the_lines_it_skips_and_goes_on(lookup, tmp_path, warnings):
    junk = ["not json %d\n" % number for number in range(7)]
    path = write_run(tmp_path, "run.jsonl", *on("prod1", event("known_good", "05:00:00.000", "v1")), junk=junk)
    lines = lookup.run([path], variables={})
    assert lines[1] == "05:00:00.000  prod1  demo v1  known good"
    assert warnings == ["merged_timeline: skipped 7 line(s) that are not events: %s, ..." % ", ".join(
        "%s:%d" % (path, number) for number in range(2, 7))]


def test_files_without_release_events_give_no_lines(lookup, tmp_path, warnings):
    path = write_run(tmp_path, "run.jsonl", *on("prod1", event("probe_passed", "05:00:00.000", "v1")))
    assert lookup.run([path], variables={}) == []
    (tmp_path / "empty").mkdir()
    assert lookup.run([str(tmp_path / "empty")], variables={}) == []


def test_a_path_that_is_not_there_or_no_path_is_an_error(lookup, tmp_path):
    with pytest.raises(AnsibleLookupError, match="missing is neither an events file nor a directory"):
        lookup.run([str(tmp_path / "missing")], variables={})
    with pytest.raises(AnsibleLookupError, match="at least one events file or directory"):
        lookup.run([], variables={})


def test_relative_paths_are_relative_to_the_current_directory(lookup, tmp_path, monkeypatch):
    two_runs(tmp_path / "runs")
    monkeypatch.chdir(tmp_path)
    assert lookup.run(["runs"], variables={})[0] == HEADER + str(tmp_path / "runs")


# The playbook, as an operator runs it -------------------------------------------

INVENTORY = {"all": {"children": {"staging": {"hosts": {"staging1": {}}},
                                  "production": {"hosts": {"prod1": {}, "prod2": {}}}}}}


def test_the_playbook_prints_and_writes_the_merged_timeline(tmp_path):
    two_runs(tmp_path / "runs")
    more = write_run(tmp_path / "ci", "20261128T050400Z-rollback-43.jsonl",
                     *on("staging1", event("known_good", "05:04:00.000", "v3")))
    (tmp_path / "inventory.json").write_text(json.dumps(INVENTORY))
    run = ansible_playbook(tmp_path, "lastgood.webstack.timeline", "-i", "inventory.json",
                           "-e", "lastgood_timeline_sources=runs/,%s" % more, "-e", "lastgood_timeline_out=out.txt")
    assert run.returncode == 0, run.stdout
    written = (tmp_path / "out.txt").read_text().splitlines()
    assert written[0] == ("LASTGOOD TIMELINE  3 runs (deploy, status, rollback)  2026-11-28 (UTC)  events in "
                          "%s, %s" % (tmp_path / "runs", more))
    assert "05:04:00.000  staging1  demo v3   known good" in written
    assert written[-1] == ("  production served a release that was not known good: 7.7 s in total "
                           "(prod1 2.7 s, prod2 5.0 s)")
    for line in written:
        assert json.dumps(line) in run.stdout


def test_the_playbook_reads_where_the_callback_writes_by_default(tmp_path):
    two_runs(tmp_path / "events")
    run = ansible_playbook(tmp_path, "lastgood.webstack.timeline", LASTGOOD_TIMELINE_DIR=str(tmp_path / "events"))
    assert run.returncode == 0, run.stdout
    assert json.dumps(HEADER + str(tmp_path / "events")) in run.stdout
    assert "the hosts served a release that was not known good" in run.stdout
    (tmp_path / "none").mkdir()
    run = ansible_playbook(tmp_path, "lastgood.webstack.timeline", "-e", "lastgood_timeline_dir=none")
    assert run.returncode == 0, run.stdout
    assert '"no release events in none"' in run.stdout
    assert not (tmp_path / "out.txt").exists()
