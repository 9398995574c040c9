# -*- coding: utf-8 -*-
# Copyright: lastgood.webstack contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The rewriting that turns candidate copies of nginx's, Apache's and
PHP-FPM's configuration into a preview that can never touch anything live:
every listener on one loopback port, every pool on a unix socket of the
preview, pid files, logs, lock, run, temporary and cache directories in the
preview's own directory, and the web server's FastCGI addresses of the live
pools pointed at the preview's sockets.

Each rewriter takes one file's text and returns the new text; lines keep
their numbers (what is dropped is blanked or commented out, what is added
goes on an existing line or at the end), so a server's ``file:line`` still
points at the line of the live file. Includes that reach outside the copy
are handed to ``layout.relocate_include``, which brings the files in and
returns the pattern to use instead. Pure standard library."""

from __future__ import annotations

import hashlib
import re

from ansible_collections.lastgood.webstack.plugins.module_utils._webconf.apache_parse import split_args
from ansible_collections.lastgood.webstack.plugins.module_utils._webconf.nginx_parse import _TOKEN, _lua_block_end

ADDRESS = "127.0.0.1"
# sun_path holds 108 bytes with its NUL.
MAX_SOCKET_PATH = 107
_LOOPBACK = ("127.0.0.1", "localhost", "::1", "[::1]")
_ANY = ("", "*", "0.0.0.0", "::", "[::]")


class Layout:
    """Where a preview keeps what it writes, and what it rewrites to.
    ``run_dir``: the preview's directory; ``port``: its listener;
    ``relocate_include(pattern)``: the include pattern to use instead of one
    outside the copies (identity by default)."""

    def __init__(self, run_dir, port, relocate_include=None):
        self.run_dir = run_dir.rstrip("/")
        self.port = port
        self.listen = "%s:%d" % (ADDRESS, port)
        self.relocate_include = relocate_include or (lambda pattern: pattern)
        self.sockets = SocketMap()

    def path(self, *parts):
        return "/".join((self.run_dir,) + parts)

    def log(self, name):
        return self.path("logs", name)

    def pool_socket(self, pool, suffix=""):
        name = re.sub(r"[^A-Za-z0-9._-]", "_", pool) + suffix
        path = self.path("sock", name + ".sock")
        if len(path.encode("utf-8")) > MAX_SOCKET_PATH:
            path = self.path("sock", hashlib.sha1(name.encode("utf-8")).hexdigest()[:16] + ".sock")
        return path


def _split_host_port(address):
    """``(host, port)`` of ``host:port``, ``[v6]:port`` or a bare port;
    None for what is not a TCP address."""
    match = re.match(r"^(?:(\[[^\]]*\]|[^:\[\]]*):)?(\d+)$", address)
    if not match:
        return None
    return (match.group(1) or "").lower(), int(match.group(2))


class SocketMap:
    """The live addresses PHP-FPM's pools listen on, each with the unix
    socket its pool has in the preview. A pool on a TCP port matches the web
    server's address of that port on the pool's host, on loopback when the
    pool listens on every address."""

    def __init__(self):
        self.unix = {}
        self.tcp = {}

    def add(self, live, preview):
        if live.startswith("/"):
            self.unix[live] = preview
            return
        host_port = _split_host_port(live)
        if host_port:
            self.tcp[host_port] = preview

    def items(self):
        return list(self.unix.items()) + [("%s:%d" % key if key[0] else str(key[1]), path)
                                          for key, path in self.tcp.items()]

    def for_unix(self, path):
        return self.unix.get(path)

    def for_tcp(self, address):
        host_port = _split_host_port(address)
        if not host_port:
            return None
        host, port = host_port
        for (pool_host, pool_port), path in self.tcp.items():
            if pool_port != port:
                continue
            if pool_host == host or (host in _LOOPBACK and (pool_host in _ANY or pool_host in _LOOPBACK)):
                return path
        return None


def _apply(text, edits):
    """``text`` with ``(start, end, replacement)`` edits applied."""
    for start, end, replacement in sorted(edits, key=lambda edit: (edit[0], edit[1]), reverse=True):
        text = text[:start] + replacement + text[end:]
    return text


def _blank(text, start, end):
    """The span as spaces, its newlines kept (the lines keep their numbers)."""
    return re.sub(r"[^\n]", " ", text[start:end])


# nginx ------------------------------------------------------------------------

# Directives whose every copy is dropped; the preview sets its own where it needs one.
_NGINX_DROPPED = frozenset((
    "listen", "pid", "daemon", "master_process", "worker_processes", "lock_file", "ssl",
    "client_body_temp_path", "proxy_temp_path", "fastcgi_temp_path", "uwsgi_temp_path", "scgi_temp_path",
))
# Blocks of servers other than HTTP's: their listeners would be live ports.
_NGINX_DROPPED_BLOCKS = frozenset(("stream", "mail"))
# Blocks of data, not directives: a key there named listen or server is a key.
_NGINX_DATA_BLOCKS = frozenset(("map", "geo", "types", "split_clients", "charset_map", "match"))
_NGINX_TEMP_PATHS = ("client_body_temp_path", "proxy_temp_path", "fastcgi_temp_path", "uwsgi_temp_path",
                     "scgi_temp_path")
_NGINX_CACHES = frozenset(("proxy_cache_path", "fastcgi_cache_path", "uwsgi_cache_path", "scgi_cache_path"))


def _nginx_tokens(text):
    """``(kind, start, end, value)`` of each token: kind ``;``, ``{``, ``}``
    or ``word`` (start and end span the token with its quotes). The body of
    a ``*_by_lua_block`` is skipped: it is Lua, not nginx's syntax."""
    pos = 0
    length = len(text)
    last_word = ""
    while pos < length:
        match = _TOKEN.match(text, pos)
        if match is None:
            return
        group = match.lastindex
        start, end = match.start(group), match.end(group)
        pos = match.end()
        if group == 3 and last_word.endswith("_by_lua_block"):
            pos = _lua_block_end(text, pos, "<preview>", 0)
            yield ";", pos - 1, pos, ";"
        elif group in (2, 3, 4):
            kind = text[start]
            yield kind, start, end, kind
        else:
            quoted = group in (5, 6)
            yield "word", start - quoted, end + quoted, match.group(group)
            last_word = match.group(group)
            continue
        last_word = ""


def _nginx_fastcgi_address(value, layout, tcp):
    if value.startswith("unix:"):
        path = layout.sockets.for_unix(value[5:])
    else:
        path = layout.sockets.for_tcp(value) if tcp else None
    return "unix:" + path if path else None


def _nginx_directive(text, words, end, layout, edits):
    """The edits for one simple directive: ``words`` its ``(start, end,
    value)`` tokens, ``end`` the end of its ';'."""
    name = words[0][2]
    args = words[1:]
    if name in _NGINX_DROPPED:
        edits.append((words[0][0], end, _blank(text, words[0][0], end)))
    elif name == "error_log" and args:
        edits.append((args[0][0], args[0][1], layout.log("nginx-error.log")))
    elif name == "access_log" and args and args[0][2] != "off":
        edits.append((args[0][0], args[0][1], layout.log("nginx-access.log")))
    elif name in _NGINX_CACHES and args:
        digest = hashlib.sha1(args[0][2].encode("utf-8", "surrogateescape")).hexdigest()[:12]
        edits.append((args[0][0], args[0][1], layout.path("cache", digest)))
    elif name == "include" and args:
        relocated = layout.relocate_include(args[0][2])
        if relocated != args[0][2]:
            edits.append((args[0][0], args[0][1], relocated))
    else:
        for index, (start, stop, value) in enumerate(args):
            # A pool's TCP address only where FastCGI is spoken to it: elsewhere
            # host:port is anything.
            tcp = index == 0 and name in ("fastcgi_pass", "server")
            replacement = _nginx_fastcgi_address(value, layout, tcp)
            if replacement:
                edits.append((start, stop, replacement))


def rewrite_nginx(text, layout, main=False):
    """One nginx file of the preview. Every ``listen`` is dropped and each
    ``server`` block gets ``listen 127.0.0.1:<port>;`` (so no flag, default
    server or duplicate can fail it), ``stream`` and ``mail`` blocks are
    dropped, logs, temporary and cache paths go to the preview, FastCGI
    addresses of the live pools become the preview's sockets. ``main``: the
    file is nginx.conf, which gets the preview's ``pid`` and one worker."""
    edits = []
    stack = []
    words = []
    dropping = None     # (start, depth) of a block being dropped
    http_access_log = False
    if main:
        edits.append((0, 0, "pid %s; worker_processes 1; " % layout.path("nginx.pid")))
    for kind, start, end, value in _nginx_tokens(text):
        if kind == "word":
            words.append((start, end, value))
            continue
        if kind == ";" and words and dropping is None:
            http_access_log = http_access_log or (words[0][2] == "access_log" and stack == ["http"])
            if _NGINX_DATA_BLOCKS.intersection(stack):
                # A value there may still be the socket a fastcgi_pass $variable reaches.
                edits += [(start, stop, "unix:" + layout.sockets.for_unix(value[5:])) for start, stop, value
                          in words[1:] if value.startswith("unix:") and layout.sockets.for_unix(value[5:])]
            else:
                _nginx_directive(text, words, end, layout, edits)
        elif kind == "{":
            name = words[0][2] if words else ""
            stack.append(name)
            if dropping is not None:
                pass
            elif name in _NGINX_DROPPED_BLOCKS:
                dropping = (words[0][0], len(stack))
            elif name == "server":
                edits.append((end, end, " listen %s;" % layout.listen))
            elif name == "http":
                edits.append((end, end, "".join(" %s %s;" % (directive, layout.path("tmp", directive[:-10]))
                                                for directive in _NGINX_TEMP_PATHS)))
        elif kind == "}" and stack:
            if dropping is not None and len(stack) == dropping[1]:
                edits.append((dropping[0], end, _blank(text, dropping[0], end)))
                dropping = None
            elif stack == ["http"] and not http_access_log and dropping is None:
                edits.append((start, start, "access_log %s; " % layout.log("nginx-access.log")))
            stack.pop()
        words = []
    return _apply(text, edits)


# Apache -----------------------------------------------------------------------

# Directives dropped: the preview's one Listen and its -d take their place.
_APACHE_DROPPED = frozenset(("listen", "serverroot", "namevirtualhost"))
_APACHE_PATHS = {"pidfile": "apache2.pid", "scoreboardfile": "apache2.scoreboard", "defaultruntimedir": "run"}
_APACHE_ERROR_LOGS = frozenset(("errorlog",))
_APACHE_ACCESS_LOGS = frozenset(("customlog", "transferlog", "globallog", "forensiclog", "scriptlog", "cookielog"))
_APACHE_INCLUDES = frozenset(("include", "includeoptional"))
_APACHE_UNIX_FCGI = re.compile(r"unix:(/[^|\"'\s]+)\|")
_APACHE_TCP_FCGI = re.compile(r"(?<!\|)fcgi://([^/\"'\s|]+)")
_APACHE_SHM = re.compile(r"^((?:shmcb|shm|dbm|dc):)([^(\s]+)(.*)$", re.I)


def _physical_directives(text):
    """``(first, last, logical)`` line indexes and the joined text of each
    directive line (continuations joined; comments and blank lines left out)."""
    lines = text.split("\n")
    index = 0
    while index < len(lines):
        first = index
        part = lines[index].strip()
        if not part or part.startswith("#"):
            index += 1
            continue
        parts = []
        while part.endswith("\\") and not part.endswith("\\\\") and index + 1 < len(lines):
            parts.append(part[:-1])
            index += 1
            part = lines[index].strip()
        parts.append(part)
        yield first, index, "".join(parts)
        index += 1


def _quoted(value):
    return '"%s"' % value if re.search(r"[\s\"']", value) else value


def _apache_fcgi(line, layout):
    """FastCGI addresses of the live pools in one line as the preview's sockets."""
    def unix(match):
        path = layout.sockets.for_unix(match.group(1))
        return "unix:%s|" % path if path else match.group(0)

    def tcp(match):
        path = layout.sockets.for_tcp(match.group(1))
        return "unix:%s|%s" % (path, match.group(0)) if path else match.group(0)
    return _APACHE_TCP_FCGI.sub(tcp, _APACHE_UNIX_FCGI.sub(unix, line))


def _apache_line(name, args, line, layout):
    """The new text of one directive line, or None to comment it out, or
    ``line`` itself when it stays."""
    lower = name.lower()
    if lower in _APACHE_DROPPED:
        return None
    if lower == "<virtualhost":
        return "<VirtualHost %s>" % layout.listen
    if lower in _APACHE_PATHS:
        return "%s %s" % (name, layout.path(_APACHE_PATHS[lower]))
    if lower in _APACHE_ERROR_LOGS:
        return "%s %s" % (name, layout.log("apache-error.log"))
    if lower in _APACHE_ACCESS_LOGS and args:
        return " ".join([name, layout.log("apache-access.log")] + [_quoted(arg) for arg in args[1:]])
    if lower == "mutex" and args:
        mechanism = re.sub(r"^(file|fcntl|flock):.*$", r"\1:" + layout.path("lock"), args[0])
        return " ".join([name, mechanism] + args[1:])
    if lower == "sslengine":
        return "%s off" % name
    if lower in ("sslsessioncache", "sslstaplingcache") and args:
        shm = _APACHE_SHM.match(args[0])
        if shm:
            return "%s %s%s%s" % (name, shm.group(1), layout.path(lower), shm.group(3))
    if lower == "cacheroot":
        return "%s %s" % (name, layout.path("cache", "apache"))
    if lower in _APACHE_INCLUDES and args:
        relocated = layout.relocate_include(args[0])
        if relocated != args[0]:
            return " ".join([name, _quoted(relocated)] + args[1:])
    return _apache_fcgi(line, layout)


def rewrite_apache(text, layout, main=False):
    """One Apache file of the preview. ``Listen``, ``ServerRoot`` and
    ``NameVirtualHost`` are commented out, every ``<VirtualHost>`` is on
    127.0.0.1:<port>, ``SSLEngine`` is off, pid, scoreboard, run and lock
    paths, logs and caches go to the preview, FastCGI addresses of the live
    pools become the preview's sockets (``proxy:unix:...|fcgi://``,
    ``fcgi://host:port``). ``main``: the file is apache2.conf, which gets
    the preview's one ``Listen`` and its main pid file and error log at the
    end."""
    lines = text.split("\n")
    for first, last, logical in _physical_directives(text):
        words = logical.split(None, 1)
        name = words[0].rstrip(">")
        try:
            args = split_args(words[1].rstrip(">") if len(words) > 1 else "")
        except ValueError:
            args = []
        new = _apache_line(name, args, logical, layout)
        if new == logical:
            continue
        indent = lines[first][:len(lines[first]) - len(lines[first].lstrip())]
        if new is None:
            for index in range(first, last + 1):
                lines[index] = "#" + lines[index]
            continue
        lines[first] = indent + new
        for index in range(first + 1, last + 1):
            lines[index] = ""
    text = "\n".join(lines)
    if main:
        text += "%s# lastgood preview\nListen %s\nPidFile %s\nErrorLog %s\n" % (
            "" if text.endswith("\n") or not text else "\n", layout.listen, layout.path("apache2.pid"),
            layout.log("apache-error.log"))
    return text


# PHP-FPM ----------------------------------------------------------------------

_FPM_SECTION = re.compile(r"^\s*\[([^\]]+)\]\s*$")
_FPM_SETTING = re.compile(r"^(\s*)([A-Za-z0-9_.\[\]]+)(\s*=\s*)(.*?)\s*$")
_FPM_GLOBAL = {"pid": "php-fpm.pid", "error_log": "logs/php-fpm.log"}
_FPM_POOL_LOGS = {"slowlog": "fpm-slow.log", "access.log": "fpm-access.log",
                  "php_admin_value[error_log]": "php-errors.log", "php_value[error_log]": "php-errors.log"}
# Off in the preview: it would run as a service, not beside one.
_FPM_DROPPED = frozenset(("daemonize", "listen.allowed_clients", "systemd_interval"))


def _fpm_unquote(value):
    if not value.startswith(('"', "'")):
        value = value.split(";", 1)[0].strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1]
    return value


def _fpm_setting(section, key, value, layout, seen):
    """The new value of one setting, None to comment it out, or ``value``."""
    lower = key.lower()
    if lower in _FPM_DROPPED:
        return None
    if lower == "include":
        return layout.relocate_include(_fpm_unquote(value))
    if section is None:
        # A pool's listen in a file without a section (included into a pool)
        # would still bind, and first unlink, a live socket.
        if lower in ("listen", "pm.status_listen"):
            return None
        return layout.path(_FPM_GLOBAL[lower]) if lower in _FPM_GLOBAL else value
    if lower in ("listen", "pm", "pm.status_listen"):
        if (section, lower) in seen:
            return None
        seen.add((section, lower))
        if lower == "listen":
            layout.sockets.add(_fpm_unquote(value).replace("$pool", section), layout.pool_socket(section))
            return layout.pool_socket(section)
        if lower == "pm.status_listen":
            return layout.pool_socket(section, ".status")
        return "ondemand"
    if lower in _FPM_POOL_LOGS:
        return layout.log(_FPM_POOL_LOGS[lower])
    return value


def rewrite_php_fpm(text, layout):
    """One PHP-FPM file of the preview: the master's pid file and log in the
    preview, each pool's ``listen`` a unix socket of the preview (recorded
    in ``layout.sockets`` against the live address, ``$pool`` expanded),
    ``pm = ondemand`` so that no worker starts before a request, its logs in
    the preview, a second ``listen`` or ``pm`` of a pool commented out. A
    pool of this file without ``listen`` or ``pm`` gets them at the end, in
    its section opened again (PHP-FPM continues a pool of the same name)."""
    lines = text.split("\n")
    section = None
    sections = []
    seen = set()
    for index, line in enumerate(lines):
        stripped = line.strip()
        if not stripped or stripped[0] in ";#":
            continue
        header = _FPM_SECTION.match(line)
        if header:
            name = header.group(1).strip()
            section = None if name.lower() == "global" else name
            if section is not None and section not in sections:
                sections.append(section)
            continue
        setting = _FPM_SETTING.match(line)
        if not setting:
            continue
        indent, key, equals, value = setting.groups()
        new = _fpm_setting(section, key, value, layout, seen)
        if new is None:
            lines[index] = ";" + line
        elif new != value:
            lines[index] = "%s%s%s%s" % (indent, key, equals, new)
    missing = []
    for pool in sections:
        settings = []
        if (pool, "listen") not in seen:
            settings.append("listen = %s" % layout.pool_socket(pool))
        if (pool, "pm") not in seen:
            settings.append("pm = ondemand")
        if settings:
            missing.append("[%s]\n%s\n" % (pool, "\n".join(settings)))
    text = "\n".join(lines)
    if missing:
        text += ("" if text.endswith("\n") else "\n") + "; lastgood preview\n" + "".join(missing)
    return text
