# -*- coding: utf-8 -*-
# Copyright: lastgood.webstack contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a release's files are: its manifest (a digest per file, links that
stay inside the release), its size, its ``probe.json``, and the check of a
release on disk against the manifest recorded when it was staged."""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat

from ansible_collections.lastgood.webstack.plugins.module_utils._release.layout import (
    MANIFEST,
    MAX_PROBE_BYTES,
    PROBE_FILE,
    PROBE_KEYS,
    ReleaseError,
    _HASH_CHUNK,
    _UNSAFE_NAME,
    shown_name,
)
from ansible_collections.lastgood.webstack.plugins.module_utils._release.registry import require_release
from ansible_collections.lastgood.webstack.plugins.module_utils._release.shared import ignored, paths_of, wrong_links


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


def _file_digest(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while True:
            chunk = handle.read(_HASH_CHUNK)
            if not chunk:
                break
            digest.update(chunk)
    return digest.hexdigest()


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
                                       "in the manifest; rename it (in %s)" % (shown_name(relative), root))
                relative = shown_name(relative)
            mode = os.lstat(path).st_mode
            if stat.S_ISLNK(mode):
                target = os.readlink(path)
                if strict:
                    escape = link_escape(root, relative, target)
                    if escape is not None:
                        raise ReleaseError(
                            "%s is a symlink to %s, outside the release (%s): a release may only link to its own "
                            "files; nothing was staged. Replace the link with the files, or refer to the outside "
                            "path from the server's config (in %s)" % (relative, shown_name(target), escape, root))
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


def compare_manifest(recorded_text, actual_lines, shared=(), writable=()):
    """Differences between a recorded manifest and the tree: lists of
    changed, missing and added paths. Paths under the ``shared`` paths and
    those the ``writable`` globs match are left out on both sides (see
    shared.ignored): the application writes them."""
    recorded = _manifest_entries(recorded_text)
    actual = _manifest_entries("".join(actual_lines))
    if shared or writable:
        recorded = {path: digest for path, digest in recorded.items() if not ignored(path, shared, writable)}
        actual = {path: digest for path, digest in actual.items() if not ignored(path, shared, writable)}
    changed = sorted(path for path in recorded if path in actual and actual[path] != recorded[path])
    missing = sorted(path for path in recorded if path not in actual)
    added = sorted(path for path in actual if path not in recorded)
    return {"changed": changed, "missing": missing, "added": added}


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


def format_size(count):
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if count < 1024 or unit == "GiB":
            return ("%d %s" if unit == "bytes" else "%.1f %s") % (count, unit)
        count /= 1024.0


def verify(site, state, release_id):
    """Recompute the manifest of a staged release; the differences, or None.
    The shared and writable paths recorded for the release at staging are
    left out, as long as each shared path is still its link to shared/."""
    record = require_release(state, release_id)
    path = site.release_dir(release_id)
    if not os.path.isdir(path):
        return {"changed": [], "missing": ["(the whole release directory %s)" % path], "added": []}
    try:
        recorded = site.read_manifest(release_id)
    except OSError:
        return {"changed": [], "missing": [MANIFEST], "added": []}
    if checksum_of(recorded) != record.get("checksum"):
        return {"changed": [MANIFEST], "missing": [], "added": []}
    shared, writable = paths_of(record)
    differences = compare_manifest(recorded, manifest_lines(path, strict=False), shared, writable)
    # A shared path is the application's only while it is the link to shared/.
    differences["changed"] = sorted(differences["changed"] + [
        "%s (no longer the link to %s)" % (link, "shared/" + link) for link in wrong_links(site, path, shared)])
    if any(differences.values()):
        return differences
    return None


def describe_differences(differences, limit=5):
    """``changed: a, b; missing: c`` for what verify found."""
    return "; ".join("%s: %s" % (kind, ", ".join(paths[:limit]) + (" ..." if len(paths) > limit else ""))
                     for kind, paths in differences.items() if paths)
