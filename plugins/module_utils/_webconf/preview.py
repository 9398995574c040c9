# -*- coding: utf-8 -*-
# Copyright: lastgood.webstack contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A preview of a staged release, served by the host's real nginx or Apache
and PHP-FPM on a loopback-only listener before ``current`` moves to it, so
that a release that fails there is marked bad having served no production
request.

Interface::

    preview = start(server, path_map, get_bin_path, run_command,
                    config_dir=None, php_fpm_config_dir=None, port=None,
                    tmp_dir=None, timeout=10.0)
    with preview:                       # or try/finally preview.stop()
        preview.url_for("http://127.0.0.1/index.php?x=1")
        # -> "http://127.0.0.1:<port>/index.php?x=1": probe it with the Host the site answers to
        preview.error_output()          # tail of the preview's error logs, in live paths
    preview.address, preview.port, preview.startup_ms

- ``server``: ``nginx`` or ``apache``; ``config_dir``: its configuration
  (``/etc/nginx``, ``/etc/apache2`` by default); ``php_fpm_config_dir``: the
  PHP-FPM that serves the site (``/etc/php/8.2/fpm``), None for a site
  without one.
- ``path_map``: ``{live prefix: release dir}``, as ``config_test`` takes it,
  e.g. ``{"/srv/lastgood/demo/current": "/srv/lastgood/demo/releases/v2"}``;
  the site role's ``curren[t]`` glob of the same prefix is mapped too.
- ``get_bin_path(name, required, opt_dirs)`` and ``run_command(argv,
  environ_update) -> (rc, out, err)``, as AnsibleModule's.
- ``port``: a free loopback port is chosen unless one is given. Every
  listener of the live configuration becomes this one port: a request
  chooses its site by its Host header, as on the live ports.

``start`` makes candidate copies (see candidate.py) of the web server's and
PHP-FPM's configuration with ``path_map`` applied, rewrites them
(preview_rewrite.py) so that nothing of the preview can touch anything live
(listeners, pool sockets, pid files, logs, lock, run, temporary and cache
directories all in the preview's own directory), starts PHP-FPM and the web
server from them and waits until the port accepts connections and the pool
sockets exist. It needs root, as the live servers do. Everything is kept
in ``/run/lastgood-preview`` (``<tmp_dir>/lastgood-preview`` when given, a
directory root alone may write), one directory per preview; a preview left behind by a run that was killed is stopped and
removed at the next start. Any failure stops what started and raises
PreviewError, with the servers' own words in live paths.

Pure standard library (Linux ``/proc``)."""

from __future__ import annotations

import os
import re
import shutil
import socket
import stat
import tempfile
import time
from urllib.parse import urlsplit, urlunsplit

from ansible_collections.lastgood.webstack.plugins.module_utils._webconf import candidate
from ansible_collections.lastgood.webstack.plugins.module_utils._webconf import preview_process as process
from ansible_collections.lastgood.webstack.plugins.module_utils._webconf.apache_parse import read_envvars
from ansible_collections.lastgood.webstack.plugins.module_utils._webconf.fpm import pool_listens
from ansible_collections.lastgood.webstack.plugins.module_utils._webconf.preview_rewrite import (
    ADDRESS,
    Layout,
    rewrite_apache,
    rewrite_nginx,
    rewrite_php_fpm,
)

BASE_DIR = "/run/lastgood-preview"
LOG_TAIL_LINES = 40
# Tries with another free port when the one chosen was taken before the server bound it.
PORT_TRIES = 3
_ERROR_LOGS = ("nginx-error.log", "apache-error.log", "php-fpm.log", "php-errors.log", "fpm-slow.log")
_APACHE_SYNTAX_ERROR = re.compile(r"Syntax error on line (\d+) of (/[^\n]*?):[\n ]?")
_PORT_TAKEN = re.compile(r"Address already in use|\(98\)")
_SBIN = ["/usr/sbin", "/usr/local/sbin"]
_MAIN_FILE = {"nginx": "nginx.conf", "apache": "apache2.conf"}


class PreviewError(Exception):
    """A preview that could not start or serve, said for a person: what,
    where (``file:line`` of the live configuration when the server named
    one) and the server's own words."""

    def __init__(self, message, port_taken=False):
        super().__init__(message)
        self.port_taken = port_taken


def file_line(text):
    """Apache's ``Syntax error on line N of FILE:`` as ``FILE:N:``, as nginx
    and PHP-FPM say where."""
    return _APACHE_SYNTAX_ERROR.sub(r"\2:\1: ", text)


def previews_dir(tmp_dir=None):
    """The directory that holds the previews, made when missing: BASE_DIR,
    or ``lastgood-preview`` in ``tmp_dir``. What is in it is stopped and
    removed when stale, so it must be root's alone."""
    base = os.path.join(tmp_dir, "lastgood-preview") if tmp_dir else BASE_DIR
    try:
        os.makedirs(base, mode=0o711, exist_ok=True)
        info = os.lstat(base)
    except OSError as error:
        raise PreviewError("cannot make the preview directory %s: %s" % (base, error.strerror))
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != 0 or info.st_mode & 0o022:
        raise PreviewError("%s is not a directory that root alone can write (owner uid %d, mode %o): "
                           "previews are not started there" % (base, info.st_uid, stat.S_IMODE(info.st_mode)))
    return base


def free_port():
    """A loopback port no one listens on now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((ADDRESS, 0))
        return probe.getsockname()[1]


def with_glob_forms(path_map):
    """``path_map`` with each live prefix also as the site role's include
    writes it for PHP-FPM (``/srv/lastgood/demo/curren[t]``)."""
    mapped = dict(path_map)
    for live, release in path_map.items():
        live = live.rstrip("/")
        if live and "[" not in live:
            mapped.setdefault("%s[%s]" % (live[:-1], live[-1]), release)
    return mapped


def start(server, path_map, get_bin_path, run_command, config_dir=None, php_fpm_config_dir=None, port=None,
          tmp_dir=None, timeout=10.0):
    """Start a preview (see the module's docstring); returns a Preview."""
    began = time.monotonic()
    if server not in _MAIN_FILE:
        raise PreviewError("server must be nginx or apache, not %r" % (server,))
    if os.geteuid() != 0:
        raise PreviewError("a preview starts %s and PHP-FPM as the live ones run, as root; this runs as uid %d: "
                           "run it with become" % (server, os.geteuid()))
    config_dir = (config_dir or candidate.DEFAULT_DIRS[server]).rstrip("/")
    for directory in filter(None, (config_dir, php_fpm_config_dir)):
        if not os.path.isdir(directory):
            raise PreviewError("%s is not a directory: no configuration to preview" % directory)
    base = previews_dir(tmp_dir)
    process.clean_stale(base)
    tries = 1 if port else PORT_TRIES
    for attempt in range(1, tries + 1):
        try:
            preview = Preview(server, path_map, config_dir, php_fpm_config_dir, port or free_port(), base)
        except OSError as error:
            raise PreviewError("cannot make a preview directory in %s: %s" % (base, error.strerror))
        try:
            preview._start(get_bin_path, run_command, timeout)
        except PreviewError as error:
            preview.stop()
            if error.port_taken and attempt < tries:
                continue
            raise
        except BaseException:
            preview.stop()
            raise
        preview.startup_ms = round((time.monotonic() - began) * 1000.0, 1)
        return preview
    raise PreviewError("no free port")  # not reached: the last try raised


class Preview:
    """A running preview; ``stop()`` ends it (also on leaving a ``with``)."""

    def __init__(self, server, path_map, config_dir, php_fpm_config_dir, port, base):
        self.server = server
        self.address = ADDRESS
        self.port = port
        self.startup_ms = None
        self.path_map = dict(path_map)
        self.config_dir = config_dir
        self.php_fpm_config_dir = php_fpm_config_dir.rstrip("/") if php_fpm_config_dir else None
        self.run_dir = tempfile.mkdtemp(prefix="p-", dir=base)
        self._stopped = False
        self._final_output = ""
        self._copies = []           # (copy, live config dir)
        self._pending = []          # files brought in, to rewrite
        self._replacements = []
        # The workers (www-data) reach the pool sockets and temporary files through it.
        os.chmod(self.run_dir, 0o711)
        process.write_owner(self.run_dir)
        for name in ("logs", "sock", "tmp", "cache", "lock", "run", "outside"):
            os.mkdir(os.path.join(self.run_dir, name), 0o711)
        self.layout = Layout(self.run_dir, port, self._relocate_include)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.stop()
        return False

    # Configuration -------------------------------------------------------

    def _relocate_include(self, pattern):
        """An include outside the copies, brought in so it can be rewritten."""
        if not pattern.startswith("/") or candidate.inside(pattern, self.run_dir):
            return pattern
        relocated, brought = candidate.bring_in(pattern, os.path.join(self.run_dir, "outside"),
                                                self._replacements)
        self._pending += brought
        return relocated

    def _prepare(self, config_dir, rewrite, main=None):
        """A rewritten candidate copy of ``config_dir`` and the files
        rewritten: ``rewrite(text, main)`` is applied to each file that
        ``rewrite.wanted(path)`` chooses and to those brought in."""
        path_map = with_glob_forms(self.path_map)
        copy = os.path.join(self.run_dir, os.path.basename(config_dir))
        main_path = os.path.join(copy, main) if main else None
        # Read by _relocate_include while the files are rewritten.
        self._replacements = candidate.candidate_replacements(config_dir, copy, path_map)
        rewritten = []

        def transform(path):
            if os.path.islink(path) or not rewrite.wanted(path):
                return None
            rewritten.append(path)
            return lambda text: rewrite(text, path == main_path)
        candidate.make_candidate(config_dir, path_map, into=self.run_dir, transform=transform)
        self._copies.append((copy, config_dir))
        self._pending += [path for path in candidate.materialize_outside_links(copy, self._replacements)
                          if rewrite.wanted(path)]
        while self._pending:
            path = self._pending.pop(0)
            rewritten.append(path)
            candidate.rewrite_file(path, [], lambda text: rewrite(text, False))
        return copy, rewritten

    def _check_pools(self, files):
        """Every pool of the preview listens in the preview: PHP-FPM unlinks
        a unix socket before it binds it, so one live socket left in would be
        taken from the live pool."""
        sockets = self.layout.path("sock") + "/"
        for path in files:
            with open(path, encoding="utf-8", errors="surrogateescape") as handle:
                for line, pool, listen in pool_listens(handle.read()):
                    if not listen.startswith(sockets):
                        raise PreviewError("%s:%d: pool %s would listen on %s in the preview; not started" % (
                            self.to_live(path), line, pool, listen))

    def _start(self, get_bin_path, run_command, timeout):
        try:
            if self.php_fpm_config_dir:
                fpm_copy, fpm_files = self._prepare(self.php_fpm_config_dir, _FpmRewrite(self.layout))
                self._check_pools(fpm_files)
            web_copy, _files = self._prepare(self.config_dir, _WebRewrite(self.server, self.layout),
                                             _MAIN_FILE[self.server])
        except OSError as error:
            raise PreviewError("cannot make the preview's copy of the configuration: %s: %s" % (
                self.to_live(error.filename or ""), error.strerror))
        sockets = [path for _live, path in self.layout.sockets.items()]
        if self.php_fpm_config_dir:
            self._launch("PHP-FPM", self._php_fpm_command(get_bin_path, fpm_copy), run_command)
        self._launch(self.server, self._web_command(get_bin_path, run_command, web_copy), run_command)
        self._wait(sockets, timeout)

    def _php_fpm_command(self, get_bin_path, copy):
        binary = candidate.server_binary(get_bin_path, "php-fpm", self.php_fpm_config_dir)
        # error_log points into the preview so that a php.ini's error_log never
        # gets the preview's errors; the workers cannot write there, so PHP
        # hands its errors to the web server, as with Debian's php.ini, and
        # they are in the web server's preview log.
        cmd = [binary, "--fpm-config", os.path.join(copy, "php-fpm.conf"), "--pid", self.layout.path("php-fpm.pid"),
               "--daemonize", "-d", "error_log=%s" % self.layout.log("php-errors.log")]
        if os.path.isfile(os.path.join(copy, "php.ini")):
            cmd += ["-c", os.path.join(copy, "php.ini")]
        return cmd, {"LC_ALL": "C"}

    def _web_command(self, get_bin_path, run_command, copy):
        if self.server == "nginx":
            binary = get_bin_path("nginx", True, _SBIN)
            cmd = [binary, "-c", os.path.join(copy, "nginx.conf")]
            # nginx opens its built-in error log before it reads the
            # configuration; -e (1.19.5) keeps it off the live one.
            if process.nginx_has_error_log_option(binary, run_command):
                cmd += ["-e", self.layout.log("nginx-error.log")]
            return cmd, {"LC_ALL": "C"}
        binary = get_bin_path("apache2", True, _SBIN)
        environ = read_envvars(os.path.join(copy, "envvars"))
        environ.update({
            "APACHE_CONFDIR": copy,
            "APACHE_PID_FILE": self.layout.path("apache2.pid"),
            "APACHE_RUN_DIR": self.layout.path("run"),
            "APACHE_LOCK_DIR": self.layout.path("lock"),
            "APACHE_LOG_DIR": self.layout.path("logs"),
            "LC_ALL": "C",
        })
        environ.setdefault("APACHE_RUN_USER", "www-data")
        environ.setdefault("APACHE_RUN_GROUP", "www-data")
        process.give_to_user(self.layout.path("lock"), environ["APACHE_RUN_USER"])
        return [binary, "-d", copy, "-f", os.path.join(copy, "apache2.conf"), "-k", "start"], environ

    def _launch(self, name, command, run_command):
        cmd, environ = command
        rc, out, err = run_command(cmd, environ)
        if rc != 0:
            said = file_line(self.to_live("\n".join(filter(None, ((err or "").strip(), (out or "").strip())))))
            # What went to the logs only, when the server said nothing.
            said = said or self.error_output() or "no output"
            raise PreviewError("%s did not start for the preview on %s:%d (exit %d): %s" % (
                name, self.address, self.port, rc, said), port_taken=bool(_PORT_TAKEN.search(said)))

    def _wait(self, sockets, timeout):
        deadline = time.monotonic() + timeout
        while True:
            missing = [path for path in sockets if not os.path.exists(path)]
            if not missing and process.accepts(self.address, self.port):
                return
            if time.monotonic() >= deadline:
                what = ("the pool sockets %s do not exist" % ", ".join(self.to_live(path) for path in missing)
                        if missing else "nothing accepts connections on %s:%d" % (self.address, self.port))
                logs = self.error_output()
                raise PreviewError("the preview did not come up within %gs: %s%s" % (
                    timeout, what, "; its logs: " + logs if logs else ""),
                    port_taken=bool(_PORT_TAKEN.search(logs)))
            time.sleep(0.01)

    # Use -------------------------------------------------------------------

    def url_for(self, url):
        """The preview's URL of a URL of the site: ``http(s)://host[:port]/path?q``
        becomes ``http://127.0.0.1:<port>/path?q`` (every listener is this port,
        plain HTTP; send the Host header the site answers to)."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https"):
            raise PreviewError("url %r: only http:// and https:// URLs can be previewed" % url)
        return urlunsplit(("http", "%s:%d" % (self.address, self.port), parts.path or "/", parts.query, ""))

    def to_live(self, text):
        """``text`` with the preview's paths as the live paths they stand for."""
        pairs = [(path, live) for live, path in self.layout.sockets.items()]
        for copy, live in self._copies:
            pairs += [(copy + "/", live + "/"), (copy, live)]
        pairs.append((os.path.join(self.run_dir, "outside") + "/", "/"))
        for live, release in sorted(self.path_map.items(), key=lambda item: len(item[1]), reverse=True):
            pairs.append((release.rstrip("/") + "/", live.rstrip("/") + "/"))
        return candidate.apply_replacements(text, pairs)

    def error_output(self):
        """The last lines of the preview's error logs (web server, PHP-FPM,
        PHP), in live paths; after stop(), what they held then."""
        if self._stopped:
            return self._final_output
        parts = []
        for name in _ERROR_LOGS:
            lines = process.tail(self.layout.log(name), LOG_TAIL_LINES)
            if lines:
                parts.append("%s:\n%s" % (name, "\n".join(lines)))
        return self.to_live("\n".join(parts))

    def stop(self):
        """Stop the preview's servers (TERM, then KILL after a short wait)
        and remove its directory. Safe to call again."""
        if self._stopped:
            return
        self._final_output = self.error_output()
        self._stopped = True
        process.stop_preview(self.run_dir)
        shutil.rmtree(self.run_dir, ignore_errors=True)


class _WebRewrite:
    def __init__(self, server, layout):
        self.rewrite = rewrite_nginx if server == "nginx" else rewrite_apache
        self.layout = layout

    def wanted(self, path):
        return True

    def __call__(self, text, main):
        return self.rewrite(text, self.layout, main)


class _FpmRewrite:
    """PHP-FPM's own files only: php.ini and conf.d are PHP's, in another syntax."""

    def __init__(self, layout):
        self.layout = layout

    def wanted(self, path):
        return path.endswith(".conf")

    def __call__(self, text, main):
        return rewrite_php_fpm(text, self.layout)
