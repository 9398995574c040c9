# -*- coding: utf-8 -*-
# Copyright: lastgood.webstack contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A request followed through nginx's http tree the way nginx serves it, as
far as it can be known without a request: the server's rewrite phase, the
location nginx picks, the location's rewrite phase (``return``, ``rewrite``
with its flags), access rules that refuse every client, ``try_files`` with
the files that exist, named locations, internal redirects to fallback URIs,
and what finally answers: a file, the SCRIPT_FILENAME PHP-FPM runs, or an
answer without a file (``return``, a redirect, a proxy, ``deny all``).

Works on the tree of nginx_routing.Router; nginx_refs checks what it
reaches. Pure standard library."""

from __future__ import annotations

import collections

from ansible_collections.lastgood.webstack.plugins.module_utils._webconf.nginx_routing import (
    VARIABLE,
    compile_regex,
    expand,
    match,
    named_location,
    uri_path,
)

# nginx's bound on internal redirects and URI changes of one request.
MAX_REDIRECTS = 10
_REDIRECTS = ("http://", "https://", "$scheme")

# What a request reaches: the file it needs (a static file, or the script
# PHP-FPM runs; None when it needs none), the scope that serves it, and
# whether it is ``answered`` without a file (return, redirect, proxy, deny):
# True, or the ``return`` directive that answers it.
Reached = collections.namedtuple("Reached", ("path", "scope", "answered"))

# Outcomes of a rewrite phase.
_STAY = "stay"          # the request stays where it is (maybe with a new URI: break)
_NEXT = "next"          # nginx searches a location for a new URI (last, or no flag)
_ANSWER = "answer"      # return, or a redirect
_UNKNOWN = "unknown"    # a rewrite that matches leads to a URI the request decides
# A request that comes back to a URI it went through (nginx stops it).
_LOOP = Reached(None, None, False)


class Requests:
    """Follows requests through a Router's tree. ``exists(path, directory)``
    tells whether a live path exists (as a directory when ``directory``); with
    it, try_files is followed as nginx follows it; without it, a location
    with try_files is taken to serve the URI itself."""

    def __init__(self, router, exists=None):
        self.router = router
        self.exists = exists
        self._regexes = {}

    def reach(self, server, uri, seen=None, server_phase=True):
        """What a request for ``uri`` (an internal redirect to it when
        ``seen`` holds the URIs before) reaches in ``server``: a Reached, or
        None when it cannot be known."""
        seen = set() if seen is None else seen
        if uri in seen or len(seen) > MAX_REDIRECTS:
            return _LOOP
        seen.add(uri)
        if server_phase:
            outcome, uri = self._rewrite_phase(server, uri)
            if outcome == _ANSWER:
                return Reached(None, server, uri or True)
            if outcome == _UNKNOWN:
                return None
        scope = match(server.locations, uri) or server
        return self.in_location(server, scope, uri, seen)

    def in_location(self, server, scope, uri, seen=None, rewrite=True):
        """What a request for ``uri`` reaches once in ``scope`` (a location,
        or the server when no location matches), from its rewrite phase on
        (or after it: ``rewrite`` False)."""
        seen = set() if seen is None else seen
        if rewrite and scope.kind != "server":
            outcome, target = self._rewrite_phase(scope, uri)
            if outcome == _ANSWER:
                return Reached(None, scope, target or True)
            if outcome == _UNKNOWN:
                return None
            if outcome == _NEXT:
                return self.reach(server, target, seen, server_phase=False)
            uri = target
        if scope.denied:
            return Reached(None, scope, scope.denied)
        if scope.try_files is not None and self.exists is not None:
            return self._try_files(server, scope, uri, seen)
        return self.content(scope, uri)

    def content(self, scope, uri):
        """What answers a request for ``uri`` in ``scope`` after its rewrite
        and try_files phases: its handler, or the file its root maps to."""
        handler = scope.handler
        if handler is not None:
            if handler.name != "fastcgi_pass":
                return Reached(None, scope, True)
            script = self.router.script_filename(scope, uri)
            return None if script is None else Reached(script[0], scope, False)
        if uri.endswith("/"):
            # A directory: what its index names is not followed here.
            return None
        path = self.router.map_uri(scope, uri)
        return None if path is None else Reached(path, scope, False)

    def _rewrite_phase(self, scope, uri):
        """The rewrite and return directives of ``scope`` run on ``uri``:
        ``(outcome, uri)``, the URI the request goes on with."""
        changed = False
        for directive in scope.rewrites:
            if directive.name == "return":
                return _ANSWER, directive
            args = directive.args
            if len(args) < 2:
                continue
            key = id(directive)
            if key not in self._regexes:
                self._regexes[key] = compile_regex(args[0])
            regex = self._regexes[key]
            if regex is None:
                return _UNKNOWN, None
            if not regex.search(uri):
                continue
            flag = args[2] if len(args) > 2 else ""
            if flag in ("redirect", "permanent") or args[1].startswith(_REDIRECTS):
                return _ANSWER, None
            target = uri_path(expand(args[1], scope.variables))
            if target is None:
                return _UNKNOWN, None
            if flag == "break":
                return _STAY, target
            if flag == "last":
                return _NEXT, target
            uri = target
            changed = True
        return (_NEXT if changed and scope.kind != "server" else _STAY), uri

    def _try_files(self, server, scope, uri, seen):
        """try_files of ``scope`` on ``uri``: the first name that exists is
        served in the scope; else its fallback. When neither a name nor what
        the fallback reaches exists (or it comes back here, or is ``=code``),
        the first name is what is missing."""
        args = [expand(arg, scope.variables) for arg in scope.try_files.args]
        first = None
        for arg in args[:-1]:
            name = self._try_name(scope, arg, uri)
            if name is None:
                return None
            path = self.router.map_uri(scope, name.rstrip("/") or "/")
            if path is None:
                return None
            if first is None:
                first = path
            if self.exists(path, arg.endswith("/")):
                return self.content(scope, name)
        missing = None if first is None else Reached(first, scope, False)
        fallback = args[-1]
        if fallback.startswith("="):
            return missing
        if fallback.startswith("@"):
            named = named_location(server, fallback)
            if fallback in seen:
                return missing
            seen.add(fallback)
            result = None if named is None else self.in_location(server, named, uri, seen)
        else:
            target = uri_path(fallback)
            result = None if target is None else self.reach(server, target, seen)
        if result is _LOOP or (missing is not None and result is not None and result.path is not None
                               and not self.exists(result.path, False)):
            return missing
        return result

    def _try_name(self, scope, arg, uri):
        """A try_files name (not the last) for a request for ``uri``: the
        URI-like path it tests, or None when the request decides it."""
        known = {"uri": uri, "document_uri": uri}
        if "fastcgi_script_name" in arg:
            known["fastcgi_script_name"] = self.router.script_name(scope, uri)
        name = VARIABLE.sub(lambda found: known.get(found.group(1) or found.group(2), found.group(0)), arg)
        if "$" in name or not name.startswith("/"):
            return None
        return name

    def executes(self, server, uri, script):
        """Whether a request for ``uri`` from a client runs ``script`` (a
        live path) through PHP-FPM: False when it is answered otherwise
        (return, a rewrite elsewhere, an internal or denied location, a
        location that does not pass it to PHP-FPM, another SCRIPT_FILENAME);
        None when that cannot be known."""
        outcome, target = self._rewrite_phase(server, uri)
        if outcome == _UNKNOWN:
            return None
        if outcome == _ANSWER or target != uri:
            return False
        scope = match(server.locations, uri) or server
        if scope.kind != "server":
            outcome, target = self._rewrite_phase(scope, uri)
            if outcome == _UNKNOWN:
                return None
            if outcome == _ANSWER or target != uri:
                return False
        if scope.internal or scope.denied or scope.handler is None or scope.handler.name != "fastcgi_pass":
            return False
        found = self.router.script_filename(scope, uri)
        if found is None:
            return None
        return found[0] == script
