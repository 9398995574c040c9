"""The release module on real directories: staging, switching, marking,
pruning, locking, freezing, check and diff mode."""

import json
import os
import subprocess
import sys
import time

import pytest

from ansible.module_utils import _internal as module_utils_internal
from ansible_collections.lastgood.webstack.plugins.module_utils._release import layout, manifest, registry, rollback, services


# .../ansible_collections/lastgood/webstack/plugins/module_utils/_release/layout.py
COLLECTIONS_DIR = os.path.abspath(layout.__file__).rsplit(os.sep + "ansible_collections" + os.sep, 1)[0]

V1 = {"nginx/shop.conf": "server {}\n", "app/index.php": "<?php echo 'v1';\n"}
V2 = {"nginx/shop.conf": "server {}\n", "app/index.php": "<?php echo 'v2';\n"}


def test_stage_writes_manifest_and_checksum(env):
    base, source, call = env
    result = call(release_id="v1", state="staged", src=source("v1", V1))
    assert result["changed"]
    release_dir = base / "shop" / "releases" / "v1"
    manifest_text = (release_dir / "MANIFEST.sha256").read_text()
    assert [line.split("  ")[1] for line in manifest_text.splitlines()] == ["app/index.php", "nginx/shop.conf"]
    assert result["release"]["checksum"] == manifest.checksum_of(manifest_text)
    assert result["release"]["status"] == "staged"
    # The same content again: nothing to do.
    assert not call(release_id="v1", state="staged", src=source("v1", V1))["changed"]
    # Other content under the same id: refused, the staged release untouched.
    result = call(expect_ok=False, release_id="v1", state="staged", src=source("other", V2))
    assert "already exists" in result["msg"] and "new release_id" in result["msg"]
    assert (release_dir / "app" / "index.php").read_text() == V1["app/index.php"]


def test_symlinks_count_in_the_checksum(env):
    base, source, call = env
    first = source("a", V1)
    os.symlink("index.php", os.path.join(first, "app", "home.php"))
    second = source("b", V1)
    os.symlink("missing.php", os.path.join(second, "app", "home.php"))
    one = call(release_id="a", state="staged", src=first)["release"]["checksum"]
    two = call(release_id="b", state="staged", src=second)["release"]["checksum"]
    assert one != two
    assert os.path.islink(str(base / "shop/releases/a/app/home.php"))


def test_lifecycle_switch_known_good_and_rollback_pointers(env):
    base, source, call = env
    call(release_id="v1", state="staged", src=source("v1", V1))
    result = call(release_id="v1", state="live", _ansible_diff=True)
    assert result["current"] == "v1" and result["release"]["status"] == "live"
    assert "current: None" in result["diff"]["before"] and "current: v1" in result["diff"]["after"]
    assert os.readlink(str(base / "shop" / "current")) == "releases/v1"
    assert call(release_id="v1", state="known_good")["known_good"] == "v1"
    assert not call(release_id="v1", state="live")["changed"]
    assert not call(release_id="v1", state="known_good")["changed"]

    call(release_id="v2", state="staged", src=source("v2", V2))
    call(release_id="v2", state="validated")
    call(release_id="v2", state="live")
    # Not yet probed: v1 is still the known-good one.
    info = call()
    assert (info["current"], info["known_good"]) == ("v2", "v1")
    # The probe failed: back to v1, v2 bad.
    call(release_id="v1", state="live")
    result = call(release_id="v2", state="bad", reason="probe: 5 of 5 requests failed")
    assert result["release"]["status"] == "bad" and result["release"]["reason"].startswith("probe")
    assert (result["current"], result["known_good"]) == ("v1", "v1")
    # A bad release is not switched in again.
    assert "only a" in call(expect_ok=False, release_id="v2", state="live")["msg"]
    state = json.loads((base / "shop" / "state.json").read_text())
    assert state["releases"]["v2"]["status"] == "bad" and state["current"] == "v1"


def test_known_good_only_for_the_live_release_and_invalid_never_live(env):
    base, source, call = env
    call(release_id="v1", state="staged", src=source("v1", V1))
    assert "not live" in call(expect_ok=False, release_id="v1", state="known_good")["msg"]
    call(release_id="v1", state="invalid", reason="web_refs: 1 error")
    assert "only a" in call(expect_ok=False, release_id="v1", state="live")["msg"]
    assert call()["current"] is None


def test_marking_known_good_release_bad_moves_the_pointer_back(env):
    base, source, call = env
    for name, files in (("v1", V1), ("v2", V2)):
        call(release_id=name, state="staged", src=source(name, files))
        call(release_id=name, state="live")
        call(release_id=name, state="known_good")
    assert call()["previous_known_good"] == "v1"
    call(release_id="v1", state="live")
    result = call(release_id="v2", state="bad")
    assert (result["known_good"], result["previous_known_good"]) == ("v1", None)


def test_check_mode_changes_nothing(env):
    base, source, call = env
    result = call(release_id="v1", state="staged", src=source("v1", V1), _ansible_check_mode=True)
    assert result["changed"] and not (base / "shop").exists()
    call(release_id="v1", state="staged", src=source("v1", V1))
    before = (base / "shop" / "state.json").read_text()
    assert call(release_id="v1", state="live", _ansible_check_mode=True)["changed"]
    assert not os.path.lexists(str(base / "shop" / "current"))
    assert (base / "shop" / "state.json").read_text() == before


def test_prune_keeps_live_and_known_good(env):
    base, source, call = env
    for number in range(1, 6):
        name = "v%d" % number
        call(release_id=name, state="staged", src=source(name, {"app/i.php": name}))
        if number == 1:
            call(release_id=name, state="live")
            call(release_id=name, state="known_good")
    result = call(state="pruned", keep=2)
    assert sorted(r["id"] for r in result["releases"]) == ["v1", "v4", "v5"]
    assert sorted(os.listdir(str(base / "shop" / "releases"))) == ["v1", "v4", "v5"]
    assert "cannot be removed" in call(expect_ok=False, release_id="v1", state="absent")["msg"]
    assert call(release_id="v4", state="absent")["changed"]
    assert not call(release_id="v4", state="absent")["changed"]


def test_verified_finds_changed_files(env):
    base, source, call = env
    call(release_id="v1", state="staged", src=source("v1", V1))
    assert call(release_id="v1", state="verified")["differences"] == {"changed": [], "missing": [], "added": []}
    (base / "shop/releases/v1/app/index.php").write_text("<?php echo 'tampered';\n")
    (base / "shop/releases/v1/app/extra.php").write_text("")
    result = call(expect_ok=False, release_id="v1", state="verified")
    assert result["differences"] == {"changed": ["app/index.php"], "missing": [], "added": ["app/extra.php"]}
    assert "differs from its manifest" in result["msg"]


def test_a_freeze_file_written_by_hand_refuses_new_releases_but_not_switching_back(env):
    base, source, call = env
    call(release_id="v1", state="staged", src=source("v1", V1))
    call(release_id="v1", state="live")
    call(release_id="v1", state="known_good")
    call(release_id="v2", state="staged", src=source("v2", V2))
    call(release_id="v2", state="live")
    (base / "shop" / "FREEZE").write_text(json.dumps({"reason": "incident 42", "by": "alice", "since": "2026-11-24"}))
    result = call(expect_ok=False, release_id="v3", state="staged", src=source("v3", V1))
    assert "frozen (incident 42, by alice, since 2026-11-24)" in result["msg"]
    assert call(release_id="v1", state="live")["current"] == "v1"
    assert call()["frozen"]["reason"] == "incident 42"


def test_lock_makes_a_second_change_wait_then_fail_naming_the_holder(env, tmp_path):
    base, source, call = env
    call(release_id="v1", state="staged", src=source("v1", V1))
    holder = subprocess.Popen([sys.executable, "-c", (
        "import sys, time\n"
        "sys.path.insert(0, %r)\n"
        "from ansible_collections.lastgood.webstack.plugins.module_utils._release.registry import Lock\n"
        "lock = Lock(%r, 5).acquire()\n"
        "print('locked', flush=True)\n"
        "time.sleep(30)\n") % (COLLECTIONS_DIR, str(base / "shop" / ".lock"))],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        start = time.monotonic()
        result = call(expect_ok=False, release_id="v1", state="live", lock_timeout=0.5)
        assert time.monotonic() - start >= 0.5
        assert "is locked by pid %d" % holder.pid in result["msg"]
        assert not os.path.lexists(str(base / "shop" / "current"))
    finally:
        holder.kill()
        holder.wait()
    assert call(release_id="v1", state="live")["current"] == "v1"


@pytest.mark.parametrize("args, message", [
    ({"release_id": "../etc", "state": "staged", "src": "/tmp"}, "is not valid"),
    ({"release_id": "v1", "state": "staged"}, "needs src"),
    ({"release_id": "v1", "state": "staged", "src": "/nonexistent/src"}, "is not a directory"),
    ({"release_id": "v9", "state": "live"}, "is not staged on this host"),
    ({"site": "a/b"}, "not a valid site name"),
])
def test_bad_input_is_refused_clearly(env, args, message):
    base, source, call = env
    assert message in call(expect_ok=False, **args)["msg"]


def test_corrupt_state_file_is_a_clear_error(env):
    base, source, call = env
    call(release_id="v1", state="staged", src=source("v1", V1))
    (base / "shop" / "state.json").write_text("{not json}\n")
    message = call(expect_ok=False)["msg"]
    assert message.startswith(str(base / "shop" / "state.json") + " is not JSON: Expecting property name")
    assert "line 1 column 2" in message and "state=repaired" in message


def test_release_info_reads_without_changing(env):
    base, source, call = env
    result = call()
    assert (result["exists"], result["current"], result["releases"], result["changed"]) == (False, None, [], False)
    assert not base.exists()
    call(release_id="v1", state="staged", src=source("v1", V1))
    result = call(release_id="v1")
    assert result["exists"] and result["release"]["status"] == "staged"


def test_a_lease_holds_the_site_for_its_owner_only(env):
    base, source, call = env
    call(release_id="v1", state="staged", src=source("v1", V1))
    assert call(state="leased", lock_owner="deploy A")["changed"]
    assert not call(state="leased", lock_owner="deploy A")["changed"]
    assert call(release_id="v1", state="live", lock_owner="deploy A")["current"] == "v1"
    result = call(expect_ok=False, release_id="v1", state="known_good", lock_owner="deploy B")
    assert "is held by deploy A" in result["msg"]
    # A second deploy waits lock_timeout for the lease, then says who holds it.
    start = time.monotonic()
    result = call(expect_ok=False, state="leased", lock_owner="deploy B", lock_timeout=0.6)
    assert time.monotonic() - start >= 0.6 and "is held by deploy A" in result["msg"]
    assert call()["lease"]["owner"] == "deploy A"
    assert "not by deploy B" in call(expect_ok=False, state="unleased", lock_owner="deploy B")["msg"]
    assert call(state="unleased", lock_owner="deploy B", force=True)["changed"]
    assert call()["lease"] is None
    assert call(release_id="v1", state="known_good", lock_owner="deploy B")["known_good"] == "v1"


def test_an_expired_lease_holds_nothing(env):
    base, source, call = env
    call(release_id="v1", state="staged", src=source("v1", V1))
    call(state="leased", lock_owner="deploy A", lease_seconds=0)
    time.sleep(0.05)
    assert call(release_id="v1", state="live")["current"] == "v1"


def test_switch_runs_the_reload_command_only_when_it_switched(env, tmp_path):
    base, source, call = env
    marker = tmp_path / "reloads"
    reload_command = ["/bin/sh", "-c", "echo reloaded >> %s" % marker]
    call(release_id="v1", state="staged", src=source("v1", V1))
    result = call(release_id="v1", state="live", reload_command=reload_command)
    assert result["reload"]["rc"] == 0 and result["switch_ms"] >= 0
    assert not call(release_id="v1", state="live", reload_command=reload_command)["changed"]
    assert marker.read_text() == "reloaded\n"
    call(release_id="v2", state="staged", src=source("v2", V2))
    result = call(expect_ok=False, release_id="v2", state="live",
                  reload_command=["/bin/sh", "-c", "echo 'nginx: [emerg] bad' >&2; exit 1"])
    assert result["msg"] == "switched shop to v2, but the reload failed (exit 1): nginx: [emerg] bad"
    assert result["current"] == "v2"


def test_reload_names_the_server_whose_graceful_reload_runs(env):
    base, source, call = env
    call(release_id="v1", state="staged", src=source("v1", V1))
    result = call(expect_ok=False, release_id="v1", state="live", reload="nginx", reload_command=["/bin/true"])
    assert "mutually exclusive" in result["msg"] and "reload" in result["msg"]
    # /usr/sbin/nginx does not run on this machine: the failure names the argv that ran.
    result = call(expect_ok=False, release_id="v1", state="live", reload="nginx")
    assert result["reload"]["cmd"] == ["/usr/sbin/nginx", "-s", "reload"] and result["reload"]["rc"] == 127
    assert result["msg"].startswith("switched shop to v1, but the reload failed (exit 127)") and result["current"] == "v1"


def test_every_switch_reloads_php_fpm_before_the_web_server(env, tmp_path, php_fpm_master):
    base, source, call = env
    pidfile, process = php_fpm_master("in-place", delay=0.2)
    marker = tmp_path / "web-reloads"
    # The web server's reload sees PHP-FPM's pid file already written anew.
    web = ["/bin/sh", "-c", "stat -c %%.9Y %s >> %s" % (pidfile, marker)]
    call(release_id="v1", state="staged", src=source("v1", V1))
    written_before = os.stat(pidfile).st_mtime_ns
    first = call(release_id="v1", state="live", php_fpm={"pidfile": pidfile}, reload_command=web)
    seen_by_web = int(marker.read_text().split()[0].replace(".", ""))
    assert seen_by_web == os.stat(pidfile).st_mtime_ns != written_before
    assert first["php_fpm"]["reloaded"] and first["php_fpm"]["pid"] == process.pid
    assert first["php_fpm"]["elapsed_ms"] >= 200 and first["reload"]["rc"] == 0
    # Same pools, other code: PHP-FPM is reloaded all the same (opcache).
    call(release_id="v2", state="staged", src=source("v2", V2))
    assert call(release_id="v2", state="live", php_fpm={"pidfile": pidfile})["php_fpm"]["reloaded"]
    # Nothing switched: nothing reloaded.
    again = call(release_id="v2", state="live", php_fpm={"pidfile": pidfile}, reload_command=web)
    assert not again["changed"] and "php_fpm" not in again and "reload" not in again
    assert len(marker.read_text().splitlines()) == 1


def test_a_switch_is_refused_while_php_fpm_does_not_run(env, tmp_path):
    base, source, call = env
    call(release_id="v1", state="staged", src=source("v1", V1))
    result = call(expect_ok=False, release_id="v1", state="live", php_fpm={"pidfile": str(tmp_path / "none.pid")})
    assert result["msg"].startswith("no PHP-FPM runs under %s (no pid in it)" % (tmp_path / "none.pid"))
    assert "nothing was switched" in result["msg"]
    assert not (base / "shop" / "current").exists()


def test_a_rollback_goes_on_without_php_fpm_and_warns(env, tmp_path, php_fpm_master, monkeypatch):
    base, source, call = env
    # Warnings go to the controller's display once anything imported it (the callback tests do).
    monkeypatch.setattr(module_utils_internal, "is_controller", False)
    pidfile, process = php_fpm_master()
    _deploy(call, source, "v1", V1)
    call(release_id="v2", state="staged", src=source("v2", V2))
    call(release_id="v2", state="live", php_fpm={"pidfile": pidfile})
    process.kill()
    process.wait()
    result = call(state="rolled_back", reason="probe failed", php_fpm={"pidfile": pidfile})
    assert result["current"] == "v1" and result["php_fpm"]["running"] is False
    # ansible-core 2.19 returns each warning as a structure holding its text.
    assert "switched shop to v1 while no PHP-FPM ran under %s" % pidfile in json.dumps(result["warnings"])


def test_a_php_fpm_that_stops_on_reload_fails_the_module_saying_what_was_switched(env, php_fpm_master, monkeypatch):
    base, source, call = env
    pidfile, _process = php_fpm_master("stop")
    monkeypatch.setattr(services, "GONE_SECONDS", 0.2)
    call(release_id="v1", state="staged", src=source("v1", V1))
    result = call(expect_ok=False, release_id="v1", state="live", php_fpm={"pidfile": pidfile},
                  reload_command=["/bin/true"])
    assert result["msg"].startswith("switched shop to v1, but PHP-FPM (pid ")
    assert "stopped instead of reloading" in result["msg"]
    assert result["current"] == "v1" and "reload" not in result


def test_unswitched_runs_the_reloads_too(env, tmp_path, php_fpm_master):
    base, source, call = env
    pidfile, _process = php_fpm_master()
    marker = tmp_path / "reloads"
    call(release_id="v1", state="staged", src=source("v1", dict(V1, **{"php-fpm/a.conf": "[a]\n"})))
    call(release_id="v1", state="live")
    result = call(state="unswitched", reload_command=["/bin/sh", "-c", "echo web >> %s" % marker],
                  php_fpm={"pidfile": pidfile})
    assert result["current"] is None and result["php_fpm"]["reloaded"]
    assert marker.read_text() == "web\n"


def test_php_fpm_reload_waits_for_the_sockets_of_new_pools(env, tmp_path, php_fpm_master):
    base, source, call = env
    pidfile, _process = php_fpm_master()
    socket_path = tmp_path / "shop.sock"
    call(release_id="v1", state="staged", src=source("v1", dict(V1, **{"php-fpm/shop.conf": "[shop]\n"})))
    marker = tmp_path / "web"
    started = time.monotonic()
    subprocess.Popen(["/bin/sh", "-c", "sleep 0.3; touch %s" % socket_path])
    result = call(release_id="v1", state="live", php_fpm={"pidfile": pidfile, "wait_for": [str(socket_path)]},
                  reload_command=["/bin/sh", "-c", "test -e %s && touch %s" % (socket_path, marker)])
    assert time.monotonic() - started >= 0.3
    assert result["reload"]["rc"] == 0 and marker.exists()


def _deploy(call, source, release_id, files):
    call(release_id=release_id, state="staged", src=source(release_id, files))
    call(release_id=release_id, state="live")
    call(release_id=release_id, state="known_good")


V3 = {"nginx/shop.conf": "server {}\n", "app/index.php": "<?php echo 'v3';\n"}


def test_rolled_back_restores_the_newest_intact_known_good_and_marks_the_replaced_bad(env):
    base, source, call = env
    for release_id, files in (("v1", V1), ("v2", V2), ("v3", V3)):
        _deploy(call, source, release_id, files)
    # v2's files were changed after it was staged: passed over for v1.
    (base / "shop" / "releases" / "v2" / "app" / "index.php").write_text("<?php echo 'tampered';\n")
    info = call(rollback_target=True)
    assert info["rollback"]["target"] == "v1"
    assert [entry["id"] for entry in info["rollback"]["skipped"]] == ["v2"]
    assert info["rollback"]["skipped"][0]["differences"]["changed"] == ["app/index.php"]
    result = call(state="rolled_back", reason="incident 42")
    assert result["changed"] and result["current"] == "v1"
    assert result["rollback"] == {"rolled_from": "v3", "target": "v1", "skipped": info["rollback"]["skipped"]}
    releases = {r["id"]: r for r in result["releases"]}
    assert releases["v3"]["status"] == "bad" and releases["v3"]["reason"] == "incident 42"
    assert result["known_good"] == "v1"
    # Again: v1 is current, v2 damaged, v3 bad: nothing left to roll back to.
    failed = call(expect_ok=False, state="rolled_back")
    assert failed["msg"] == ("no known-good release other than v1 to roll back to; nothing was switched; "
                             "passed over as damaged: v2 (changed: app/index.php). Deploy a release that passes its "
                             "probe to have a known-good one again; run the release module with state=repaired to "
                             "mark the damaged ones, and staging their bundle again (a deploy does) restores their "
                             "files")
    assert call(release_id="v1", state="rolled_back")["changed"] is False


def test_rolled_back_to_a_named_release_must_be_known_good(env):
    base, source, call = env
    _deploy(call, source, "v1", V1)
    call(release_id="v2", state="staged", src=source("v2", V2))
    call(release_id="v2", state="invalid", reason="findings")
    failed = call(expect_ok=False, release_id="v2", state="rolled_back")
    assert failed["msg"] == "release v2 is invalid, not known good; a rollback restores a known-good release (v1)"


def test_rolled_back_breaks_the_lease_of_a_dead_deploy_and_that_deploy_is_refused_after(env):
    base, source, call = env
    _deploy(call, source, "v1", V1)
    call(release_id="v2", state="staged", src=source("v2", V2))
    call(state="leased", lock_owner="deploy v2 from ci1")
    call(release_id="v2", state="live", lock_owner="deploy v2 from ci1")
    # Anyone else is refused while the deploy holds the site ...
    assert "is held by deploy v2 from ci1" in call(expect_ok=False, release_id="v1", state="live",
                                                   lock_timeout=0)["msg"]
    # ... but a rollback goes through, saying whose lease it broke.
    result = call(state="rolled_back", lock_owner="rollback by alice", lock_timeout=1)
    assert result["current"] == "v1" and result["lease_broken"]["owner"] == "deploy v2 from ci1"
    assert result["lease"] is None
    late = call(expect_ok=False, release_id="v2", state="known_good", lock_owner="deploy v2 from ci1")
    assert late["msg"].startswith("the lease of deploy v2 from ci1 on site shop was broken by rollback by alice at ")


def test_freeze_refuses_new_releases_but_not_a_rollback(env):
    base, source, call = env
    _deploy(call, source, "v1", V1)
    _deploy(call, source, "v2", V2)
    assert "needs reason" in call(expect_ok=False, state="frozen")["msg"]
    frozen = call(state="frozen", reason="incident 42", lock_owner="alice")
    assert frozen["changed"] and frozen["frozen"]["reason"] == "incident 42" and frozen["frozen"]["by"] == "alice"
    assert call(state="frozen", reason="incident 42")["changed"] is False
    refused = call(expect_ok=False, release_id="v3", state="staged", src=source("v3", V3))
    assert refused["msg"].startswith("site shop is frozen (incident 42, by alice, since ")
    assert call(state="rolled_back")["current"] == "v1"
    thawed = call(state="thawed")
    assert thawed["changed"] and thawed["frozen"] is None
    assert call(state="thawed")["changed"] is False
    call(release_id="v3", state="staged", src=source("v3", V3))


def test_note_is_recorded_on_the_release(env):
    base, source, call = env
    call(release_id="v1", state="staged", src=source("v1", V1))
    result = call(release_id="v1", state="validated", note={"gate": "verified on staging1"})
    assert result["release"]["notes"] == {"gate": "verified on staging1"}
    assert call(release_id="v1", state="validated", note={"gate": "verified on staging1"})["changed"] is False


def test_prune_keeps_the_release_a_rollback_would_restore(env):
    base, source, call = env
    # Six good deploys, pruned to one after each: the release a rollback would
    # restore (the newest known-good one other than the live one) stays.
    for number in range(1, 7):
        _deploy(call, source, "v%d" % number, {"app/i.php": "v%d" % number})
        result = call(state="pruned", keep=1)
        assert call(rollback_target=True)["rollback"]["target"] == (None if number == 1 else "v%d" % (number - 1))
    assert sorted(r["id"] for r in result["releases"]) == ["v5", "v6"]
    assert call(state="rolled_back")["current"] == "v5"


def test_rolled_back_with_a_config_test_the_server_refuses_switches_nothing(env, tmp_path, monkeypatch):
    base, source, call = env
    _deploy(call, source, "v1", V1)
    _deploy(call, source, "v2", V2)
    # A stand-in for nginx that refuses any configuration, and its config dir.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    nginx = bin_dir / "nginx"
    nginx.write_text("#!/bin/sh\necho 'nginx: [emerg] open() \"/etc/nginx/missing.conf\" failed' >&2\nexit 1\n")
    nginx.chmod(0o755)
    monkeypatch.setenv("PATH", "%s:%s" % (bin_dir, os.environ["PATH"]))
    config_dir = tmp_path / "etc-nginx"
    config_dir.mkdir()
    (config_dir / "nginx.conf").write_text("include %s/shop/current/nginx/*.conf;\n" % base)
    monkeypatch.setattr(rollback, "default_config_dir", lambda server: str(config_dir))
    failed = call(expect_ok=False, state="rolled_back", config_test="nginx")
    assert failed["msg"].startswith("rollback to v1 refused, nothing was switched: nginx refuses the configuration "
                                    "with it in place: nginx: [emerg] open()")
    assert call()["current"] == "v2"
    nginx.write_text("#!/bin/sh\ngrep -q 'releases/v1/nginx' \"$4\" || exit 1\n")
    result = call(state="rolled_back", config_test="nginx")
    assert result["current"] == "v1" and result["config_test"]["rc"] == 0


def _kinds(events):
    return [(event["event"], event["release"]) for event in events]


def test_every_change_is_recorded_as_an_event_with_who_and_when(env):
    base, source, call = env
    staged = call(release_id="v1", state="staged", src=source("v1", V1), lock_owner="deploy alice")
    assert _kinds(staged["events"]) == [("staged", "v1")]
    assert staged["events"][0]["by"] == "deploy alice" and staged["events"][0]["site"] == "shop"
    assert staged["events"][0]["at"].endswith("Z")
    switched = call(release_id="v1", state="live")
    assert _kinds(switched["events"]) == [("switched", "v1")]
    assert switched["events"][0]["from"] is None and switched["events"][0]["to"] == "v1"
    assert switched["events"][0]["by"]  # the user, when no lock_owner is given
    assert _kinds(call(release_id="v1", state="known_good")["events"]) == [("known_good", "v1")]
    # Nothing to do: no event.
    assert call(release_id="v1", state="known_good")["events"] == []
    call(release_id="v2", state="staged", src=source("v2", V2))
    call(release_id="v2", state="live")
    # The deploy's rescue: back from a release not yet known good to a known-good one.
    back = call(release_id="v1", state="live")
    assert _kinds(back["events"]) == [("rolled_back", "v1")] and back["events"][0]["from"] == "v2"
    bad = call(release_id="v2", state="bad", reason="probe failed")
    assert _kinds(bad["events"]) == [("bad", "v2")] and bad["events"][0]["reason"] == "probe failed"
    history = call(events=5)["events"]
    assert len(history) == 5
    assert _kinds(history)[-3:] == [("switched", "v2"), ("rolled_back", "v1"), ("bad", "v2")]
    assert "events" not in call()


def test_rollback_freeze_and_broken_lease_events(env):
    base, source, call = env
    _deploy(call, source, "v1", V1)
    _deploy(call, source, "v2", V2)
    call(state="leased", lock_owner="deploy dead")
    frozen = call(state="frozen", reason="incident 42", lock_owner="alice")
    assert _kinds(frozen["events"]) == [("frozen", "v2")] and frozen["events"][0]["reason"] == "incident 42"
    rolled = call(state="rolled_back", lock_owner="rollback bob")
    assert _kinds(rolled["events"]) == [("lease_broken", "v2"), ("rolled_back", "v1"), ("bad", "v2")]
    assert all(event["by"] == "rollback bob" for event in rolled["events"])
    assert "deploy dead" in rolled["events"][0]["reason"]
    assert _kinds(call(state="thawed")["events"]) == [("thawed", "v1")]


def test_check_mode_records_no_event(env):
    base, source, call = env
    _deploy(call, source, "v1", V1)
    before = call(events=200)["events"]
    call(release_id="v2", state="staged", src=source("v2", V2), _ansible_check_mode=True)
    assert call(events=200)["events"] == before


def test_the_history_keeps_the_last_events_only(env, monkeypatch):
    base, source, call = env
    monkeypatch.setattr(registry, "MAX_EVENTS", 4)
    _deploy(call, source, "v1", V1)
    for number in range(registry.MAX_EVENTS):
        call(state="frozen", reason="freeze %d" % number)
    history = call(events=1000)["events"]
    assert len(history) == registry.MAX_EVENTS
    assert history[-1]["reason"] == "freeze %d" % (registry.MAX_EVENTS - 1)


def test_a_release_says_how_to_tell_it_answers_in_probe_json(env):
    base, source, call = env
    files = dict(V1, **{"probe.json": '{"expect_body": "^shop release v1 "}\n'})
    staged = call(release_id="v1", state="staged", src=source("v1", files))
    assert staged["release"]["probe"] == {"expect_body": "^shop release v1 "}
    listed = {release["id"]: release for release in call(state="pruned", keep=5)["releases"]}
    assert listed["v1"]["probe"]["expect_body"] == "^shop release v1 "
    # Without one, the release has no probe settings.
    assert "probe" not in call(release_id="v2", state="staged", src=source("v2", V2))["release"]


@pytest.mark.parametrize("text, message", [
    ('{"expect_body": "v1",\n "expect": 1}', "probe.json:2: unknown key expect; known: expect_body"),
    ('{"expect_body": \n  "v1(" }', "probe.json:1: expect_body 'v1(' is not a valid regular expression"),
    ('{\n"expect_body": ""}', "probe.json:2: expect_body must be a non-empty string"),
    ('{"expect_body": "v1",\n}', "probe.json:2: not valid JSON"),
    ('["v1"]', "probe.json: must be a JSON object such as"),
])
def test_a_probe_json_that_cannot_be_used_is_refused_at_staging(env, text, message):
    base, source, call = env
    result = call(expect_ok=False, release_id="v1", state="staged", src=source("v1", dict(V1, **{"probe.json": text})))
    assert message in result["msg"], result["msg"]
    assert not (base / "shop" / "releases" / "v1").exists()


def test_release_info_tells_whether_php_fpm_runs(env, tmp_path, php_fpm_master):
    base, source, call = env
    pidfile, process = php_fpm_master()
    assert call(php_fpm_pidfile=pidfile)["php_fpm"] == {"pidfile": pidfile, "pid": process.pid, "running": True}
    process.kill()
    process.wait()
    assert call(php_fpm_pidfile=pidfile)["php_fpm"]["running"] is False
    missing = str(tmp_path / "missing.pid")
    assert call(php_fpm_pidfile=missing)["php_fpm"] == {"pidfile": missing, "pid": None, "running": False}


def _tree(path):
    """Every entry under ``path``: its relative name, link target or content."""
    found = {}
    for directory, dirs, files in os.walk(str(path)):
        for name in dirs + files:
            full = os.path.join(directory, name)
            relative = os.path.relpath(full, str(path))
            if os.path.islink(full):
                found[relative] = "-> " + os.readlink(full)
            elif os.path.isfile(full):
                with open(full, "rb") as handle:
                    found[relative] = handle.read()
            else:
                found[relative] = "dir"
    return found


def test_check_mode_diff_shows_the_change_it_would_make_and_makes_none(env):
    base, source, call = env
    _deploy(call, source, "v1", V1)
    _deploy(call, source, "v2", V2)
    _deploy(call, source, "v3", V3)
    untouched = _tree(base)
    rolled = call(state="rolled_back", _ansible_check_mode=True, _ansible_diff=True)
    assert rolled["changed"] and rolled["rollback"]["target"] == "v2"
    assert "current: v3" in rolled["diff"]["before"] and "current: v2" in rolled["diff"]["after"]
    assert "release v3: known_good" in rolled["diff"]["before"] and "release v3: bad" in rolled["diff"]["after"]
    staged = call(release_id="v4", state="staged", src=source("v4", V1), _ansible_check_mode=True, _ansible_diff=True)
    assert "release v4: staged" in staged["diff"]["after"] and "release v4" not in staged["diff"]["before"]
    pruned = call(state="pruned", keep=1, _ansible_check_mode=True, _ansible_diff=True)
    assert pruned["actions"] == ["removed release v1"]
    assert "release v1: known_good" in pruned["diff"]["before"] and "release v1" not in pruned["diff"]["after"]
    assert _tree(base) == untouched


def test_staged_with_shared_and_writable_paths_through_the_module(env):
    base, source, call = env
    files = dict(V1, **{"app/uploads/.keep": ""})
    paths = dict(shared_paths=["app/uploads"], writable_paths=["app/cache/**"])
    checked = call(release_id="v1", state="staged", src=source("v1", files), _ansible_check_mode=True, **paths)
    assert checked["changed"] and not (base / "shop" / "shared").exists()
    result = call(release_id="v1", state="staged", src=source("v1", files), **paths)
    assert result["release"]["shared_paths"] == ["app/uploads"]
    assert result["release"]["writable_paths"] == ["app/cache/**"]
    call(release_id="v1", state="live")
    (base / "shop" / "releases" / "v1" / "app" / "uploads" / "a.jpg").write_text("jpeg")
    (base / "shop" / "releases" / "v1" / "app" / "cache" / "c.php").write_text("c")
    assert call(release_id="v1", state="verified")["differences"] == {"changed": [], "missing": [], "added": []}
    (base / "shop" / "releases" / "v1" / "app" / "stray.php").write_text("s")
    failed = call(expect_ok=False, release_id="v1", state="verified")
    assert failed["msg"] == "release v1 differs from its manifest: added: app/stray.php"


@pytest.mark.parametrize("paths, message", [
    (dict(shared_paths=["/srv/uploads"]), "shared_paths: /srv/uploads is absolute"),
    (dict(writable_paths=["app/../../x/*"]), "writable_paths: app/../../x/* climbs out with .."),
    (dict(shared_paths=["app/cache"], writable_paths=["app/cache/*"]), "app/cache is both a shared path"),
    (dict(shared_paths=["app/uploads"], writable_owner="no-such-user-here"),
     "writable_owner no-such-user-here does not exist"),
])
def test_staged_refuses_bad_paths_clearly(env, paths, message):
    base, source, call = env
    result = call(expect_ok=False, release_id="v1", state="staged", src=source("v1", V1), **paths)
    assert message in result["msg"]
    assert not (base / "shop" / "releases" / "v1").exists()
