# -*- coding: utf-8 -*-
# Copyright: lastgood.webstack contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every file, directory and socket an nginx configuration refers to, where
it is written, and whether it exists as nginx would look for it.

Works on the tree of _nginx.Loader. Inheritance follows nginx's merge rules
(``root``/``alias`` and ``index`` inherited, ``fastcgi_param`` inherited only
by a level that sets none, handlers not inherited); URIs named by
``try_files``, ``error_page`` and ``index`` are matched to the location that
would serve them, as nginx does (exact, longest prefix, ``^~``, regexes in
order). Pure standard library."""

from __future__ import annotations

import os
import re

from ansible_collections.lastgood.webstack.plugins.module_utils._common.paths import (
    describe_missing,
    static_prefix,
    static_prefix_dir,
)
from ansible_collections.lastgood.webstack.plugins.module_utils._common.findings import (
    ERROR,
    INFO,
    SWITCHED_SCRIPT_PATHS,
    WARNING,
)

NGINX_PREFIX = "/usr/share/nginx"

_HTTP_CONTEXTS = ("http",)
_OPAQUE_BLOCKS = frozenset(("map", "geo", "types", "split_clients", "charset_map", "match"))
_SSL_FILES = frozenset((
    "ssl_certificate", "ssl_certificate_key", "ssl_trusted_certificate", "ssl_client_certificate",
    "ssl_dhparam", "ssl_crl", "ssl_stapling_file", "ssl_password_file", "ssl_session_ticket_key",
    "proxy_ssl_certificate", "proxy_ssl_certificate_key", "proxy_ssl_trusted_certificate",
    "proxy_ssl_crl", "proxy_ssl_password_file", "grpc_ssl_certificate", "grpc_ssl_certificate_key",
    "grpc_ssl_trusted_certificate", "uwsgi_ssl_certificate", "uwsgi_ssl_certificate_key",
    "uwsgi_ssl_trusted_certificate",
))
_PASS_DIRECTIVES = frozenset((
    "fastcgi_pass", "uwsgi_pass", "scgi_pass", "grpc_pass", "memcached_pass", "proxy_pass",
))
_HANDLERS = _PASS_DIRECTIVES | frozenset(("return", "stub_status", "empty_gif", "perl", "js_content"))
_QUERY_VARIABLES = ("$is_args", "$args", "$query_string")
_PHP_INI_FILES = ("auto_prepend_file", "auto_append_file")
_NAMED_GROUP = re.compile(r"\(\?<(?![=!])")


def _php_ini_settings(value):
    """``name=value`` pairs of a PHP_VALUE / PHP_ADMIN_VALUE parameter."""
    for line in re.split(r"[\n;]", value):
        name, sep, setting = line.partition("=")
        if sep:
            yield name.strip(), setting.strip().strip('"').strip("'")


def _location_pattern(args):
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


class Root:
    """An effective root or alias: the live path (or static prefix of a path
    with variables), whether it is an alias, and of which location."""

    __slots__ = ("path", "dynamic", "alias", "scope", "directive")

    def __init__(self, path, dynamic, alias, scope, directive):
        self.path = path
        self.dynamic = dynamic
        self.alias = alias
        self.scope = scope
        self.directive = directive


def flatten(block):
    """The directives of a block with included files spliced in; include
    directives stay in the list (they are references themselves)."""
    out = []
    for directive in block:
        out.append(directive)
        if directive.name == "include" and directive.include is not None:
            out.extend(flatten(directive.block))
    return out


class NginxChecker:
    """Walks a loaded nginx configuration and fills a Report."""

    def __init__(self, loader, fs, report, check_sockets=True, nginx_prefix=NGINX_PREFIX):
        self.loader = loader
        self.path_map = loader.path_map
        self.fs = fs
        self.report = report
        self.check_sockets = check_sockets
        self.nginx_prefix = nginx_prefix
        self._seen = set()

    # Paths -------------------------------------------------------------

    def _conf_path(self, value):
        """Relative to the conf prefix (include, ssl_*, auth_basic_user_file)."""
        return self.loader.resolve(value)

    def _prefix_path(self, value):
        """Relative to nginx's own prefix (root, alias, logs, load_module)."""
        if not value.startswith("/"):
            value = os.path.join(self.nginx_prefix, value)
        return os.path.normpath(value)

    def _check(self, directive, scope, kind, path, want="exists", severity=ERROR, message=None):
        """Record a reference to ``path`` (live) and a finding when it is
        missing. ``want``: exists, dir, file or socket. Returns existence."""
        key = (id(directive), path, kind)
        checked = self.path_map.apply(path)
        fs = self.fs
        if want == "dir":
            ok = fs.is_dir(checked)
        elif want == "socket":
            ok = fs.is_socket(checked)
        elif want == "file":
            ok = fs.is_file(checked)
        else:
            ok = fs.exists(checked)
        if key in self._seen:
            return ok
        self._seen.add(key)
        context = scope.context() if scope is not None else "main"
        self.report.reference(directive.file, directive.line, directive.name, kind, path, checked, ok, context)
        if not ok and severity is not None:
            if fs.exists(checked):
                what = {"dir": "is not a directory", "socket": "is not a unix socket",
                        "file": "is not a regular file"}.get(want, "cannot be used")
            else:
                what = describe_missing(checked)
            text = message or "%s %s" % (path, what)
            if checked != path:
                text += " (looked for at %s)" % checked
            self.report.finding(severity, directive.file, directive.line, directive.name, path, text)
        return ok

    def _check_dynamic(self, directive, scope, kind, value, resolve):
        """A path that may hold variables: check it, or the directory of its
        static prefix. ``resolve`` makes the static part absolute."""
        prefix, dynamic = static_prefix(value)
        if not dynamic:
            return self._check(directive, scope, kind, resolve(value)), resolve(value), False
        if not prefix:
            return None, None, True
        directory = static_prefix_dir(resolve(prefix) if prefix.startswith("/") else resolve(prefix))
        if directory is None:
            return None, None, True
        ok = self._check(directive, scope, kind, directory, want="dir")
        return ok, resolve(prefix), True

    # Walk --------------------------------------------------------------

    def run(self, tree):
        main = Scope("main", None, None)
        self._walk_generic(flatten(tree), main)

    def _walk_generic(self, directives, scope):
        """Directives outside http (main, events, stream, mail, upstream...)."""
        for directive in directives:
            name = directive.name
            if name == "include":
                self._include(directive, scope)
            elif name == "http" and directive.block is not None:
                self._walk_http(directive)
            elif name in _SSL_FILES:
                self._ssl_file(directive, scope)
            elif name in ("error_log", "access_log"):
                self._log(directive, scope)
            elif name == "load_module" and directive.args:
                self._check(directive, scope, "module", self._prefix_path(directive.args[0]), want="file")
            elif name in _PASS_DIRECTIVES:
                self._pass(directive, scope)
            elif name == "upstream" and directive.block is not None:
                self._upstream(directive, scope)
            elif name in _OPAQUE_BLOCKS:
                continue
            elif directive.block:
                child = Scope(name, directive, scope)
                child.label = " ".join([name] + directive.args)
                self._walk_generic(flatten(directive.block), child)

    def _walk_http(self, directive):
        http = Scope("http", directive, None)
        http.label = "http"
        http.directives = flatten(directive.block)
        self._settings(http)
        servers = []
        for child in http.directives:
            if child.name == "server" and child.block is not None:
                servers.append(self._build_server(child, http))
        self._check_scope(http)
        for server in servers:
            self._check_tree(server)

    def _build_server(self, directive, http):
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
        self._build_locations(server)
        return server

    def _build_locations(self, scope):
        for directive in scope.directives:
            if directive.block is None or directive.name not in ("location", "if", "limit_except"):
                continue
            child = Scope(directive.name, directive, scope)
            child.directives = flatten(directive.block)
            if directive.name == "location":
                args = directive.args
                child.modifier, child.pattern = _location_pattern(args)
                if child.modifier in ("~", "~*"):
                    flags = re.IGNORECASE if child.modifier == "~*" else 0
                    try:
                        child.regex = re.compile(_NAMED_GROUP.sub("(?P<", child.pattern), flags)
                    except re.error:
                        child.regex = None
                child.label = "location " + " ".join(args)
                scope.locations.append(child)
            else:
                child.label = directive.name + " " + " ".join(directive.args)
                # if / limit_except are not matched by URI; their settings
                # still apply to what they contain.
                scope.locations.append(child)
            self._settings(child)
            self._build_locations(child)

    def _settings(self, scope):
        params = []
        for directive in scope.directives:
            name = directive.name
            if name in ("root", "alias") and directive.args:
                value = directive.args[0]
                prefix, dynamic = static_prefix(value)
                path = self._prefix_path(prefix if dynamic else value) if (prefix or not dynamic) else ""
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

    # Checks ------------------------------------------------------------

    def _check_tree(self, scope):
        self._check_scope(scope)
        for child in scope.locations:
            self._check_tree(child)

    def _check_scope(self, scope):
        for directive in scope.directives:
            name = directive.name
            if name == "include":
                self._include(directive, scope)
            elif name in ("root", "alias"):
                self._root(directive, scope)
            elif name == "index":
                self._index(directive, scope)
            elif name == "try_files":
                self._try_files(directive, scope)
            elif name == "error_page":
                self._error_page(directive, scope)
            elif name in _SSL_FILES:
                self._ssl_file(directive, scope)
            elif name in ("error_log", "access_log"):
                self._log(directive, scope)
            elif name == "auth_basic_user_file" and directive.args:
                self._check_dynamic(directive, scope, "file", directive.args[0], self._conf_path)
            elif name in _PASS_DIRECTIVES:
                self._pass(directive, scope)
            elif name == "upstream" and directive.block is not None:
                self._upstream(directive, scope)
        if scope.handler is not None and scope.handler.name == "fastcgi_pass":
            self._fastcgi_script(scope)

    def _include(self, directive, scope):
        result = directive.include
        if result is None:
            return
        if result.is_glob:
            exists = bool(result.files)
            self.report.reference(directive.file, directive.line, "include", "include", result.path,
                                  result.checked, exists, scope.context())
            if result.error:
                self.report.finding(ERROR, directive.file, directive.line, "include", result.path,
                                    "%s: %s" % (result.path, result.error))
            elif not exists:
                self.report.finding(INFO, directive.file, directive.line, "include", result.path,
                                    "%s matches no file" % result.path)
            return
        exists = bool(result.files)
        self.report.reference(directive.file, directive.line, "include", "include", result.path,
                              result.checked, exists, scope.context())
        if result.error:
            text = "%s %s" % (result.path, result.error) if not result.error.startswith("include loop") else result.error
            if result.checked != result.path and not result.error.startswith("include loop"):
                text += " (looked for at %s)" % result.checked
            self.report.finding(ERROR, directive.file, directive.line, "include", result.path, text)

    def _root(self, directive, scope):
        root = scope.root
        if root is None or root.directive is not directive:
            return
        if root.dynamic:
            directory = static_prefix_dir(root.path) if root.path else None
            if directory is not None:
                self._check(directive, scope, directive.name, directory, want="dir")
            return
        want = "exists" if directive.name == "alias" else "dir"
        self._check(directive, scope, directive.name, root.path, want=want)

    def _base_dir(self, scope):
        """The directory a request for the scope's own URI maps to, when known."""
        root = scope.root
        if root is None or root.dynamic:
            return None
        if root.alias:
            return root.path.rstrip("/") or "/"
        return root.path

    def _index(self, directive, scope):
        base = self._base_dir(scope)
        if base is None or not self.fs.is_dir(self.path_map.apply(base)):
            return
        candidates = []
        for name in directive.args:
            if "$" in name:
                continue
            if name.startswith("/"):
                target = self._uri_file(scope.server or scope, name)
                if target is not None:
                    candidates.append(target)
                continue
            candidates.append(os.path.join(base, name))
        if not candidates:
            return
        found = False
        for path in candidates:
            ok = self._check(directive, scope, "index", path, severity=None)
            if ok:
                found = True
                if path.endswith(".php"):
                    self.report.entrypoint(path)
        if not found:
            first = candidates[0]
            checked = self.path_map.apply(first)
            text = "%s does not exist" % first if len(candidates) == 1 else \
                "none of %s exists in %s" % (", ".join(os.path.basename(path) for path in candidates), base)
            if checked != first:
                text += " (looked for at %s)" % os.path.dirname(checked)
            self.report.finding(ERROR, directive.file, directive.line, "index", first, text)

    def _uri_path(self, value):
        """The path part of a URI as written in try_files / error_page, or
        None when it depends on the request."""
        path = value.split("?", 1)[0]
        for variable in _QUERY_VARIABLES:
            position = path.find(variable)
            if position >= 0:
                path = path[:position]
        if "$" in path or not path.startswith("/"):
            return None
        return path

    def _match(self, scopes, uri):
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
            nested = self._match(longest.locations, uri)
            if nested is not None and nested.modifier in ("~", "~*", "="):
                return nested
            if longest.modifier == "^~":
                return nested or longest
        for scope in scopes:
            if scope.modifier in ("~", "~*") and scope.regex is not None and scope.regex.search(uri):
                return self._match(scope.locations, uri) or scope
        if longest is not None:
            nested = self._match(longest.locations, uri)
            return nested or longest
        return None

    def _uri_file(self, server, uri):
        """The file a request for ``uri`` reaches in ``server``, or None when
        it is not a file (proxied, returned) or cannot be known statically."""
        target = self._match(server.locations, uri) or server
        if target.handler is not None and target.handler.name != "fastcgi_pass":
            return None
        if target.handler is not None:
            script = self._script_filename(target, uri)
            return script[0] if script else None
        return self._map_uri(target, uri)

    def _map_uri(self, scope, uri):
        root = scope.root
        if root is None:
            return os.path.join(self._prefix_path("html"), uri.lstrip("/"))
        if root.dynamic:
            return None
        if root.alias:
            location = root.scope
            if location.modifier in ("~", "~*"):
                return None
            tail = uri[len(location.pattern):] if uri.startswith(location.pattern) else uri
            return root.path + tail if tail else root.path
        return root.path.rstrip("/") + uri

    def _script_filename(self, scope, uri):
        """SCRIPT_FILENAME of a request for ``uri`` reaching a FastCGI
        location: ``(path, directive)``, or None when it is dynamic."""
        for directive in reversed(scope.fastcgi_params):
            if directive.args[0] != "SCRIPT_FILENAME":
                continue
            value = directive.args[1]
            document_root = self._map_uri(scope, "/").rstrip("/") if scope.root is not None and not scope.root.dynamic else None
            for variable in ("$document_root", "$realpath_root"):
                if value.startswith(variable):
                    if document_root is None:
                        return None
                    value = document_root + value[len(variable):]
                    break
            if "$fastcgi_script_name" in value and value.count("$") == 1:
                value = value.replace("$fastcgi_script_name", uri)
            elif value == "$request_filename":
                value = self._map_uri(scope, uri)
                if value is None:
                    return None
            if "$" in value or not value.startswith("/"):
                return None
            return value, directive
        return None

    def _try_files(self, directive, scope):
        if len(directive.args) < 2:
            return
        last = directive.args[-1]
        if last.startswith("="):
            return
        if last.startswith("@"):
            self._named_location(directive, scope, last)
            return
        uri = self._uri_path(last)
        if uri is None:
            return
        server = scope.server
        if server is None:
            return
        path = self._uri_file(server, uri)
        if path is None:
            return
        ok = self._check(directive, scope, "try_files", path, want="file",
                         message="fallback %s: %s does not exist" % (last, path))
        if ok and path.endswith(".php"):
            self.report.entrypoint(path)

    def _named_location(self, directive, scope, name):
        server = scope.server
        if server is None:
            return
        stack = list(server.locations)
        while stack:
            location = stack.pop()
            if location.modifier == "@" and location.pattern == name:
                return
            stack.extend(location.locations)
        self.report.finding(ERROR, directive.file, directive.line, directive.name, name,
                            "%s: no location %s in %s" % (name, name, server.label))

    def _error_page(self, directive, scope):
        if len(directive.args) < 2:
            return
        target = directive.args[-1]
        if target.startswith("@"):
            self._named_location(directive, scope, target)
            return
        uri = self._uri_path(target)
        if uri is None or scope.server is None:
            return
        path = self._uri_file(scope.server, uri)
        if path is None:
            return
        ok = self._check(directive, scope, "error_page", path, want="file")
        if ok and path.endswith(".php"):
            self.report.entrypoint(path)

    def _fastcgi_script(self, scope):
        scripts = [directive for directive in scope.fastcgi_params if directive.args[0] == "SCRIPT_FILENAME"]
        if scripts:
            # PHP-FPM takes the last one nginx sends.
            self._switched_script_path(scripts[-1], scope, scripts[-1].args[1])
        for directive in scope.fastcgi_params:
            name, value = directive.args[0], directive.args[1]
            if name == "SCRIPT_FILENAME":
                self._script_param(directive, scope, value)
            elif name in ("PHP_VALUE", "PHP_ADMIN_VALUE"):
                for setting, path in _php_ini_settings(value):
                    if setting in _PHP_INI_FILES and path.startswith("/"):
                        if self._check(directive, scope, "php_ini", path, want="file",
                                       message="%s %s does not exist" % (setting, path)):
                            self.report.entrypoint(path)

    def _script_param(self, directive, scope, value):
        document_root = None
        if scope.root is not None and not scope.root.dynamic:
            document_root = self._map_uri(scope, "/").rstrip("/")
        for variable in ("$document_root", "$realpath_root"):
            if value.startswith(variable):
                if document_root is None:
                    return
                tail = value[len(variable):]
                if "$" in tail:
                    self.report.php_root(document_root)
                    return
                value = document_root + tail
                break
        if value == "$request_filename" and document_root is not None:
            self.report.php_root(document_root)
            return
        prefix, dynamic = static_prefix(value)
        if dynamic:
            if prefix.startswith("/"):
                directory = static_prefix_dir(prefix)
                self._check(directive, scope, "script", directory, want="dir")
            return
        if value.startswith("/"):
            if self._check(directive, scope, "script", value, want="file"):
                self.report.entrypoint(value)

    def _switched_script_path(self, directive, scope, value):
        """A warning when SCRIPT_FILENAME hands PHP-FPM a path through a link
        that a switch of releases changes ($realpath_root resolves it per request)."""
        if value.startswith("$realpath_root"):
            return
        if value.startswith("$document_root") or value == "$request_filename":
            path = None
            if scope.root is not None and not scope.root.dynamic:
                path = self._map_uri(scope, "/").rstrip("/")
        else:
            path = static_prefix(value)[0]
        if not path or not path.startswith("/"):
            return
        link = self.path_map.switched_prefix(path)
        key = ("switched", id(directive))
        if link is None or key in self._seen:
            return
        self._seen.add(key)
        where = scope.context()
        if scope.directive is not None:
            where += " (%s:%s)" % (scope.directive.file, scope.directive.line)
        self.report.finding(
            WARNING, directive.file, directive.line, directive.name, path,
            "SCRIPT_FILENAME %s reaches PHP-FPM through %s, a link that a switch of releases changes, in %s: %s. "
            "With $realpath_root in place of $document_root (in SCRIPT_FILENAME and DOCUMENT_ROOT) each request "
            "runs the release it started in even before that reload" % (value, link, where, SWITCHED_SCRIPT_PATHS))

    def _socket_of(self, directive):
        value = directive.args[0] if directive.args else ""
        if directive.name in ("proxy_pass", "grpc_pass"):
            for scheme in ("http://unix:", "https://unix:", "grpc://unix:", "grpcs://unix:"):
                if value.startswith(scheme):
                    rest = value[len(scheme):]
                    return rest.split(":", 1)[0]
            return None
        if value.startswith("unix:"):
            return value[len("unix:"):]
        return None

    def _pass(self, directive, scope):
        socket = self._socket_of(directive)
        if socket is None:
            return
        self._socket(directive, scope, socket)

    def _socket(self, directive, scope, socket):
        if "$" in socket:
            return
        path = self._conf_path(socket) if not socket.startswith("/") else socket
        if not self.check_sockets:
            self.report.reference(directive.file, directive.line, directive.name, "socket", path,
                                  self.path_map.apply(path), None, scope.context() if scope else "main")
            return
        self._check(directive, scope, "socket", path, want="socket",
                    message=None)

    def _upstream(self, directive, scope):
        upstream = Scope("upstream", directive, None)
        upstream.label = "upstream " + " ".join(directive.args)
        for child in flatten(directive.block):
            if child.name == "server" and child.args and child.args[0].startswith("unix:"):
                self._socket(child, upstream, child.args[0][len("unix:"):])

    def _ssl_file(self, directive, scope):
        if not directive.args:
            return
        value = directive.args[0]
        if value.startswith(("data:", "engine:")):
            return
        self._check_dynamic(directive, scope, "ssl", value, self._conf_path)

    def _log(self, directive, scope):
        if not directive.args:
            return
        value = directive.args[0]
        if value in ("off", "stderr") or value.startswith(("syslog:", "memory:", "/dev/")):
            return
        prefix, dynamic = static_prefix(value)
        path = self._prefix_path(prefix if dynamic else value)
        directory = static_prefix_dir(path) if dynamic else os.path.dirname(path)
        if directory:
            self._check(directive, scope, "log", directory, want="dir",
                        message="%s: directory %s does not exist" % (value, directory))


def check(tree, loader, fs, report, check_sockets=True, nginx_prefix=NGINX_PREFIX):
    """Fill ``report`` with the references of a loaded nginx tree."""
    NginxChecker(loader, fs, report, check_sockets=check_sockets, nginx_prefix=nginx_prefix).run(tree)
    return report


__all__ = ["check", "NginxChecker", "flatten", "Scope", "WARNING"]
