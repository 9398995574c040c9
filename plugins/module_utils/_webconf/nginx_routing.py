# -*- coding: utf-8 -*-
# Copyright: lastgood.webstack contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""How nginx maps a request to a file, as far as it can be known without a
request: the http tree as nginx serves from it (servers, locations, ``if``
and ``limit_except`` blocks, each with the settings it sets and inherits by
nginx's merge rules: ``root``/``alias`` and ``index`` inherited,
``fastcgi_param`` inherited only by a level that sets none, handlers not
inherited), the location nginx picks for a URI (exact, longest prefix,
``^~``, regexes in order), and the file, or FastCGI SCRIPT_FILENAME, a
request for that URI reaches.

Works on the tree of nginx_parse.Loader; nginx_refs checks what it finds.
Pure standard library."""

from __future__ import annotations

import collections
import os
import re

from ansible_collections.lastgood.webstack.plugins.module_utils._common.paths import static_prefix
from ansible_collections.lastgood.webstack.plugins.module_utils._webconf.tree import flatten

NGINX_PREFIX = "/usr/share/nginx"

# Directives that hand a request to another server.
PASS_DIRECTIVES = frozenset((
    "fastcgi_pass", "uwsgi_pass", "scgi_pass", "grpc_pass", "memcached_pass", "proxy_pass",
))
# Directives that answer a request themselves, instead of a file (handlers
# are not inherited).
_HANDLERS = PASS_DIRECTIVES | frozenset(("return", "stub_status", "empty_gif", "perl", "js_content"))
_QUERY_VARIABLES = ("$is_args", "$args", "$query_string")
_NAMED_GROUP = re.compile(r"\(\?<(?![=!])")


def location_pattern(args):
    """``(modifier, pattern)`` of a location, with the modifier written apart
    (``location ~ x``) or glued to the pattern (``location ~x``) as nginx
    accepts both."""
    if not args:
        return "", ""
    if len(args) >= 2 and args[0] in ("=", "~", "~*", "^~"):
        return args[0], args[1]
    value = args[0]
    for modifier in ("^~", "~*", "~", "=", "@"):
        if value.startswith(modifier) and len(value) > len(modifier):
            return modifier, value if modifier == "@" else value[len(modifier):]
    return "", value


class Scope:
    """One level of the http tree (http, server, location, if) with what it
    sets itself and what it inherits."""

    __slots__ = (
        "kind", "directive", "parent", "server", "label", "directives", "locations",
        "modifier", "pattern", "regex", "root", "index", "fastcgi_params", "handler",
        "server_names",
    )

    def __init__(self, kind, directive, parent):
        self.kind = kind
        self.directive = directive
        self.parent = parent
        self.server = parent.server if parent is not None and parent.kind != "http" else None
        self.directives = []
        self.locations = []
        self.modifier = ""
        self.pattern = ""
        self.regex = None
        self.root = parent.root if parent is not None else None
        self.index = parent.index if parent is not None else None
        self.fastcgi_params = parent.fastcgi_params if parent is not None else ()
        self.handler = None
        self.server_names = ()
        self.label = ""

    def context(self):
        labels = []
        scope = self
        while scope is not None:
            if scope.label:
                labels.append(scope.label)
            scope = scope.parent
        return " > ".join(reversed(labels)) or "main"

    def set_location(self, args):
        """Make this scope the location ``args`` describe."""
        self.modifier, self.pattern = location_pattern(args)
        if self.modifier in ("~", "~*"):
            flags = re.IGNORECASE if self.modifier == "~*" else 0
            try:
                self.regex = re.compile(_NAMED_GROUP.sub("(?P<", self.pattern), flags)
            except re.error:
                self.regex = None


# An effective root or alias: the live path (or static prefix of a path with
# variables), whether it is ``dynamic`` (has variables) and an ``alias``, the
# scope that sets it and its directive.
Root = collections.namedtuple("Root", ("path", "dynamic", "alias", "scope", "directive"))


def uri_path(value):
    """The path part of a URI as written in try_files / error_page, or None
    when it depends on the request."""
    path = value.split("?", 1)[0]
    for variable in _QUERY_VARIABLES:
        position = path.find(variable)
        if position >= 0:
            path = path[:position]
    if "$" in path or not path.startswith("/"):
        return None
    return path


def match(scopes, uri):
    """The location of ``scopes`` that serves ``uri``, as nginx picks it."""
    exact = None
    longest = None
    for scope in scopes:
        if scope.kind != "location" or scope.modifier in ("~", "~*", "@"):
            continue
        if scope.modifier == "=":
            if uri == scope.pattern:
                exact = scope
                break
        elif uri.startswith(scope.pattern) and (longest is None or len(scope.pattern) > len(longest.pattern)):
            longest = scope
    if exact is not None:
        return exact
    if longest is not None:
        nested = match(longest.locations, uri)
        if nested is not None and nested.modifier in ("~", "~*", "="):
            return nested
        if longest.modifier == "^~":
            return nested or longest
    for scope in scopes:
        if scope.modifier in ("~", "~*") and scope.regex is not None and scope.regex.search(uri):
            return match(scope.locations, uri) or scope
    if longest is not None:
        nested = match(longest.locations, uri)
        return nested or longest
    return None


def named_location(server, name):
    """The location ``@name`` of ``server``, or None."""
    stack = list(server.locations)
    while stack:
        location = stack.pop()
        if location.modifier == "@" and location.pattern == name:
            return location
        stack.extend(location.locations)
    return None


def base_dir(scope):
    """The directory a request for the scope's own URI maps to, when known."""
    root = scope.root
    if root is None or root.dynamic:
        return None
    if root.alias:
        return root.path.rstrip("/") or "/"
    return root.path


class Router:
    """Builds the http tree and follows requests through it. ``nginx_prefix``:
    nginx's own prefix, which relative roots and the default root ``html``
    are relative to."""

    def __init__(self, nginx_prefix=NGINX_PREFIX):
        self.nginx_prefix = nginx_prefix

    def prefix_path(self, value):
        """Relative to nginx's own prefix (root, alias, logs, load_module)."""
        if not value.startswith("/"):
            value = os.path.join(self.nginx_prefix, value)
        return os.path.normpath(value)

    # The tree ------------------------------------------------------------

    def http(self, directive):
        """The http block's Scope and its servers' (with their locations)."""
        http = Scope("http", directive, None)
        http.label = "http"
        http.directives = flatten(directive.block)
        self._settings(http)
        servers = []
        for child in http.directives:
            if child.name == "server" and child.block is not None:
                servers.append(self._server(child, http))
        return http, servers

    def _server(self, directive, http):
        server = Scope("server", directive, http)
        server.server = server
        server.directives = flatten(directive.block)
        names = []
        for child in server.directives:
            if child.name == "server_name":
                names.extend(child.args)
        server.server_names = tuple(names)
        server.label = "server " + (" ".join(name for name in names if name) or "(no server_name)")
        self._settings(server)
        self._locations(server)
        return server

    def _locations(self, scope):
        for directive in scope.directives:
            if directive.block is None or directive.name not in ("location", "if", "limit_except"):
                continue
            child = Scope(directive.name, directive, scope)
            child.directives = flatten(directive.block)
            if directive.name == "location":
                child.set_location(directive.args)
                child.label = "location " + " ".join(directive.args)
            else:
                # if / limit_except are not matched by URI; their settings
                # still apply to what they contain.
                child.label = directive.name + " " + " ".join(directive.args)
            scope.locations.append(child)
            self._settings(child)
            self._locations(child)

    def _settings(self, scope):
        params = []
        for directive in scope.directives:
            name = directive.name
            if name in ("root", "alias") and directive.args:
                value = directive.args[0]
                prefix, dynamic = static_prefix(value)
                path = self.prefix_path(prefix if dynamic else value) if (prefix or not dynamic) else ""
                if dynamic and prefix.endswith("/") and not path.endswith("/"):
                    path += "/"
                scope.root = Root(path, dynamic, name == "alias", scope, directive)
            elif name == "index":
                scope.index = directive
            elif name == "fastcgi_param" and len(directive.args) >= 2:
                params.append(directive)
            elif name in _HANDLERS:
                scope.handler = directive
        if params:
            scope.fastcgi_params = tuple(params)

    # Requests ------------------------------------------------------------

    def uri_file(self, server, uri):
        """The file a request for ``uri`` reaches in ``server``, or None when
        it is not a file (proxied, returned) or cannot be known statically."""
        target = match(server.locations, uri) or server
        if target.handler is not None and target.handler.name != "fastcgi_pass":
            return None
        if target.handler is not None:
            script = self.script_filename(target, uri)
            return script[0] if script else None
        return self.map_uri(target, uri)

    def map_uri(self, scope, uri):
        """The file ``uri`` maps to through the root or alias of ``scope``."""
        root = scope.root
        if root is None:
            return os.path.join(self.prefix_path("html"), uri.lstrip("/"))
        if root.dynamic:
            return None
        if root.alias:
            location = root.scope
            if location.modifier in ("~", "~*"):
                return None
            tail = uri[len(location.pattern):] if uri.startswith(location.pattern) else uri
            return root.path + tail if tail else root.path
        return root.path.rstrip("/") + uri

    def document_root(self, scope):
        """$document_root of a request that ``scope`` serves, or None when
        it has no root of its own or inherited, one with variables, or an
        alias in a regex location (its captures decide)."""
        if scope.root is None or scope.root.dynamic:
            return None
        mapped = self.map_uri(scope, "/")
        return None if mapped is None else mapped.rstrip("/")

    def script_filename(self, scope, uri):
        """SCRIPT_FILENAME of a request for ``uri`` reaching a FastCGI
        location: ``(path, directive)``, or None when it is dynamic."""
        for directive in reversed(scope.fastcgi_params):
            if directive.args[0] != "SCRIPT_FILENAME":
                continue
            value = directive.args[1]
            document_root = self.document_root(scope)
            for variable in ("$document_root", "$realpath_root"):
                if value.startswith(variable):
                    if document_root is None:
                        return None
                    value = document_root + value[len(variable):]
                    break
            if "$fastcgi_script_name" in value and value.count("$") == 1:
                value = value.replace("$fastcgi_script_name", uri)
            elif value == "$request_filename":
                value = self.map_uri(scope, uri)
                if value is None:
                    return None
            if "$" in value or not value.startswith("/"):
                return None
            return value, directive
        return None
