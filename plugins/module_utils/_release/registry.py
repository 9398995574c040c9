# -*- coding: utf-8 -*-
# Copyright: lastgood.webstack contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The registry of one site on one host: ``Site`` (its directory, lock,
lease, freeze, ``state.json`` read and written with its backup), the record
of each release, its events, and what the modules return about it."""

from __future__ import annotations

import errno
import fcntl
import json
import os
import socket
import time

from ansible_collections.lastgood.webstack.plugins.module_utils._release.fsops import write_atomic
from ansible_collections.lastgood.webstack.plugins.module_utils._release.layout import (
    FREEZE_FILE,
    LEASE_FILE,
    LOCK_FILE,
    MANIFEST,
    MAX_EVENTS,
    RELEASE_ID,
    REPAIR_HINT,
    ReleaseError,
    STATE_BACKUP,
    STATE_FILE,
    STATE_VERSION,
    STATUSES,
    shown_name,
    now,
    user,
)


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
            return "it registers a release named %r, which is not a release id" % shown_name(release_id)
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


def new_record(checksum, probe, staged_at=None):
    """The registry's record of a release just staged."""
    record = {"checksum": checksum, "status": "staged", "staged_at": staged_at or now()}
    if probe is not None:
        record["probe"] = probe
    return record


def require_release(state, release_id):
    record = state["releases"].get(release_id)
    if record is None:
        known = ", ".join(releases_by_age(state)) or "none"
        raise ReleaseError("release %s is not staged on this host (staged: %s)" % (release_id, known))
    return record


def gone_message(site, release_id, record):
    return ("release %s (%s) is registered but its folder %s is gone; %s to drop it from the registry, then stage "
            "it again if you need it" % (release_id, record.get("status"), site.release_dir(release_id), REPAIR_HINT))


def known_good_by_age(state, exclude=None):
    """Known-good releases other than ``exclude``, newest known-good first."""
    releases = state["releases"]
    ids = [rid for rid, record in releases.items() if record.get("status") == "known_good" and rid != exclude]
    return sorted(ids, key=lambda rid: (releases[rid].get("known_good_at") or "", releases[rid].get("staged_at") or "",
                                        rid), reverse=True)


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
