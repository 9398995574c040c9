# -*- coding: utf-8 -*-
# Copyright: lastgood.webstack contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Real traffic watched: 5xx answers to real requests, counted from the
site's access logs as they are written, and PHP's fatal errors from the
error logs. Pure standard library, Python 3.7 and later; the deploy's bake
polls it every few tens of milliseconds, the watchdog every half second.

Interface::

    watch = TrafficWatch(access_logs, error_logs=(), min_errors=5, max_error_rate=0.2, window=10.0,
                         ignore_agents=("lastgood-health-probe",), ignore_paths=(), clock=time.monotonic)
    watch.poll()            # read what was appended since the last poll (complete lines only)
    watch.verdict()         # None, or one sentence: the thresholds were crossed within the window
    watch.summary()         # counts, error rate, first error, samples with file:line, positions
    watch.positions()       # {path: {dev, inode, offset, line}}, JSON-able
    watch.restore(positions)
    watch.reset()           # forget what was counted (a switch of releases); keep reading where it is

What counts:

- Each file starts at its current end: only what is written from then on
  counts. A file that does not exist yet is watched for its creation and
  read from its start. Rotation (the path names another inode) is followed:
  the old file is read to its end for ``RETIRE_AFTER`` seconds more (a web
  server writes there until it reopens its logs), the new one from its start;
  a file that shrank (``copytruncate``) is read again from its start.
- An access log line is one request. Its request is the first quoted field
  that looks like ``METHOD target [protocol]`` (else the first quoted field),
  its status the first field of three digits after it, its User-Agent the
  second quoted field after the status. That reads nginx's ``combined``,
  Apache's ``combined``, ``common`` and ``vhost_combined``, and custom formats
  that keep the quoted ``"$request"`` before the status (and the referer and
  agent after it, to leave the probe out). A line without them is counted in
  ``unparsed`` and otherwise ignored.
- Left out: requests whose User-Agent begins with one of ``ignore_agents``
  (the probe's own, which it judges itself; ``common`` has no agent, so
  there they count) and those whose path begins with one of ``ignore_paths``.
- An error is an answer of 500 to 599.
- An error log line that says ``PHP Fatal error``, ``PHP Parse error`` or
  ``PHP Recoverable fatal error`` (nginx's ``FastCGI sent in stderr``,
  Apache's ``AH01071: Got error``, PHP-FPM's ``child N said into stderr``)
  or ``child N exited on signal`` (PHP-FPM) is a fatal. Fatals are samples,
  and they count as errors through ``max(5xx, fatals of the busiest error
  log)`` in the window: a fatal error PHP answered 200 to (display_errors
  on) counts, one that answered 500 is not counted twice, and nginx's and
  PHP-FPM's copy of the same message are one. ``ignore_paths`` do not apply
  to error logs (nginx writes the request on the entry's last line).

The verdict fires when, within the last ``window`` seconds (of ``clock``, at
the poll that read the lines), at least ``min_errors`` errors were seen and
they are at least ``max_error_rate`` of the real requests (of the fatals,
when there were no requests).
"""

from __future__ import annotations

import collections
import os
import re
import time

MAX_SAMPLES = 5
# Bytes read from one file in one poll; the rest waits for the next poll, so
# that one poll of a huge backlog stays short.
MAX_READ = 8 * 1024 * 1024
# A "line" this long without a newline is taken as it is (and is unparsed).
MAX_LINE = 64 * 1024
# Line numbers are counted when a file is first opened, up to this size;
# beyond it samples give the byte offset.
MAX_COUNT_LINES = 64 * 1024 * 1024
# Seconds an old file is still read after its path was rotated away.
RETIRE_AFTER = 30.0
SAMPLE_TEXT = 300

_QUOTED = r'"((?:[^"\\]|\\.)*)"'
_ACCESS = re.compile(
    r'"(?P<request>[A-Z][A-Za-z_-]* [^"\\]*(?:\\.[^"\\]*)*|-|)"'  # the request, nginx's "-" or "" for junk
    r'(?: [^"\s]+)*? (?P<status>\d{3})(?= |$)')
_ANY_QUOTED_THEN_STATUS = re.compile(_QUOTED + r'(?: [^"\s]+)*? (?P<status>\d{3})(?= |$)')
_QUOTED_FIELD = re.compile(_QUOTED)
_FATAL = re.compile(r"PHP (?:Fatal|Parse|Recoverable fatal) error|child \d+ exited on signal \d+")


class LogFile:
    """Where one file is read: the open descriptor, its device and inode,
    the offset after the last complete line, and that line's number (None
    when it was too long to count)."""

    __slots__ = ("path", "fd", "dev", "inode", "offset", "line", "skip_partial", "retired_at")

    def __init__(self, path):
        self.path = path
        self.fd = None
        self.dev = self.inode = None
        self.offset = 0
        self.line = 0
        self.skip_partial = False
        self.retired_at = None

    def open(self, at_end, clock_value=None):
        """Open the path; read from its end (``at_end``) or its start.
        False when it cannot be opened."""
        try:
            fd = os.open(self.path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
        except OSError:
            return False
        info = os.fstat(fd)
        self.fd, self.dev, self.inode = fd, info.st_dev, info.st_ino
        self.offset, self.line, self.skip_partial = 0, 0, False
        if at_end and info.st_size:
            self.offset = info.st_size
            self.line = _count_lines(fd, info.st_size)
            # Started in the middle of a line being written: skip its tail.
            self.skip_partial = os.pread(fd, 1, info.st_size - 1) != b"\n"
        return True

    def close(self):
        if self.fd is not None:
            os.close(self.fd)
        self.fd = None

    def position(self):
        return {"dev": self.dev, "inode": self.inode, "offset": self.offset, "line": self.line}

    def where(self, number):
        if number is None:
            return "%s@%d" % (self.path, self.offset)
        return "%s:%d" % (self.path, number)

    def read_lines(self, size):
        """The complete lines between the offset and ``size`` (at most
        MAX_READ bytes of them), as (number, text); moves the offset past them."""
        end = min(size, self.offset + MAX_READ)
        data = os.pread(self.fd, end - self.offset, self.offset)
        cut = data.rfind(b"\n") + 1
        if cut == 0:
            if len(data) < MAX_LINE:
                return []
            cut = len(data)
        data = data[:cut]
        self.offset += cut
        lines = data.decode("utf-8", "replace").split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        if self.skip_partial:
            self.skip_partial = False
            lines = lines[1:]
            if self.line is not None:
                self.line += 1
        out = []
        number = self.line
        for text in lines:
            if number is not None:
                number += 1
            out.append((number, text))
        self.line = number
        return out


def _count_lines(fd, size):
    if size > MAX_COUNT_LINES:
        return None
    count = 0
    offset = 0
    while offset < size:
        chunk = os.pread(fd, min(1024 * 1024, size - offset), offset)
        if not chunk:
            break
        count += chunk.count(b"\n")
        offset += len(chunk)
    return count


def parse_access(text):
    """``(method_and_path, status, agent)`` of one access log line, or None.
    ``agent`` is None when the line has no second quoted field after the status."""
    match = _ACCESS.search(text) or _ANY_QUOTED_THEN_STATUS.search(text)
    if match is None:
        return None
    request = match.group(1)
    status = int(match.group("status"))
    after = _QUOTED_FIELD.findall(text, match.end())
    agent = after[1] if len(after) > 1 else None
    return request, status, agent


def request_path(request):
    """The path of ``METHOD target PROTOCOL``, without its query."""
    parts = request.split(" ")
    target = parts[1] if len(parts) > 1 else parts[0]
    return target.split("?", 1)[0]


class _Log:
    """One watched path: its current file and, for a while after a
    rotation, the old one."""

    __slots__ = ("path", "kind", "current", "retired")

    def __init__(self, path, kind):
        self.path = path
        self.kind = kind
        self.current = LogFile(path)
        self.retired = []


class TrafficWatch:
    """See the module's docstring."""

    def __init__(self, access_logs, error_logs=(), min_errors=5, max_error_rate=0.2, window=10.0,
                 ignore_agents=("lastgood-health-probe",), ignore_paths=(), clock=time.monotonic):
        if min_errors < 1:
            raise ValueError("min_errors must be at least 1, not %r" % (min_errors,))
        if not 0 <= max_error_rate <= 1:
            raise ValueError("max_error_rate must be between 0 and 1, not %r" % (max_error_rate,))
        if window <= 0:
            raise ValueError("window must be above 0, not %r" % (window,))
        self.min_errors = min_errors
        self.max_error_rate = max_error_rate
        self.window = window
        self.ignore_agents = tuple(agent for agent in ignore_agents if agent)
        self.ignore_paths = tuple(path for path in ignore_paths if path)
        self.clock = clock
        self.logs = [_Log(path, "access") for path in _unique(access_logs)]
        self.logs += [_Log(path, "error") for path in _unique(error_logs)]
        for log in self.logs:
            log.current.open(at_end=True)
        self.reset()

    # Reading ------------------------------------------------------------------

    def reset(self):
        """Forget the counts, samples and window (not where each file is read)."""
        self.requests = self.errors = self.ignored = self.unparsed = 0
        self.fatals = {}
        self.first_error_at = None
        self.samples = []
        self.last_sample = None
        # Per poll that saw something: [at, requests, errors, {error log: fatals}, first sample]
        self._window = collections.deque()

    def poll(self):
        """Read what every log got since the last poll."""
        now = self.clock()
        entry = [now, 0, 0, {}, None]
        for log in self.logs:
            self._poll_log(log, entry, now)
        if entry[1] or entry[2] or entry[3]:
            self._window.append(entry)
        self._expire(now)

    def _poll_log(self, log, entry, now):
        for old in list(log.retired):
            self._read(log, old, entry, now)
            if now - old.retired_at > RETIRE_AFTER:
                old.close()
                log.retired.remove(old)
        current = log.current
        try:
            info = os.stat(log.path)
        except OSError:
            info = None
        if current.fd is None:
            if info is not None and current.open(at_end=False):
                self._read(log, current, entry, now)
            return
        if info is None or (info.st_ino, info.st_dev) != (current.inode, current.dev):
            # Rotated (or removed): read the old file to its end, keep reading
            # it for a while, and start on the new one.
            self._read(log, current, entry, now)
            current.retired_at = now
            log.retired.append(current)
            while len(log.retired) > 2:
                log.retired.pop(0).close()
            log.current = LogFile(log.path)
            if info is not None and log.current.open(at_end=False):
                self._read(log, log.current, entry, now)
            return
        if info.st_size < current.offset:
            current.offset, current.line, current.skip_partial = 0, 0, False
        if info.st_size > current.offset:
            self._read(log, current, entry, now, info.st_size)

    def _read(self, log, file, entry, now, size=None):
        if size is None:
            try:
                size = os.fstat(file.fd).st_size
            except OSError:
                return
            if size < file.offset:
                file.offset, file.line, file.skip_partial = 0, 0, False
        while size > file.offset:
            lines = file.read_lines(size)
            if not lines:
                return
            if log.kind == "access":
                self._access_lines(file, lines, entry, now)
            else:
                self._error_lines(file, lines, entry, now)

    def _access_lines(self, file, lines, entry, now):
        agents, paths = self.ignore_agents, self.ignore_paths
        for number, text in lines:
            parsed = parse_access(text)
            if parsed is None:
                self.unparsed += 1
                continue
            request, status, agent = parsed
            if agents and agent is not None and agent.startswith(agents):
                self.ignored += 1
                continue
            if paths and request_path(request).startswith(paths):
                self.ignored += 1
                continue
            self.requests += 1
            entry[1] += 1
            if 500 <= status <= 599:
                self.errors += 1
                entry[2] += 1
                self._sample(entry, now, file, number, "%s -> %d" % (_shown_request(request), status), text)

    def _error_lines(self, file, lines, entry, now):
        for number, text in lines:
            match = _FATAL.search(text)
            if match is None:
                continue
            counts = entry[3]
            counts[file.path] = counts.get(file.path, 0) + 1
            self.fatals[file.path] = self.fatals.get(file.path, 0) + 1
            what = text[match.start():].split("\\n", 1)[0]
            self._sample(entry, now, file, number, what[:160].rstrip('"\''), text)

    def _sample(self, entry, now, file, number, what, text):
        if self.first_error_at is None:
            self.first_error_at = now
        sample = {"at": now, "where": file.where(number), "what": what, "text": text[:SAMPLE_TEXT]}
        if entry[4] is None:
            entry[4] = sample
        self.last_sample = sample
        if len(self.samples) < MAX_SAMPLES:
            self.samples.append(sample)

    def _expire(self, now):
        horizon = now - self.window
        while self._window and self._window[0][0] < horizon:
            self._window.popleft()

    # Judging --------------------------------------------------------------------

    def window_counts(self):
        """``(requests, 5xx, fatals, first sample)`` within the window;
        ``fatals`` are those of the busiest error log."""
        self._expire(self.clock())
        requests = status_errors = 0
        fatals = {}
        first = None
        for _at, seen, errors, counts, sample in self._window:
            requests += seen
            status_errors += errors
            for path, count in counts.items():
                fatals[path] = fatals.get(path, 0) + count
            if first is None and sample is not None:
                first = sample
        most_fatals = max(fatals.values()) if fatals else 0
        return requests, status_errors, most_fatals, first

    def verdict(self):
        """None, or a sentence saying the thresholds were crossed."""
        requests, status_errors, fatals, first = self.window_counts()
        errors = max(status_errors, fatals)
        if errors < self.min_errors:
            return None
        if requests and errors / requests < self.max_error_rate:
            return None
        if status_errors >= fatals:
            seen = "%d of %d real requests answered 5xx" % (status_errors, requests)
        else:
            seen = "%d PHP fatal errors (and %d of %d real requests answered 5xx)" % (fatals, status_errors, requests)
        text = "%s in the last %g s" % (seen, self.window)
        if first is not None:
            text += " (first %.1f s ago, e.g. %s, %s)" % (max(0.0, self.clock() - first["at"]), first["what"],
                                                          first["where"])
        return text

    def summary(self):
        requests, status_errors, fatals, _first = self.window_counts()
        return {
            "requests": self.requests,
            "errors": self.errors,
            "error_rate": round(self.errors / self.requests, 4) if self.requests else 0.0,
            "fatals": dict(self.fatals),
            "ignored": self.ignored,
            "unparsed": self.unparsed,
            "first_error_at": self.first_error_at,
            "window": {"seconds": self.window, "requests": requests, "errors": max(status_errors, fatals),
                       "status_5xx": status_errors, "fatals": fatals},
            "samples": [dict(sample) for sample in self.samples],
            "positions": self.positions(),
        }

    # Where it is ---------------------------------------------------------------

    def positions(self):
        """Where each path is read, for restore(); JSON-able."""
        return {log.path: log.current.position() for log in self.logs if log.current.fd is not None}

    def restore(self, positions):
        """Continue where ``positions`` (from positions(), of another run)
        left each path that is still the same file; a path that names another
        file now (rotated meanwhile) is read from its start, one that shrank
        too; a path not in ``positions`` stays where it is."""
        for log in self.logs:
            saved = (positions or {}).get(log.path)
            if not isinstance(saved, dict):
                continue
            current = log.current
            if current.fd is None and not current.open(at_end=False):
                continue
            size = os.fstat(current.fd).st_size
            if (saved.get("dev"), saved.get("inode")) != (current.dev, current.inode):
                current.offset, current.line, current.skip_partial = 0, 0, False
                continue
            offset = saved.get("offset")
            if not isinstance(offset, int) or offset < 0 or offset > size:
                current.offset, current.line, current.skip_partial = 0, 0, False
                continue
            line = saved.get("line")
            current.offset, current.skip_partial = offset, False
            current.line = line if isinstance(line, int) else None

    def close(self):
        for log in self.logs:
            log.current.close()
            for old in log.retired:
                old.close()
            log.retired = []


def _unique(paths):
    seen = []
    for path in paths or ():
        if path and path not in seen:
            seen.append(path)
    return seen


def _shown_request(request):
    parts = request.split(" ")
    return " ".join(parts[:2])[:200] if len(parts) > 1 else (request or "-")[:200]
