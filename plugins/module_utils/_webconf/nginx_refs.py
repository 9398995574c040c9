# -*- coding: utf-8 -*-
# Copyright: lastgood.webstack contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every file, directory and socket an nginx configuration refers to, where
it is written, and whether it exists as nginx would look for it.

Works on the tree of nginx_parse.Loader. The rules are one table, _RULES:
which directive is checked by which method, and where (outside the http
block, inside it, or both). URIs named by ``try_files``, ``error_page``,
``index`` and ``rewrite`` are followed to the file they reach as
nginx_requests follows a request (through try_files fallbacks, named
locations and rewrites, to a file or the script PHP-FPM runs). Variables
that ``set`` gives a literal value are put in (nginx_routing). Once all is
checked, the PHP files under the PHP roots that no request runs are found
(nginx_hidden). Pure standard library."""

from __future__ import annotations

import os

from ansible_collections.lastgood.webstack.plugins.module_utils._common.findings import (
    ERROR,
    INFO,
    SWITCHED_SCRIPT_PATHS,
    WARNING,
)
from ansible_collections.lastgood.webstack.plugins.module_utils._common.paths import static_prefix, static_prefix_dir
from ansible_collections.lastgood.webstack.plugins.module_utils._webconf import nginx_hidden, nginx_routing
from ansible_collections.lastgood.webstack.plugins.module_utils._webconf.nginx_hidden import HiddenWalk
from ansible_collections.lastgood.webstack.plugins.module_utils._webconf.nginx_requests import Requests
from ansible_collections.lastgood.webstack.plugins.module_utils._webconf.nginx_routing import (
    FILE_NAME,
    NGINX_PREFIX,
    PASS_DIRECTIVES,
    Router,
    Scope,
    expand,
    uri_path,
)
from ansible_collections.lastgood.webstack.plugins.module_utils._webconf.refs_base import RefsChecker, php_ini_settings
from ansible_collections.lastgood.webstack.plugins.module_utils._webconf.tree import flatten

_OPAQUE_BLOCKS = frozenset(("map", "geo", "types", "split_clients", "charset_map", "match"))
_SSL_FILES = frozenset((
    "ssl_certificate", "ssl_certificate_key", "ssl_trusted_certificate", "ssl_client_certificate",
    "ssl_dhparam", "ssl_crl", "ssl_stapling_file", "ssl_password_file", "ssl_session_ticket_key",
    "proxy_ssl_certificate", "proxy_ssl_certificate_key", "proxy_ssl_trusted_certificate",
    "proxy_ssl_crl", "proxy_ssl_password_file", "grpc_ssl_certificate", "grpc_ssl_certificate_key",
    "grpc_ssl_trusted_certificate", "uwsgi_ssl_certificate", "uwsgi_ssl_certificate_key",
    "uwsgi_ssl_trusted_certificate",
))

# Where a rule applies: outside the http block (main, events, stream, mail
# and the blocks in them), in it (http, its servers, locations, if and
# limit_except blocks), or both.
OUTSIDE_HTTP = 1
IN_HTTP = 2
ANYWHERE = OUTSIDE_HTTP | IN_HTTP

# The rules: for each directive, the method that checks it, where, and what
# the directive must have for the rule to apply ("args", "block" or None).
# Outside http, a block that no rule applies to (and that is not one of
# _OPAQUE_BLOCKS) is walked for what it holds.
_RULES = {
    "include": ("_include", ANYWHERE, None),
    "error_log": ("_log", ANYWHERE, None),
    "access_log": ("_log", ANYWHERE, None),
    "upstream": ("_upstream", ANYWHERE, "block"),
    "http": ("_http", OUTSIDE_HTTP, "block"),
    "load_module": ("_load_module", OUTSIDE_HTTP, "args"),
    "root": ("_root", IN_HTTP, None),
    "alias": ("_root", IN_HTTP, None),
    "index": ("_index", IN_HTTP, None),
    "try_files": ("_try_files", IN_HTTP, None),
    "error_page": ("_error_page", IN_HTTP, None),
    "rewrite": ("_rewrite", IN_HTTP, None),
    "auth_basic_user_file": ("_auth_basic_user_file", IN_HTTP, "args"),
}
_RULES.update(dict.fromkeys(_SSL_FILES, ("_ssl_file", ANYWHERE, None)))
_RULES.update(dict.fromkeys(PASS_DIRECTIVES, ("_pass", ANYWHERE, None)))
# What follows $document_root (or a directory) in a SCRIPT_FILENAME when the
# script is the request's path under that directory.
_SCRIPT_NAMES = ("$fastcgi_script_name", "${fastcgi_script_name}", "$uri", "${uri}", "$document_uri")
_REDIRECTS = ("http://", "https://", "$scheme")


def _socket_of(directive, variables=None):
    """The unix socket a ``*_pass`` directive passes requests to (with the
    literal values of ``variables`` put in), or None."""
    value = expand(directive.args[0], variables) if directive.args else ""
    if directive.name in ("proxy_pass", "grpc_pass"):
        for scheme in ("http://unix:", "https://unix:", "grpc://unix:", "grpcs://unix:"):
            if value.startswith(scheme):
                rest = value[len(scheme):]
                return rest.split(":", 1)[0]
        return None
    if value.startswith("unix:"):
        return value[len("unix:"):]
    return None


def _tests_existence(directive):
    """Whether an ``if`` holds when a file or directory exists (``-f``,
    ``-e``, ``-d``, ``-x``; not their negations)."""
    return any(arg.lstrip("(") in ("-f", "-e", "-d", "-x") for arg in directive.args)


def _apply(rule, directive, scope):
    """Check ``directive`` by ``rule`` (a method and what it needs); False
    when the directive lacks what the rule needs."""
    method, needs = rule
    if (needs == "args" and not directive.args) or (needs == "block" and directive.block is None):
        return False
    method(directive, scope)
    return True


class NginxChecker(RefsChecker):
    """Walks a loaded nginx configuration and fills a Report. Where a
    reference is made: the Scope (None for the main context)."""

    def __init__(self, loader, fs, report, check_sockets=True, nginx_prefix=NGINX_PREFIX, max_walk=None):
        super().__init__(loader, fs, report, check_sockets=check_sockets)
        self.router = Router(nginx_prefix)
        self.requests = Requests(self.router, self._exists)
        self.max_walk = max_walk
        self._outside_http = self._rules(OUTSIDE_HTTP)
        self._in_http = self._rules(IN_HTTP)
        # PHP roots: {live directory: [(server, uri prefix)]} and the
        # directive that made each one a root.
        self._php_routes = {}
        self._php_root_directives = {}

    def _rules(self, where):
        """``{directive name: (method, what it needs)}`` of the rules that apply ``where``."""
        return {name: (getattr(self, method), needs)
                for name, (method, applies, needs) in _RULES.items() if applies & where}

    def _context(self, where):
        return where.context() if where is not None else "main"

    # Paths -------------------------------------------------------------

    def _exists(self, path, directory=False):
        """Whether the live ``path`` exists where it is looked for: as a
        directory, or as something else (what try_files tests)."""
        checked = self.path_map.apply(path)
        if directory:
            return self.fs.is_dir(checked)
        return self.fs.exists(checked) and not self.fs.is_dir(checked)

    def _conf_path(self, value):
        """Relative to the conf prefix (include, ssl_*, auth_basic_user_file)."""
        return self.loader.resolve(value)

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
        self._walk_outside_http(flatten(tree), Scope("main", None, None))
        self._php_hidden()

    def _walk_outside_http(self, directives, scope):
        """Directives outside http (main, events, stream, mail, upstream...)."""
        rules = self._outside_http
        for directive in directives:
            rule = rules.get(directive.name)
            if (rule is not None and _apply(rule, directive, scope)) or directive.name in _OPAQUE_BLOCKS:
                continue
            if directive.block:
                child = Scope(directive.name, directive, scope)
                child.label = " ".join([directive.name] + directive.args)
                self._walk_outside_http(flatten(directive.block), child)

    def _http(self, directive, _scope):
        http, servers = self.router.http(directive)
        self._check_scope(http)
        for server in servers:
            self._check_tree(server)

    def _check_tree(self, scope):
        self._check_scope(scope)
        for child in scope.locations:
            self._check_tree(child)

    def _check_scope(self, scope):
        rules = self._in_http
        for directive in scope.directives:
            rule = rules.get(directive.name)
            if rule is not None:
                _apply(rule, directive, scope)
        root = scope.root
        if root is not None and root.scope is not scope and scope.parent is not None and root is not scope.parent.root:
            # An inherited root built with this scope's own variables.
            self._check_root(root, scope)
        if scope.handler is not None and scope.handler.name == "fastcgi_pass":
            self._fastcgi_script(scope)

    # Rules: anywhere ---------------------------------------------------

    def _include(self, directive, scope):
        result = directive.include
        if result is None:
            return
        exists = bool(result.files)
        self.report.reference(directive.file, directive.line, "include", "include", result.path,
                              result.checked, exists, scope.context())
        if result.is_glob:
            if result.error:
                self.report.finding(ERROR, directive.file, directive.line, "include", result.path,
                                    "%s: %s" % (result.path, result.error))
            elif not exists:
                self.report.finding(INFO, directive.file, directive.line, "include", result.path,
                                    "%s matches no file" % result.path)
        elif result.error:
            text = "%s %s" % (result.path, result.error) if not result.error.startswith("include loop") else result.error
            if result.checked != result.path and not result.error.startswith("include loop"):
                text += " (looked for at %s)" % result.checked
            self.report.finding(ERROR, directive.file, directive.line, "include", result.path, text)

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
        if directive.name == "access_log":
            # Written once the request is served: with the variables set by then.
            value = expand(value, scope.variables)
        self._log_directory(directive, scope, value, self.router.prefix_path)

    def _pass(self, directive, scope):
        socket = _socket_of(directive, scope.variables)
        if socket is not None:
            self._socket(directive, scope, socket)

    def _socket(self, directive, scope, socket):
        if "$" in socket:
            return
        self._check_socket(directive, scope, self._conf_path(socket) if not socket.startswith("/") else socket)

    def _upstream(self, directive, _scope):
        upstream = Scope("upstream", directive, None)
        upstream.label = "upstream " + " ".join(directive.args)
        for child in flatten(directive.block):
            if child.name == "server" and child.args and child.args[0].startswith("unix:"):
                self._socket(child, upstream, child.args[0][len("unix:"):])

    # Rules: outside http -----------------------------------------------

    def _load_module(self, directive, scope):
        self._check(directive, scope, "module", self.router.prefix_path(directive.args[0]), want="file")

    # Rules: in http ----------------------------------------------------

    def _root(self, directive, scope):
        root = scope.root
        if root is None or root.directive is not directive:
            return
        self._check_root(root, scope)

    def _check_root(self, root, scope):
        directive = root.directive
        if root.dynamic:
            directory = static_prefix_dir(root.path) if root.path else None
            if directory is not None:
                self._check(directive, scope, directive.name, directory, want="dir")
            return
        want = "exists" if directive.name == "alias" else "dir"
        self._check(directive, scope, directive.name, root.path, want=want)

    def _index(self, directive, scope):
        """The index files of the scope's root. nginx tries the names in
        order; one that is an absolute URI ends the list: nginx redirects to
        it without looking, so it is followed, and none of the names before
        it existing is no error."""
        where = nginx_routing.index_dir(scope)
        if where is None or not self.fs.is_dir(self.path_map.apply(where[0])):
            return
        base, _uri, required = where
        candidates = []
        for name in directive.args:
            name = expand(name, scope.variables)
            if name.startswith("/"):
                required = False
                uri = uri_path(name)
                if uri is not None and scope.server is not None:
                    self._follow(directive, scope, self.requests.reach(scope.server, uri), "index %s" % name)
                    self._path_tail(directive, scope, name, uri)
                break
            if "$" in name:
                # Depends on the request: maybe it exists.
                required = False
                continue
            candidates.append(os.path.join(base, name))
        self._index_files(directive, scope, candidates, base, required=required)

    def _index_entrypoint(self, directive, scope, path):
        """An index file that exists is requested by its URI: the script
        PHP-FPM runs for it is the entry point (and must exist); one that
        is not run (a static or closed location) is none."""
        reached = None
        if scope.server is not None:
            reached = self.requests.reach(scope.server, nginx_routing.index_dir(scope)[1] + os.path.basename(path))
        if reached is None or reached.path == path:
            self.report.entrypoint(path)
        elif reached.path is not None and reached.path.endswith(".php"):
            script = self.router.script_filename(reached.scope, "/")
            if script is not None and "$" not in expand(script[1].args[1], reached.scope.variables):
                # A script named as it is: its own fastcgi_param says when it is missing.
                if self._exists(reached.path):
                    self.report.entrypoint(reached.path)
                return
            self._follow(directive, scope, reached, "index %s" % os.path.basename(path))

    def _path_tail(self, directive, scope, written, uri):
        """A URI written as a file name and the request's path
        (``/index.php$request_uri``) reaches nginx as ``/index.php/<path>``:
        when the location that runs /index.php through PHP-FPM does not also
        serve such URIs, another location does, where the request loops back
        to the same fallback or finds no script. An error at the directive."""
        server = scope.server
        if server is None or not nginx_routing.path_tail(written):
            return
        named = nginx_routing.match(server.locations, uri) or server
        shaped = nginx_routing.match(server.locations, uri + "/") or server
        if shaped is named or named.handler is None or named.handler.name != "fastcgi_pass":
            return
        if shaped.handler is not None and shaped.handler.name == "fastcgi_pass":
            return
        self.report.finding(
            ERROR, directive.file, directive.line, directive.name, uri + "/",
            "%s: nginx goes on with %s/ and the request's path after it, which %s serves, not %s that runs %s; "
            "such requests loop or find no script" % (written, uri, shaped.label or shaped.context(), named.label, uri))

    def _follow(self, directive, scope, reached, what):
        """Check the file a request ``reached`` (None: unknown) for a
        directive: it must exist; a PHP one is an entry point."""
        if reached is None or reached.path is None:
            return
        path = reached.path
        message = None if what is None else "%s: %s does not exist" % (what, path)
        if self._check(directive, scope, directive.name, path, want="file", message=message) and path.endswith(".php"):
            self.report.entrypoint(path)

    def _try_files(self, directive, scope):
        if len(directive.args) < 2:
            return
        last = expand(directive.args[-1], scope.variables)
        if last.startswith("="):
            return
        if last.startswith("@"):
            self._named_location(directive, scope, last)
            return
        uri = uri_path(last)
        if uri is None or scope.server is None:
            return
        reached = self.requests.reach(scope.server, uri)
        self._follow(directive, scope, reached, "fallback %s" % directive.args[-1])
        self._answered_with_an_error(directive, reached, "fallback %s" % directive.args[-1])
        self._path_tail(directive, scope, last, uri)

    def _answered_with_an_error(self, directive, reached, what):
        """A URI fallback (a resource, unlike a named location) that a
        ``return`` of an error status or a ``deny all`` answers fails every
        request it serves (Symfony's ``location ~ \\.php$ { return 404; }`` behind a
        misspelt ``/index.php``)."""
        answer = reached.answered if reached is not None else None
        if not answer or answer is True or not answer.args:
            return
        if answer.name == "deny":
            refusal = "refuses it with deny all (403)"
        elif answer.args[0].isdigit() and int(answer.args[0]) >= 400:
            refusal = "answers it with return %s" % answer.args[0]
        else:
            return
        self.report.finding(
            ERROR, directive.file, directive.line, directive.name, None,
            "%s: nginx %s (%s:%s), so every request the fallback serves fails"
            % (what, refusal, answer.file, answer.line))

    def _named_location(self, directive, scope, name):
        server = scope.server
        if server is None or nginx_routing.named_location(server, name) is not None:
            return
        self.report.finding(ERROR, directive.file, directive.line, directive.name, name,
                            "%s: no location %s in %s" % (name, name, server.label))

    def _error_page(self, directive, scope):
        if len(directive.args) < 2:
            return
        target = expand(directive.args[-1], scope.variables)
        if target.startswith("@"):
            self._named_location(directive, scope, target)
            return
        uri = uri_path(target)
        if uri is None or scope.server is None:
            return
        self._follow(directive, scope, self.requests.reach(scope.server, uri), None)

    def _rewrite(self, directive, scope):
        """A rewrite to a literal file name (``/index.php``, maybe followed
        by variables): the file the new URI reaches must exist. With
        ``break`` the location that rewrote serves it; else nginx searches a
        location for it."""
        args = directive.args
        server = scope.server
        if len(args) < 2 or server is None:
            return
        flag = args[2] if len(args) > 2 else ""
        if flag in ("redirect", "permanent") or args[1].startswith(_REDIRECTS):
            return
        uri = uri_path(expand(args[1], scope.variables))
        if uri is None or not FILE_NAME.search(uri):
            return
        location = scope
        while location.kind in ("if", "limit_except"):
            if _tests_existence(location.directive):
                # Taken only when some file exists (a maintenance page...).
                return
            location = location.parent
        if flag == "break" and location.kind == "location":
            reached = self.requests.in_location(server, location, uri, rewrite=False)
        else:
            reached = self.requests.reach(server, uri, server_phase=False)
        self._follow(directive, scope, reached, "rewrite to %s" % args[1])
        self._path_tail(directive, scope, expand(args[1], scope.variables), uri)

    def _auth_basic_user_file(self, directive, scope):
        self._check_dynamic(directive, scope, "file", directive.args[0], self._conf_path)

    # FastCGI -----------------------------------------------------------

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
                for setting, path in php_ini_settings(value):
                    self._php_ini(directive, scope, setting, path)

    def _script_param(self, directive, scope, value):
        """SCRIPT_FILENAME: a literal script must exist; one built from a
        directory ($document_root, $realpath_root, a literal path, or both:
        ``$document_root/public``) and the request's path makes that
        directory a PHP root, and it must exist."""
        value = expand(value, scope.variables)
        document_root = self.router.document_root(scope)
        for variable in ("$document_root", "$realpath_root"):
            if value.startswith(variable):
                if document_root is None:
                    return
                value = document_root + value[len(variable):]
                break
        if value == "$request_filename":
            if document_root is not None:
                self._php_root(directive, scope, document_root, request_filename=True)
            return
        prefix, dynamic = static_prefix(value)
        if not dynamic:
            if value.startswith("/") and self._check(directive, scope, "script", value, want="file"):
                self.report.entrypoint(value)
            return
        if not prefix.startswith("/"):
            return
        if value[len(prefix):].startswith(_SCRIPT_NAMES):
            directory = prefix.rstrip("/") or "/"
            if directory != document_root:
                self._check(directive, scope, "script", directory, want="dir",
                            message="%s: directory %s does not exist" % (directive.args[1], directory))
            self._php_root(directive, scope, directory)
            return
        self._check(directive, scope, "script", static_prefix_dir(prefix), want="dir")

    def _php_root(self, directive, scope, directory, request_filename=False):
        """``directory`` (live) is a PHP root of the scope's server: a file
        under it is requested by its path under it, or, for an alias and
        $request_filename, by that path under the alias's location."""
        self.report.php_root(directory)
        if scope.server is None:
            return
        prefix = "/"
        root = scope.root
        if request_filename and root is not None and root.alias:
            prefix = root.scope.pattern if root.slash else root.scope.pattern + "/"
        self._php_root_directives.setdefault(directory, directive)
        routes = self._php_routes.setdefault(directory, [])
        if (scope.server, prefix) not in routes:
            routes.append((scope.server, prefix))

    def _php_hidden(self):
        """report.php_hidden: the PHP files under the PHP roots that no
        request from a client runs, as glob patterns."""
        roots = []
        allowed = self.loader.allowed_roots
        for directory in self._php_routes:
            checked = self.path_map.apply(directory)
            if self.fs.is_dir(checked) and allowed.outside(checked) is None:
                roots.append((directory, checked))
        limit = nginx_hidden.MAX_FILES if self.max_walk is None else self.max_walk
        walk = HiddenWalk(self.requests, self._php_routes, self.report.php_entrypoints, max_files=limit)
        self.report.php_hidden = walk.run(roots)
        if not walk.complete:
            first = roots[0][0]
            directive = self._php_root_directives[first]
            self.report.finding(
                INFO, directive.file, directive.line, directive.raw_name, first,
                "php_hidden: the walk of %s stopped (more than %d entries, or directories more than %d deep); "
                "the PHP files past that point are not listed" % (
                    ", ".join(sorted(root for root, _checked in roots)), limit, nginx_hidden.MAX_DEPTH))

    def _switched_script_path(self, directive, scope, value):
        """A warning when SCRIPT_FILENAME hands PHP-FPM a path through a link
        that a switch of releases changes ($realpath_root resolves it per request)."""
        if value.startswith("$realpath_root"):
            return
        if value.startswith("$document_root") or value == "$request_filename":
            path = self.router.document_root(scope)
        else:
            path = static_prefix(expand(value, scope.variables))[0]
        if not path or not path.startswith("/"):
            return
        link = self.path_map.switched_prefix(path)
        if link is None or not self._first_time(("switched", id(directive))):
            return
        where = scope.context()
        if scope.directive is not None:
            where += " (%s:%s)" % (scope.directive.file, scope.directive.line)
        self.report.finding(
            WARNING, directive.file, directive.line, directive.name, path,
            "SCRIPT_FILENAME %s reaches PHP-FPM through %s, a link that a switch of releases changes, in %s: %s. "
            "With $realpath_root in place of $document_root (in SCRIPT_FILENAME and DOCUMENT_ROOT) each request "
            "runs the release it started in even before that reload" % (value, link, where, SWITCHED_SCRIPT_PATHS))


def check(tree, loader, fs, report, check_sockets=True, nginx_prefix=NGINX_PREFIX):
    """Fill ``report`` with the references of a loaded nginx tree."""
    NginxChecker(loader, fs, report, check_sockets=check_sockets, nginx_prefix=nginx_prefix).run(tree)
    return report


__all__ = ["check", "NginxChecker", "flatten", "Scope", "WARNING"]
