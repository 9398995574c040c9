# -*- coding: utf-8 -*-
# Copyright: lastgood.webstack contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the nginx and Apache checkers do alike: record a reference and the
finding when what it names is missing, the PHP ini settings that name
files, the index files of a directory, the unix sockets requests are passed
to, and the directories logs are written in.

A checker says where a reference is made (``where``) in its own terms: nginx
passes the Scope, Apache the text of its context; ``_context`` turns it into
the text a reference records. Pure standard library."""

from __future__ import annotations

import os
import re

from ansible_collections.lastgood.webstack.plugins.module_utils._common.findings import ERROR
from ansible_collections.lastgood.webstack.plugins.module_utils._common.paths import (
    describe_missing,
    static_prefix,
    static_prefix_dir,
)

# PHP settings whose value is a file PHP runs with every script.
PHP_INI_FILES = ("auto_prepend_file", "auto_append_file")
_NOT_WHAT_IS_WANTED = {"dir": "is not a directory", "socket": "is not a unix socket", "file": "is not a regular file"}


def php_ini_settings(value):
    """``name=value`` pairs of a PHP_VALUE / PHP_ADMIN_VALUE parameter."""
    for line in re.split(r"[\n;]", value):
        name, sep, setting = line.partition("=")
        if sep:
            yield name.strip(), setting.strip().strip('"').strip("'")


class RefsChecker:
    """Walks a loaded configuration and fills a Report; what a server's own
    checker shares with the other's."""

    def __init__(self, loader, fs, report, check_sockets=True):
        self.loader = loader
        self.path_map = loader.path_map
        self.fs = fs
        self.report = report
        self.check_sockets = check_sockets
        self._seen = set()

    def _context(self, where):
        """The context a reference made ``where`` records."""
        return where

    def _first_time(self, key):
        """Whether ``key`` is met for the first time (then it is kept)."""
        if key in self._seen:
            return False
        self._seen.add(key)
        return True

    def _check(self, directive, where, kind, path, want="exists", severity=ERROR, message=None):
        """Record a reference to ``path`` (live) and a finding when it is
        missing. ``want``: exists, dir, file or socket. Returns existence."""
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
        if not self._first_time((id(directive), path, kind)):
            return ok
        self.report.reference(directive.file, directive.line, directive.raw_name, kind, path, checked, ok,
                              self._context(where))
        if not ok and severity is not None:
            if fs.exists(checked):
                what = _NOT_WHAT_IS_WANTED.get(want, "cannot be used")
            else:
                what = describe_missing(checked)
            text = message or "%s %s" % (path, what)
            if checked != path:
                text += " (looked for at %s)" % checked
            self.report.finding(severity, directive.file, directive.line, directive.raw_name, path, text)
        return ok

    def _php_ini(self, directive, where, setting, value):
        """A PHP setting passed to PHP-FPM: the file it names must exist;
        an include_path is kept for php_refs."""
        if setting == "include_path" and value:
            self.report.include_path(value)
            return
        if setting not in PHP_INI_FILES or not value.startswith("/"):
            return
        if self._check(directive, where, "php_ini", value, want="file",
                       message="%s %s does not exist" % (setting, value)):
            self.report.entrypoint(value)

    def _index_files(self, directive, where, candidates, base, required=True):
        """The index files of ``base`` a directive names (``candidates``, in
        its order): the PHP ones that exist are entry points; none existing
        is an error unless not ``required`` (the server has somewhere else to
        go)."""
        found = False
        for path in candidates:
            if self._check(directive, where, "index", path, severity=None):
                found = True
                if path.endswith(".php"):
                    self._index_entrypoint(directive, where, path)
        if candidates and not found and required:
            first = candidates[0]
            text = "%s does not exist" % first if len(candidates) == 1 else \
                "none of %s exists in %s" % (", ".join(os.path.basename(path) for path in candidates), base)
            checked = self.path_map.apply(first)
            if checked != first:
                text += " (looked for at %s)" % os.path.dirname(checked)
            self.report.finding(ERROR, directive.file, directive.line, directive.raw_name, first, text)

    def _index_entrypoint(self, directive, scope, path):
        """An index file ``path`` that exists and is a PHP file: an entry
        point (a checker that knows which script a request for it runs says
        so instead)."""
        self.report.entrypoint(path)

    def _check_socket(self, directive, where, path):
        """A unix socket requests are passed to; with check_sockets off, only
        recorded (its existence unknown)."""
        if not self.check_sockets:
            self.report.reference(directive.file, directive.line, directive.raw_name, "socket", path,
                                  self.path_map.apply(path), None, self._context(where))
            return
        self._check(directive, where, "socket", path, want="socket")

    def _log_directory(self, directive, where, value, resolve):
        """The directory a log file ``value`` (absolute once ``resolve``d;
        its static part when it holds variables) is written in."""
        prefix, dynamic = static_prefix(value)
        path = resolve(prefix if dynamic else value)
        directory = static_prefix_dir(path) if dynamic else os.path.dirname(path)
        if directory:
            self._check(directive, where, "log", directory, want="dir",
                        message="%s: directory %s does not exist" % (value, directory))
