# -*- coding: utf-8 -*-
# Copyright: lastgood.webstack contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A candidate copy of a web server's configuration directory in which a
staged release stands where the live one is, so that the server's own
config test can judge the release before it is switched in. Nothing live is
touched. Pure standard library."""

from __future__ import annotations

import glob
import os
import re
import shutil
import tempfile

from ansible_collections.lastgood.webstack.plugins.module_utils._common.paths import PathMap
from ansible_collections.lastgood.webstack.plugins.module_utils._webconf.loaded import loaded_files

MAX_CONFIG_FILE = 4 * 1024 * 1024
_GLOB_CHARS = re.compile(r"[*?\[]")


def apply_replacements(text, replacements):
    for old, new in replacements:
        text = text.replace(old, new)
    return text


def _live_prefix_replacements(path_map):
    """(old, new) pairs for path_map, longest live prefix first. Only the
    form with a trailing slash is rewritten (``/srv/a/current/``), so that a
    longer name such as ``/srv/a/current2/`` is left alone; a config that
    names the live prefix itself without a slash keeps it."""
    pairs = []
    for live in sorted(path_map, key=len, reverse=True):
        candidate = path_map[live].rstrip("/")
        live = live.rstrip("/")
        pairs.append((live + "/", candidate + "/"))
    return pairs


def rewrite_file(path, replacements, transform=None):
    """Apply ``replacements`` (``(old, new)`` text pairs), then ``transform``
    (text in, text out) when given, to the file at ``path``; a symbolic
    link's target gets the replacements. Large and binary files stay as
    they are."""
    if os.path.islink(path):
        target = os.readlink(path)
        new_target = apply_replacements(target, replacements)
        if new_target != target:
            os.unlink(path)
            os.symlink(new_target, path)
        return
    if os.path.getsize(path) > MAX_CONFIG_FILE:
        return
    with open(path, "rb") as handle:
        data = handle.read()
    if b"\0" in data:
        return
    text = data.decode("utf-8", "surrogateescape")
    new_text = apply_replacements(text, replacements)
    if transform is not None:
        new_text = transform(new_text)
    if new_text != text:
        with open(path, "wb") as handle:
            handle.write(new_text.encode("utf-8", "surrogateescape"))


def candidate_replacements(config_dir, copy, path_map):
    """What a candidate copy rewrites: ``config_dir`` to the copy, then each
    live prefix of ``path_map`` to its candidate."""
    return [(config_dir.rstrip("/") + "/", copy.rstrip("/") + "/")] + _live_prefix_replacements(path_map)


def make_candidate(config_dir, path_map, parent=None, into=None, transform=None):
    """Copy ``config_dir`` into a new temporary directory (or into the
    existing directory ``into``) and rewrite, in every file of the copy,
    ``config_dir`` to the copy and each live prefix of ``path_map`` to its
    candidate; then, when ``transform(path)`` gives a function for a file,
    that function (text in, text out). Returns the copy's path; the caller
    removes it."""
    config_dir = config_dir.rstrip("/")
    work = into or tempfile.mkdtemp(prefix="lastgood-candidate-", dir=parent)
    copy = os.path.join(work, os.path.basename(config_dir))
    try:
        shutil.copytree(config_dir, copy, symlinks=True)
        replacements = candidate_replacements(config_dir, copy, path_map)
        for directory, _dirs, files in os.walk(copy):
            for name in files:
                path = os.path.join(directory, name)
                rewrite_file(path, replacements, transform(path) if transform else None)
    except BaseException:
        shutil.rmtree(copy if into else work, ignore_errors=True)
        raise
    return copy


def inside(path, directory):
    return path == directory or path.startswith(directory.rstrip("/") + "/")


def materialize_outside_links(copy, replacements):
    """Replace each symbolic link in ``copy`` whose target lies outside it
    with a copy of what it points to, with ``replacements`` applied, so that
    everything the copy holds can be rewritten. Returns the files copied in
    (links into ``copy`` and dangling ones stay)."""
    copy = os.path.realpath(copy)
    brought = []
    for directory, dirs, files in os.walk(copy):
        for name in dirs + files:
            path = os.path.join(directory, name)
            if not os.path.islink(path):
                continue
            target = os.path.realpath(path)
            if inside(target, copy) or not os.path.exists(target):
                continue
            os.unlink(path)
            if os.path.isdir(target):
                shutil.copytree(target, path, symlinks=False)
                brought += [os.path.join(inner, each) for inner, _d, inner_files in os.walk(path)
                            for each in inner_files]
            else:
                shutil.copyfile(target, path)
                brought.append(path)
    for path in brought:
        rewrite_file(path, replacements)
    return brought


def bring_in(pattern, outside_dir, replacements):
    """Copy the files the include ``pattern`` (absolute, a glob) matches
    outside the copies to the same path under ``outside_dir``, with
    ``replacements`` applied. Returns the pattern under ``outside_dir`` and
    the files copied (a pattern that matches nothing still matches nothing
    there)."""
    brought = []
    for path in sorted(glob.glob(pattern)):
        target = outside_dir.rstrip("/") + os.path.abspath(path)
        if os.path.lexists(target):
            continue
        os.makedirs(os.path.dirname(target), exist_ok=True)
        if os.path.isdir(path):
            # Apache includes every file of a directory it is given.
            shutil.copytree(path, target, symlinks=False)
            brought += [os.path.join(inner, each) for inner, _d, files in os.walk(target) for each in files]
        elif os.path.isfile(path):
            shutil.copyfile(path, target)
            brought.append(target)
    for target in brought:
        rewrite_file(target, replacements)
    # The directories before the first glob exist there, as they may not
    # where they are looked for: PHP-FPM refuses a pattern whose directory is
    # missing but skips one that matches nothing.
    literal = []
    for part in pattern.split("/")[:-1]:
        if _GLOB_CHARS.search(part):
            break
        literal.append(part)
    os.makedirs(outside_dir.rstrip("/") + "/".join(literal), exist_ok=True)
    return outside_dir.rstrip("/") + pattern, brought


def translate_back(text, copy, config_dir):
    """Server output about the copy, in terms of the live directory."""
    return text.replace(copy.rstrip("/") + "/", config_dir.rstrip("/") + "/").replace(copy, config_dir)


# The server's own test on a candidate ----------------------------------------

DEFAULT_DIRS = {"nginx": "/etc/nginx", "apache": "/etc/apache2"}
SERVERS = ("nginx", "apache", "php-fpm")
_SBIN = ["/usr/sbin", "/usr/local/sbin"]


def _version_key(path):
    version = os.path.basename(os.path.dirname(path))
    return tuple(int(part) if part.isdigit() else 0 for part in version.split("."))


def php_fpm_dir():
    """The newest /etc/php/<version>/fpm, or None."""
    found = sorted(glob.glob("/etc/php/*/fpm"), key=_version_key)
    return found[-1] if found else None


def default_config_dir(server):
    return php_fpm_dir() if server == "php-fpm" else DEFAULT_DIRS[server]


def server_binary(get_bin_path, server, config_dir):
    """The binary of the server's test; ``get_bin_path(name, required,
    opt_dirs)`` as AnsibleModule's."""
    if server == "php-fpm":
        version = os.path.basename(os.path.dirname(config_dir))
        return (get_bin_path("php-fpm%s" % version, False, _SBIN)
                or get_bin_path("php-fpm", True, _SBIN))
    return get_bin_path("nginx" if server == "nginx" else "apache2ctl", True, _SBIN)


def test_command(server, binary, copy):
    """The argv and environment of the server's test on the copy: for nginx
    and Apache, a test that also says which files it loaded (``nginx -T``
    dumps them, ``-D DUMP_INCLUDES`` lists them)."""
    environ = {"LC_ALL": "C"}
    if server == "nginx":
        return [binary, "-T", "-q", "-c", os.path.join(copy, "nginx.conf")], environ
    if server == "php-fpm":
        cmd = [binary, "-t", "-y", os.path.join(copy, "php-fpm.conf")]
        if os.path.isfile(os.path.join(copy, "php.ini")):
            cmd += ["-c", os.path.join(copy, "php.ini")]
        return cmd, environ
    environ["APACHE_CONFDIR"] = copy
    return [binary, "-t", "-D", "DUMP_INCLUDES"], environ


def test_candidate(server, config_dir, path_map, binary, run_command, tmp_dir=None):
    """Run the server's own test on a candidate copy of ``config_dir`` with
    ``path_map`` applied. ``run_command(argv, environ_update)`` returns
    ``(rc, out, err)``. Returns ``(rc, output, cmd, files)``: the output in
    live paths, without nginx's dump and Apache's list of includes, and the
    configuration files the test loaded, as live paths (the copy's as
    ``config_dir``'s, the candidates' of ``path_map`` as their live prefix's;
    none for PHP-FPM, whose test does not list them). Raises OSError when
    the copy cannot be made."""
    config_dir = config_dir.rstrip("/")
    copy = make_candidate(config_dir, path_map, tmp_dir)
    try:
        cmd, environ = test_command(server, binary, copy)
        rc, out, err = run_command(cmd, environ)
    finally:
        shutil.rmtree(os.path.dirname(copy), ignore_errors=True)
    files, rest = loaded_files(server, out or "")
    live = PathMap(path_map)
    files = [live.unapply(translate_back(path, copy, config_dir)) for path in files]
    output = translate_back((err or "") + ("\n" if err and rest else "") + rest, copy, config_dir).strip()
    return rc, output, cmd, files
