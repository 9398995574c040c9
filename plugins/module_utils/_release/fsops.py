# -*- coding: utf-8 -*-
# Copyright: lastgood.webstack contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The file operations the registry is built on: atomic writes with fsync,
safe modes, the symlink swap that switches ``current``, and the copy of a
release tree that keeps nothing unsafe."""

from __future__ import annotations

import os
import shutil
import stat

from ansible_collections.lastgood.webstack.plugins.module_utils._release.layout import (
    ReleaseError,
    UNSAFE_MODE_BITS,
    _HASH_CHUNK,
)


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
