# -*- coding: utf-8 -*-
# Copyright: lastgood.webstack contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Paths as the validators see them: the live path a server or PHP would use,
mapped through ``path_map`` to where a staged release really is, and checked
for existence with one cached ``stat`` per path.

Pure standard library; shared by the web_refs and php_refs modules."""

from __future__ import annotations

import errno
import os
import stat


class PathMap:
    """Maps live path prefixes to candidate prefixes.

    ``{'/srv/lastgood/shop/current': '/srv/lastgood/shop/releases/v2'}`` makes
    ``/srv/lastgood/shop/current/app/index.php`` be looked for at
    ``/srv/lastgood/shop/releases/v2/app/index.php``. Prefixes match whole path
    components; the longest matching prefix wins. A prefix of ``/`` maps every
    absolute path (as a chroot would)."""

    def __init__(self, mapping=None):
        entries = []
        for live, candidate in (mapping or {}).items():
            live = _strip_slash(os.path.normpath(live)) if live not in ("", "/") else "/"
            candidate = _strip_slash(os.path.normpath(candidate)) if candidate not in ("", "/") else "/"
            entries.append((live, candidate))
        # Longest first, so the most specific prefix wins.
        self._entries = sorted(entries, key=lambda entry: len(entry[0]), reverse=True)
        self._inverse = sorted(((candidate, live) for live, candidate in self._entries),
                               key=lambda entry: len(entry[0]), reverse=True)

    def __bool__(self):
        return bool(self._entries)

    def apply(self, path):
        """Return where ``path`` (absolute, live) is to be looked for."""
        return _replace_prefix(path, self._entries)

    def switched_prefix(self, path, is_link=os.path.islink, lexists=os.path.lexists):
        """The part of ``path`` (absolute, live) that a switch of releases
        changes: its first ancestor that is a symbolic link where it is
        looked for; else the live prefix of this map it starts with when
        that is a link, or nothing yet, on this host (the ``current`` of a
        release being validated, before or at its first deploy). None when
        neither."""
        parts = path.split("/")
        for end in range(2, len(parts) + 1):
            prefix = "/".join(parts[:end])
            if is_link(self.apply(prefix)):
                return prefix
        for live, _candidate in self._entries:
            if live != "/" and (path == live or path.startswith(live + "/")):
                return live if is_link(live) or not lexists(live) else None
        return None

    def pairs(self):
        """``(live, candidate)`` of each prefix, the longest first."""
        return list(self._entries)

    def unapply(self, path):
        """Return the live path of a candidate path (the inverse of apply)."""
        return _replace_prefix(path, self._inverse)


def _replace_prefix(path, pairs):
    """``path`` with the first prefix of ``pairs`` (``(prefix, replacement)``,
    longest first) that it starts with, as whole components, replaced."""
    for prefix, replacement in pairs:
        if prefix == "/":
            return path if replacement == "/" else replacement + path
        if path == prefix:
            return replacement
        if path.startswith(prefix) and path[len(prefix)] == "/":
            return replacement + path[len(prefix):] if replacement != "/" else path[len(prefix):]
    return path


def _strip_slash(path):
    return path.rstrip("/") or "/"


def static_prefix(value, marker="$"):
    """Split a path that holds variables into the part before the first one.

    Returns ``(prefix, dynamic)``: ``('/var/www/', True)`` for
    ``/var/www/$host/public``; ``(value, False)`` when there is no variable."""
    index = value.find(marker)
    if index < 0:
        return value, False
    return value[:index], True


def static_prefix_dir(prefix):
    """The directory that must exist for any expansion of a path that starts
    with ``prefix``: ``/var/www/`` for both ``/var/www/`` and ``/var/www/site_``."""
    if not prefix.startswith("/"):
        return None
    if prefix.endswith("/"):
        return _strip_slash(prefix)
    return os.path.dirname(prefix) or "/"


class FileSystem:
    """Existence checks with one ``stat`` per distinct path. ``sockets``:
    unix socket paths that count as present although they are not there yet
    (those of PHP-FPM pools that come with the release being checked)."""

    __slots__ = ("_modes",)

    def __init__(self, sockets=()):
        self._modes = {path: stat.S_IFSOCK | 0o660 for path in sockets}

    def mode(self, path):
        """The ``st_mode`` of ``path`` (following symlinks), or None when it
        does not exist or cannot be reached."""
        try:
            return self._modes[path]
        except KeyError:
            pass
        try:
            mode = os.stat(path).st_mode
        except (OSError, ValueError):
            mode = None
        self._modes[path] = mode
        return mode

    def exists(self, path):
        return self.mode(path) is not None

    def is_dir(self, path):
        mode = self.mode(path)
        return mode is not None and stat.S_ISDIR(mode)

    def is_file(self, path):
        mode = self.mode(path)
        return mode is not None and stat.S_ISREG(mode)

    def is_socket(self, path):
        mode = self.mode(path)
        return mode is not None and stat.S_ISSOCK(mode)


def read_regular(path, limit):
    """The first ``limit`` + 1 bytes of the regular file ``path`` (one more
    than allowed, so the caller sees that there was more). Anything else
    raises OSError: a directory, and a FIFO or a device, which could block
    the read for ever or never end (/dev/zero); opened without blocking, so
    that opening a FIFO does not wait for a writer."""
    descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    with os.fdopen(descriptor, "rb") as handle:
        mode = os.fstat(descriptor).st_mode
        if stat.S_ISDIR(mode):
            raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), path)
        if not stat.S_ISREG(mode):
            raise OSError(errno.EINVAL, "not a regular file", path)
        return handle.read(limit + 1)


def describe_missing(path):
    """Why ``path`` cannot be used, in the words of a finding."""
    try:
        os.stat(path)
    except ValueError:
        return "is not a valid path (it holds a NUL byte)"
    except OSError as error:
        if error.errno == errno.ELOOP:
            return "is a symlink loop"
        if error.errno == errno.EACCES:
            return "cannot be reached (permission denied)"
        if error.errno == errno.ENOTDIR:
            return "does not exist (a parent is not a directory)"
        return "does not exist"
    return "exists"


OUTSIDE_ALLOWED_ROOTS = "outside allowed_roots"


class AllowedRoots:
    """The trees a configuration or PHP code may reach (``allowed_roots``).

    A path is inside when the file it reaches, with every symlink followed,
    is under one of the roots or under where ``path_map`` puts one of them,
    so a symlink in a release that leads to ``/etc/shadow`` is outside
    although its own path is not. No roots: every path is inside."""

    __slots__ = ("roots", "_real")

    def __init__(self, roots=(), path_map=None):
        path_map = path_map if isinstance(path_map, PathMap) else PathMap(path_map)
        self.roots = tuple(_strip_slash(os.path.normpath(root)) for root in roots or ())
        real = set()
        for root in self.roots:
            real.add(os.path.realpath(root))
            real.add(os.path.realpath(path_map.apply(root)))
        self._real = tuple(sorted(real))

    def __bool__(self):
        return bool(self.roots)

    def outside(self, checked):
        """None when ``checked`` (a path as looked for on the host) is inside;
        else the words of a finding: why it is not."""
        if not self.roots:
            return None
        real = os.path.realpath(checked)
        for root in self._real:
            if root == "/" or real == root or real.startswith(root + "/"):
                return None
        normal = os.path.normpath(checked)
        if real != normal:
            return "leads to %s, %s (%s)" % (real, OUTSIDE_ALLOWED_ROOTS, ", ".join(self.roots))
        return "is %s (%s)" % (OUTSIDE_ALLOWED_ROOTS, ", ".join(self.roots))
