# -*- coding: utf-8 -*-
# Copyright: lastgood.webstack contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every file, directory and socket an Apache configuration refers to, where
it is written, and whether it exists as httpd would look for it.

Works on the tree of apache_parse.Loader. A virtual host inherits DocumentRoot,
aliases and PHP handlers of the main server; local URLs (DirectoryIndex
``/x``, ErrorDocument, FallbackResource) go through Alias/AliasMatch in
configuration order, then DocumentRoot, as mod_alias and core map them.
Pure standard library."""

from __future__ import annotations

import os
import re

from ansible_collections.lastgood.webstack.plugins.module_utils._common.paths import OUTSIDE_ALLOWED_ROOTS, static_prefix_dir
from ansible_collections.lastgood.webstack.plugins.module_utils._common.findings import ERROR, INFO, SWITCHED_SCRIPT_PATHS, WARNING
from ansible_collections.lastgood.webstack.plugins.module_utils._webconf.refs_base import RefsChecker, php_ini_settings
from ansible_collections.lastgood.webstack.plugins.module_utils._webconf.tree import flatten

# Debian's compiled-in DocumentRoot of the main server.
DEFAULT_DOCUMENT_ROOT = "/var/www/html"

_SSL_FILES = {
    "sslcertificatefile": "file", "sslcertificatekeyfile": "file", "sslcertificatechainfile": "file",
    "sslcacertificatefile": "file", "sslcarevocationfile": "file", "sslcacertificatepath": "dir",
    "sslcarevocationpath": "dir", "sslsessionticketkeyfile": "file", "sslproxymachinecertificatefile": "file",
    "sslproxycacertificatefile": "file", "sslopensslconfcmd": None,
}
_AUTH_FILES = frozenset(("authuserfile", "authgroupfile", "authdbmuserfile", "authdbmgroupfile"))
_LOGS = frozenset(("errorlog", "customlog", "transferlog", "globallog", "scriptlog"))
_ALIASES = frozenset(("alias", "scriptalias", "aliasmatch", "scriptaliasmatch"))
_PROXY_SOCKETS = frozenset(("proxypass", "proxypassmatch", "balancermember"))
_PHP_HANDLER = re.compile(r"proxy:(?:unix:[^|]*\|)?fcgi://|application/x-httpd-php", re.I)
_DYNAMIC = re.compile(r"[$*?\[]")
_BACKREFERENCE = re.compile(r"\$(\d)")


def _socket_in(value):
    """The unix socket path in ``unix:/path|...`` or ``proxy:unix:/path|...``."""
    lower = value.lower()
    position = lower.find("unix:")
    if position < 0 or (position > 0 and not lower.startswith("proxy:unix:")):
        return None
    return value[position + len("unix:"):].split("|", 1)[0]


class Server:
    """The main server or one VirtualHost, with what requests need from it."""

    __slots__ = ("label", "document_root", "aliases", "php_handler", "parent")

    def __init__(self, label, parent=None):
        self.label = label
        self.parent = parent
        self.document_root = None      # (live path, directive)
        self.aliases = []              # (directive name, url or regex, target, directive)
        self.php_handler = False


class ApacheChecker(RefsChecker):
    """Walks a loaded Apache configuration and fills a Report. Where a
    reference is made: the text of its context."""

    def _check_value(self, directive, context, kind, value, want="exists", severity=ERROR):
        """Check a path that may hold ``$1`` back-references or wildcards:
        the path itself, or the directory of its static prefix."""
        prefix_end = _DYNAMIC.search(value)
        if prefix_end is None:
            return self._check(directive, context, kind, self.loader.resolve(value), want=want, severity=severity)
        prefix = value[:prefix_end.start()]
        if not prefix:
            return None
        directory = static_prefix_dir(self.loader.resolve(prefix) + ("/" if prefix.endswith("/") else ""))
        if directory is None:
            return None
        return self._check(directive, context, kind, directory, want="dir", severity=severity)

    # Walk --------------------------------------------------------------

    def run(self, tree):
        main = Server("server config")
        directives = flatten(tree)
        hosts = []
        self._collect(directives, main)
        for directive in directives:
            if directive.name == "virtualhost" and directive.block is not None:
                names = [child.args[0] for child in flatten(directive.block)
                         if child.name == "servername" and child.args]
                label = "VirtualHost %s" % " ".join(directive.args)
                if names:
                    label += " (%s)" % names[0]
                host = Server(label, main)
                host.php_handler = main.php_handler
                self._collect(flatten(directive.block), host)
                hosts.append((directive, host))
        self._walk(directives, main, main.label, None)
        for directive, host in hosts:
            self._walk(flatten(directive.block), host, host.label, None)
        for server in [main] + [host for _directive, host in hosts]:
            if server.php_handler:
                for path in self._document_dirs(server):
                    self.report.php_root(path)
                self._switched_document_root(server)

    def _collect(self, directives, server):
        """What a server sets, wherever in it: DocumentRoot, aliases, PHP handlers."""
        for directive in directives:
            name = directive.name
            if name == "virtualhost":
                continue
            if directive.block is not None and directive.include is None:
                self._collect(flatten(directive.block), server)
                continue
            args = directive.args
            if name == "documentroot" and args:
                server.document_root = (self.loader.resolve(args[0]), directive)
            elif name in _ALIASES and len(args) >= 2:
                server.aliases.append((name, args[0], args[1], directive))
            elif name in ("sethandler", "addhandler", "addtype", "proxypassmatch", "proxypass") and args:
                if any(_PHP_HANDLER.search(arg) for arg in args) and (
                        name not in ("proxypassmatch", "proxypass") or "php" in args[0]):
                    server.php_handler = True
            elif name in ("php_value", "php_admin_value", "php_flag", "php_admin_flag"):
                server.php_handler = True

    def _walk(self, directives, server, context, directory):
        for directive in directives:
            name = directive.name
            if directive.include is not None:
                self._include(directive, context)
                continue
            if directive.block is not None:
                if name == "virtualhost":
                    continue
                label = "%s > <%s %s>" % (context, directive.raw_name, " ".join(directive.args))
                section_directory = directory
                if name == "directory":
                    section_directory = self._directory_section(directive, label)
                elif name == "directorymatch":
                    section_directory = None
                self._walk(flatten(directive.block), server, label, section_directory)
                continue
            self._directive(directive, server, context, directory)

    def _switched_document_root(self, server):
        """A warning when the DocumentRoot of a server that hands requests to
        PHP-FPM lies behind a link that a switch of releases changes: Apache
        passes script paths as it maps them, links and all."""
        owner = server
        while owner is not None and owner.document_root is None:
            owner = owner.parent
        if owner is None:
            return
        path, directive = owner.document_root
        link = self.path_map.switched_prefix(path)
        if link is None or not self._first_time(("switched", id(directive))):
            return
        self.report.finding(
            WARNING, directive.file, directive.line, directive.raw_name, path,
            "DocumentRoot %s hands PHP-FPM script paths through %s, a link that a switch of releases changes "
            "(PHP handler of %s): %s" % (path, link, server.label, SWITCHED_SCRIPT_PATHS))

    def _directory_section(self, directive, context):
        if not directive.args or directive.args[0] == "~":
            return None
        value = directive.args[0]
        if _DYNAMIC.search(value):
            return None
        path = self.loader.resolve(value)
        self._check(directive, context, "directory_section", path, want="dir", severity=WARNING,
                    message="<Directory %s>: %s does not exist (the section applies to nothing)" % (value, path))
        return path

    def _directive(self, directive, server, context, directory):
        name = directive.name
        args = directive.args
        if not args:
            return
        if name == "documentroot":
            self._check_value(directive, context, "document_root", args[0], want="dir")
        elif name in _ALIASES:
            target = args[1] if len(args) >= 2 else args[0]
            self._check_value(directive, context, "alias", target)
        elif name == "directoryindex":
            self._directory_index(directive, server, context, directory)
        elif name == "fallbackresource":
            if args[0].lower() != "disabled":
                self._local_url(directive, server, context, args[0], "fallback")
        elif name == "errordocument" and len(args) >= 2:
            target = args[1]
            if target.startswith("/"):
                self._local_url(directive, server, context, target, "error_document")
        elif name in _SSL_FILES:
            want = _SSL_FILES[name]
            if want is not None:
                self._check_value(directive, context, "ssl", args[0], want=want)
        elif name in _AUTH_FILES:
            self._check_value(directive, context, "auth_file", args[0], want="file")
        elif name in _LOGS:
            self._log(directive, context, args[0])
        elif name == "loadmodule" and len(args) >= 2:
            self._check_value(directive, context, "module", args[1], want="file")
        elif name in ("sethandler", "addhandler"):
            socket = _socket_in(args[0])
            if socket is not None:
                self._socket(directive, context, socket)
        elif name in _PROXY_SOCKETS:
            for arg in args:
                socket = _socket_in(arg)
                if socket is not None:
                    self._socket(directive, context, socket)
        elif name in ("php_value", "php_admin_value") and len(args) >= 2:
            self._php_ini(directive, context, args[0], args[1])
        elif name == "setenv" and len(args) >= 2 and args[0] in ("PHP_VALUE", "PHP_ADMIN_VALUE"):
            for setting, value in php_ini_settings(args[1]):
                self._php_ini(directive, context, setting, value)
        elif name == "rewritemap" and len(args) >= 2:
            kind, _sep, source = args[1].partition(":")
            if kind in ("txt", "rnd", "dbm") or kind.startswith("dbm="):
                self._check_value(directive, context, "rewrite_map", source, want="file")
            elif kind == "prg":
                self._check_value(directive, context, "rewrite_map", source.split()[0], want="file")

    def _socket(self, directive, context, socket):
        self._check_socket(directive, context, self.loader.resolve(socket))

    def _log(self, directive, context, value):
        if value.startswith(("|", "syslog", "$")) or value.startswith("/dev/"):
            return
        self._log_directory(directive, context, value, self.loader.resolve)

    def _include(self, directive, context):
        result = directive.include
        exists = bool(result.files)
        self.report.reference(directive.file, directive.line, directive.raw_name, "include", result.path,
                              result.checked, exists, context)
        if result.error is None:
            return
        looked = " (looked for at %s)" % result.checked if result.checked != result.path else ""
        if result.error.startswith("include loop"):
            self.report.finding(ERROR, directive.file, directive.line, directive.raw_name, result.path, result.error)
        elif result.optional and OUTSIDE_ALLOWED_ROOTS not in result.error:
            self.report.finding(INFO, directive.file, directive.line, directive.raw_name, result.path,
                                "%s %s%s" % (result.path, result.error, looked))
        else:
            self.report.finding(ERROR, directive.file, directive.line, directive.raw_name, result.path,
                                "%s %s%s" % (result.path, result.error, looked))

    # Requests ----------------------------------------------------------

    def _aliases(self, server):
        while server is not None:
            yield from server.aliases
            server = server.parent

    def _document_root(self, server):
        while server is not None:
            if server.document_root is not None:
                return server.document_root[0]
            server = server.parent
        return DEFAULT_DOCUMENT_ROOT

    def _document_dirs(self, server):
        dirs = [self._document_root(server)]
        for name, _url, target, _directive in self._aliases(server):
            if name in ("alias", "scriptalias") and not _DYNAMIC.search(target):
                dirs.append(self.loader.resolve(target).rstrip("/") or "/")
        return [path for path in dirs if not _DYNAMIC.search(path)]

    def map_url(self, server, url):
        """The file a local URL maps to, or None when it cannot be known."""
        url = url.split("?", 1)[0]
        for name, pattern, target, _directive in self._aliases(server):
            if name.endswith("match"):
                try:
                    match = re.match(pattern, url)
                except re.error:
                    continue
                if match:
                    path = _BACKREFERENCE.sub(
                        lambda ref, match=match: match.group(int(ref.group(1))) or ""
                        if int(ref.group(1)) <= (match.re.groups or 0) else "", target)
                    return self.loader.resolve(path)
                continue
            prefix = pattern
            if prefix.endswith("/"):
                if url.startswith(prefix):
                    return self.loader.resolve(target.rstrip("/") + "/" + url[len(prefix):])
            elif url == prefix or url.startswith(prefix + "/"):
                return self.loader.resolve(target + url[len(prefix):])
        root = self._document_root(server)
        if _DYNAMIC.search(root):
            return None
        return root.rstrip("/") + url

    def _local_url(self, directive, server, context, url, kind):
        path = self.map_url(server, url)
        if path is None:
            return
        if self._check(directive, context, kind, path, want="file") and path.endswith(".php"):
            self.report.entrypoint(path)

    def _directory_index(self, directive, server, context, directory):
        base = directory if directory is not None else self._document_root(server)
        if base is None or _DYNAMIC.search(base) or not self.fs.is_dir(self.path_map.apply(base)):
            return
        candidates = []
        for name in directive.args:
            if name.lower() == "disabled":
                return
            if "$" in name or "%{" in name:
                continue
            if name.startswith("/"):
                path = self.map_url(server, name)
                if path is not None:
                    candidates.append(path)
            else:
                candidates.append(os.path.join(base, name))
        self._index_files(directive, context, candidates, base)


def check(tree, loader, fs, report, check_sockets=True):
    """Fill ``report`` with the references of a loaded Apache tree."""
    ApacheChecker(loader, fs, report, check_sockets=check_sockets).run(tree)
    return report
