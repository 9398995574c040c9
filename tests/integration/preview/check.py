"""Runs inside a test host (see run.sh): sets up the demo site live on
nginx or Apache with PHP-FPM, then previews other releases through
preview.py and checks that the preview answers for them while nothing live
changes. Prints what it saw; exits 1 at the first check that fails.

    python3 check.py nginx|apache [collections dir]
"""

import json
import os
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request

SERVER = sys.argv[1]
sys.path.insert(0, sys.argv[2] if len(sys.argv) > 2 else "/collections")

from ansible_collections.lastgood.webstack.plugins.module_utils._webconf import preview  # noqa: E402

RELEASES = os.environ.get("LASTGOOD_RELEASES", "/collections/ansible_collections/lastgood/webstack/molecule/resources/releases")
SITE = "/srv/lastgood/demo"
# The PHP-FPM of the test host: 8.2 on bookworm, 8.4 on trixie, 7.4 on bullseye.
PHP = sorted(os.listdir("/etc/php"), key=lambda version: [int(part) for part in version.split(".")])[-1]
FPM_DIR = "/etc/php/%s/fpm" % PHP
LIVE_SOCKET = "/run/php/php%s-fpm.sock" % PHP
WEB_SERVICE = {"nginx": "nginx", "apache": "apache2"}[SERVER]
WEB_PIDFILE = {"nginx": "/run/nginx.pid", "apache": "/run/apache2/apache2.pid"}[SERVER]
FPM_PIDFILE = "/run/php/php%s-fpm.pid" % PHP
LIVE_LOGS = {"nginx": ["/var/log/nginx/error.log"], "apache": ["/var/log/apache2/error.log"]}[SERVER] + [
    "/var/log/php%s-fpm.log" % PHP]
LIVE_ACCESS_LOG = {"nginx": "/var/log/nginx/access.log", "apache": "/var/log/apache2/other_vhosts_access.log"}[SERVER]
AGENT = "lastgood-preview-check"
BASE = "/run/lastgood-preview"


def sh(*argv):
    done = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True, check=False)
    if done.returncode != 0:
        raise SystemExit("FAILED: %s: %s" % (" ".join(argv), done.stdout))
    return done.stdout


def run_command(argv, environ_update):
    done = subprocess.run(argv, env=dict(os.environ, **(environ_update or {})), stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, universal_newlines=True, check=False)
    return done.returncode, done.stdout, done.stderr


def get_bin_path(name, required, opt_dirs):
    found = shutil.which(name, path=os.pathsep.join((opt_dirs or []) + [os.environ.get("PATH", "")]))
    if found is None and required:
        raise SystemExit("FAILED: no %s" % name)
    return found


def check(condition, what):
    print("%s %s" % ("ok  " if condition else "FAIL", what))
    if not condition:
        raise SystemExit(1)


def get(url, host="demo.test"):
    request = urllib.request.Request(url, headers={"Host": host, "User-Agent": AGENT})
    try:
        with urllib.request.urlopen(request, timeout=5) as answer:
            return answer.status, answer.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode("utf-8", "replace")


def live():
    return get("http://127.0.0.1/")


def set_up():
    os.makedirs(SITE + "/releases", exist_ok=True)
    for name in ("v1", "v2", "v2-fatal", "v3-pool"):
        if not os.path.isdir("%s/releases/%s" % (SITE, name)):
            shutil.copytree("%s/demo-%s" % (RELEASES, name), "%s/releases/%s" % (SITE, name))
            # As molecule's releases-for-php.yml: the bundles name bookworm's socket.
            for path in ("nginx/demo.conf", "apache/demo.conf"):
                path = "%s/releases/%s/%s" % (SITE, name, path)
                with open(path) as handle:
                    text = handle.read()
                with open(path, "w") as handle:
                    handle.write(text.replace("/run/php/php8.2-fpm.sock", LIVE_SOCKET))
    # v2 with a directive the web server does not know, on line 3 of its config.
    bad = "%s/releases/v2-bad" % SITE
    if not os.path.isdir(bad):
        shutil.copytree("%s/releases/v2" % SITE, bad)
        for path, line in (("nginx/demo.conf", "    bogus_directive on;\n"), ("apache/demo.conf", "    BogusDirective on\n")):
            with open(os.path.join(bad, path)) as handle:
                lines = handle.readlines()
            lines.insert(2, line)
            with open(os.path.join(bad, path), "w") as handle:
                handle.writelines(lines)
    if not os.path.islink(SITE + "/current"):
        os.symlink("releases/v1", SITE + "/current")
    with open("%s/pool.d/lastgood-demo.conf" % FPM_DIR, "w") as handle:
        handle.write("[global]\nprocess_control_timeout = 10s\ninclude = %s/curren[t]/php-fpm/*.conf\n" % SITE)
    if SERVER == "nginx":
        for name in ("default",):
            if os.path.lexists("/etc/nginx/sites-enabled/" + name):
                os.unlink("/etc/nginx/sites-enabled/" + name)
        with open("/etc/nginx/sites-enabled/demo.conf", "w") as handle:
            handle.write("include %s/current/nginx/*.conf;\n" % SITE)
    else:
        sh("a2enmod", "-q", "proxy_fcgi", "setenvif", "rewrite")
        if os.path.lexists("/etc/apache2/sites-enabled/000-default.conf"):
            os.unlink("/etc/apache2/sites-enabled/000-default.conf")
        with open("/etc/apache2/sites-enabled/demo.conf", "w") as handle:
            handle.write("IncludeOptional %s/current/apache/*.conf\n" % SITE)
    sh("service", "php%s-fpm" % PHP, "start")
    sh("service", WEB_SERVICE, "start")
    deadline = time.time() + 10
    while time.time() < deadline:
        try:
            if live()[0] == 200:
                break
        except OSError:
            time.sleep(0.1)


def snapshot():
    """What the preview must not change: the live masters, the live socket, the live error logs."""
    def stat(path):
        try:
            info = os.stat(path)
            return [info.st_ino, info.st_size, info.st_mtime_ns]
        except OSError:
            return None

    def pid(path):
        with open(path) as handle:
            return int(handle.read().strip())
    listening = sorted(line.split()[4] for line in sh("ss", "-Hltn").splitlines() if line.strip())
    return {
        "web master": pid(WEB_PIDFILE),
        "php-fpm master": pid(FPM_PIDFILE),
        "processes": sorted(line for line in sh("ps", "-eo", "pid,comm", "--no-headers").splitlines()
                            if not line.endswith(" ps")),
        "live socket": stat(LIVE_SOCKET),
        "pid files": [stat(WEB_PIDFILE), stat(FPM_PIDFILE)],
        "error logs": {path: stat(path) for path in LIVE_LOGS},
        "listening": listening,
    }


def start(release, **options):
    return preview.start(SERVER, {SITE + "/current": "%s/releases/%s" % (SITE, release)}, get_bin_path, run_command,
                         php_fpm_config_dir=FPM_DIR, **options)


def leftovers(run_dir):
    processes = [line for line in sh("ps", "-eo", "pid,args", "--no-headers").splitlines() if run_dir in line]
    return processes + ([run_dir] if os.path.exists(run_dir) else [])


def preview_serves(release, expect_status, expect_body):
    before = snapshot()
    live_requests = access_lines()
    started = start(release)
    run_dir = started.run_dir
    with started:
        status, body = get(started.url_for("http://127.0.0.1/"))
        print("     preview %s on %s:%d (%s ms): %d %r" % (
            release, started.address, started.port, started.startup_ms, status, body.strip()[:80]))
        check(status == expect_status and expect_body in body, "the preview of %s answers %d %r" % (
            release, expect_status, expect_body))
        status, body = live()
        check(status == 200 and "release v1 " in body, "port 80 still answers v1")
        errors = started.error_output()
    check(leftovers(run_dir) == [], "stop() leaves no process and no directory")
    started.stop()
    after = snapshot()
    for key in before:
        if before[key] != after[key]:
            print("     %s was %s, is %s" % (key, before[key], after[key]))
    check(after == before, "the live masters, socket, pid files, error logs and listeners are as they were")
    check(access_lines() == live_requests + 1, "the live access log has the one request to port 80, not the preview's")
    return started, errors


def access_lines():
    with open(LIVE_ACCESS_LOG) as handle:
        return sum(1 for line in handle if AGENT in line)


def a_config_error_is_said_at_its_live_line():
    before = snapshot()
    try:
        start("v2-bad").stop()
        message = "started"
    except preview.PreviewError as error:
        message = str(error)
    print("     " + message.replace("\n", "\n     "))
    check("%s/current/%s/demo.conf:3" % (SITE, "nginx" if SERVER == "nginx" else "apache") in message,
          "a release the web server refuses: PreviewError names the live file and line")
    check("/run/lastgood-preview" not in message, "and no preview path")
    after = snapshot()
    if SERVER == "nginx" and not preview.process.nginx_has_error_log_option("/usr/sbin/nginx", run_command):
        # Before 1.19.5 nginx has no -e: what it says before its configuration
        # is read goes to its built-in error log too, as config_test's nginx -t does.
        log = LIVE_LOGS[0]
        grown = before["error logs"][log][1], after["error logs"][log][1]
        with open(log) as handle:
            handle.seek(grown[0])
            added = handle.read()
        print("     known: nginx without -e appended to %s: %r" % (log, added.strip()))
        check("bogus_directive" in added and added.count("\n") == 1, "only its refusal")
        before["error logs"].pop(log)
        after["error logs"].pop(log)
    check(not os.listdir(BASE) and after == before, "nothing is left and nothing else live changed")


def the_releases_own_pool_serves_it():
    """demo-v3-pool brings its pool (listen = /run/php/$pool.sock): the
    preview runs it on a preview socket; no live socket appears."""
    before = snapshot()
    with start("v3-pool") as started:
        status, body = get(started.url_for("http://127.0.0.1/"))
        print("     preview v3-pool (%s ms): %d %r" % (started.startup_ms, status, body.strip()))
        check(status == 200 and body.startswith("lastgood demo release v3 ") and "in pool lastgood-demo" in body,
              "the preview of v3-pool answers from the release's own pool")
        check(not os.path.exists("/run/php/lastgood-demo.sock"), "the pool's live socket was not made")
    check(snapshot() == before, "nothing live changed")


def stale_preview_is_removed():
    """A run killed while its preview runs: the next start stops it and removes it."""
    code = ("import sys, os; sys.path.insert(0, %r); sys.argv = ['check', %r];"
            "exec(open(%r).read().split('\\nif __name__')[0]);"
            "p = start('v2'); print(p.run_dir, flush=True); os.kill(os.getpid(), 9)") % (
                sys.path[0], SERVER, os.path.abspath(__file__))
    done = subprocess.run([sys.executable, "-c", code], stdout=subprocess.PIPE, universal_newlines=True,
                          check=False)
    run_dir = done.stdout.strip()
    check(bool(run_dir) and leftovers(run_dir) != [], "a killed run leaves its preview running (%s)" % run_dir)
    fresh = start("v2")
    with fresh:
        check(leftovers(run_dir) == [], "the next start stopped and removed it")
        check(get(fresh.url_for("http://127.0.0.1/"))[1].startswith("lastgood demo release v2 "),
              "and serves its own preview")


def refuses_without_root():
    read, write = os.pipe()
    child = os.fork()
    if child == 0:
        os.close(read)
        os.setgid(65534)
        os.setuid(65534)
        try:
            start("v2")
            message = "started"
        except preview.PreviewError as error:
            message = str(error)
        os.write(write, message.encode())
        os._exit(0)
    os.close(write)
    os.waitpid(child, 0)
    message = os.read(read, 4096).decode()
    check("as root" in message and "become" in message, "not root: %s" % message)


def main():
    set_up()
    check(live()[0] == 200 and "release v1 " in live()[1], "live port 80 answers v1")
    timings = []
    started, _errors = preview_serves("v2", 200, "lastgood demo release v2 on PHP")
    timings.append(started.startup_ms)
    started, errors = preview_serves("v2-fatal", 500, "")
    print("     error_output(), the lines about PHP:\n       " + "\n       ".join(
        line for line in errors.splitlines() if "PHP" in line or line.endswith(".log:")))
    check("release_label_from_environment" in errors and "%s/current/app/lib/release.php" % SITE in errors,
          "error_output() has PHP's fatal error, in live paths")
    check("/run/lastgood-preview" not in errors, "error_output() names no preview path")
    timings.append(started.startup_ms)
    a_config_error_is_said_at_its_live_line()
    the_releases_own_pool_serves_it()
    stale_preview_is_removed()
    refuses_without_root()
    for _again in range(3):
        with start("v2") as again:
            timings.append(again.startup_ms)
    check(not os.listdir(BASE), "nothing is left under %s" % BASE)
    print("startup_ms %s: %s" % (SERVER, json.dumps(timings)))


if __name__ == "__main__":
    main()
