# -*- coding: utf-8 -*-
# Copyright: lastgood.webstack contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The processes and directories of previews (preview.py): who owns a
preview directory, stopping the servers that run from one, and removing the
ones a killed run left behind.

A preview's servers are found by their command line, which names the
preview's directory (nginx's and PHP-FPM's masters name their config file
in their title, Apache's processes keep their argv), so a pid file that
came to name another process never gets it signalled, and a live server,
whose command line names no preview, is never touched. Each master leads a
session of its own (all three daemonize with setsid), so its workers are
the processes of that session. Pure standard library (Linux ``/proc``)."""

from __future__ import annotations

import os
import pwd
import re
import shutil
import signal
import socket
import time

from ansible_collections.lastgood.webstack.plugins.module_utils._common.procfs import stat_fields

STOP_SECONDS = 3.0
# A preview whose owner still runs but that is older than this was left by a
# run that hangs; the next start removes it.
STALE_SECONDS = 3600.0
# A directory without an owner file is one being made, unless this old.
UNOWNED_SECONDS = 60.0
OWNER_FILE = "owner"


def start_time(pid):
    fields = stat_fields(pid)
    return int(fields[19]) if fields and len(fields) > 19 else None


def write_owner(run_dir):
    """Record who runs the preview in ``run_dir``: this process and its start time."""
    with open(os.path.join(run_dir, OWNER_FILE), "w") as handle:
        handle.write("%d %s\n" % (os.getpid(), start_time(os.getpid())))


def _owner_runs(run_dir):
    try:
        with open(os.path.join(run_dir, OWNER_FILE)) as handle:
            pid, started = handle.read().split()
        return start_time(int(pid)) == int(started)
    except (OSError, ValueError):
        return None


def _age(path):
    try:
        return time.time() - os.stat(path).st_mtime
    except OSError:
        return 0.0


def _processes():
    """``(pid, session, state, cmdline)`` of every process."""
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        pid = int(name)
        fields = stat_fields(pid)
        try:
            with open("/proc/%d/cmdline" % pid, "rb") as handle:
                cmdline = handle.read().replace(b"\0", b" ").decode("utf-8", "replace")
        except OSError:
            continue
        if fields and len(fields) > 3:
            found.append((pid, int(fields[3]), fields[0], cmdline))
    return found


PID_FILES = ("nginx.pid", "apache2.pid", "php-fpm.pid")


def _read_pid(path):
    try:
        with open(path) as handle:
            return int(handle.read().strip() or 0) or None
    except (OSError, ValueError):
        return None


def _members(run_dir):
    """The pids of every process of the preview in ``run_dir``: the
    processes whose command line names it and those of their sessions and
    of the sessions its pid files name (the workers a master killed
    without them left behind), unless another process leads that session."""
    marker = run_dir.rstrip("/") + "/"
    processes = [process for process in _processes() if process[2] not in (b"Z", b"X")]
    commands = {pid: cmdline for pid, _session, _state, cmdline in processes}
    named = {pid for pid, cmdline in commands.items() if marker in cmdline}
    sessions = set(named)
    for name in PID_FILES:
        pid = _read_pid(os.path.join(run_dir, name))
        if pid and (pid not in commands or pid in named):
            sessions.add(pid)
    masters = {pid for pid in named if pid in sessions}
    return masters, named | {pid for pid, session, _state, _cmdline in processes if session in sessions}


def running(pid):
    """Whether ``pid`` is a process that runs (a zombie does not)."""
    fields = stat_fields(pid)
    return bool(fields) and fields[0] not in (b"Z", b"X")


def _signal(pids, signum):
    for pid in pids:
        try:
            os.kill(pid, signum)
        except (ProcessLookupError, PermissionError):
            pass


def _left(members):
    """The processes of ``members`` (pid: session) that still run in their session."""
    left = []
    for pid, session in members.items():
        fields = stat_fields(pid)
        if fields and fields[0] not in (b"Z", b"X") and int(fields[3]) == session:
            left.append(pid)
    return left


def stop_preview(run_dir, wait=STOP_SECONDS):
    """Stop every process of the preview in ``run_dir``: TERM to the masters,
    then KILL to what is left of them and their workers after ``wait``
    seconds (a worker outlives a master that dies without ending it)."""
    masters, pids = _members(run_dir)
    members = {}
    for pid in pids:
        fields = stat_fields(pid)
        if fields:
            members[pid] = int(fields[3])
    if not members:
        return
    _signal(masters or members, signal.SIGTERM)
    deadline = time.monotonic() + wait
    while _left(members) and time.monotonic() < deadline:
        time.sleep(0.02)
    _signal(_left(members), signal.SIGKILL)
    deadline = time.monotonic() + wait
    while _left(members) and time.monotonic() < deadline:
        time.sleep(0.02)


def clean_stale(base):
    """Stop and remove the previews under ``base`` that no running process
    owns any longer (or that are too old to be in use)."""
    try:
        names = os.listdir(base)
    except OSError:
        return []
    removed = []
    for name in names:
        run_dir = os.path.join(base, name)
        if not name.startswith("p-") or not os.path.isdir(run_dir) or os.path.islink(run_dir):
            continue
        owned = _owner_runs(run_dir)
        age = _age(run_dir)
        if owned is None and age < UNOWNED_SECONDS:
            continue
        if owned and age < STALE_SECONDS:
            continue
        stop_preview(run_dir)
        shutil.rmtree(run_dir, ignore_errors=True)
        removed.append(run_dir)
    return removed


def accepts(address, port):
    """Whether something accepts connections on address:port now."""
    try:
        with socket.create_connection((address, port), timeout=0.2):
            return True
    except OSError:
        return False


def tail(path, lines):
    """The last ``lines`` lines of a file (at most 64 KiB read), or []."""
    try:
        with open(path, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            size = handle.tell()
            handle.seek(max(0, size - 65536))
            data = handle.read()
    except OSError:
        return []
    return data.decode("utf-8", "replace").splitlines()[-lines:]


def give_to_user(path, user):
    """Make ``path`` the user's, as Debian's init script does with Apache's
    lock directory (the workers write there)."""
    try:
        entry = pwd.getpwnam(user)
    except KeyError:
        return
    os.chown(path, entry.pw_uid, entry.pw_gid)


def nginx_has_error_log_option(binary, run_command):
    """Whether this nginx has ``-e`` (1.19.5 and later)."""
    _rc, out, err = run_command([binary, "-v"], {"LC_ALL": "C"})
    match = re.search(r"nginx/(\d+)\.(\d+)\.(\d+)", (err or "") + (out or ""))
    return bool(match) and tuple(int(part) for part in match.groups()) >= (1, 19, 5)
