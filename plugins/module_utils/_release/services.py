# -*- coding: utf-8 -*-
# Copyright: lastgood.webstack contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What runs after ``current`` was switched, so that the release switched to
is the one that answers: a graceful reload of PHP-FPM, then of the web server.

PHP-FPM's opcache keeps each script compiled under the path it was asked
for. When the web server passes that path through ``current`` (Apache's
proxy_fcgi always does; so does nginx with ``$document_root``, as Debian's
``snippets/fastcgi-php.conf``), the code compiled before a switch, with its
``__DIR__`` in the old release, keeps answering after it, for good: touching
files does not help. A graceful reload (SIGUSR2) makes the master let the
requests in flight finish (``process_control_timeout``), start again with an
empty cache and write its pid file anew; once that file is written again, no
worker that could run the old code is left. Requests that arrive meanwhile
wait in the socket's backlog. Pure standard library (Linux ``/proc``)."""

from __future__ import annotations

import os
import re
import signal
import time

from ansible_collections.lastgood.webstack.plugins.module_utils._common.procfs import stat_fields

# How often the pid file is looked at while PHP-FPM reloads.
POLL_SECONDS = 0.005
# A master that is gone and whose pid file was not written again for this
# long stopped instead of reloading (its configuration no longer loads).
GONE_SECONDS = 3.0
WAIT_FOR_SECONDS = 10.0
_PHP_FPM_BINARY = re.compile(r"^php-fpm([0-9]+\.[0-9]+)$")
# The graceful reload of each web server: what Debian's own units run for a
# reload, called directly, with no init-script round trip between the switch
# and the reload. The release module's ``reload`` option and the watchdog's
# ``reload`` setting both take it from here.
RELOAD_COMMANDS = {
    "nginx": ["/usr/sbin/nginx", "-s", "reload"],
    "apache": ["/usr/sbin/apache2ctl", "graceful"],
}


# Where each web server's master writes its pid (Debian's), to see its
# graceful reload take effect: new workers started from the new config.
MASTER_PIDFILES = {
    "nginx": "/run/nginx.pid",
    "apache": "/run/apache2/apache2.pid",
}
NEW_WORKERS_SECONDS = 5.0
OLD_WORKERS_SECONDS = 1.0


class ServiceError(Exception):
    """A reload that did not happen, said for a person. ``done``: what ran
    before it."""

    def __init__(self, message, done=None):
        super().__init__(message)
        self.done = done or {}


def _pid_in(content):
    try:
        pid = int(content.strip() or b"0")
    except ValueError:
        return None
    return pid if pid > 0 else None


def read_pid(pidfile):
    """The pid in ``pidfile``, or None when there is no such file or it
    holds no pid."""
    try:
        with open(pidfile, "rb") as handle:
            return _pid_in(handle.read(64))
    except OSError:
        return None


def alive(pid):
    """Whether process ``pid`` runs (a zombie does not)."""
    try:
        with open("/proc/%d/stat" % pid, "rb") as handle:
            stat = handle.read()
    except FileNotFoundError:
        return False
    except OSError:
        stat = None
    if stat is not None:
        # The state follows the command name, which may hold spaces and parentheses.
        state = stat[stat.rfind(b")") + 2:stat.rfind(b")") + 3]
        return state not in (b"Z", b"X", b"x")
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def is_php_fpm(pid):
    """Whether process ``pid`` is a PHP-FPM (its command is ``php-fpm...``),
    so that a stale pid file never gets another process signalled. True
    when ``/proc`` cannot tell."""
    try:
        with open("/proc/%d/comm" % pid, "rb") as handle:
            command = handle.read().strip()
    except FileNotFoundError:
        return False
    except OSError:
        return True
    return command.startswith(b"php-fpm")


def running_php_fpm(pidfile):
    """The pid of the PHP-FPM master that ``pidfile`` names, or None when
    none runs there."""
    pid = read_pid(pidfile)
    if pid is None or not alive(pid) or not is_php_fpm(pid):
        return None
    return pid


def _stamp(pidfile):
    """What changes when PHP-FPM writes its pid file again: the file's
    identity, time and content (the pid). None when it is missing."""
    try:
        info = os.stat(pidfile)
        with open(pidfile, "rb") as handle:
            content = handle.read(64)
    except OSError:
        return None
    return (info.st_ino, info.st_mtime_ns, content)


def wait_for_paths(paths, timeout):
    """Wait until every path exists; the ones still missing at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        missing = [path for path in paths if not os.path.exists(path)]
        if not missing or time.monotonic() >= deadline:
            return missing
        time.sleep(0.02)


def reload_php_fpm(pidfile, timeout=30.0):
    """Reload the PHP-FPM whose master wrote ``pidfile`` gracefully and wait
    until it runs again from a new start: its pid file written anew by a
    live master. Returns what happened (``running`` False: no PHP-FPM runs
    there, so none holds code of another release). Raises ServiceError when
    the reload does not finish within ``timeout`` seconds or PHP-FPM stops."""
    started = time.monotonic()
    pid = running_php_fpm(pidfile)
    result = {"pidfile": pidfile, "running": False, "reloaded": False, "pid": None, "elapsed_ms": 0.0}
    if pid is None:
        return result
    before = _stamp(pidfile)
    try:
        os.kill(pid, signal.SIGUSR2)
    except ProcessLookupError:
        return result
    except PermissionError:
        raise ServiceError("cannot signal PHP-FPM (pid %d from %s): permission denied; run as root (become)" % (
            pid, pidfile))
    result.update(running=True, pid_before=pid)
    gone_since = None
    while True:
        now = time.monotonic()
        stamp = _stamp(pidfile)
        new_pid = _pid_in(stamp[2]) if stamp is not None else None
        if stamp != before and new_pid is not None and alive(new_pid):
            result.update(reloaded=True, pid=new_pid, elapsed_ms=round((time.monotonic() - started) * 1000.0, 1))
            return result
        if stamp == before and not alive(pid):
            gone_since = now if gone_since is None else gone_since
            if now - gone_since >= GONE_SECONDS:
                raise ServiceError(
                    "PHP-FPM (pid %d from %s) stopped instead of reloading: it no longer starts with its "
                    "configuration; run its config test (php-fpm<version> -t) and see its log" % (pid, pidfile))
        else:
            gone_since = None
        if now - started >= timeout:
            raise ServiceError(
                "PHP-FPM (pid %d from %s) did not finish its graceful reload within %g s: the requests in flight "
                "may take up to its process_control_timeout, or it failed to start again (see its log)" % (
                    pid, pidfile, timeout))
        time.sleep(POLL_SECONDS)


def reload_command_for(server, command=None):
    """The reload argv: ``command`` when given, else the graceful reload of
    ``server`` (nginx, apache), else None."""
    if command:
        return list(command)
    return list(RELOAD_COMMANDS[server]) if server else None


def installed_php_fpm(sbin="/usr/sbin", run_dir="/run/php"):
    """Each installed PHP-FPM, oldest version first, with its pid file (as
    Debian's php<version>-fpm packages name it) and whether it runs."""
    found = []
    try:
        names = os.listdir(sbin)
    except OSError:
        names = []
    for name in names:
        match = _PHP_FPM_BINARY.match(name)
        if match:
            pidfile = os.path.join(run_dir, "php%s-fpm.pid" % match.group(1))
            found.append(dict(version=match.group(1), pidfile=pidfile, running=running_php_fpm(pidfile) is not None))
    return sorted(found, key=lambda entry: tuple(int(part) for part in entry["version"].split(".")))


def reload_after_switch(run, php_fpm=None, reload_command=None):
    """Everything a switch of ``current`` needs, in order: PHP-FPM (``php_fpm``:
    ``pidfile``, ``timeout``, ``wait_for``, the sockets its pools must have
    before the web server is pointed at them; without a ``pidfile``, every
    installed PHP-FPM that runs), then ``reload_command`` (the
    web server's graceful reload, an argv run by ``run(argv)`` returning
    ``(rc, stdout, stderr)``). Returns ``{"php_fpm": ..., "reload": ...}``
    for what ran; raises ServiceError saying which step failed, with what
    ran before it in its ``done``."""
    done = {}
    try:
        if php_fpm:
            pidfiles = [php_fpm["pidfile"]] if php_fpm.get("pidfile") else [
                entry["pidfile"] for entry in installed_php_fpm() if entry["running"]]
            for pidfile in pidfiles:
                reloaded = reload_php_fpm(pidfile, timeout=php_fpm.get("timeout") or 30.0)
                done.setdefault("php_fpm", reloaded)
                if pidfile != pidfiles[0]:
                    done.setdefault("php_fpm_others", []).append(reloaded)
            if not pidfiles:
                done["php_fpm"] = {"pidfile": None, "running": False, "reloaded": False, "pid": None,
                                   "elapsed_ms": 0.0}
            missing = wait_for_paths(php_fpm.get("wait_for") or [], WAIT_FOR_SECONDS)
            if missing:
                raise ServiceError("PHP-FPM was reloaded, but %s did not appear within %g s" % (
                    ", ".join(missing), WAIT_FOR_SECONDS))
        if reload_command:
            started = time.monotonic()
            rc, out, err = run(list(reload_command))
            done["reload"] = dict(cmd=list(reload_command), rc=rc, stdout=out, stderr=err,
                                  elapsed_ms=round((time.monotonic() - started) * 1000.0, 1))
            if rc != 0:
                raise ServiceError("the reload failed (exit %d): %s" % (rc, (err or out).strip()))
    except ServiceError as error:
        error.done = done
        raise
    return done


def children_of(pid):
    """The pids of the processes whose parent is ``pid`` (Linux ``/proc``)."""
    children = set()
    try:
        names = os.listdir("/proc")
    except OSError:
        return children
    for name in names:
        if not name.isdigit():
            continue
        fields = stat_fields(name)
        if fields and len(fields) > 1 and fields[1] == str(pid).encode():
            children.add(int(name))
    return children


def workers_before_reload(master_pidfile):
    """``(master pid, its workers)`` before a graceful reload, or None when
    no master runs under the pid file."""
    pid = read_pid(master_pidfile) if master_pidfile else None
    if pid is None or not alive(pid):
        return None
    return pid, children_of(pid)


def wait_for_new_workers(before, timeout=NEW_WORKERS_SECONDS):
    """After a graceful reload (the signal only, as ``nginx -s reload`` and
    ``apachectl graceful`` send it), wait until the master runs a worker it
    did not run before, and (for a second at most) until its old workers
    are gone: from then on new connections get the new config (a first
    site's port is listened on). Returns the milliseconds waited, or
    None when there was nothing to wait for or the time ran out."""
    if before is None:
        return None
    master, old = before
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if children_of(master) - old:
            # The old workers stop taking connections once told to quit, a
            # moment later; waited for a little, not for their last request.
            settle_until = min(time.monotonic() + OLD_WORKERS_SECONDS, started + timeout)
            while any(alive(pid) for pid in old & children_of(master)) and time.monotonic() < settle_until:
                time.sleep(POLL_SECONDS)
            return round((time.monotonic() - started) * 1000.0, 1)
        if not alive(master):
            return None
        time.sleep(POLL_SECONDS)
    return None
