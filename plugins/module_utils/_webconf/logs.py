# -*- coding: utf-8 -*-
# Copyright: lastgood.webstack contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The access and error logs a site's requests are written to, from the
loaded nginx or Apache configuration, for the traffic watch (_traffic.py).

The site is the nginx ``server`` blocks and Apache ``<VirtualHost>``
sections whose configuration comes from the release being checked: a block
written in, or holding a directive from, a file read through a ``path_map``
prefix (every block when there is no such prefix). For each, its own logs
(and those of its locations), else those of the enclosing level, else the
server's built-in default. Live paths, each once, in the order met. A log
that cannot be watched (``off``, syslog, a pipe, variables in its path,
nginx's ``gzip``) is left out with an ``info`` finding. Pure standard
library."""

from __future__ import annotations

import os

from ansible_collections.lastgood.webstack.plugins.module_utils._common.findings import INFO
from ansible_collections.lastgood.webstack.plugins.module_utils._webconf.tree import flatten

# nginx as Debian builds it (--http-log-path, --error-log-path).
NGINX_ACCESS_LOG = "/var/log/nginx/access.log"
NGINX_ERROR_LOG = "/var/log/nginx/error.log"
# httpd's own default ErrorLog, relative to ServerRoot; it has no default access log.
APACHE_ERROR_LOG = "logs/error_log"
_NGINX_NESTED = ("location", "if", "limit_except")


class SiteLogs:
    """``access_logs`` and ``error_logs`` (live paths, each once) and how
    they were found; ``note()`` adds an info finding once per directive."""

    def __init__(self, report, in_release):
        self.report = report
        self.in_release = in_release
        self.access_logs = []
        self.error_logs = []
        self._noted = set()

    def add(self, kind, path):
        paths = self.access_logs if kind == "access" else self.error_logs
        if path not in paths:
            paths.append(path)

    def note(self, directive, path, message):
        key = (directive.file, directive.line, message) if directive is not None else (None, None, message)
        if key in self._noted:
            return
        self._noted.add(key)
        if directive is None:
            self.report.finding(INFO, None, None, None, path, message)
        else:
            self.report.finding(INFO, directive.file, directive.line, directive.raw_name, path, message)

    def from_release(self, directive):
        """Whether a block comes from the release: written in one of its
        files, or holding a directive that is."""
        if self.in_release(directive.file):
            return True
        return any(self.in_release(child.file) for child in _all_in(directive.block or []))


def _all_in(block):
    for directive in flatten(block):
        yield directive
        if directive.block and directive.include is None:
            yield from _all_in(directive.block)


def release_files(path_map):
    """A test of a file (where it was read) being the release's: under a
    candidate prefix of ``path_map`` (a PathMap); every file without one."""
    prefixes = [candidate for live, candidate in path_map.pairs() if live != "/" and candidate != "/"]
    if not prefixes:
        return lambda _file: True
    return lambda file: bool(file) and any(file == prefix or file.startswith(prefix + "/") for prefix in prefixes)


# nginx ---------------------------------------------------------------------------

def nginx_logs(tree, report, in_release, prefix_path):
    """SiteLogs of an nginx tree (nginx_parse.Loader.load)."""
    logs = SiteLogs(report, in_release)
    main = flatten(tree)
    main_errors = _named(main, "error_log")
    for http in (directive for directive in main if directive.name == "http" and directive.block is not None):
        http_block = flatten(http.block)
        http_access = _named(http_block, "access_log")
        http_errors = _named(http_block, "error_log") or main_errors
        for server in (directive for directive in http_block if directive.name == "server" and directive.block):
            if not logs.from_release(server):
                continue
            block = flatten(server.block)
            access = _named(block, "access_log") or http_access
            errors = _named(block, "error_log") or http_errors
            nested_access, nested_errors = _nested_nginx(block)
            _nginx_add(logs, "access", access, NGINX_ACCESS_LOG, prefix_path)
            _nginx_add(logs, "access", nested_access, None, prefix_path)
            _nginx_add(logs, "error", errors, NGINX_ERROR_LOG, prefix_path)
            _nginx_add(logs, "error", nested_errors, None, prefix_path)
    return logs


def _named(block, name):
    return [directive for directive in block if directive.name == name and directive.args]


def _nested_nginx(block):
    access, errors = [], []
    for directive in block:
        if directive.name in _NGINX_NESTED and directive.block:
            inner = flatten(directive.block)
            access += _named(inner, "access_log")
            errors += _named(inner, "error_log")
            more_access, more_errors = _nested_nginx(inner)
            access += more_access
            errors += more_errors
    return access, errors


def _nginx_add(logs, kind, directives, default, prefix_path):
    if not directives:
        if default:
            logs.add(kind, default)
        return
    for directive in directives:
        value = directive.args[0]
        if value == "off":
            logs.note(directive, None, "%s off: no %s log of these requests to watch" % (directive.name, kind))
            continue
        if value in ("stderr",) or value.startswith(("syslog:", "memory:")):
            logs.note(directive, value, "%s goes to %s, not a file: not watched" % (directive.name, value))
            continue
        if "$" in value:
            logs.note(directive, value, "%s has variables in its path: not watched" % directive.name)
            continue
        options = directive.args[1:]
        if kind == "access" and any(option == "gzip" or option.startswith("gzip=") for option in options):
            logs.note(directive, value, "access_log is gzip-compressed: not watched")
            continue
        if kind == "access" and any(option.startswith("buffer=") for option in options):
            logs.note(directive, value, "access_log is buffered: its lines reach the file late (at flush= or when "
                                        "the buffer fills), so failures are seen late")
        logs.add(kind, prefix_path(value))


# Apache --------------------------------------------------------------------------

_APACHE_ACCESS = ("customlog", "transferlog")


def apache_logs(tree, report, in_release, resolve):
    """SiteLogs of an Apache tree (apache_parse.Loader.load); ``resolve``
    makes a path absolute as httpd does (against ServerRoot)."""
    logs = SiteLogs(report, in_release)
    global_access, global_errors, vhosts = [], [], []
    _apache_walk(tree, global_access, global_errors, vhosts)
    for vhost in vhosts:
        if not logs.from_release(vhost):
            continue
        access, errors, _ignored = [], [], []
        _apache_walk(vhost.block, access, errors, _ignored)
        access = access or global_access
        errors = (errors or global_errors)[-1:]
        if not access:
            logs.note(vhost, None, "no CustomLog or TransferLog for this VirtualHost or the server: Apache writes no "
                                   "access log of its requests to watch")
        _apache_add(logs, "access", access, resolve)
        if errors:
            _apache_add(logs, "error", errors, resolve)
        else:
            logs.add("error", resolve(APACHE_ERROR_LOG))
    return logs


def _apache_walk(block, access, errors, vhosts):
    for directive in flatten(block):
        if directive.name == "virtualhost" and directive.block is not None:
            vhosts.append(directive)
        elif directive.name in _APACHE_ACCESS and directive.args:
            access.append(directive)
        elif directive.name == "errorlog" and directive.args:
            errors.append(directive)
        elif directive.block and directive.include is None:
            _apache_walk(directive.block, access, errors, vhosts)


def _apache_add(logs, kind, directives, resolve):
    for directive in directives:
        value = directive.args[0]
        if value.startswith("|") or value.startswith("syslog"):
            logs.note(directive, value, "%s goes to %s, not a file: not watched" % (
                directive.raw_name, "a pipe" if value.startswith("|") else "syslog"))
            continue
        if "${" in value or "%" in value:
            logs.note(directive, value, "%s has variables in its path: not watched" % directive.raw_name)
            continue
        logs.add(kind, os.path.normpath(resolve(value)))
