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
import shutil
import tempfile

from ansible_collections.lastgood.webstack.plugins.module_utils._common.paths import PathMap
from ansible_collections.lastgood.webstack.plugins.module_utils._webconf.loaded import loaded_files

MAX_CONFIG_FILE = 4 * 1024 * 1024


def _rewrite(text, replacements):
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


def make_candidate(config_dir, path_map, parent=None):
    """Copy ``config_dir`` into a new temporary directory and rewrite, in
    every file of the copy, ``config_dir`` to the copy and each live prefix
    of ``path_map`` to its candidate. Returns the copy's path; the caller
    removes it."""
    config_dir = config_dir.rstrip("/")
    work = tempfile.mkdtemp(prefix="lastgood-candidate-", dir=parent)
    copy = os.path.join(work, os.path.basename(config_dir))
    try:
        shutil.copytree(config_dir, copy, symlinks=True)
        replacements = [(config_dir + "/", copy + "/")] + _live_prefix_replacements(path_map)
        for directory, _dirs, files in os.walk(copy):
            for name in files:
                path = os.path.join(directory, name)
                if os.path.islink(path):
                    target = os.readlink(path)
                    new_target = _rewrite(target, replacements)
                    if new_target != target:
                        os.unlink(path)
                        os.symlink(new_target, path)
                    continue
                if os.path.getsize(path) > MAX_CONFIG_FILE:
                    continue
                with open(path, "rb") as handle:
                    data = handle.read()
                if b"\0" in data:
                    continue
                text = data.decode("utf-8", "surrogateescape")
                new_text = _rewrite(text, replacements)
                if new_text != text:
                    with open(path, "wb") as handle:
                        handle.write(new_text.encode("utf-8", "surrogateescape"))
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return copy


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
