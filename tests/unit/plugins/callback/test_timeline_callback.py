"""The timeline callback: its hooks with results as Ansible hands them over,
the events file it writes, the playbooks' shim; and real ansible-playbook
runs. The library it uses is tested in tests/unit/plugins/plugin_utils."""

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys

import pytest

from ansible_collections.lastgood.webstack.plugins.callback import timeline
from ansible_collections.lastgood.webstack.tests.unit.plugins.plugin_utils.timeline_events import event, switched

# .../ansible_collections/lastgood/webstack/plugins/callback/timeline.py
COLLECTIONS_DIR = os.path.abspath(timeline.__file__).rsplit(os.sep + "ansible_collections" + os.sep, 1)[0]
COLLECTION_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(timeline.__file__))))


# The callback with results as Ansible hands them over -------------------------

class FakeHost:
    def __init__(self, name):
        self.name = name

    def get_name(self):
        return self.name


class FakeTask:
    def __init__(self, action, uuid="task-1", task_vars=None, delegate_to=None):
        self.action = action
        self.resolved_action = action
        self.vars = task_vars or {}
        self.delegate_to = delegate_to
        self._uuid = uuid


class FakeResult:
    def __init__(self, host, task, result):
        self.host = FakeHost(host)
        self.task = task
        self.result = result


class FakeResultBefore219:
    """A task result as ansible-core 2.16 to 2.18 hand it over: no public
    host, task or result."""

    def __init__(self, host, task, result):
        self._host = FakeHost(host)
        self._task = task
        self._result = result


class FakeDisplay:
    verbosity = 0

    def __init__(self):
        self.warnings = []
        self.shown = []

    def warning(self, message, *args, **kwargs):
        self.warnings.append(message)

    def display(self, message, *args, **kwargs):
        self.shown.append(message)


@pytest.fixture
def callback(tmp_path):
    plugin = timeline.CallbackModule(display=FakeDisplay())
    plugin.events_dir = str(tmp_path / "timeline")
    plugin.playbooks = ["deploy.yml"]
    return plugin


def written(plugin):
    with open(plugin.events_path) as handle:
        return [json.loads(line) for line in handle]


def test_callback_records_loop_items_once_and_failed_results_too(callback):
    release = FakeTask("lastgood.webstack.release", uuid="stage")
    staged = event("staged", "05:02:08.000", "v3")
    callback.v2_runner_item_on_ok(FakeResult("prod1", release, {"events": [staged], "item": "v3"}))
    callback.v2_runner_on_ok(FakeResult("prod1", release, {"results": [{"events": [staged], "item": "v3"}]}))
    failed_switch = switched("05:02:09.000", "v1", "v3")
    callback.v2_runner_on_failed(FakeResult("prod1", FakeTask("lastgood.webstack.release", uuid="live"),
                                            {"events": [failed_switch], "msg": "the reload failed"}))
    # a loop whose items were not handed over one by one
    history = FakeTask("lastgood.webstack.release_info", uuid="history")
    callback.v2_runner_on_ok(FakeResult("prod2", history, {"results": [{"events": [staged, failed_switch]}]}))
    assert [(entry["host"], entry["event"]) for entry in written(callback)] == [
        ("prod1", "staged"), ("prod1", "switched"), ("prod2", "staged"), ("prod2", "switched")]
    assert os.path.basename(callback.events_path).startswith(callback.started.strftime("%Y%m%dT%H%M%SZ") + "-deploy-")


def test_callback_probe_takes_the_live_release_and_delegation_names_the_host(callback):
    callback.v2_runner_on_ok(FakeResult("prod1", FakeTask("lastgood.webstack.release", uuid="live"),
                                        {"events": [switched("05:02:09.000", "v1", "v3")]}))
    callback.v2_runner_on_failed(FakeResult("prod1", FakeTask("lastgood.webstack.health_probe", uuid="probe"),
                                            {"total": 5, "ok": 0, "elapsed_ms": 12.0, "msg": "all failed",
                                             "first_failure_after_ms": 1.0, "p95_ms": 1.0}))
    callback.v2_runner_item_on_ok(FakeResult("prod1", FakeTask("lastgood.webstack.release_info", uuid="gate",
                                                               delegate_to="staging1"),
                                             {"events": [event("known_good", "05:01:00.000", "v3")]}))
    entries = written(callback)
    assert (entries[1]["event"], entries[1]["site"], entries[1]["release"]) == ("probe_failed", "demo", "v3")
    assert entries[2]["host"] == "staging1"


def test_callback_turns_a_failed_marked_task_into_an_event(callback):
    callback.v2_runner_on_ok(FakeResult("prod1", FakeTask("lastgood.webstack.release", uuid="live"),
                                        {"events": [switched("05:02:09.000", "v1", "v3")]}))
    refusal = FakeTask("ansible.builtin.assert", uuid="gate", task_vars={"__deploy_timeline_event": "gate_refused"})
    callback.v2_runner_on_failed(FakeResult("prod1", refusal, {"msg": "Promotion gate: staging has v4 invalid"}))
    # the same marker on a task that succeeded is nothing
    callback.v2_runner_on_ok(FakeResult("prod1", refusal, {"msg": "All assertions passed"}))
    entries = written(callback)
    assert [entry["event"] for entry in entries] == ["switched", "gate_refused"]
    assert entries[1]["reason"] == "Promotion gate: staging has v4 invalid"
    assert entries[1]["site"] == "demo"


def test_callback_prints_at_the_end_and_only_with_release_events(callback):
    callback.v2_runner_on_ok(FakeResult("prod1", FakeTask("lastgood.webstack.health_probe", uuid="probe"),
                                        {"total": 20, "ok": 20, "elapsed_ms": 50.0, "p95_ms": 2.0}))
    callback.v2_playbook_on_stats(None)
    assert callback._display.shown == []
    assert callback.events_path is None
    callback.v2_runner_on_ok(FakeResult("prod1", FakeTask("lastgood.webstack.release", uuid="live"),
                                        {"events": [switched("05:02:09.000", "v1", "v3")]}))
    # the probe held back until then is written too
    assert [entry["event"] for entry in written(callback)] == ["probe_passed", "switched"]
    callback.v2_playbook_on_stats(None)
    assert "05:02:09.000  prod1  demo v3  switched v1 -> v3" in callback._display.shown[0]
    assert "events in %s" % callback.events_path in callback._display.shown[0]


def test_callback_warns_once_when_it_cannot_write_and_goes_on(callback, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    callback.events_dir = str(blocker / "timeline")
    for clock in ("05:02:09.000", "05:02:10.000"):
        callback.v2_runner_on_ok(FakeResult("prod1", FakeTask("lastgood.webstack.release", uuid=clock),
                                            {"events": [event("known_good", clock, "v3")]}))
    assert len(callback._display.warnings) == 1
    assert "cannot write the events" in callback._display.warnings[0]
    callback.v2_playbook_on_stats(None)
    assert "events not written" in callback._display.shown[0]
    assert callback._display.shown[0].count("known good") == 2


def test_callback_takes_the_results_of_ansible_core_2_16_to_2_18(callback):
    release = FakeTask("lastgood.webstack.release", uuid="stage")
    staged = event("staged", "05:02:08.000", "v3")
    callback.v2_runner_item_on_ok(FakeResultBefore219("prod1", release, {"events": [staged], "item": "v3"}))
    callback.v2_runner_on_ok(FakeResultBefore219("prod1", release, {"results": [{"events": [staged], "item": "v3"}]}))
    callback.v2_runner_on_ok(FakeResultBefore219("prod1", FakeTask("lastgood.webstack.release", uuid="live"),
                                                 {"events": [switched("05:02:09.000", "v1", "v3")]}))
    callback.v2_runner_on_failed(FakeResultBefore219("prod1", FakeTask("lastgood.webstack.health_probe", uuid="probe"),
                                                     {"total": 5, "ok": 0, "elapsed_ms": 12.0, "msg": "all failed",
                                                      "first_failure_after_ms": 1.0, "p95_ms": 1.0}))
    refusal = FakeTask("ansible.builtin.assert", uuid="gate", task_vars={"__deploy_timeline_event": "gate_refused"})
    callback.v2_runner_on_failed(FakeResultBefore219("prod2", refusal, {"msg": "Promotion gate: staging has v3 bad"}))
    assert [(entry["host"], entry["event"]) for entry in written(callback)] == [
        ("prod1", "staged"), ("prod1", "switched"), ("prod1", "probe_failed"), ("prod2", "gate_refused")]
    assert callback._display.warnings == []


class FakePlay:
    def __init__(self, manager):
        self.manager = manager

    def get_variable_manager(self):
        return self.manager


@pytest.mark.parametrize("extra_vars, production", [
    ({}, {"prod9"}),
    ({"lastgood_production_group": "prod"}, {"prod1", "prod2"}),
])
def test_production_hosts_come_from_the_group_the_extra_vars_name(callback, tmp_path, extra_vars, production):
    from ansible.inventory.manager import InventoryManager
    from ansible.parsing.dataloader import DataLoader
    from ansible.vars.manager import VariableManager

    inventory_file = tmp_path / "hosts.ini"
    inventory_file.write_text("[stage]\nstage1\n[prod]\nprod1\nprod2\n[production]\nprod9\n")
    loader = DataLoader()
    manager = VariableManager(loader=loader, inventory=InventoryManager(loader=loader, sources=[str(inventory_file)]))
    manager._extra_vars = extra_vars
    callback.v2_playbook_on_play_start(FakePlay(manager))
    assert callback.production_hosts == production
    assert callback._display.warnings == []


def test_callback_never_raises(callback):
    class Broken:
        @property
        def result(self):
            raise RuntimeError("no result here")

    callback.v2_runner_on_ok(Broken())
    callback.v2_runner_on_failed(Broken())
    callback.v2_playbook_on_play_start(object())
    assert len(callback._display.warnings) == 3
    assert all(warning.startswith("lastgood.webstack.timeline: ") for warning in callback._display.warnings)


def test_playbook_shim_is_idle_when_the_callback_is_enabled_by_name(monkeypatch):
    path = os.path.join(COLLECTION_ROOT, "playbooks", "callback_plugins", "lastgood_timeline.py")
    spec = importlib.util.spec_from_file_location("lastgood_timeline_shim", path)
    shim = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(shim)
    assert issubclass(shim.CallbackModule, timeline.CallbackModule)
    assert shim.CallbackModule.CALLBACK_NEEDS_ENABLED is False
    monkeypatch.setattr(shim.constants, "CALLBACKS_ENABLED", ["lastgood.webstack.timeline"])
    assert shim.CallbackModule(display=FakeDisplay()).disabled
    monkeypatch.setattr(shim.constants, "CALLBACKS_ENABLED", [])
    assert not shim.CallbackModule(display=FakeDisplay()).disabled


# A real run ------------------------------------------------------------------

PLAYBOOK = """\
- name: Release v1 on this machine
  hosts: localhost
  connection: local
  gather_facts: false
  vars:
    ansible_python_interpreter: "{{ ansible_playbook_python }}"
  tasks:
    - name: Stage
      lastgood.webstack.release:
        site: demo
        base_dir: "%(base_dir)s"
        release_id: "{{ item }}"
        state: staged
        src: "%(src)s"
      loop: [v1]
    - name: Switch in
      lastgood.webstack.release:
        site: demo
        base_dir: "%(base_dir)s"
        release_id: v1
        state: live
    - name: Mark known good
      lastgood.webstack.release:
        site: demo
        base_dir: "%(base_dir)s"
        release_id: v1
        state: known_good
    - name: Read the history, which repeats the events
      lastgood.webstack.release_info:
        site: demo
        base_dir: "%(base_dir)s"
        events: 20
"""


# The controller venv of the oldest ansible-core the collection supports, made by hack/setup.sh.
ANSIBLE_PLAYBOOK_2_16 = os.path.join(COLLECTION_ROOT, ".cache", "venv-ansible-core-2.16", "bin", "ansible-playbook")


def ansible_playbook(tmp_path, *args, executable=None, **env):
    executable = executable or shutil.which("ansible-playbook", path=os.path.dirname(sys.executable)) or shutil.which(
        "ansible-playbook")
    environ = {name: value for name, value in os.environ.items()
               if name not in ("ANSIBLE_CONFIG", "ANSIBLE_CALLBACKS_ENABLED")}
    environ.update(ANSIBLE_COLLECTIONS_PATH=COLLECTIONS_DIR, ANSIBLE_NOCOLOR="1",
                   ANSIBLE_LOCAL_TEMP=str(tmp_path / "ansible-tmp"))
    environ.update((name, value) for name, value in env.items() if value is not None)
    return subprocess.run([executable, "-i", "localhost,"] + list(args), cwd=str(tmp_path), env=environ,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True, timeout=300,
                          check=False)


def release_v1(tmp_path, executable=None, **env):
    src = tmp_path / "src"
    (src / "app").mkdir(parents=True)
    (src / "app" / "index.php").write_text("<?php echo 'v1';\n")
    playbook = tmp_path / "release-v1.yml"
    playbook.write_text(PLAYBOOK % {"base_dir": tmp_path / "srv", "src": src})
    return ansible_playbook(tmp_path, str(playbook), executable=executable, **env)


@pytest.mark.parametrize("executable", [None, ANSIBLE_PLAYBOOK_2_16], ids=["test-venv", "ansible-core-2.16"])
def test_a_real_run_writes_the_events_and_prints_the_timeline(tmp_path, executable):
    if executable and not os.path.exists(executable):
        pytest.skip("no ansible-core 2.16 venv at %s (hack/setup.sh makes it)" % executable)
    events_dir = tmp_path / "events"
    run = release_v1(tmp_path, executable, ANSIBLE_CALLBACKS_ENABLED="lastgood.webstack.timeline",
                     LASTGOOD_TIMELINE_DIR=str(events_dir))
    assert run.returncode == 0, run.stdout
    files = os.listdir(str(events_dir))
    assert len(files) == 1 and re.match(r"^[0-9]{8}T[0-9]{6}Z-release-v1-[0-9]+[.]jsonl$", files[0]), files
    with open(str(events_dir / files[0])) as handle:
        entries = [json.loads(line) for line in handle]
    assert [(entry["host"], entry["event"], entry["release"]) for entry in entries] == [
        ("localhost", "staged", "v1"), ("localhost", "switched", "v1"), ("localhost", "known_good", "v1")]
    output = run.stdout
    assert output.count("LASTGOOD TIMELINE  release-v1.yml  ") == 1
    assert "events in %s" % (events_dir / files[0]) in output
    assert "  localhost  demo v1  switched nothing -> v1" in output
    assert "  localhost  demo v1  known good" in output
    assert "  the hosts served a release that was not known good: " in output
    assert "lastgood.webstack.timeline:" not in output, output


def test_the_collections_playbooks_turn_it_on_by_themselves_once(tmp_path):
    """The status playbook reads the registry's history with release_info;
    the callback beside the collection's playbooks prints it, once, also
    when the callback is enabled by name as well."""
    assert release_v1(tmp_path).returncode == 0
    status = ("-c", "local", "lastgood.webstack.status", "-e", "lastgood_status_hosts=localhost",
              "-e", "lastgood_site=demo", "-e", "lastgood_base_dir=%s" % (tmp_path / "srv"))
    for enabled in (None, "lastgood.webstack.timeline"):
        run = ansible_playbook(tmp_path, *status, ANSIBLE_PYTHON_INTERPRETER=sys.executable,
                               ANSIBLE_CALLBACKS_ENABLED=enabled, LASTGOOD_TIMELINE_DIR=str(tmp_path / "events"))
        assert run.returncode == 0, run.stdout
        assert run.stdout.count("LASTGOOD TIMELINE  status.yml  ") == 1, run.stdout
        assert "  localhost  demo v1  switched nothing -> v1" in run.stdout
    assert len(os.listdir(str(tmp_path / "events"))) == 2


def test_callback_a_probe_failed_under_failed_when_false_is_a_failed_probe(callback):
    probe = FakeTask("lastgood.webstack.health_probe", uuid="restored-probe")
    callback.v2_runner_on_ok(FakeResult("prod1", probe, {"total": 20, "ok": 2, "elapsed_ms": 30.0,
                                                         "msg": "18 of 20 failed", "failed_when_result": False}))
    callback.v2_runner_on_ok(FakeResult("prod1", probe, {"total": 20, "ok": 20, "elapsed_ms": 30.0,
                                                         "failed_when_result": False}))
    callback.v2_runner_on_ok(FakeResult("prod1", FakeTask("lastgood.webstack.release", uuid="known-good"),
                                        {"events": [event("known_good", "05:02:09.000", "v1")]}))
    assert [entry["event"] for entry in written(callback)] == ["probe_failed", "probe_passed", "known_good"]
