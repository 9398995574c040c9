# -*- coding: utf-8 -*-
# Copyright: lastgood.webstack contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the application may write: shared paths and writable paths.

A shared path (``app/uploads``, ``app/.env``) lives once per site in
``<site>/shared/<path>`` and every release links to it: at staging,
``releases/<id>/<path>`` becomes an absolute symlink to it, replacing what the
bundle holds there; a shared path that does not exist yet is seeded from the
bundle's copy, else created as an empty directory. A writable path is a glob
of paths inside the release (``app/cache/**``, ``app/var/*``) whose files the
application adds, changes and removes. Neither counts when a release is
checked against its manifest; the release's checksum stays the one of its
bundle as given. Pure standard library."""

from __future__ import annotations

import os
import re
import shutil
import stat

from ansible_collections.lastgood.webstack.plugins.module_utils._release.layout import (
    MANIFEST,
    PROBE_FILE,
    ReleaseError,
)

SHARED_DIR = "shared"
# Directories the collection creates for the application: its owner writes, others read.
APP_DIR_MODE = 0o755
_GLOB_CHARS = re.compile(r"[*?\[]")


def _check_relative(kind, path):
    if not isinstance(path, str) or not path.strip():
        raise ReleaseError("%s: %r is not a path inside the release" % (kind, path))
    if "\x00" in path or "\\" in path:
        raise ReleaseError("%s: %r holds a NUL or a backslash" % (kind, path))
    if path.startswith("/"):
        raise ReleaseError("%s: %s is absolute; give a path inside the release, such as app/uploads" % (kind, path))
    parts = path.rstrip("/").split("/")
    if ".." in parts:
        raise ReleaseError("%s: %s climbs out with ..; give a path inside the release, such as app/uploads"
                           % (kind, path))
    parts = [part for part in parts if part not in ("", ".")]
    if not parts:
        raise ReleaseError("%s: %r names the release itself; give a path inside it, such as app/uploads"
                           % (kind, path))
    if parts[0] in (MANIFEST, PROBE_FILE):
        raise ReleaseError("%s: %s is the release's own %s, which the application may not write"
                           % (kind, path, parts[0]))
    return "/".join(parts)


def glob_base(pattern):
    """The directory of a writable glob before its first wildcard
    (``app/cache`` for ``app/cache/**``), or the whole path without one."""
    base = []
    for part in pattern.split("/"):
        if _GLOB_CHARS.search(part):
            break
        base.append(part)
    return "/".join(base)


def glob_regex(pattern):
    """A compiled expression matching the release paths ``pattern`` names:
    ``*`` and ``?`` within one path segment, ``**`` as a whole segment any
    number of segments (none included; a trailing one also matches the
    directory before it), ``[...]`` as in the shell."""
    out = []
    parts = pattern.split("/")
    for index, part in enumerate(parts):
        last = index == len(parts) - 1
        if part == "**" and last:
            # Everything under the directory before it, and that directory itself.
            if out and out[-1].endswith("/"):
                out[-1] = out[-1][:-1]
                out.append("(?:/.*)?")
            else:
                out.append(".*")
            continue
        if part == "**":
            out.append("(?:[^/]+/)*")
            continue
        chunk, position = [], 0
        while position < len(part):
            char = part[position]
            if char == "*":
                chunk.append("[^/]*")
            elif char == "?":
                chunk.append("[^/]")
            elif char == "[":
                end = part.find("]", position + 2 if part[position + 1:position + 2] in ("!", "]") else position + 1)
                if end < 0:
                    chunk.append(re.escape(char))
                else:
                    inner = part[position + 1:end]
                    if inner.startswith("!"):
                        inner = "^" + inner[1:]
                    chunk.append("[%s]" % inner.replace("\\", "\\\\"))
                    position = end
            else:
                chunk.append(re.escape(char))
            position += 1
        out.append("".join(chunk) + ("" if last else "/"))
    return re.compile("^" + "".join(out) + "$")


def _inside(path, directory):
    return path == directory or path.startswith(directory + "/")


def check_paths(shared_paths, writable_paths):
    """The shared paths and writable globs, normalized (no ``./``, no
    trailing ``/``, in the order given, duplicates dropped); a clear
    ReleaseError for what a release cannot have: an absolute path, ``..``,
    the release itself, its manifest or probe.json, a shared path inside
    another, or a path both shared and writable."""
    shared, writable = [], []
    for path in shared_paths or []:
        path = _check_relative("shared_paths", path)
        if _GLOB_CHARS.search(path):
            raise ReleaseError("shared_paths: %s holds a wildcard; name each shared file or directory "
                               "(globs belong in writable_paths)" % path)
        if path not in shared:
            shared.append(path)
    for path in writable_paths or []:
        path = _check_relative("writable_paths", path)
        try:
            glob_regex(path)
        except re.error as error:
            raise ReleaseError("writable_paths: %s is not a valid glob: %s" % (path, error))
        if path not in writable:
            writable.append(path)
    for one in shared:
        for other in shared:
            if one != other and _inside(one, other):
                raise ReleaseError("shared_paths: %s is inside %s, which is shared already; list only %s"
                                   % (one, other, other))
    for path in shared:
        for pattern in writable:
            base = glob_base(pattern)
            if glob_regex(pattern).match(path) or _inside(base, path) or _inside(path, base):
                raise ReleaseError("%s is both a shared path and under the writable path %s; a path is either "
                                   "shared (one copy for every release, in shared/) or writable (one copy per "
                                   "release), not both" % (path, pattern))
    return shared, writable


def ignored(relative, shared, writable):
    """Whether the manifest check leaves ``relative`` (a path in the
    release) out: the shared paths and whatever is under them, and what the
    writable globs match."""
    if any(_inside(relative, path) for path in shared):
        return True
    return any(glob_regex(pattern).match(relative) for pattern in writable)


def paths_of(record):
    """The shared paths and writable globs recorded for a release at staging."""
    return list(record.get("shared_paths") or []), list(record.get("writable_paths") or [])


def shared_root(site):
    return os.path.join(site.dir, SHARED_DIR)


def shared_target(site, path):
    return os.path.join(shared_root(site), *path.split("/"))


def _escape(site, path):
    """Why ``<site>/shared/<path>`` is not a safe place for the
    application's files, or None: a symlink (on the way or at the end) that
    leads out of the site's directory."""
    site_real = os.path.realpath(site.dir)
    resolved = os.path.realpath(shared_target(site, path))
    if not _inside(resolved, site_real):
        return "resolves to %s, outside the site's directory %s through a symlink" % (resolved, site.dir)
    return None


def _kind(path):
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return None
    if stat.S_ISLNK(mode):
        return "symlink"
    if stat.S_ISDIR(mode):
        return "directory"
    if stat.S_ISREG(mode):
        return "file"
    return "special file"


def plan_shared(site, tree, shared):
    """What linking ``shared`` into the staged ``tree`` will do, checked
    before anything changes: ``[(path, seed)]`` where seed is ``"bundle"``
    (shared/<path> is created from the bundle's copy), ``"empty"`` (created
    as an empty directory) or None (it exists). Refused: a shared path that
    leaves the site through a symlink, a bundle path under a symlink of the
    bundle, and a shared path whose kind (file or directory) is not the
    bundle's."""
    plan = []
    for path in shared:
        escape = _escape(site, path)
        if escape is not None:
            raise ReleaseError("shared path %s: %s %s; a shared path must stay in the site's directory, nothing was "
                               "staged" % (path, shared_target(site, path), escape))
        parts = path.split("/")
        for depth in range(1, len(parts)):
            if os.path.islink(os.path.join(tree, *parts[:depth])):
                raise ReleaseError("shared path %s: %s is a symlink in the bundle, so the link could not be placed "
                                   "in the release; name the path without it" % (path, "/".join(parts[:depth])))
            if os.path.lexists(os.path.join(tree, *parts[:depth])) and \
                    not os.path.isdir(os.path.join(tree, *parts[:depth])):
                raise ReleaseError("shared path %s: %s is a file in the bundle, not a directory"
                                   % (path, "/".join(parts[:depth])))
        bundle_kind = _kind(os.path.join(tree, *parts))
        if bundle_kind == "symlink":
            bundle_kind = None
        shared_kind = _kind(shared_target(site, path))
        if shared_kind == "symlink":
            shared_kind = "directory" if os.path.isdir(shared_target(site, path)) else "file"
        if shared_kind is not None and bundle_kind is not None and shared_kind != bundle_kind:
            raise ReleaseError("shared path %s: %s is a %s but the bundle has a %s there; make them agree (move "
                               "or remove the one in shared/), nothing was staged" % (
                                   path, shared_target(site, path), shared_kind, bundle_kind))
        if shared_kind is not None:
            plan.append((path, None))
        elif bundle_kind in ("file", "directory"):
            plan.append((path, "bundle"))
        else:
            plan.append((path, "empty"))
    return plan


def _chown_tree(path, uid, gid):
    if uid == -1 and gid == -1:
        return
    os.lchown(path, uid, gid)
    if os.path.isdir(path) and not os.path.islink(path):
        for directory, dirs, files in os.walk(path):
            for name in dirs + files:
                os.lchown(os.path.join(directory, name), uid, gid)


def link_shared(site, tree, plan, uid=-1, gid=-1):
    """Link the shared paths of ``plan`` (see plan_shared) into the staged
    ``tree``: seed the missing ones in ``<site>/shared/`` (owned by
    ``uid``/``gid``, -1 leaves it), then replace the bundle's path with an
    absolute symlink to it. Returns what it did, one line each."""
    done = []
    for path, seed in plan:
        target = shared_target(site, path)
        source = os.path.join(tree, *path.split("/"))
        if seed is not None:
            parent = os.path.dirname(target)
            if not os.path.isdir(parent):
                os.makedirs(parent, APP_DIR_MODE)
            temporary = os.path.join(parent, ".%s.%d.seeding" % (os.path.basename(target), os.getpid()))
            if os.path.lexists(temporary):
                shutil.rmtree(temporary) if os.path.isdir(temporary) else os.unlink(temporary)
            if seed == "bundle" and os.path.isdir(source):
                shutil.copytree(source, temporary, symlinks=True)
            elif seed == "bundle":
                shutil.copy2(source, temporary)
            else:
                os.mkdir(temporary, APP_DIR_MODE)
                os.chmod(temporary, APP_DIR_MODE)
            _chown_tree(temporary, uid, gid)
            os.rename(temporary, target)
            done.append("created %s (%s)" % (target, "from the bundle" if seed == "bundle" else "empty"))
        if os.path.lexists(source):
            if os.path.isdir(source) and not os.path.islink(source):
                shutil.rmtree(source)
            else:
                os.unlink(source)
        parent = os.path.dirname(source)
        if not os.path.isdir(parent):
            os.makedirs(parent, APP_DIR_MODE)
        os.symlink(target, source)
    return done


def make_writable(tree, writable, uid=-1, gid=-1):
    """Give the directories the writable globs name in the staged ``tree``
    to ``uid``/``gid`` (-1 leaves it): the directory before each glob's
    first wildcard (created when the bundle has none) and every directory
    the glob matches. Returns the relative directories it handled."""
    handled = []
    for pattern in writable:
        base = glob_base(pattern)
        regex = glob_regex(pattern)
        if base and not os.path.lexists(os.path.join(tree, *base.split("/"))):
            os.makedirs(os.path.join(tree, *base.split("/")), APP_DIR_MODE)
        start = os.path.join(tree, *base.split("/")) if base else tree
        if os.path.islink(start) or not os.path.isdir(start):
            continue
        found = [base] if base else []
        for directory, dirs, _files in os.walk(start):
            relative_dir = os.path.relpath(directory, tree).replace(os.sep, "/")
            for name in dirs:
                relative = name if relative_dir == "." else relative_dir + "/" + name
                if not os.path.islink(os.path.join(directory, name)) and regex.match(relative):
                    found.append(relative)
        for relative in found:
            if relative not in handled:
                handled.append(relative)
                if uid != -1 or gid != -1:
                    os.lchown(os.path.join(tree, *relative.split("/")), uid, gid)
    return handled


def wrong_links(site, root, shared):
    """The shared paths of the release at ``root`` that are no longer the
    link to their place in ``<site>/shared/``."""
    wrong = []
    for path in shared:
        link = os.path.join(root, *path.split("/"))
        if not os.path.islink(link) or os.readlink(link) != shared_target(site, path):
            wrong.append(path)
    return wrong


def resolve_ids(owner, group, lookup_user, lookup_group):
    """``(uid, gid)`` for the owner and group names or ids the options give
    (-1 for one not given). ``lookup_user(name)`` and ``lookup_group(name)``
    return the id or raise KeyError (pwd.getpwnam/grp.getgrnam)."""
    def one(value, lookup, what):
        if value is None or value == "":
            return -1
        if str(value).isdigit():
            return int(value)
        try:
            return lookup(str(value))
        except KeyError:
            raise ReleaseError("writable_%s %s does not exist on this host; create it first (PHP-FPM's pool user "
                               "is www-data on Debian)" % (what, value))
    return one(owner, lookup_user, "owner"), one(group, lookup_group, "group")
