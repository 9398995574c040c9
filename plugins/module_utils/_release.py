# -*- coding: utf-8 -*-
# Copyright: lastgood.webstack contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The release registry of one site on one host.

    <base_dir>/<site>/
      releases/<release_id>/   immutable once staged; MANIFEST.sha256 inside
      current -> releases/<id> switched by renaming a new symlink over it
      state.json               every release, its status and timestamps, the known-good pointers
      .lock                    flock held by any change; holds who took it and when
      FREEZE                   present: new releases are refused

Status of a release: staged -> validated -> live -> known_good, or invalid
(failed validation, never switched in) or bad (switched in, failed the probe).
Pure standard library."""

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
LOCK_FILE = ".lock"
LEASE_FILE = ".lease"
FREEZE_FILE = "FREEZE"
STATE_VERSION = 1
# Events kept in state.json: the site's recent history for status and the timeline.
MAX_EVENTS = 200
RELEASE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
STATUSES = ("staged", "validated", "live", "known_good", "invalid", "bad")
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


def manifest_lines(root):
    """``sha256sum``-style lines for every file under ``root``, sorted by
    path. A symlink is recorded by the sha256 of ``symlink:<target>`` so a
    changed link changes the checksum; the manifest itself is left out."""
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
            if "\n" in relative or "\\" in relative:
                raise ReleaseError("%s: file names with a newline or backslash cannot be recorded" % relative)
            path = os.path.join(directory, name)
            mode = os.lstat(path).st_mode
            if stat.S_ISLNK(mode):
                digest = hashlib.sha256(("symlink:" + os.readlink(path)).encode("utf-8", "surrogateescape")).hexdigest()
            elif stat.S_ISREG(mode):
                digest = _file_digest(path)
            else:
                raise ReleaseError("%s is neither a file, a directory nor a symlink" % path)
            entries.append((relative, digest))
    entries.sort()
    return ["%s  %s\n" % (digest, relative) for relative, digest in entries]


def checksum_of(manifest_text):
    return hashlib.sha256(manifest_text.encode("utf-8", "surrogateescape")).hexdigest()


def compare_manifest(recorded_text, actual_lines):
    """Differences between a recorded manifest and the tree: lists of
    changed, missing and added paths."""
    def parse(lines):
        result = {}
        for line in lines:
            digest, _sep, path = line.rstrip("\n").partition("  ")
            result[path] = digest
        return result
    recorded = parse(recorded_text.splitlines())
    actual = parse(actual_lines)
    changed = sorted(path for path in recorded if path in actual and actual[path] != recorded[path])
    missing = sorted(path for path in recorded if path not in actual)
    added = sorted(path for path in actual if path not in recorded)
    return {"changed": changed, "missing": missing, "added": added}


def _manifest_part(site, release_id, subdir):
    """``{path: digest}`` of the manifest entries of a release under
    ``subdir``; empty for no release or a release without a manifest."""
    if release_id is None:
        return {}
    try:
        text = site.read_manifest(release_id)
    except OSError:
        return None
    prefix = subdir.strip("/") + "/"
    part = {}
    for line in text.splitlines():
        digest, _sep, path = line.partition("  ")
        if path.startswith(prefix):
            part[path] = digest
    return part


def changed_between(site, old_id, new_id, subdir):
    """Whether the files under ``subdir`` differ between two releases (either
    may be None: no release). A release whose manifest cannot be read counts
    as changed, so a reload is never skipped on doubt."""
    old = _manifest_part(site, old_id, subdir)
    new = _manifest_part(site, new_id, subdir)
    if old is None or new is None:
        return True
    return old != new


# Files -------------------------------------------------------------------

def write_atomic(path, data, mode=0o644):
    """Write ``data`` (bytes) to a temporary file beside ``path``, fsync it,
    rename it over ``path`` and fsync the directory."""
    directory = os.path.dirname(path)
    temporary = os.path.join(directory, ".%s.%d.tmp" % (os.path.basename(path), os.getpid()))
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        with os.fdopen(fd, "wb") as handle:
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
    """Copy a release source tree; symlinks stay symlinks."""
    shutil.copytree(src, dest, symlinks=True)


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
        try:
            with open(self.state_path) as handle:
                state = json.load(handle)
        except FileNotFoundError:
            return empty_state(self.name)
        except ValueError as error:
            raise ReleaseError("%s is not valid JSON (%s); restore it from a backup or move it away "
                               "to rebuild the registry" % (self.state_path, error))
        except OSError as error:
            raise ReleaseError("%s cannot be read: %s" % (self.state_path, error.strerror))
        if not isinstance(state, dict) or not isinstance(state.get("releases"), dict):
            raise ReleaseError("%s is not a release registry" % self.state_path)
        for key, value in empty_state(self.name).items():
            state.setdefault(key, value)
        return state

    def save_state(self, state):
        if len(state.get("events", [])) > MAX_EVENTS:
            state["events"] = state["events"][-MAX_EVENTS:]
        data = json.dumps(state, indent=2, sort_keys=True).encode() + b"\n"
        write_atomic(self.state_path, data)

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

def stage(site, state, release_id, src, check_mode):
    if not os.path.isdir(src):
        raise ReleaseError("src %s is not a directory on the host" % src)
    lines = manifest_lines(src)
    manifest = "".join(lines)
    checksum = checksum_of(manifest)
    dest = site.release_dir(release_id)
    record = state["releases"].get(release_id)
    if os.path.lexists(dest):
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
                state["releases"][release_id] = {"checksum": checksum, "status": "staged", "staged_at": now()}
                add_event(state, "staged", release_id, checksum=checksum)
            return ["registered release %s" % release_id]
        return []
    if record is not None and record.get("checksum") not in (None, checksum):
        raise ReleaseError("release %s is registered with checksum %s, this src has %s" % (
            release_id, record.get("checksum"), checksum))
    if check_mode:
        return ["staged release %s (checksum %s)" % (release_id, checksum)]
    os.makedirs(site.releases_dir, exist_ok=True)
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
    except BaseException:
        shutil.rmtree(temporary, ignore_errors=True)
        raise
    fsync_dir(site.releases_dir)
    state["releases"][release_id] = {"checksum": checksum, "status": "staged", "staged_at": now()}
    add_event(state, "staged", release_id, checksum=checksum)
    return ["staged release %s (checksum %s)" % (release_id, checksum)]


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
    differences = compare_manifest(recorded, manifest_lines(path))
    if any(differences.values()):
        return differences
    return None


def switch(site, state, release_id, check_mode, allow_statuses=("staged", "validated", "live", "known_good"),
           event="switched"):
    """Point ``current`` at ``release_id``. Going from a release that is not
    known good back to a known-good one is recorded as a rollback."""
    record = _require(state, release_id)
    if not os.path.isdir(site.release_dir(release_id)):
        raise ReleaseError("release %s is registered but %s is gone" % (release_id, site.release_dir(release_id)))
    current = site.current()
    if current == release_id:
        if record["status"] not in ("live", "known_good"):
            if not check_mode:
                set_status(state, release_id, "live")
            state["current"] = release_id
            return ["recorded release %s as live" % release_id]
        state["current"] = release_id
        return []
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
            skipped.append({"id": release_id, "differences": differences,
                            "reason": "; ".join("%s: %s" % (kind, ", ".join(paths[:5]) + (" ..." if len(paths) > 5 else ""))
                                                for kind, paths in differences.items() if paths)})
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
                    "%s (%s)" % (entry["id"], entry["reason"]) for entry in skipped) if skipped else ""))
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
