# -*- coding: utf-8 -*-
# Copyright: lastgood.webstack contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a site's directory holds and what its names may be: the file names
of the registry, the release statuses, the name pattern, the errors every
part of the registry raises, and the time stamps it writes. Pure standard
library.

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
rollback never picks it)."""

from __future__ import annotations

import datetime
import os
import re
import stat

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


# Every time stamp the registry writes: UTC, microseconds (the timeline
# callback on the controller reads the same form).
TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


def now():
    return datetime.datetime.now(datetime.timezone.utc).strftime(TIME_FORMAT)


def check_release_id(release_id):
    if not isinstance(release_id, str) or not RELEASE_ID.match(release_id):
        raise ReleaseError(
            "release_id %r is not valid: use 1 to 64 letters, digits, '.', '_' or '-', "
            "starting with a letter or digit" % (release_id,))
    return release_id


_UNSAFE_NAME = re.compile(r"[\x00-\x1f\x7f\\]")


def shown_name(name):
    """A path as a message shows it: control characters escaped."""
    return name if not _UNSAFE_NAME.search(name) else repr(name)[1:-1]


def user():
    try:
        import pwd
        return pwd.getpwuid(os.geteuid()).pw_name
    except (ImportError, KeyError):
        return str(os.geteuid())
