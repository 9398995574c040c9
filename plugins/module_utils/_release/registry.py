# -*- coding: utf-8 -*-
# Copyright: lastgood.webstack contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The release registry of one site on one host.

    <base_dir>/<site>/
      releases/<release_id>/   immutable once staged; MANIFEST.sha256 inside
      current -> releases/<id> switched by renaming a new symlink over it
      state.json               every release, its status and timestamps, the known-good pointers
      state.json.bak           the registry as it was before the last change (the copy a repair starts from)
      .lock                    flock held by any change; holds who took it and when
      FREEZE                   present: new releases are refused
      .lease                   held by a change of many steps (a deploy): who, until when

Status of a release: staged -> validated -> live -> known_good, or invalid
(failed validation, never switched in) or bad (switched in, failed the probe),
or damaged (its files no longer match its manifest, found by a repair; a
rollback never picks it). Pure standard library."""

from __future__ import annotations

import datetime
import errno
import fcntl
import hashlib
import json
import os
import re
import shutil
import socket
import stat
import time

MANIFEST = "MANIFEST.sha256"
STATE_FILE = "state.json"
STATE_BACKUP = "state.json.bak"
LOCK_FILE = ".lock"
LEASE_FILE = ".lease"
FREEZE_FILE = "FREEZE"
# What a release says about itself to the probes: how to tell that it is the one answering.
PROBE_FILE = "probe.json"
PROBE_KEYS = ("expect_body",)
MAX_PROBE_BYTES = 64 * 1024
STATE_VERSION = 1
# Events kept in state.json: the site's recent history for status and the timeline.
MAX_EVENTS = 200
RELEASE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
STATUSES = ("staged", "validated", "live", "known_good", "invalid", "bad", "damaged")
# Never set on anything staged or written: world-writable, setuid, setgid, sticky.
UNSAFE_MODE_BITS = stat.S_IWOTH | stat.S_ISUID | stat.S_ISGID | stat.S_ISVTX
# What a repair says to do, in the messages of damage it can mend.
REPAIR_HINT = "run the release module with state=repaired"
_HASH_CHUNK = 1024 * 1024


class ReleaseError(Exception):
    """A request the registry refuses, with a message for a person."""


class LeaseHeld(ReleaseError):
    """Another change of many steps holds the site."""


def now():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def check_release_id(release_id):
    if not isinstance(release_id, str) or not RELEASE_ID.match(release_id):
        raise ReleaseError(
            "release_id %r is not valid: use 1 to 64 letters, digits, '.', '_' or '-', "
            "starting with a letter or digit" % (release_id,))
    return release_id


def read_probe(root):
    """The probe settings a release brings in ``probe.json`` at its root
    (``{"expect_body": "<regular expression its answers match>"}``), or None
    when it has none. A release that names itself in its answers lets every
    probe tell which release answers, not only that one does."""
    path = os.path.join(root, PROBE_FILE)
    if not os.path.lexists(path):
        return None
    if os.path.islink(path) or not os.path.isfile(path):
        raise ReleaseError("%s: must be a regular file" % path)
    with open(path, "rb") as handle:
        data = handle.read(MAX_PROBE_BYTES + 1)
    if len(data) > MAX_PROBE_BYTES:
        raise ReleaseError("%s: larger than %d bytes" % (path, MAX_PROBE_BYTES))
    text = data.decode("utf-8", "replace")
    try:
        settings = json.loads(text)
    except ValueError as error:
        raise ReleaseError("%s:%s: not valid JSON: %s" % (path, getattr(error, "lineno", "?"),
                                                          getattr(error, "msg", error)))
    example = '{"expect_body": "release 2026-11-24"}'
    if not isinstance(settings, dict):
        raise ReleaseError("%s: must be a JSON object such as %s" % (path, example))
    unknown = sorted(set(settings) - set(PROBE_KEYS))
    if unknown:
        raise ReleaseError("%s:%d: unknown key %s; known: %s" % (
            path, _line_of(text, unknown[0]), ", ".join(unknown), ", ".join(PROBE_KEYS)))
    body = settings.get("expect_body")
    if body is not None:
        if not isinstance(body, str) or not body:
            raise ReleaseError("%s:%d: expect_body must be a non-empty string (a regular expression), "
                               "such as %s" % (path, _line_of(text, "expect_body"), example))
        try:
            re.compile(body)
        except re.error as error:
            raise ReleaseError("%s:%d: expect_body %r is not a valid regular expression: %s" % (
                path, _line_of(text, "expect_body"), body, error))
    return settings


def _line_of(text, key):
    """The line of ``text`` where the JSON key ``key`` is written (1 when not found)."""
    index = text.find('"%s"' % key)
    return text.count("\n", 0, index) + 1 if index >= 0 else 1


# Manifest ----------------------------------------------------------------

def _file_digest(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while True:
            chunk = handle.read(_HASH_CHUNK)
            if not chunk:
                break
            digest.update(chunk)
    return digest.hexdigest()


_UNSAFE_NAME = re.compile(r"[\x00-\x1f\x7f\\]")


def _shown(name):
    """A path as a message shows it: control characters escaped."""
    return name if not _UNSAFE_NAME.search(name) else repr(name)[1:-1]


def link_escape(root, relative, target):
    """Why the symlink at ``relative`` (under ``root``) pointing at
    ``target`` reaches outside ``root``, or None when it stays inside: an
    absolute target, a relative one whose ``..`` climbs out, or one that
    leaves through another symlink of the tree (``a -> .`` then ``a/..``)."""
    if os.path.isabs(target):
        return "an absolute target"
    lexical = os.path.normpath(os.path.join(os.path.dirname(relative), target))
    if lexical == ".." or lexical.startswith(".." + os.sep):
        return "its .. climbs out of the release"
    real_root = os.path.realpath(root)
    resolved = os.path.realpath(os.path.join(root, relative))
    if resolved != real_root and not resolved.startswith(real_root.rstrip(os.sep) + os.sep):
        return "it resolves to %s through other links" % resolved
    return None


def manifest_lines(root, strict=True):
    """``sha256sum``-style lines for every file under ``root``, sorted by
    path. A symlink is recorded by the sha256 of ``symlink:<target>`` so a
    changed link changes the checksum; the manifest itself is left out.

    ``strict`` (a bundle being staged or checksummed): refuse what a release
    may not hold, naming it: a special file (device, FIFO, socket), a
    symlink that points outside the tree, a name with a control character or
    a backslash. Not strict (checking a release already staged): record such
    entries anyway, so they count as differences instead of stopping the
    check."""
    entries = []
    for directory, dirs, files in os.walk(root):
        dirs.sort()
        relative_dir = os.path.relpath(directory, root)
        for name in dirs:
            path = os.path.join(directory, name)
            if os.path.islink(path):
                files.append(name)
        for name in files:
            relative = name if relative_dir == "." else os.path.join(relative_dir, name)
            if relative == MANIFEST:
                continue
            path = os.path.join(directory, name)
            if _UNSAFE_NAME.search(relative):
                if strict:
                    raise ReleaseError("%s: a file name with a control character or a backslash cannot be recorded "
                                       "in the manifest; rename it (in %s)" % (_shown(relative), root))
                relative = _shown(relative)
            mode = os.lstat(path).st_mode
            if stat.S_ISLNK(mode):
                target = os.readlink(path)
                if strict:
                    escape = link_escape(root, relative, target)
                    if escape is not None:
                        raise ReleaseError(
                            "%s is a symlink to %s, outside the release (%s): a release may only link to its own "
                            "files; nothing was staged. Replace the link with the files, or refer to the outside "
                            "path from the server's config (in %s)" % (relative, _shown(target), escape, root))
                digest = hashlib.sha256(("symlink:" + target).encode("utf-8", "surrogateescape")).hexdigest()
            elif stat.S_ISREG(mode):
                digest = _file_digest(path)
            elif strict:
                raise ReleaseError("%s is neither a file, a directory nor a symlink (a device, FIFO or socket); "
                                   "a release may not hold one: remove it from %s" % (path, root))
            else:
                digest = "special-file"
            entries.append((relative, digest))
    entries.sort()
    return ["%s  %s\n" % (digest, relative) for relative, digest in entries]


def _manifest_entries(text):
    """``{path: digest}`` of manifest text; lines end with a newline only
    (a name may hold characters ``str.splitlines`` would split at)."""
    result = {}
    for line in text.split("\n"):
        if line:
            digest, _sep, path = line.partition("  ")
            result[path] = digest
    return result


def checksum_of(manifest_text):
    return hashlib.sha256(manifest_text.encode("utf-8", "surrogateescape")).hexdigest()


def compare_manifest(recorded_text, actual_lines):
    """Differences between a recorded manifest and the tree: lists of
    changed, missing and added paths."""
    recorded = _manifest_entries(recorded_text)
    actual = _manifest_entries("".join(actual_lines))
    changed = sorted(path for path in recorded if path in actual and actual[path] != recorded[path])
    missing = sorted(path for path in recorded if path not in actual)
    added = sorted(path for path in actual if path not in recorded)
    return {"changed": changed, "missing": missing, "added": added}


# Files -------------------------------------------------------------------

def write_atomic(path, data, mode=0o644):
    """Write ``data`` (bytes) to a temporary file beside ``path``, fsync it,
    rename it over ``path`` and fsync the directory. The file gets exactly
    ``mode`` (never world-writable), whatever the umask; a temporary file
    left by a killed run, or a symlink put in its place, is replaced, never
    written through."""
    if mode & UNSAFE_MODE_BITS:
        raise ValueError("write_atomic refuses mode %o" % mode)
    directory = os.path.dirname(path)
    temporary = os.path.join(directory, ".%s.%d.tmp" % (os.path.basename(path), os.getpid()))
    try:
        os.unlink(temporary)
    except FileNotFoundError:
        pass
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), mode)
    try:
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(handle.fileno(), mode)
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        raise
    fsync_dir(directory)


def safe_mode(mode):
    """``mode``'s permission bits without world write, setuid, setgid and sticky."""
    return stat.S_IMODE(mode) & ~UNSAFE_MODE_BITS


def secure_dir(path):
    """Take world write (and setuid, setgid, sticky) off a directory of the
    registry; True when it had to."""
    mode = os.lstat(path).st_mode
    if stat.S_ISDIR(mode) and stat.S_IMODE(mode) & UNSAFE_MODE_BITS:
        os.chmod(path, safe_mode(mode))
        return True
    return False


def fsync_dir(directory):
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def replace_symlink(link, target):
    """Point ``link`` at ``target`` by renaming a new symlink over it, so a
    reader sees either the old or the new target, never neither."""
    temporary = "%s.%d.tmp" % (link, os.getpid())
    try:
        os.unlink(temporary)
    except OSError:
        pass
    os.symlink(target, temporary)
    try:
        os.replace(temporary, link)
    except BaseException:
        os.unlink(temporary)
        raise
    fsync_dir(os.path.dirname(link))


def copy_tree(src, dest):
    """Copy a release source tree into ``dest``, which must not exist;
    symlinks stay symlinks. No file or directory of the copy is
    world-writable, setuid, setgid or sticky, whatever the source's modes
    (see safe_mode). ``dest`` stays 0700 until everything in it is copied,
    so no one else can reach into it meanwhile; only regular files,
    directories and symlinks are copied, anything else is refused."""
    os.mkdir(dest, 0o700)
    directories = [(src, dest)]
    index = 0
    while index < len(directories):
        source_dir, dest_dir = directories[index]
        index += 1
        for entry in sorted(os.listdir(source_dir)):
            source = os.path.join(source_dir, entry)
            target = os.path.join(dest_dir, entry)
            info = os.lstat(source)
            if stat.S_ISLNK(info.st_mode):
                os.symlink(os.readlink(source), target)
            elif stat.S_ISDIR(info.st_mode):
                os.mkdir(target, 0o700)
                directories.append((source, target))
            elif stat.S_ISREG(info.st_mode):
                _copy_file(source, target, info)
            else:
                raise ReleaseError("%s is neither a file, a directory nor a symlink (a device, FIFO or socket); "
                                   "a release may not hold one: remove it from %s" % (source, src))
    # Deepest first, the release folder itself last.
    for source_dir, dest_dir in reversed(directories):
        info = os.stat(source_dir)
        os.chmod(dest_dir, safe_mode(info.st_mode))
        os.utime(dest_dir, ns=(info.st_atime_ns, info.st_mtime_ns))


def _copy_file(source, target, info):
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    fd_in = os.open(source, flags)
    try:
        if not stat.S_ISREG(os.fstat(fd_in).st_mode):
            raise ReleaseError("%s changed into something other than a file while it was staged; stage it again"
                               % source)
        fd_out = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
        with os.fdopen(fd_out, "wb") as handle_out:
            with os.fdopen(os.dup(fd_in), "rb") as handle_in:
                shutil.copyfileobj(handle_in, handle_out, _HASH_CHUNK)
            os.fchmod(handle_out.fileno(), safe_mode(info.st_mode))
        os.utime(target, ns=(info.st_atime_ns, info.st_mtime_ns), follow_symlinks=False)
    finally:
        os.close(fd_in)


# The lock ----------------------------------------------------------------

class Lock:
    """An exclusive flock on ``.lock``; the file says who holds it."""

    def __init__(self, path, timeout):
        self.path = path
        self.timeout = timeout
        self.fd = None

    def holder(self):
        try:
            with open(self.path) as handle:
                info = json.load(handle)
            return "pid %s (%s on %s) since %s" % (info.get("pid"), info.get("user"), info.get("host"), info.get("since"))
        except (OSError, ValueError):
            return "an unknown process"

    def acquire(self):
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        deadline = time.monotonic() + self.timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as error:
                if error.errno not in (errno.EAGAIN, errno.EACCES):
                    os.close(fd)
                    raise
                if time.monotonic() >= deadline:
                    holder = self.holder()
                    os.close(fd)
                    raise ReleaseError("%s is locked by %s; waited %s s. Another change of this site is "
                                       "running; wait for it, or raise lock_timeout" % (
                                           self.path, holder, self.timeout))
                time.sleep(0.05)
        info = {"pid": os.getpid(), "user": user(), "host": socket.gethostname(), "since": now()}
        os.ftruncate(fd, 0)
        os.pwrite(fd, (json.dumps(info) + "\n").encode(), 0)
        self.fd = fd
        return self

    def release(self):
        if self.fd is not None:
            fcntl.flock(self.fd, fcntl.LOCK_UN)
            os.close(self.fd)
            self.fd = None

    def __enter__(self):
        return self.acquire()

    def __exit__(self, *exc):
        self.release()


def user():
    try:
        import pwd
        return pwd.getpwuid(os.geteuid()).pw_name
    except (ImportError, KeyError):
        return str(os.geteuid())


# The registry ------------------------------------------------------------

def empty_state(site):
    return {"version": STATE_VERSION, "site": site, "current": None, "known_good": None,
            "previous_known_good": None, "releases": {}}


MISSING = "is missing"


def _registry_problem(state):
    """What makes parsed JSON not a release registry, or None."""
    if not isinstance(state, dict):
        return "it holds a JSON %s, not an object with releases" % type(state).__name__
    releases = state.get("releases")
    if not isinstance(releases, dict):
        return "it has no \"releases\" object"
    for release_id, record in releases.items():
        if not RELEASE_ID.match(release_id):
            return "it registers a release named %r, which is not a release id" % _shown(release_id)
        if not isinstance(record, dict):
            return "release %s is a JSON %s, not an object" % (release_id, type(record).__name__)
        if record.get("status") not in STATUSES:
            return "release %s has the unknown status %r" % (release_id, record.get("status"))
        for key in ("checksum", "staged_at", "known_good_at"):
            if not isinstance(record.get(key, ""), str):
                return "release %s has a %s that is not a string" % (release_id, key)
    for key in ("current", "known_good", "previous_known_good"):
        if state.get(key) is not None and not isinstance(state.get(key), str):
            return "its %s is not a release id" % key
    for key in ("events", "broken_leases"):
        if not isinstance(state.get(key, []), list):
            return "its %s is not a list" % key
    return None


def read_registry(path, site_name):
    """Read one copy of a registry: ``(state, None)`` when it parses as one,
    ``(None, MISSING)`` when there is no such file, else ``(None, damage)``
    with what is wrong with it in words, to follow the path in a message
    ("is empty", "is truncated: ...", "is not JSON: ...")."""
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except FileNotFoundError:
        return None, MISSING
    except OSError as error:
        return None, "cannot be read (%s)" % error.strerror
    return parse_registry(data, site_name)


def parse_registry(data, site_name):
    """``(state, None)`` or ``(None, damage)`` for the bytes of a registry (see read_registry)."""
    if not data.strip():
        return None, "is empty (%d bytes)" % len(data)
    if not data.strip(b"\0"):
        return None, ("is all NUL bytes (%d of them): its data never reached the disk before a crash or power loss"
                      % len(data))
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        return None, "is not JSON: byte %d is not UTF-8 text" % error.start
    try:
        state = json.loads(text)
    except ValueError as error:
        where = "line %s column %s" % (getattr(error, "lineno", "?"), getattr(error, "colno", "?"))
        reason = getattr(error, "msg", str(error))
        stripped = text.rstrip()
        if stripped.lstrip()[:1] in ("{", "[") and (getattr(error, "pos", 0) >= len(stripped) - 1
                                                    or reason.startswith("Unterminated string")
                                                    or not stripped.endswith(("}", "]"))):
            return None, "is truncated: the JSON stops after %d bytes, in the middle (%s at %s)" % (
                len(data), reason, where)
        return None, "is not JSON: %s at %s" % (reason, where)
    problem = _registry_problem(state)
    if problem is not None:
        return None, "is not a release registry: %s" % problem
    for key, value in empty_state(site_name).items():
        state.setdefault(key, value)
    return state, None


class Site:
    """Paths and registry of one site."""

    def __init__(self, base_dir, site):
        if not RELEASE_ID.match(site or ""):
            raise ReleaseError("site %r is not a valid site name (letters, digits, '.', '_', '-')" % (site,))
        self.name = site
        self.dir = os.path.join(base_dir, site)
        self.releases_dir = os.path.join(self.dir, "releases")
        self.current_link = os.path.join(self.dir, "current")
        self.state_path = os.path.join(self.dir, STATE_FILE)
        self.backup_path = os.path.join(self.dir, STATE_BACKUP)
        self.lock_path = os.path.join(self.dir, LOCK_FILE)
        self.lease_path = os.path.join(self.dir, LEASE_FILE)
        self.freeze_path = os.path.join(self.dir, FREEZE_FILE)

    def release_dir(self, release_id):
        return os.path.join(self.releases_dir, release_id)

    def exists(self):
        return os.path.isdir(self.releases_dir)

    def lock(self, timeout):
        return Lock(self.lock_path, timeout)

    def load_state(self):
        """The registry; an empty one when there is none yet. A damaged
        ``state.json`` is refused with what is wrong with it and what to do:
        nothing is changed on a registry that cannot be read."""
        state, damage = read_registry(self.state_path, self.name)
        if state is not None:
            return state
        if damage == MISSING:
            return empty_state(self.name)
        backup, backup_damage = read_registry(self.backup_path, self.name)
        if backup is not None:
            source = ("from %s (the registry as it was before the last change, which parses) and the release "
                      "folders on disk" % self.backup_path)
        else:
            source = ("from the release folders on disk alone (%s %s), so statuses other than live and staged "
                      "are lost: re-establish a known-good release after, by a deploy or with state=known_good" % (
                          self.backup_path, "does not exist" if backup_damage == MISSING else backup_damage))
        raise ReleaseError("%s %s; the release registry of site %s cannot be read, so nothing was changed. To mend "
                           "it, %s: it keeps the damaged file under a new name and rebuilds the registry %s" % (
                               self.state_path, damage, self.name, REPAIR_HINT, source))

    def save_state(self, state):
        """Write ``state.json`` atomically, after keeping the registry it
        replaces as ``state.json.bak`` (atomically too), when that one parses:
        a damaged registry never overwrites the good backup."""
        if len(state.get("events", [])) > MAX_EVENTS:
            state["events"] = state["events"][-MAX_EVENTS:]
        data = json.dumps(state, indent=2, sort_keys=True).encode() + b"\n"
        try:
            with open(self.state_path, "rb") as handle:
                previous = handle.read()
        except OSError:
            previous = None
        writing = self.backup_path
        try:
            if previous is not None and parse_registry(previous, self.name)[0] is not None:
                write_atomic(self.backup_path, previous)
            writing = self.state_path
            write_atomic(self.state_path, data)
        except OSError as error:
            if error.errno in (errno.ENOSPC, errno.EDQUOT):
                raise ReleaseError("no space left on device while writing %s (%s); %s is as it was before this "
                                   "change, but what this change did on disk is not recorded in it: free space, "
                                   "then %s to record it" % (writing, error.strerror, self.state_path, REPAIR_HINT))
            raise

    def current(self):
        """The release id ``current`` points at, or None."""
        try:
            target = os.readlink(self.current_link)
        except OSError:
            return None
        return os.path.basename(os.path.normpath(target))

    def lease(self):
        """The lease a multi-step change (a deploy) holds on the site, or None.
        An expired or unreadable lease counts as none."""
        try:
            with open(self.lease_path) as handle:
                lease = json.load(handle)
        except (OSError, ValueError):
            return None
        if not isinstance(lease, dict) or lease.get("expires_epoch", 0) < time.time():
            return None
        return lease

    def freeze(self):
        """The freeze record, or None when the site is not frozen."""
        try:
            with open(self.freeze_path) as handle:
                text = handle.read()
        except FileNotFoundError:
            return None
        except OSError as error:
            return {"reason": "FREEZE cannot be read: %s" % error.strerror}
        try:
            record = json.loads(text)
            if isinstance(record, dict):
                return record
        except ValueError:
            pass
        return {"reason": text.strip()}

    def read_manifest(self, release_id):
        path = os.path.join(self.release_dir(release_id), MANIFEST)
        with open(path, encoding="utf-8", errors="surrogateescape") as handle:
            return handle.read()


def describe_freeze(record):
    parts = [record.get("reason") or "no reason given"]
    if record.get("by"):
        parts.append("by %s" % record["by"])
    if record.get("since"):
        parts.append("since %s" % record["since"])
    return ", ".join(parts)


def add_event(state, kind, release=None, **fields):
    """Append one event to the registry's history (kept to the last
    MAX_EVENTS when saved). The caller fills ``by``."""
    event = {"at": now(), "event": kind, "site": state.get("site"), "release": release}
    event.update(fields)
    state.setdefault("events", []).append(event)
    return event


def set_status(state, release_id, status, timestamp=None):
    record = state["releases"][release_id]
    record["status"] = status
    record["%s_at" % status] = timestamp or now()


def releases_by_age(state):
    """Release ids, oldest staged first."""
    return sorted(state["releases"], key=lambda rid: (state["releases"][rid].get("staged_at") or "", rid))


def prune_candidates(state, keep, protected):
    """Ids that ``keep`` leaves out, oldest first, never one of ``protected``."""
    ordered = releases_by_age(state)
    kept = set(ordered[-keep:]) if keep > 0 else set()
    return [rid for rid in ordered if rid not in kept and rid not in protected]


def public_release(state, release_id):
    record = state["releases"].get(release_id)
    if record is None:
        return None
    return dict(record, id=release_id)


# Operations ----------------------------------------------------------------
#
# Each takes the Site, the loaded state and its options, changes the host
# unless check_mode, and returns a list of what it did (empty: nothing to do).
# The caller holds the lock and saves the state.

def new_record(checksum, probe, staged_at=None):
    """The registry's record of a release just staged."""
    record = {"checksum": checksum, "status": "staged", "staged_at": staged_at or now()}
    if probe is not None:
        record["probe"] = probe
    return record


def stage(site, state, release_id, src, check_mode):
    if not os.path.isdir(src):
        raise ReleaseError("src %s is not a directory on the host" % src)
    probe = read_probe(src)
    lines = manifest_lines(src)
    manifest = "".join(lines)
    checksum = checksum_of(manifest)
    dest = site.release_dir(release_id)
    record = state["releases"].get(release_id)
    again = []
    if record is not None and record.get("status") == "damaged" and record.get("checksum") == checksum:
        # The same content again over a copy whose files were changed: stage it afresh.
        if site.current() == release_id:
            raise ReleaseError("release %s is live and damaged (%s); it cannot be staged again while it serves: "
                               "switch to another release first (state=rolled_back, or deploy another)" % (
                                   release_id, record.get("damage") or "its files differ from its manifest"))
        if check_mode:
            return ["staged release %s again over its damaged copy (checksum %s)" % (release_id, checksum)]
        if os.path.lexists(dest):
            _remove_dir(site, release_id)
        again = ["removed the damaged copy of release %s (%s)" % (release_id, record.get("damage") or "damaged")]
    elif os.path.lexists(dest):
        try:
            existing = checksum_of(site.read_manifest(release_id))
        except OSError:
            existing = None
        if existing != checksum:
            raise ReleaseError(
                "release %s already exists at %s with other content (checksum %s, this src %s); "
                "a staged release never changes: give the new content a new release_id" % (
                    release_id, dest, existing or "unknown", checksum))
        if record is None:
            # Staged on disk but not registered (a run died in between).
            if not check_mode:
                state["releases"][release_id] = new_record(checksum, probe)
                add_event(state, "staged", release_id, checksum=checksum)
            return ["registered release %s" % release_id]
        return []
    if record is not None and record.get("checksum") not in (None, checksum):
        raise ReleaseError("release %s is registered with checksum %s, this src has %s" % (
            release_id, record.get("checksum"), checksum))
    if check_mode:
        return ["staged release %s (checksum %s)" % (release_id, checksum)]
    os.makedirs(site.releases_dir, exist_ok=True)
    secure_dir(site.releases_dir)
    temporary = os.path.join(site.releases_dir, ".%s.%d.staging" % (release_id, os.getpid()))
    # Staging happens only under the lock, so any other staging folder was
    # left by a run that was killed while copying.
    for name in os.listdir(site.releases_dir):
        if name.startswith(".") and name.endswith(".staging"):
            shutil.rmtree(os.path.join(site.releases_dir, name), ignore_errors=True)
    try:
        copy_tree(src, temporary)
        copied = "".join(manifest_lines(temporary))
        if copied != manifest:
            raise ReleaseError("src %s changed while it was staged; stage it again" % src)
        write_atomic(os.path.join(temporary, MANIFEST), manifest.encode("utf-8", "surrogateescape"))
        os.rename(temporary, dest)
    except BaseException as error:
        shutil.rmtree(temporary, ignore_errors=True)
        if isinstance(error, OSError) and error.errno in (errno.ENOSPC, errno.EDQUOT):
            raise ReleaseError(
                "no space left on device while staging release %s into %s (%s of files from %s); nothing live "
                "changed: current, the live release and the registry are as they were, and the partial copy was "
                "removed. Free space on that filesystem, or remove old releases (state=pruned), then stage again"
                % (release_id, site.releases_dir, _size(tree_size(src)), src))
        raise
    fsync_dir(site.releases_dir)
    state["releases"][release_id] = new_record(checksum, probe)
    add_event(state, "staged", release_id, checksum=checksum)
    return again + ["staged release %s (checksum %s)" % (release_id, checksum)]


def tree_size(root):
    """Bytes of the regular files under ``root``."""
    total = 0
    for directory, _dirs, files in os.walk(root):
        for name in files:
            try:
                info = os.lstat(os.path.join(directory, name))
            except OSError:
                continue
            if stat.S_ISREG(info.st_mode):
                total += info.st_size
    return total


def _size(count):
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if count < 1024 or unit == "GiB":
            return ("%d %s" if unit == "bytes" else "%.1f %s") % (count, unit)
        count /= 1024.0


def _require(state, release_id):
    record = state["releases"].get(release_id)
    if record is None:
        known = ", ".join(releases_by_age(state)) or "none"
        raise ReleaseError("release %s is not staged on this host (staged: %s)" % (release_id, known))
    return record


def verify(site, state, release_id):
    """Recompute the manifest of a staged release; the differences, or None."""
    record = _require(state, release_id)
    path = site.release_dir(release_id)
    if not os.path.isdir(path):
        return {"changed": [], "missing": ["(the whole release directory %s)" % path], "added": []}
    try:
        recorded = site.read_manifest(release_id)
    except OSError:
        return {"changed": [], "missing": [MANIFEST], "added": []}
    if checksum_of(recorded) != record.get("checksum"):
        return {"changed": [MANIFEST], "missing": [], "added": []}
    differences = compare_manifest(recorded, manifest_lines(path, strict=False))
    if any(differences.values()):
        return differences
    return None


def describe_differences(differences, limit=5):
    """``changed: a, b; missing: c`` for what verify found."""
    return "; ".join("%s: %s" % (kind, ", ".join(paths[:limit]) + (" ..." if len(paths) > limit else ""))
                     for kind, paths in differences.items() if paths)


def gone_message(site, release_id, record):
    return ("release %s (%s) is registered but its folder %s is gone; %s to drop it from the registry, then stage "
            "it again if you need it" % (release_id, record.get("status"), site.release_dir(release_id), REPAIR_HINT))


def switch(site, state, release_id, check_mode, allow_statuses=("staged", "validated", "live", "known_good"),
           event="switched"):
    """Point ``current`` at ``release_id``. Going from a release that is not
    known good back to a known-good one is recorded as a rollback."""
    record = _require(state, release_id)
    if not os.path.isdir(site.release_dir(release_id)):
        raise ReleaseError(gone_message(site, release_id, record))
    current = site.current()
    if current == release_id:
        if record["status"] not in ("live", "known_good"):
            if not check_mode:
                set_status(state, release_id, "live")
            state["current"] = release_id
            return ["recorded release %s as live" % release_id]
        state["current"] = release_id
        return []
    if record["status"] == "damaged":
        raise ReleaseError("release %s is damaged (%s) and is never switched in; stage its bundle again (a deploy "
                           "does) to restore its files" % (release_id, record.get("damage") or "its files differ"))
    if record["status"] not in allow_statuses:
        raise ReleaseError("release %s is %s; only a %s release can be switched in" % (
            release_id, record["status"], " or ".join(allow_statuses)))
    if not check_mode:
        replaced = state["releases"].get(current or "", {}).get("status")
        if record["status"] == "known_good" and current and replaced != "known_good":
            event = "rolled_back"
        replace_symlink(site.current_link, os.path.join("releases", release_id))
        add_event(state, event, release_id, **{"from": current, "to": release_id})
        if record["status"] != "known_good":
            set_status(state, release_id, "live")
        else:
            record["live_at"] = now()
        state["current"] = release_id
    return ["switched current from %s to %s" % (current or "nothing", release_id)]


def unswitch(site, state, check_mode):
    """Remove ``current`` (a first release that failed: back to no release)."""
    current = site.current()
    if current is None and not os.path.lexists(site.current_link):
        return []
    if not check_mode:
        os.unlink(site.current_link)
        fsync_dir(site.dir)
        state["current"] = None
        add_event(state, "rolled_back", None, **{"from": current, "to": None})
    return ["removed current (was %s)" % (current or "a broken link")]


def mark_known_good(site, state, release_id, check_mode):
    record = _require(state, release_id)
    if site.current() != release_id:
        raise ReleaseError("release %s is not live (current is %s); only the live release can be marked "
                           "known_good, after its probe passed" % (release_id, site.current() or "nothing"))
    if record["status"] == "known_good" and state.get("known_good") == release_id:
        return []
    if record["status"] == "damaged":
        raise ReleaseError("release %s is damaged (%s): its files no longer match its manifest, so it cannot be "
                           "marked known_good; deploy a release to have a known-good one" % (
                               release_id, record.get("damage") or "its files differ"))
    if not check_mode:
        set_status(state, release_id, "known_good")
        add_event(state, "known_good", release_id)
        if state.get("known_good") != release_id:
            state["previous_known_good"] = state.get("known_good")
            state["known_good"] = release_id
    return ["marked release %s known_good" % release_id]


def mark_failed(site, state, release_id, status, reason, check_mode):
    """Mark a release invalid (failed validation) or bad (failed its probe)."""
    record = _require(state, release_id)
    if status == "invalid" and site.current() == release_id:
        raise ReleaseError("release %s is live; a live release that fails is marked bad, not invalid" % release_id)
    if record["status"] == status and (reason is None or record.get("reason") == reason):
        return []
    if not check_mode:
        set_status(state, release_id, status)
        add_event(state, status, release_id, reason=reason)
        if reason is not None:
            record["reason"] = reason
        if state.get("known_good") == release_id:
            state["known_good"] = state.get("previous_known_good")
            state["previous_known_good"] = None
        elif state.get("previous_known_good") == release_id:
            state["previous_known_good"] = None
    return ["marked release %s %s" % (release_id, status)]


def mark_validated(site, state, release_id, check_mode):
    record = _require(state, release_id)
    if record["status"] != "staged":
        return []
    if not check_mode:
        set_status(state, release_id, "validated")
    return ["marked release %s validated" % release_id]


def _protected(site, state):
    """Never removed: the live release, the known-good ones a rollback would
    restore first (the newest known-good other than the live one), and the
    known-good pointers."""
    current = site.current()
    fallback = known_good_by_age(state, exclude=current)[:1]
    return {rid for rid in [current, state.get("known_good"), state.get("previous_known_good")] + fallback if rid}


def remove(site, state, release_id, check_mode):
    if release_id not in state["releases"] and not os.path.lexists(site.release_dir(release_id)):
        return []
    if release_id in _protected(site, state):
        raise ReleaseError("release %s is live, known good or the one a rollback would restore; it cannot be removed"
                           % release_id)
    if not check_mode:
        _remove_dir(site, release_id)
        state["releases"].pop(release_id, None)
        if state.get("previous_known_good") == release_id:
            state["previous_known_good"] = None
    return ["removed release %s" % release_id]


def _remove_dir(site, release_id):
    path = site.release_dir(release_id)
    if os.path.lexists(path):
        # Rename first, so a half-removed release is never seen under its id.
        doomed = os.path.join(site.releases_dir, ".%s.%d.removing" % (release_id, os.getpid()))
        os.rename(path, doomed)
        shutil.rmtree(doomed)


def prune(site, state, keep, check_mode):
    done = []
    for release_id in prune_candidates(state, keep, _protected(site, state)):
        done.extend(remove(site, state, release_id, check_mode))
    return done


def describe_lease(lease):
    return "%s (%s on %s) since %s, until %s" % (
        lease.get("owner"), lease.get("user"), lease.get("host"), lease.get("since"), lease.get("expires"))


def check_lease(site, owner, state=None):
    """Raise unless the site is free or leased to ``owner``, and ``owner``'s
    lease was not broken by a rollback."""
    if owner and state is not None:
        for broken in state.get("broken_leases") or []:
            if broken.get("owner") == owner:
                raise ReleaseError("the lease of %s on site %s was broken by %s at %s; this change stops here" % (
                    owner, site.name, broken.get("by") or "a rollback", broken.get("at")))
    lease = site.lease()
    if lease is not None and lease.get("owner") != owner:
        raise LeaseHeld("site %s is held by %s; wait for that change to finish" % (site.name, describe_lease(lease)))


def take_lease(site, owner, seconds, check_mode, holder=None):
    """Hold the site for ``owner``. ``holder``: who runs the change on the
    controller (host, pid, start time), so that a later run there can tell
    a killed deploy's lease from a live one."""
    lease = site.lease()
    if lease is not None and lease.get("owner") == owner:
        return []
    check_lease(site, owner)
    if not check_mode:
        expires = time.time() + seconds
        record = {"owner": owner, "user": user(), "host": socket.gethostname(), "since": now(),
                  "expires_epoch": expires,
                  "expires": datetime.datetime.fromtimestamp(expires, datetime.timezone.utc).strftime(
                      "%Y-%m-%dT%H:%M:%SZ")}
        if holder:
            record["controller"] = holder
        write_atomic(site.lease_path, (json.dumps(record, sort_keys=True) + "\n").encode())
    return ["leased site %s to %s" % (site.name, owner)]


def drop_lease(site, owner, force, check_mode):
    lease = site.lease()
    if lease is None:
        if os.path.lexists(site.lease_path) and not check_mode:
            os.unlink(site.lease_path)
        return []
    if lease.get("owner") != owner and not force:
        raise ReleaseError("site %s is held by %s, not by %s; use force to break the lease" % (
            site.name, describe_lease(lease), owner))
    if not check_mode:
        os.unlink(site.lease_path)
    return ["released the lease of %s" % lease.get("owner")]


def break_lease(site, state, by, check_mode):
    """Remove the lease of another change (a deploy that died or is stuck)
    and remember its owner, so that the change it belonged to cannot go on
    after a rollback. Returns the lease broken, or None."""
    lease = site.lease()
    if lease is None or lease.get("owner") == by:
        return None
    if not check_mode:
        broken = state.setdefault("broken_leases", [])
        broken.append({"owner": lease.get("owner"), "by": by, "at": now()})
        del broken[:-10]
        add_event(state, "lease_broken", site.current(), reason="broke the lease of %s" % describe_lease(lease))
        os.unlink(site.lease_path)
    return lease


def break_stale_lease(site, state, stale_owner, by, check_mode):
    """Break the lease only if ``stale_owner`` still holds it: the caller
    found that change's run gone, and a lease taken since by anyone else
    is left alone. Returns the lease broken, or None."""
    lease = site.lease()
    if lease is None or lease.get("owner") != stale_owner:
        return None
    return break_lease(site, state, by, check_mode)


def known_good_by_age(state, exclude=None):
    """Known-good releases other than ``exclude``, newest known-good first."""
    releases = state["releases"]
    ids = [rid for rid, record in releases.items() if record.get("status") == "known_good" and rid != exclude]
    return sorted(ids, key=lambda rid: (releases[rid].get("known_good_at") or "", releases[rid].get("staged_at") or "",
                                        rid), reverse=True)


def rollback_target(site, state, wanted=None):
    """The release a rollback restores, and the ones it passed over.

    ``wanted`` None: the newest known-good release that is not current and
    whose files still match its manifest. A damaged one is skipped (listed
    with its differences) for the next older. Returns ``(target or None,
    skipped)``."""
    current = site.current()
    if wanted is not None:
        record = _require(state, wanted)
        if record.get("status") != "known_good":
            raise ReleaseError("release %s is %s, not known good; a rollback restores a known-good release (%s)" % (
                wanted, record.get("status"), ", ".join(known_good_by_age(state)) or "there is none"))
        candidates = [wanted]
    else:
        candidates = known_good_by_age(state, exclude=current)
    skipped = []
    for release_id in candidates:
        differences = verify(site, state, release_id)
        if differences:
            skipped.append({"id": release_id, "differences": differences, "reason": describe_differences(differences)})
            continue
        return release_id, skipped
    return None, skipped


def restore_known_good(site, state, wanted, reason, check_mode, config_test=None, server="the server"):
    """The rollback both the release module and the watchdog run, under the
    site's lock: choose the known-good release to restore (``wanted`` or the
    newest intact one other than current, see rollback_target), let
    ``config_test(target)`` judge the server's configuration with it in place
    (it returns ``(rc, output)``), switch, and mark the release rolled back
    from bad. Returns ``(actions, rollback)``: what it did, and the release
    rolled back from, the target and the releases passed over."""
    rolled_from = site.current()
    if wanted is not None and wanted == rolled_from:
        return [], dict(rolled_from=rolled_from, target=rolled_from, skipped=[])
    target, skipped = rollback_target(site, state, wanted)
    rollback = dict(rolled_from=rolled_from, target=target, skipped=skipped)
    if target is None:
        raise ReleaseError(
            "no known-good release %s to roll back to; nothing was switched%s" % (
                "other than %s" % rolled_from if rolled_from else "at all",
                "; passed over as damaged: " + "; ".join(
                    "%s (%s)" % (entry["id"], entry["reason"]) for entry in skipped)
                + ". Deploy a release that passes its probe to have a known-good one again; %s to mark the "
                  "damaged ones, and staging their bundle again (a deploy does) restores their files" % REPAIR_HINT
                if skipped else ""))
    if config_test is not None:
        rc, output = config_test(target)
        rollback["config_test"] = dict(rc=rc, output=output)
        if rc != 0:
            raise ReleaseError("rollback to %s refused, nothing was switched: %s refuses the configuration "
                               "with it in place: %s" % (target, server, output or "exit %d" % rc))
    return roll_back(site, state, target, reason, check_mode), rollback


def roll_back(site, state, release_id, reason, check_mode):
    """Switch to the known-good ``release_id`` and mark the release it
    replaces bad; ``release_id`` becomes the known-good one."""
    current = site.current()
    record = _require(state, release_id)
    if record.get("status") != "known_good":
        raise ReleaseError("release %s is %s, not known good; a rollback restores a known-good release" % (
            release_id, record.get("status")))
    if current == release_id:
        return []
    actions = switch(site, state, release_id, check_mode, allow_statuses=("known_good",), event="rolled_back")
    if current in state["releases"]:
        actions += mark_failed(site, state, current, "bad", reason or "rolled back to %s" % release_id, check_mode)
    if not check_mode:
        state["known_good"] = release_id
        older = known_good_by_age(state, exclude=release_id)
        state["previous_known_good"] = older[0] if older else None
    return actions


def set_freeze(site, state, reason, by, check_mode):
    """Freeze the site (new releases refused) with ``reason``, or thaw it
    when ``reason`` is None."""
    current = site.freeze()
    if reason is None:
        if current is None and not os.path.lexists(site.freeze_path):
            return []
        if not check_mode:
            os.unlink(site.freeze_path)
            add_event(state, "thawed", site.current(), reason=(current or {}).get("reason"))
        return ["thawed site %s (was frozen: %s)" % (site.name, describe_freeze(current or {}))]
    if current is not None and current.get("reason") == reason:
        return []
    if not check_mode:
        record = {"reason": reason, "by": by or user(), "since": now()}
        write_atomic(site.freeze_path, (json.dumps(record, sort_keys=True) + "\n").encode())
        add_event(state, "frozen", site.current(), reason=reason)
    return ["froze site %s: %s" % (site.name, reason)]


def describe(site, state):
    """What both release modules return about a site."""
    return {
        "current": site.current(),
        "known_good": state.get("known_good"),
        "previous_known_good": state.get("previous_known_good"),
        "releases": [public_release(state, rid) for rid in releases_by_age(state)],
        "frozen": site.freeze(),
        "lease": site.lease(),
    }


# Repair ------------------------------------------------------------------

_LEFTOVER = re.compile(r"^\.[A-Za-z0-9][A-Za-z0-9._-]{0,63}\.[0-9]+\.(staging|removing)$")


def _point_known_good(state):
    """Point known_good and previous_known_good at the newest two releases
    whose status is known_good; what changed, in words."""
    newest = known_good_by_age(state)
    wanted = {"known_good": newest[0] if newest else None,
              "previous_known_good": newest[1] if len(newest) > 1 else None}
    if state.get("known_good") in state["releases"] and \
            state["releases"][state["known_good"]].get("status") == "known_good":
        # The pointer is kept where it is right; only the previous one follows it.
        wanted["known_good"] = state["known_good"]
        older = known_good_by_age(state, exclude=state["known_good"])
        wanted["previous_known_good"] = older[0] if older else None
    done = []
    for key, value in wanted.items():
        if state.get(key) != value:
            done.append("%s is now %s (was %s)" % (key, value or "none", state.get(key) or "none"))
            state[key] = value
    return done


def repair(site, check_mode):
    """Rebuild the registry of ``site`` from what can be trusted: state.json
    when it parses, else its backup, else nothing; then the release folders
    and their manifests. A registered release whose folder is gone is
    dropped; one whose files differ from its manifest is marked damaged (a
    rollback never picks it; it gets its status back once its files match
    again); a folder with a manifest but no record is registered as staged
    (live when current points at it); the known-good pointers follow;
    leftovers of killed runs (``.<id>.<pid>.staging`` or ``.removing``)
    are removed. Nothing in a release is changed or removed.

    Returns ``(state, before, actions, report)``: the registry to save
    (in check mode, the one that would be saved; ``before`` is the one it
    started from), what changed in words, and
    ``report`` (``started_from``, ``damaged_state`` with what was wrong
    with state.json and ``kept_as``, where the caller moves it before
    saving, and lists ``dropped``, ``damaged``, ``intact_again``,
    ``registered``, ``leftovers_removed`` and ``not_releases``, and
    ``warnings``, what it could not mend)."""
    report = {"started_from": "state.json", "damaged_state": None, "kept_as": None, "dropped": [], "damaged": [],
              "intact_again": [], "registered": [], "leftovers_removed": [], "not_releases": []}
    actions = []
    state, damage = read_registry(site.state_path, site.name)
    if state is None and damage == MISSING:
        state = empty_state(site.name)
        report["started_from"] = "nothing (no state.json)"
    elif state is None:
        report["damaged_state"] = damage
        report["kept_as"] = "%s.damaged-%s" % (site.state_path, now().replace(":", ""))
        backup, backup_damage = read_registry(site.backup_path, site.name)
        if backup is not None:
            state = backup
            report["started_from"] = STATE_BACKUP
            actions.append("state.json %s: started from %s, the registry before the last change" % (
                damage, site.backup_path))
        else:
            state = empty_state(site.name)
            report["started_from"] = "the release folders alone"
            actions.append("state.json %s and %s %s: rebuilt the registry from the release folders alone" % (
                damage, site.backup_path, "does not exist" if backup_damage == MISSING else backup_damage))
        actions.append("kept the damaged state.json as %s" % report["kept_as"])
    before = json.loads(json.dumps(state))

    try:
        names = sorted(os.listdir(site.releases_dir))
    except FileNotFoundError:
        names = []
    on_disk = set()
    for name in names:
        path = site.release_dir(name)
        if _LEFTOVER.match(name) and os.path.isdir(path) and not os.path.islink(path):
            report["leftovers_removed"].append(name)
            actions.append("removed %s, left by a run killed while staging or removing a release" % path)
            if not check_mode:
                shutil.rmtree(path)
        elif RELEASE_ID.match(name) and os.path.isdir(path) and not os.path.islink(path):
            on_disk.add(name)
        else:
            report["not_releases"].append(name)

    for release_id in releases_by_age(state):
        record = state["releases"][release_id]
        if release_id not in on_disk:
            report["dropped"].append(release_id)
            actions.append("dropped release %s (%s) from the registry: its folder %s is gone" % (
                release_id, record.get("status"), site.release_dir(release_id)))
            del state["releases"][release_id]
            continue
        differences = verify(site, state, release_id)
        if differences:
            described = describe_differences(differences)
            if record.get("status") != "damaged" or record.get("damage") != described:
                report["damaged"].append(release_id)
                actions.append("marked release %s damaged, it was %s: %s" % (
                    release_id, record.get("status"), described))
                if record.get("status") != "damaged":
                    record["status_before_damage"] = record.get("status")
                set_status(state, release_id, "damaged")
                record["damage"] = described
        elif record.get("status") == "damaged":
            restored = record.pop("status_before_damage", None) or "staged"
            record.pop("damage", None)
            record["status"] = restored
            report["intact_again"].append(release_id)
            actions.append("release %s matches its manifest again: %s as before" % (release_id, restored))

    probe_warnings = []
    for release_id in sorted(on_disk - set(state["releases"])):
        manifest_path = os.path.join(site.release_dir(release_id), MANIFEST)
        try:
            recorded = site.read_manifest(release_id)
            staged_at = datetime.datetime.fromtimestamp(os.stat(manifest_path).st_mtime, datetime.timezone.utc)
        except OSError:
            report["not_releases"].append(release_id)
            continue
        try:
            probe = read_probe(site.release_dir(release_id))
        except (OSError, ReleaseError) as error:
            probe_warnings.append("release %s is registered without its probe settings: %s" % (release_id, error))
            probe = None
        record = new_record(checksum_of(recorded), probe, staged_at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"))
        record["registered_by_repair"] = True
        state["releases"][release_id] = record
        report["registered"].append(release_id)
        differences = verify(site, state, release_id)
        if differences:
            record.update(status="damaged", status_before_damage="staged", damage=describe_differences(differences))
            actions.append("registered release %s from its folder, damaged: %s" % (release_id, record["damage"]))
        else:
            actions.append("registered release %s from its folder and manifest (checksum %s) as staged" % (
                release_id, record["checksum"]))
    report["warnings"] = ["left %s alone: not a release folder with a manifest" % site.release_dir(name)
                          for name in report["not_releases"] if not name.startswith(".")] + probe_warnings

    current = site.current()
    if current is not None and current not in state["releases"]:
        report["warnings"].append("current points at %s, which is not a registered release; a rollback or a "
                                  "deploy mends it" % current)
    if state.get("current") != current:
        actions.append("current is %s (the symlink), the registry said %s" % (
            current or "none", state.get("current") or "none"))
        state["current"] = current
    if current in state["releases"] and state["releases"][current].get("status") in ("staged", "validated"):
        set_status(state, current, "live")
        actions.append("marked release %s live: current points at it" % current)
    actions.extend(_point_known_good(state))
    if actions:
        add_event(state, "repaired", current, reason="; ".join(actions))
    return state, before, actions, report
