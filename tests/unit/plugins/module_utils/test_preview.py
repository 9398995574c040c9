"""preview.py and preview_process.py apart from real servers (those run in
tests/integration/preview/run.sh): URLs, live paths in what the servers
say, stopping a preview's processes by its directory, stale previews."""

import os
import subprocess
import sys
import time

import pytest

from ansible_collections.lastgood.webstack.plugins.module_utils._webconf import preview
from ansible_collections.lastgood.webstack.plugins.module_utils._webconf import preview_process as process

# Stands in for a server's master: leads a session of its own, as the
# daemons do, with a worker in it; its command line names the preview.
MASTER = """
import os, sys, time
os.setsid()
if os.fork() == 0:
    os.execv(sys.executable, [sys.executable, "-c", "import time; time.sleep(60)"])
time.sleep(60)
"""


@pytest.fixture
def made(tmp_path):
    made = preview.Preview("nginx", {"/srv/lastgood/demo/current": "/srv/lastgood/demo/releases/v2"},
                           "/etc/nginx", "/etc/php/8.2/fpm", 41234, str(tmp_path))
    yield made
    made.stop()


def start_master(run_dir):
    master = subprocess.Popen([sys.executable, "-c", MASTER, os.path.join(run_dir, "nginx.conf")])
    deadline = time.monotonic() + 10
    while len(process._members(run_dir)[1]) < 2:
        assert time.monotonic() < deadline, "the stand-in master did not start its worker"
        time.sleep(0.01)
    return master


def test_url_for_sends_any_site_url_to_the_preview_port(made):
    assert made.url_for("http://127.0.0.1/index.php?x=1") == "http://127.0.0.1:41234/index.php?x=1"
    assert made.url_for("https://127.0.0.1:443/a/b") == "http://127.0.0.1:41234/a/b"
    assert made.url_for("http://demo.test") == "http://127.0.0.1:41234/"
    with pytest.raises(preview.PreviewError, match="only http"):
        made.url_for("ftp://127.0.0.1/")


def test_what_the_servers_say_comes_back_in_live_paths(made):
    run = made.run_dir
    made.layout.sockets.add("/run/php/php8.2-fpm.sock", run + "/sock/www.sock")
    made._copies.append((run + "/nginx", "/etc/nginx"))
    said = ("nginx: [emerg] unknown directive \"bogus\" in %s/outside/srv/lastgood/demo/releases/v2/nginx/demo.conf:3\n"
            "connect() to unix:%s/sock/www.sock failed; in %s/nginx/sites-enabled/demo.conf:1\n"
            "PHP Fatal error: in /srv/lastgood/demo/releases/v2/app/lib/release.php:8") % (run, run, run)
    assert made.to_live(said) == (
        "nginx: [emerg] unknown directive \"bogus\" in /srv/lastgood/demo/current/nginx/demo.conf:3\n"
        "connect() to unix:/run/php/php8.2-fpm.sock failed; in /etc/nginx/sites-enabled/demo.conf:1\n"
        "PHP Fatal error: in /srv/lastgood/demo/current/app/lib/release.php:8")


def test_the_site_roles_glob_of_current_is_mapped_too():
    assert preview.with_glob_forms({"/srv/a/current": "/srv/a/releases/v2"}) == {
        "/srv/a/current": "/srv/a/releases/v2", "/srv/a/curren[t]": "/srv/a/releases/v2"}


def test_error_output_is_the_tail_of_the_error_logs_and_kept_after_stop(made):
    with open(made.layout.log("nginx-error.log"), "w") as handle:
        handle.write("".join("line %d\n" % number for number in range(100)))
    with open(made.layout.log("nginx-access.log"), "w") as handle:
        handle.write("GET / 200\n")
    output = made.error_output()
    assert output.splitlines()[0] == "nginx-error.log:"
    assert output.splitlines()[1:] == ["line %d" % number for number in range(60, 100)]
    made.stop()
    assert not os.path.exists(made.run_dir)
    assert made.error_output() == output
    made.stop()


def test_stop_ends_the_master_and_its_workers_and_nothing_else(made, tmp_path):
    other = subprocess.Popen([sys.executable, "-c", MASTER, str(tmp_path / "elsewhere" / "nginx.conf")])
    master = start_master(made.run_dir)
    _masters, members = process._members(made.run_dir)
    made.stop()
    assert master.wait(5) is not None
    assert len(members) == 2 and not [pid for pid in members if process.running(pid)]
    assert other.poll() is None
    other.kill()
    other.wait()


def test_a_preview_whose_owner_is_gone_is_stopped_and_removed_at_the_next_start(tmp_path):
    stale = tmp_path / "p-stale"
    stale.mkdir()
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    (stale / process.OWNER_FILE).write_text("%d 1\n" % dead.pid)
    master = start_master(str(stale))
    kept = tmp_path / "p-in-use"
    kept.mkdir()
    process.write_owner(str(kept))
    young = tmp_path / "p-being-made"
    young.mkdir()
    assert process.clean_stale(str(tmp_path)) == [str(stale)]
    assert master.wait(5) is not None
    assert sorted(os.listdir(str(tmp_path))) == ["p-being-made", "p-in-use"]


def test_without_root_it_says_so(monkeypatch):
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    with pytest.raises(preview.PreviewError, match="as root; this runs as uid 1000: run it with become"):
        preview.start("nginx", {}, None, None)


def test_an_unknown_server_is_refused():
    with pytest.raises(preview.PreviewError, match="nginx or apache"):
        preview.start("lighttpd", {}, None, None)


def test_a_pool_left_on_a_live_socket_is_refused_before_anything_starts(made):
    pool = os.path.join(made.run_dir, "fpm", "pool.d", "www.conf")
    os.makedirs(os.path.dirname(pool))
    with open(pool, "w") as handle:
        handle.write("[www]\nlisten = %s/sock/www.sock\n[other]\nlisten = /run/php/php8.2-fpm.sock\n" % made.run_dir)
    made._copies.append((os.path.join(made.run_dir, "fpm"), "/etc/php/8.2/fpm"))
    with pytest.raises(preview.PreviewError, match=r"^/etc/php/8.2/fpm/pool.d/www.conf:4: pool other would listen "
                                                   r"on /run/php/php8.2-fpm.sock in the preview; not started$"):
        made._check_pools([pool])


def test_the_copy_brings_in_what_lies_outside_and_rewrites_each_file_once(tmp_path, make_tree):
    root = make_tree({
        "etc/nginx/nginx.conf": "events {}\nhttp {\n  include %s/etc/nginx/sites-enabled/*;\n}\n" % tmp_path,
        "etc/nginx/sites-enabled/demo.conf": "include %s/srv/demo/current/nginx/*.conf;\n" % tmp_path,
        "srv/demo/releases/v2/nginx/demo.conf": "server {\n  listen 80 default_server;\n}\n",
        "srv/elsewhere/site.conf": "server { listen 8080; }\n",
        "base": None,
    })
    os.symlink(str(root / "srv/elsewhere/site.conf"), str(root / "etc/nginx/sites-enabled/linked.conf"))
    made = preview.Preview("nginx", {str(root / "srv/demo/current"): str(root / "srv/demo/releases/v2")},
                           str(root / "etc/nginx"), None, 41234, str(root / "base"))
    with made:
        copy, files = made._prepare(made.config_dir, preview._WebRewrite("nginx", made.layout), "nginx.conf")
        release = os.path.join(made.run_dir, "outside") + str(root / "srv/demo/releases/v2/nginx/demo.conf")
        assert sorted(files) == sorted([copy + "/nginx.conf", copy + "/sites-enabled/demo.conf",
                                        copy + "/sites-enabled/linked.conf", release])
        with open(release) as handle:
            assert handle.read() == "server { listen 127.0.0.1:41234;\n                           \n}\n"
        with open(copy + "/sites-enabled/linked.conf") as handle:
            assert handle.read().count("listen") == 1
        with open(copy + "/sites-enabled/demo.conf") as handle:
            assert handle.read() == "include %s/outside%s/srv/demo/releases/v2/nginx/*.conf;\n" % (made.run_dir, root)
        assert made.to_live("in %s:2" % release) == "in %s/srv/demo/current/nginx/demo.conf:2" % root
    with open(str(root / "srv/demo/releases/v2/nginx/demo.conf")) as handle:
        assert "listen 80 default_server" in handle.read()
    assert os.listdir(str(root / "base")) == []


def test_apaches_syntax_error_is_said_as_file_and_line():
    said = ("AH00526: Syntax error on line 3 of /srv/lastgood/demo/current/apache/demo.conf:\n"
            "Invalid command 'BogusDirective', perhaps misspelled")
    assert preview.file_line(said) == ("AH00526: /srv/lastgood/demo/current/apache/demo.conf:3: Invalid command "
                                       "'BogusDirective', perhaps misspelled")


@pytest.mark.skipif(os.geteuid() != 0, reason="the directory must be root's: only root can make one")
def test_previews_are_kept_in_a_directory_of_their_own_that_root_alone_writes(tmp_path):
    assert preview.previews_dir(str(tmp_path)) == str(tmp_path / "lastgood-preview")
    os.chmod(str(tmp_path / "lastgood-preview"), 0o777)
    with pytest.raises(preview.PreviewError, match="not a directory that root alone can write .* mode 777"):
        preview.previews_dir(str(tmp_path))
    (tmp_path / "elsewhere").mkdir()
    os.rmdir(str(tmp_path / "lastgood-preview"))
    os.symlink(str(tmp_path / "elsewhere"), str(tmp_path / "lastgood-preview"))
    with pytest.raises(preview.PreviewError, match="not a directory that root alone can write"):
        preview.previews_dir(str(tmp_path))
