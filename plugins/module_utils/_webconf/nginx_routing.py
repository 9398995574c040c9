# -*- coding: utf-8 -*-
# Copyright: lastgood.webstack contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""How nginx maps a request to a file, as far as it can be known without a
request: the http tree as nginx serves from it (servers, locations, ``if``
and ``limit_except`` blocks, each with the settings it sets and inherits by
nginx's merge rules: ``root``/``alias``, ``index``, access rules,
``fastcgi_split_path_info`` and ``fastcgi_index`` inherited,
``fastcgi_param`` inherited only by a level that sets none, handlers,
``try_files``, ``internal`` and the rewrite module's directives not
inherited), the variables that ``set`` gives a literal value, the location
nginx picks for a URI (exact, longest prefix, ``^~``, regexes in order), and
the file, or FastCGI SCRIPT_FILENAME, a request for that URI reaches
through a location.

Works on the tree of nginx_parse.Loader; nginx_requests follows requests
through it and nginx_refs checks what they find. Pure standard library."""

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
# Variables that are the request's path (they start with '/').
_PATH_VARIABLES = ("$request_uri", "${request_uri}", "$uri", "${uri}", "$document_uri")
_NAMED_GROUP = re.compile(r"\(\?<(?![=!])")
_CAPTURE_NAME = re.compile(r"\(\?P?<([A-Za-z_][A-Za-z0-9_]*)>")
VARIABLE = re.compile(r"\$(?:\{([A-Za-z0-9_]+)\}|([A-Za-z0-9_]+))")
# A path whose last component is a file name with an extension (/index.php).
FILE_NAME = re.compile(r"/[^/]*[^/.]\.[A-Za-z0-9]+$")
# Blocks whose last argument is a variable they compute per request, and
# directives whose first argument is.
_VARIABLE_BLOCKS = frozenset(("map", "geo", "split_clients"))
_VARIABLE_SETTERS = frozenset((
    "perl_set", "js_set", "auth_request_set", "set_by_lua", "set_by_lua_block", "set_by_lua_file",
    "set_real_ip_from_header",
))
# Variables nginx computes itself (``set`` cannot change them; the checkers
# interpret them where they can).
_BUILTIN = frozenset((
    "document_root", "realpath_root", "fastcgi_script_name", "fastcgi_path_info", "request_filename",
    "uri", "document_uri", "request_uri",
))


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


def compile_regex(pattern, caseless=False):
    """A PCRE pattern of nginx as a Python regex, or None when Python cannot
    read it."""
    try:
        return re.compile(_NAMED_GROUP.sub("(?P<", pattern), re.IGNORECASE if caseless else 0)
    except re.error:
        return None


class Scope:
    """One level of the http tree (http, server, location, if) with what it
    sets itself and what it inherits."""

    __slots__ = (
        "kind", "directive", "parent", "server", "label", "directives", "locations",
        "modifier", "pattern", "regex", "root", "index", "fastcgi_params", "handler",
        "server_names", "variables", "try_files", "rewrites", "internal", "denied",
        "split_path", "fastcgi_index",
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
        # Variables with a known value ({name: value, or None when unknown}).
        self.variables = parent.variables if parent is not None else {}
        self.try_files = None
        # The rewrite module's rewrite and return directives, in order.
        self.rewrites = ()
        self.internal = False
        # The deny all that refuses every client (the first access rule), or False.
        self.denied = parent.denied if parent is not None else False
        self.split_path = parent.split_path if parent is not None else None
        self.fastcgi_index = parent.fastcgi_index if parent is not None else ""

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
            self.regex = compile_regex(self.pattern, self.modifier == "~*")


# An effective root or alias: the live path (or static prefix of a path with
# variables), whether it is ``dynamic`` (has variables) and an ``alias``, the
# scope that sets it, its directive, and whether it is written with a
# trailing slash (an alias's file name is the alias and what follows the
# location's prefix, joined as written).
Root = collections.namedtuple("Root", ("path", "dynamic", "alias", "scope", "directive", "slash"))


def expand(value, variables):
    """``value`` with each variable whose value ``variables`` knows put in;
    the others stay as written."""
    if "$" not in value or not variables:
        return value

    def known(match):
        found = variables.get(match.group(1) or match.group(2))
        return match.group(0) if found is None else found
    return VARIABLE.sub(known, value)


def uri_path(value):
    """The path part of a URI as written in try_files, error_page, index or
    rewrite, or None when it depends on the request. The path ends at '?' or
    at the first variable; cut at a variable, it counts when the variable is
    one of the query's ($is_args, $args, $query_string) or when the path
    before it ends in a file name (``/index.php$request_uri`` reaches the
    location of /index.php, with the request's path after it)."""
    path = value.split("?", 1)[0]
    position = path.find("$")
    if position >= 0:
        rest = path[position:]
        path = path[:position]
        if not rest.startswith(_QUERY_VARIABLES) and not FILE_NAME.search(path):
            return None
    if not path.startswith("/"):
        return None
    return path


def path_tail(value):
    """Whether the URI ``value`` (as written) is a file name followed by the
    request's path (``/index.php$request_uri``, ``/app.php$uri``): the URI
    nginx goes on with is then ``/index.php/<path>``."""
    path = value.split("?", 1)[0]
    position = path.find("$")
    return (position > 0 and path.startswith(_PATH_VARIABLES, position)
            and FILE_NAME.search(path[:position]) is not None)


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


def index_dir(scope):
    """Where the ``index`` directive of ``scope`` looks: ``(directory, uri,
    known)``, the directory (live) of the scope's own URI and that URI, and
    whether the directory is the only one it serves. For the server, the
    root and '/'; for a prefix or exact location, the directory its prefix
    maps to; a regex or named location serves many directories: its root
    and '/', not ``known``. None when the root has variables, or is an alias
    whose regex's captures decide."""
    root = scope.root
    if root is None or root.dynamic:
        return None
    location = scope
    while location.kind in ("if", "limit_except"):
        location = location.parent
    if root.alias:
        setter = root.scope
        if setter.modifier in ("~", "~*", "@"):
            return None
        return root.path.rstrip("/") or "/", setter.pattern.rstrip("/") + "/", setter is location
    if location.kind != "location" or location.modifier in ("~", "~*", "@"):
        return root.path, "/", location.kind != "location"
    uri = location.pattern.rstrip("/") + "/"
    return (root.path.rstrip("/") + uri).rstrip("/") or "/", uri, True


def runtime_variables(block):
    """Names of the variables that the directives under ``block`` compute per
    request (map, geo, split_clients, perl_set, js_set... and named regex
    captures): never taken from a literal ``set``."""
    names = set()
    stack = list(block)
    while stack:
        directive = stack.pop()
        args = directive.args
        if args and directive.name in _VARIABLE_BLOCKS and directive.block is not None:
            names.add(args[-1].lstrip("$").strip("{}"))
        elif args and directive.name in _VARIABLE_SETTERS:
            names.add(args[0].lstrip("$").strip("{}"))
        for arg in args:
            if "(?" in arg:
                names.update(_CAPTURE_NAME.findall(arg))
        if directive.block:
            stack.extend(directive.block)
    return frozenset(names)


def _set_names(block):
    """Names of the variables ``set`` under ``block`` (if blocks nested in it too)."""
    names = set()
    for directive in flatten(block):
        if directive.name == "set" and directive.args:
            names.add(directive.args[0].lstrip("$").strip("{}"))
        elif directive.name == "if" and directive.block:
            names.update(_set_names(directive.block))
    return names


class Router:
    """Builds the http tree and maps URIs to files through it.
    ``nginx_prefix``: nginx's own prefix, which relative roots and the
    default root ``html`` are relative to."""

    def __init__(self, nginx_prefix=NGINX_PREFIX):
        self.nginx_prefix = nginx_prefix
        self._runtime = frozenset()

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
        self._runtime = runtime_variables(directive.block)
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

    def _variables(self, scope):
        """The variables a request served by ``scope`` builds paths with.
        The rewrite module runs the ``set`` directives of the server, then
        those of the location that serves the request (not those of the
        locations around it), so a location's own literal ``set`` overrides
        the server's. A variable set from another variable or a capture, set
        in an ``if`` block (maybe not run), or computed per request by map,
        geo, a named capture... is unknown."""
        if scope.kind not in ("server", "location"):
            return scope.parent.variables if scope.parent is not None else {}
        own = {}
        for directive in scope.directives:
            if directive.name == "set" and len(directive.args) >= 2 and directive.args[0].startswith("$"):
                name = directive.args[0][1:].strip("{}")
                value = directive.args[1]
                known = "$" not in value and name not in self._runtime and name not in _BUILTIN
                own[name] = value if known else None
            elif directive.name == "if" and directive.block:
                own.update(dict.fromkeys(_set_names(directive.block)))
        base = scope.server.variables if scope.kind == "location" and scope.server is not None else {}
        if not own:
            return base
        merged = dict(base)
        merged.update(own)
        return merged

    def _settings(self, scope):
        scope.variables = self._variables(scope)
        params = []
        rewrites = []
        first_rule = None
        for directive in scope.directives:
            name = directive.name
            args = directive.args
            if name in ("root", "alias") and args:
                scope.root = self._root(directive, scope, scope.variables)
            elif name == "index":
                scope.index = directive
            elif name == "fastcgi_param" and len(args) >= 2:
                params.append(directive)
            elif name == "try_files" and len(args) >= 2:
                scope.try_files = directive
            elif name == "internal":
                scope.internal = True
            elif name in ("allow", "deny") and args and first_rule is None:
                first_rule = directive
            elif name == "fastcgi_split_path_info" and args:
                scope.split_path = compile_regex(args[0])
            elif name == "fastcgi_index" and args:
                scope.fastcgi_index = args[0]
            if name in ("rewrite", "return"):
                rewrites.append(directive)
            if name in _HANDLERS:
                scope.handler = directive
        if params:
            scope.fastcgi_params = tuple(params)
        if first_rule is not None:
            scope.denied = first_rule if first_rule.name == "deny" and first_rule.args[0] == "all" else False
        scope.rewrites = tuple(rewrites)
        inherited = scope.root
        if (inherited is not None and inherited.scope is not scope and scope.parent is not None
                and scope.variables is not scope.parent.variables and "$" in inherited.directive.args[0]):
            # The same root, with this scope's variables.
            scope.root = self._root(inherited.directive, inherited.scope, scope.variables)

    def _root(self, directive, setter, variables):
        """The Root that ``directive`` (root or alias of ``setter``) gives a
        request served with ``variables``."""
        value = expand(directive.args[0], variables)
        prefix, dynamic = static_prefix(value)
        path = self.prefix_path(prefix if dynamic else value) if (prefix or not dynamic) else ""
        if dynamic and prefix.endswith("/") and not path.endswith("/"):
            path += "/"
        return Root(path, dynamic, directive.name == "alias", setter, directive, value.endswith("/"))

    # URIs to files -------------------------------------------------------

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
            base = root.path + "/" if root.slash and not root.path.endswith("/") else root.path
            return base + tail if tail else root.path
        return root.path.rstrip("/") + uri

    def document_root(self, scope):
        """$document_root of a request that ``scope`` serves, or None when
        it has no root of its own or inherited, one with variables, or an
        alias in a regex location (its captures decide)."""
        if scope.root is None or scope.root.dynamic:
            return None
        mapped = self.map_uri(scope, "/")
        return None if mapped is None else mapped.rstrip("/")

    def script_name(self, scope, uri):
        """$fastcgi_script_name of a request for ``uri`` in ``scope``: the
        first capture of fastcgi_split_path_info when it matches, else the
        URI; fastcgi_index added to one that ends in '/'."""
        name = uri
        if scope.split_path is not None:
            found = scope.split_path.search(uri)
            if found is not None and found.groups():
                name = found.group(1) or ""
        if name.endswith("/"):
            name += scope.fastcgi_index
        return name

    def script_filename(self, scope, uri):
        """SCRIPT_FILENAME of a request for ``uri`` reaching a FastCGI
        location: ``(path, directive)``, or None when it is dynamic."""
        for directive in reversed(scope.fastcgi_params):
            if directive.args[0] != "SCRIPT_FILENAME":
                continue
            value = expand(directive.args[1], scope.variables)
            document_root = self.document_root(scope)
            for variable in ("$document_root", "$realpath_root"):
                if value.startswith(variable):
                    if document_root is None:
                        return None
                    value = document_root + value[len(variable):]
                    break
            if "$fastcgi_script_name" in value and value.count("$") == 1:
                value = value.replace("$fastcgi_script_name", self.script_name(scope, uri))
            elif value == "$request_filename":
                value = self.map_uri(scope, uri)
                if value is None:
                    return None
            if "$" in value or not value.startswith("/"):
                return None
            return value, directive
        return None
