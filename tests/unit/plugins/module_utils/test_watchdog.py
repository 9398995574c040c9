"""The watchdog's decisions on a real registry: when it rolls back, when it
only reports, and that it never acts twice or while a deploy holds the site.
The probe and commands are injected; the HTTP side is the probe module's,
tested on its own, and the whole watcher runs for real in the molecule
scenario watchdog."""

import ast
import json
import os
import shutil
import subprocess
import sys

import pytest

from ansible_collections.lastgood.webstack.plugins.module_utils._release import lease, lifecycle, registry, rollback
from ansible_collections.lastgood.webstack.plugins.module_utils._watchdog import watcher as _watchdog


def _release(site, state, release_id, text, known_good=True, probe=None):
    src = os.path.join(site.dir, "..", "src-" + release_id)
    os.makedirs(os.path.join(src, "app"), exist_ok=True)
    with open(os.path.join(src, "app", "index.php"), "w") as handle:
        handle.write(text)
    if probe is not None:
        with open(os.path.join(src, "probe.json"), "w") as handle:
            json.dump(probe, handle)
    lifecycle.stage(site, state, release_id, src, False)
    lifecycle.switch(site, state, release_id, False)
    if known_good:
        lifecycle.mark_known_good(site, state, release_id, False)


@pytest.fixture
def site(tmp_path):
    site = registry.Site(str(tmp_path / "srv"), "shop")
    os.makedirs(site.releases_dir)
    state = site.load_state()
    _release(site, state, "v1", "v1")
    _release(site, state, "v2", "v2")
    site.save_state(state)
    return site


class FakeProbe:
    """Answers as the release named in ``healthy`` would: ok while
    ``current`` is one of them."""

    def __init__(self, site, healthy):
        self.site = site
        self.healthy = set(healthy)
        self.calls = 0
        self.expected = []

    def __call__(self, config, requests, expect_body=None):
        self.calls += 1
        self.expected.append((self.site.current(), expect_body))
        if self.site.current() in self.healthy:
            return [], {"ok": requests, "total": requests}
        return ["error rate 100.0%"], None


def make(site, healthy, **settings):
    config = dict(_watchdog.DEFAULTS, site="shop", base_dir=os.path.dirname(site.dir), **settings)
    ran, alerts, lines = [], [], []
    watchdog = _watchdog.Watchdog(config, probe_fn=FakeProbe(site, healthy),
                                  run_fn=lambda argv, environ=None: (ran.append(argv), (0, "", ""))[1],
                                  log=lines.append, alert_fn=alerts.append)
    return watchdog, ran, alerts, lines


def test_a_healthy_site_is_left_alone(site):
    watchdog, ran, alerts, _lines = make(site, {"v1", "v2"})
    for _round in range(5):
        assert watchdog.step() == watchdog.config["interval"]
    assert site.current() == "v2" and not ran and not alerts


def test_after_the_failures_in_a_row_it_restores_the_known_good_once(site):
    watchdog, ran, alerts, _lines = make(site, {"v1"}, failures=3, reload_command=["/usr/sbin/nginx", "-s", "reload"])
    # Checks after the first failure come at the retry interval.
    assert watchdog.step() == watchdog.config["retry_interval"]
    assert watchdog.step() == watchdog.config["retry_interval"]
    assert site.current() == "v2"
    assert watchdog.step() == watchdog.config["interval"]
    assert site.current() == "v1"
    state = site.load_state()
    assert state["releases"]["v2"]["status"] == "bad" and state["known_good"] == "v1"
    assert ran == [["/usr/sbin/nginx", "-s", "reload"]]
    kinds = [(event["event"], event["release"], event["by"]) for event in state["events"][-2:]]
    assert kinds == [("rolled_back", "v1", "watchdog"), ("bad", "v2", "watchdog")]
    assert "v2 failed 3 consecutive checks" in state["releases"]["v2"]["reason"]
    assert "probe of v1: 5/5 ok" in state["events"][-2]["detail"]
    assert [alert["event"] for alert in alerts] == ["rolled_back"]


def test_each_release_is_checked_for_its_own_answer_and_php_fpm_reloaded_before_the_web_server(
        tmp_path, php_fpm_master):
    site = registry.Site(str(tmp_path / "srv"), "shop")
    os.makedirs(site.releases_dir)
    state = site.load_state()
    _release(site, state, "v1", "v1", probe={"expect_body": "^shop v1 "})
    _release(site, state, "v2", "v2", probe={"expect_body": "^shop v2 "})
    site.save_state(state)
    pidfile, process = php_fpm_master("in-place", delay=0.1)
    watchdog, ran, _alerts, _lines = make(site, {"v1"}, failures=1, php_fpm={"pidfile": pidfile},
                                          reload_command=["/usr/sbin/nginx", "-s", "reload"])
    watchdog.step()
    assert site.current() == "v1"
    # The failing v2 was asked for its own answer; the restored v1 for its own.
    assert watchdog.probe.expected == [("v2", "^shop v2 "), ("v1", "^shop v1 ")]
    detail = site.load_state()["events"][-2]["detail"]
    assert detail.startswith("PHP-FPM reloaded in ") and "reload exit 0; probe of v1: 5/5 ok" in detail, detail
    assert ran == [["/usr/sbin/nginx", "-s", "reload"]] and process.poll() is None
    # A body set for every release wins over what each release says.
    watchdog.config["expect_body"] = "shop"
    assert watchdog.expected_body("v1") is None


def test_a_recovering_site_resets_the_count(site):
    watchdog = make(site, {"v1"}, failures=2)[0]
    watchdog.step()
    watchdog.probe.healthy.add("v2")
    watchdog.step()
    watchdog.probe.healthy.discard("v2")
    watchdog.step()
    assert site.current() == "v2"


def test_it_never_acts_while_a_deploy_holds_the_site(site):
    watchdog, ran, alerts, _lines = make(site, {"v1"}, failures=1)
    lease.take_lease(site, "deploy alice", 600, False)
    for _round in range(3):
        watchdog.step()
    assert site.current() == "v2" and watchdog.probe.calls == 0 and not alerts


def test_a_module_holding_the_lock_makes_it_wait_for_the_next_round(site):
    watchdog, ran, alerts, lines = make(site, {"v1"}, failures=1, lock_timeout=0.1)
    with site.lock(1):
        watchdog.step()
    assert site.current() == "v2" and "not acting this time" in lines[-1]
    watchdog.step()
    assert site.current() == "v1"


def test_without_a_known_good_to_go_back_to_it_only_reports_once(tmp_path):
    site = registry.Site(str(tmp_path / "srv"), "shop")
    os.makedirs(site.releases_dir)
    state = site.load_state()
    _release(site, state, "v1", "v1")
    site.save_state(state)
    watchdog, ran, alerts, _lines = make(site, set(), failures=1)
    watchdog.step()
    watchdog.step()
    assert site.current() == "v1" and not ran
    assert len(alerts) == 1 and alerts[0]["event"] == "watchdog_alert"
    assert "no known-good release other than v1" in alerts[0]["reason"]
    assert site.load_state()["events"][-1]["event"] == "watchdog_alert"


def test_when_the_known_good_fails_too_it_reports_and_does_not_flap(site):
    watchdog, ran, alerts, _lines = make(site, set(), failures=1)
    watchdog.step()
    assert site.current() == "v1"
    assert [alert["event"] for alert in alerts] == ["rolled_back", "watchdog_alert"]
    assert "fails too" in alerts[1]["reason"]
    for _round in range(3):
        watchdog.step()
    # v1 is the release it restored: it never rolls back from it, and says so once.
    assert site.current() == "v1"
    assert [alert["event"] for alert in alerts] == ["rolled_back", "watchdog_alert", "watchdog_alert"]


def test_it_rolls_back_from_a_release_once_only(site):
    watchdog, ran, alerts, _lines = make(site, {"v1"}, failures=1)
    watchdog.step()
    assert site.current() == "v1"
    # Someone puts v2 back by hand (it is bad now, so only by marking it good again).
    state = site.load_state()
    state["releases"]["v2"]["status"] = "known_good"
    lifecycle.switch(site, state, "v2", False)
    site.save_state(state)
    watchdog.step()
    assert site.current() == "v2"
    assert "rolled back from v2 automatically once already" in alerts[-1]["reason"]


def test_the_config_test_refusing_the_known_good_switches_nothing(site, monkeypatch):
    watchdog, ran, alerts, _lines = make(site, {"v1"}, failures=1, server="nginx")
    monkeypatch.setattr(watchdog, "_config_test", lambda: (lambda target: (1, "nginx: [emerg] unknown directive")))
    watchdog.step()
    assert site.current() == "v2"
    assert "nginx refuses the configuration" in alerts[0]["reason"]


def test_the_alert_command_gets_the_event_as_json(site, tmp_path):
    out = tmp_path / "alert.json"
    config = dict(_watchdog.DEFAULTS, site="shop", base_dir=os.path.dirname(site.dir),
                  alert_command=[sys.executable, "-c",
                                 "import os,sys; open(%r,'w').write(os.environ['LASTGOOD_EVENT']+' '+sys.stdin.read())"
                                 % str(out)])
    watchdog = _watchdog.Watchdog(config, log=lambda text: None)
    watchdog.alert({"event": "rolled_back", "release": "v1"})
    kind, payload = out.read_text().split(" ", 1)
    assert kind == "rolled_back" and json.loads(payload)["release"] == "v1" and json.loads(payload)["host"]


@pytest.mark.parametrize("settings, message", [
    ({}, "at least site"),
    ({"site": "shop", "intervall": 5}, "unknown settings intervall"),
    ({"site": "shop", "failures": 0}, "failures must be at least 1"),
    ({"site": "shop", "server": "lighttpd"}, "server must be nginx, apache or null"),
    ({"site": "shop", "reload": "lighttpd"}, "reload must be nginx, apache or null"),
    ({"site": "shop", "reload": "nginx", "reload_command": ["/bin/true"]}, "mutually exclusive"),
])
def test_bad_settings_are_refused_clearly(tmp_path, settings, message):
    path = tmp_path / "watchdog.json"
    path.write_text(json.dumps(settings))
    with pytest.raises(_watchdog.ConfigError, match=message):
        _watchdog.load_config(str(path))
    path.write_text("{not json")
    with pytest.raises(_watchdog.ConfigError, match="is not JSON"):
        _watchdog.load_config(str(path))


@pytest.mark.parametrize("settings, argv", [
    ({"reload": "nginx"}, ["/usr/sbin/nginx", "-s", "reload"]),
    ({"reload": "apache"}, ["/usr/sbin/apache2ctl", "graceful"]),
    ({"reload_command": ["/bin/true"]}, ["/bin/true"]),
    ({}, []),
])
def test_reload_names_the_server_whose_graceful_reload_runs(tmp_path, settings, argv):
    path = tmp_path / "watchdog.json"
    path.write_text(json.dumps(dict(settings, site="shop")))
    assert _watchdog.load_config(str(path))["reload_command"] == argv


def test_commands_run_with_lc_all_c_and_the_environment_given():
    rc, out, err = _watchdog.run_command(
        [sys.executable, "-c", "import os; print(os.environ['LC_ALL'], os.environ['APACHE_CONFDIR'])"],
        {"LC_ALL": "C", "APACHE_CONFDIR": "/tmp/copy"})
    assert (rc, out.split(), err) == (0, ["C", "/tmp/copy"], "")
    assert _watchdog.run_command(["/nonexistent/binary"])[0] == 127


def test_the_config_test_runs_the_server_on_a_candidate_copy(site, tmp_path, monkeypatch):
    """The real _config_test with a stand-in nginx binary that records its argv."""
    config_dir = tmp_path / "etc-nginx"
    config_dir.mkdir()
    (config_dir / "nginx.conf").write_text("include %s/nginx/*.conf;\n" % site.current_link)
    fake = tmp_path / "nginx"
    seen = tmp_path / "seen"
    fake.write_text("#!/bin/sh\necho \"$@\" > %s\ncat \"$4\" >> %s\nexit 0\n" % (seen, seen))
    fake.chmod(0o755)
    monkeypatch.setattr(rollback, "default_config_dir", lambda server: str(config_dir))
    monkeypatch.setattr(_watchdog, "find_binary", lambda name, required, dirs: str(fake))
    config = dict(_watchdog.DEFAULTS, site="shop", base_dir=os.path.dirname(site.dir), server="nginx", failures=1)
    alerts = []
    watchdog = _watchdog.Watchdog(config, probe_fn=FakeProbe(site, {"v1"}), log=lambda text: None,
                                  alert_fn=alerts.append)
    watchdog.step()
    assert site.current() == "v1", alerts
    argv, included = seen.read_text().splitlines()
    assert argv.startswith("-T -q -c ") and argv.endswith("/nginx.conf")
    assert included == "include %s/nginx/*.conf;" % site.release_dir("v1")


def test_the_alert_url_gets_the_event_posted(site):
    import http.server
    import threading
    received = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 (the name http.server calls)
            received.append((self.path, json.loads(self.rfile.read(int(self.headers["Content-Length"])))))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.handle_request, daemon=True)
    thread.start()
    config = dict(_watchdog.DEFAULTS, site="shop", base_dir=os.path.dirname(site.dir),
                  alert_url="http://127.0.0.1:%d/hooks/lastgood?x=1" % server.server_port)
    lines = []
    _watchdog.Watchdog(config, log=lines.append).alert({"event": "rolled_back", "release": "v1"})
    thread.join(5)
    server.server_close()
    assert received and received[0][0] == "/hooks/lastgood?x=1" and received[0][1]["event"] == "rolled_back"
    assert not lines


def module_utils_closure(starts, module_utils):
    """The files under module_utils that the files ``starts`` import, directly
    or through each other (packages with their __init__.py)."""
    prefix = "ansible_collections.lastgood.webstack.plugins.module_utils"
    seen, todo = set(), list(starts)
    while todo:
        with open(todo.pop()) as handle:
            tree = ast.parse(handle.read())
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(prefix):
                names = [node.module] + ["%s.%s" % (node.module, alias.name) for alias in node.names]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names if alias.name.startswith(prefix)]
            for name in names:
                parts = name[len(prefix):].strip(".").split(".") if name != prefix else []
                for depth in range(1, len(parts) + 1):
                    base = os.path.join(module_utils, *parts[:depth])
                    for path in (base + ".py", os.path.join(base, "__init__.py")):
                        if os.path.isfile(path) and path not in seen:
                            seen.add(path)
                            todo.append(path)
    return seen


def test_the_code_the_role_ships_runs_the_watchdog_without_anything_else(tmp_path):
    """The watchdog role copies plugins/module_utils/ as it is; with only that
    tree and a Python without Ansible, the watcher imports everything it
    needs and accepts its settings (what the role's --check task runs)."""
    module_utils = os.path.dirname(os.path.dirname(os.path.abspath(_watchdog.__file__)))
    tasks = os.path.join(module_utils, "..", "..", "roles", "watchdog", "tasks", "main.yml")
    with open(tasks) as handle:
        assert 'src: "{{ role_path }}/../../plugins/module_utils/"' in handle.read()
    shipped = tmp_path / "lib" / "ansible_collections" / "lastgood" / "webstack" / "plugins" / "module_utils"
    shutil.copytree(module_utils, str(shipped), ignore=shutil.ignore_patterns("__pycache__"))
    config = tmp_path / "watchdog.json"
    config.write_text(json.dumps({"site": "shop", "base_dir": str(tmp_path / "srv"),
                                  "php_fpm": {"pidfile": "/run/php/php8.2-fpm.pid"}}))
    python = shutil.which("python3", path="/usr/bin:/bin") or sys.executable
    checked = subprocess.run([python, "-I", "-c", "import sys; sys.path.insert(0, %r); sys.argv[1:] = %r; "
                              "import runpy; runpy.run_module(%r, run_name='__main__')" % (
                                  str(tmp_path / "lib"), [str(config), "--check"], _watchdog.MODULE)],
                             capture_output=True, text=True, check=False)
    assert checked.returncode == 0, checked.stderr
    # Every module_utils file the watcher or a module imports, followed
    # import by import, is in the shipped tree.
    plugins = os.path.dirname(module_utils)
    starts = [os.path.join(module_utils, "_watchdog", "__main__.py")] + [
        os.path.join(plugins, "modules", name) for name in os.listdir(os.path.join(plugins, "modules"))]
    needed = module_utils_closure(starts, module_utils)
    assert {os.path.join(module_utils, *parts) for parts in [
        ("_watchdog", "watcher.py"), ("_release", "registry.py"), ("_release", "services.py"), ("_probe.py",),
        ("_webconf", "candidate.py"), ("_php", "resolve.py")]} <= needed
    for path in needed:
        assert (shipped / os.path.relpath(path, module_utils)).is_file(), path
    # Without the shipped tree it cannot run: the check above did use it.
    shutil.rmtree(str(shipped / ".." / "module_utils"))
    missing = subprocess.run([python, "-I", "-c", "import sys; sys.path.insert(0, %r); import %s" % (
        str(tmp_path / "lib"), _watchdog.MODULE)], capture_output=True, text=True, check=False)
    assert missing.returncode != 0 and "ModuleNotFoundError" in missing.stderr


@pytest.mark.parametrize("url, shown", [
    ("https://hooks.example.com/services/T000/B000/XXXXSECRET", "https://hooks.example.com/..."),
    ("http://user:token@127.0.0.1:9/hook?key=SECRET", "http://127.0.0.1:9/..."),
    ("http://[::1]:8080", "http://[::1]:8080"),
    ("https://alerts.example.com/", "https://alerts.example.com"),
])
def test_the_log_names_an_alert_url_without_its_secret(url, shown):
    assert _watchdog.shown_url(url) == shown


def test_a_failing_alert_url_is_logged_without_its_path_or_token(site):
    # A port on the loopback nothing listens on: the POST fails for real.
    import socket
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    config = dict(_watchdog.DEFAULTS, site="shop", base_dir=os.path.dirname(site.dir),
                  alert_url="http://alerter:s3cret@127.0.0.1:%d/hook/T0KEN?sig=ABC" % port)
    lines = []
    watchdog = _watchdog.Watchdog(config, probe_fn=FakeProbe(site, {"v1"}), log=lines.append)
    watchdog.alert({"event": "rolled_back", "release": "v2"})
    assert len(lines) == 1 and "alert URL http://127.0.0.1:%d/... failed" % port in lines[0]
    assert not any(secret in lines[0] for secret in ("s3cret", "T0KEN", "ABC", "alerter"))
