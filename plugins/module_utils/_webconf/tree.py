# -*- coding: utf-8 -*-
# Copyright: lastgood.webstack contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The tree the nginx and Apache parsers build and the checkers walk:
directives with their blocks, and what each include directive did.

Pure standard library."""

from __future__ import annotations


class Directive:
    """One directive, block or section: ``name`` (what the checkers match:
    nginx's as written, Apache's in lower case), ``raw_name`` as written,
    ``args`` (unquoted, unescaped), the ``file`` and ``line`` it starts on,
    ``block`` (a list of directives, or None) and ``include``: for an include
    directive, what it included (an IncludeResult)."""

    __slots__ = ("name", "raw_name", "args", "file", "line", "block", "include")

    def __init__(self, name, args, file, line, block=None, raw_name=None):
        self.name = name
        self.raw_name = name if raw_name is None else raw_name
        self.args = args
        self.file = file
        self.line = line
        self.block = block
        self.include = None

    def __repr__(self):
        return "Directive(%r, %r, %s:%d%s)" % (
            self.raw_name, self.args, self.file, self.line, ", block" if self.block is not None else "")


class IncludeResult:
    """What one include directive did: the pattern as written and as the
    server resolves it (``path``), where it was looked for (``checked``),
    whether it is a glob or ``optional`` (Apache's IncludeOptional), the
    files it included, and an error when it could not be followed."""

    __slots__ = ("path", "checked", "files", "is_glob", "optional", "error")

    def __init__(self, path, checked, is_glob, optional=False):
        self.path = path
        self.checked = checked
        self.is_glob = is_glob
        self.optional = optional
        self.files = []
        self.error = None


def flatten(block):
    """The directives of a block with included files spliced in; include
    directives stay in the list (they are references themselves)."""
    out = []
    for directive in block:
        out.append(directive)
        if directive.include is not None:
            out.extend(flatten(directive.block))
    return out
