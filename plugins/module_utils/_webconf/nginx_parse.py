# -*- coding: utf-8 -*-
# Copyright: lastgood.webstack contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""nginx configuration parser: the tokens nginx reads (quoting, escapes,
comments, ``${var}``), directives with their file and line, blocks, and
``include`` followed the way nginx follows it (relative to the main config's
directory, globs in sorted order). Blocks whose body is not nginx syntax
(``*_by_lua_block``) are kept as one opaque argument.

Pure standard library."""

from __future__ import annotations

import glob
import os
import re

from ansible_collections.lastgood.webstack.plugins.module_utils._common.paths import AllowedRoots, PathMap
from ansible_collections.lastgood.webstack.plugins.module_utils._webconf import errors
from ansible_collections.lastgood.webstack.plugins.module_utils._webconf.errors import MAX_NESTING, ConfigError, read_text
from ansible_collections.lastgood.webstack.plugins.module_utils._webconf.tree import Directive, IncludeResult

MAX_DEPTH = 64

# One token per match, after the whitespace and comments before it (consumed
# atomically through a lookahead and a back-reference, so a failing token never
# makes the engine try other splits of the whitespace). Group 2: ';'  3: '{'
# 4: '}'  5: double-quoted body  6: single-quoted body  7: bare word.
# As in ngx_conf_read_token: '#', quotes and '}' are special only where a
# token starts; a word ends at whitespace, ';' or a '{' not preceded by '$';
# a backslash escapes the next character.
_TOKEN = re.compile(
    r"""(?=((?:[ \t\r\n]+|\#[^\n]*)*))\1
    (?:(;)|(\{)|(\})
      |"((?:[^"\\]|\\[\s\S])*)"
      |'((?:[^'\\]|\\[\s\S])*)'
      |((?:[^ \t\r\n;{}\#"'\\$]|\\[\s\S]|\$\{?)(?:[^ \t\r\n;{\\$]|\\[\s\S]|\$\{?)*)
    )""",
    re.X,
)
_SKIP = re.compile(r"(?:[ \t\r\n]+|#[^\n]*)*")
_ESCAPE = re.compile(r"\\(.)", re.S)
_ESCAPES = {'"': '"', "'": "'", "\\": "\\", "t": "\t", "r": "\r", "n": "\n"}
_GLOB_CHARS = re.compile(r"[*?\[]")
_LUA_LONG_BRACKET = re.compile(r"\[(=*)\[")
_LUA_LONG_COMMENT = re.compile(r"--\[(=*)\[")


def _unescape(match):
    char = match.group(1)
    return _ESCAPES.get(char, "\\" + char)


def _long_bracket_end(text, opening):
    """Position just after the ``]==]`` that closes the Lua long bracket
    ``opening`` matched (``[==[`` or ``--[==[``), or the end of ``text``."""
    closing = "]" + opening.group(1) + "]"
    end = text.find(closing, opening.end())
    return len(text) if end < 0 else end + len(closing)


def _lua_block_end(text, pos, filename, line):
    """Position just after the '}' closing a Lua block whose '{' ends at pos,
    skipping Lua strings and comments."""
    depth = 1
    length = len(text)
    while pos < length:
        char = text[pos]
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0:
                return pos + 1
        elif char in "\"'":
            pos += 1
            while pos < length and text[pos] != char:
                pos += 2 if text[pos] == "\\" else 1
        elif char == "-" and text.startswith("--", pos):
            long_comment = _LUA_LONG_COMMENT.match(text, pos)
            if long_comment:
                pos = _long_bracket_end(text, long_comment)
                continue
            end = text.find("\n", pos)
            pos = length if end < 0 else end
            continue
        elif char == "[":
            long_string = _LUA_LONG_BRACKET.match(text, pos)
            if long_string:
                pos = _long_bracket_end(text, long_string)
                continue
        pos += 1
    raise ConfigError("unexpected end of file in a Lua block, expecting \"}\"", filename, line)


def parse(text, filename="<string>"):
    """Parse nginx configuration text into a list of Directive, without
    following includes. Raises ConfigError where nginx would refuse it."""
    root = []
    stack = [root]
    args = []
    start_line = 0
    line = 1
    line_pos = 0
    pos = 0
    length = len(text)
    token_match = _TOKEN.match
    count = text.count
    while True:
        match = token_match(text, pos)
        if match is None:
            rest = _SKIP.match(text, pos).end()
            line += count("\n", line_pos, rest)
            line_pos = rest
            if rest >= length:
                break
            char = text[rest]
            if char in "\"'":
                raise ConfigError("unexpected end of file, expecting closing quote %s" % char, filename, line)
            raise ConfigError("unexpected \"%s\"" % char, filename, line)
        group = match.lastindex
        start = match.start(group)
        line += count("\n", line_pos, start)
        line_pos = start
        pos = match.end()
        if group >= 5:
            value = match.group(group)
            if group == 7:
                if "\\" in value:
                    value = _ESCAPE.sub(_unescape, value)
            else:
                if "\\" in value:
                    value = _ESCAPE.sub(_unescape, value)
                # A quoted token must be followed by a separator.
                if pos < length and text[pos] not in " \t\r\n;{)":
                    raise ConfigError("unexpected \"%s\"" % text[pos], filename, line + count("\n", start, pos))
            if not args:
                start_line = line
            args.append(value)
        elif group == 2:
            if not args:
                raise ConfigError('unexpected ";"', filename, line)
            stack[-1].append(Directive(args[0], args[1:], filename, start_line))
            args = []
        elif group == 3:
            if not args:
                raise ConfigError('unexpected "{"', filename, line)
            name = args[0]
            if name.endswith("_by_lua_block"):
                end = _lua_block_end(text, pos, filename, start_line)
                body = text[pos:end - 1]
                stack[-1].append(Directive(name, args[1:] + [body], filename, start_line, []))
                pos = end
            else:
                if len(stack) > MAX_NESTING:
                    raise ConfigError("blocks nested deeper than %d levels" % MAX_NESTING, filename, start_line)
                directive = Directive(name, args[1:], filename, start_line, [])
                stack[-1].append(directive)
                stack.append(directive.block)
            args = []
        else:
            if args:
                raise ConfigError('unexpected "}"', filename, line)
            if len(stack) == 1:
                raise ConfigError('unexpected "}"', filename, line)
            stack.pop()
    if args:
        raise ConfigError('unexpected end of file, expecting ";" or "}"', filename, line)
    if len(stack) > 1:
        raise ConfigError('unexpected end of file, expecting "}"', filename, line)
    return root


def _copy_tree(block):
    """A copy of a parsed block, as parse() returned it."""
    return [Directive(directive.name, list(directive.args), directive.file, directive.line,
                      None if directive.block is None else _copy_tree(directive.block))
            for directive in block]


class Loader:
    """Parses a main config and every file it includes, in nginx's order.

    ``prefix`` is the directory relative include paths are resolved
    against (nginx's conf prefix: the main config's directory)."""

    def __init__(self, path_map=None, prefix=None, allowed_roots=None):
        self.path_map = path_map if isinstance(path_map, PathMap) else PathMap(path_map)
        self.prefix = prefix
        # An include outside these trees is reported and never read.
        self.allowed_roots = allowed_roots or AllowedRoots()
        self.files_parsed = []
        self.bytes_loaded = 0
        self._parsed = {}
        self._sizes = {}

    def load(self, main_path):
        main_path = os.path.abspath(main_path)
        if self.prefix is None:
            self.prefix = os.path.dirname(main_path)
        checked = self.path_map.apply(main_path)
        try:
            tree = self._parse_file(checked)
        except OSError as error:
            raise errors.main_config_error(error, checked)
        self._expand(tree, [os.path.realpath(checked)], 0, 0)
        return tree

    def resolve(self, path):
        """A path as nginx resolves it: relative ones against the prefix."""
        if not path.startswith("/"):
            path = os.path.join(self.prefix, path)
        return os.path.normpath(path) if "/." in path or "//" in path else path

    def _parse_file(self, path, include=None):
        # A file included many times (fastcgi_params in every PHP location)
        # is parsed at most twice per load: the first tree is handed out as
        # it is; from the second inclusion on, each one gets a copy of a
        # pristine tree kept aside, since expanding includes changes the
        # directives in place and the checkers tell them apart by identity.
        pristine = self._parsed.get(path)
        if pristine is None:
            text = read_text(path)
            self._sizes[path] = len(text)
            self._count_bytes(len(text), path, include)
            tree = parse(text, path)
            if path in self._parsed:
                self._parsed[path] = tree
                tree = _copy_tree(tree)
            else:
                self._parsed[path] = None
        else:
            self._count_bytes(self._sizes[path], path, include)
            tree = _copy_tree(pristine)
        self.files_parsed.append(path)
        return tree

    def _count_bytes(self, size, path, include):
        """Add a file read (or included again) to what this load read; an
        error at the include directive that goes past MAX_LOAD_BYTES."""
        self.bytes_loaded += size
        file, line = (path, None) if include is None else (include.file, include.line)
        errors.check_load_bytes(self.bytes_loaded, errors.included_again(path), file, line)

    def _expand(self, block, chain, depth, nesting):
        """Follow the includes in ``block``, ``nesting`` blocks deep (the
        blocks of the including files count)."""
        for directive in block:
            if directive.name == "include" and directive.block is None:
                self._include(directive, chain, depth, nesting)
            elif directive.block:
                if nesting + 1 > MAX_NESTING:
                    raise ConfigError("blocks nested deeper than %d levels, counting the files that include them"
                                      % MAX_NESTING, directive.file, directive.line)
                self._expand(directive.block, chain, depth, nesting + 1)

    def _include(self, directive, chain, depth, nesting):
        if len(directive.args) != 1:
            raise ConfigError('invalid number of arguments in "include" directive', directive.file, directive.line)
        path = self.resolve(directive.args[0])
        checked = self.path_map.apply(path)
        is_glob = bool(_GLOB_CHARS.search(path))
        result = IncludeResult(path, checked, is_glob)
        directive.include = result
        directive.block = []
        if "\0" in checked:
            result.error = errors.NUL_IN_PATH
            return
        if is_glob:
            files = sorted(glob.glob(checked))
        else:
            files = [checked]
        for file in files:
            if is_glob and os.path.isdir(file):
                continue
            real = os.path.realpath(file)
            refusal = errors.include_loop(file, real, chain) or (
                errors.includes_too_deep(MAX_DEPTH) if depth + 1 > MAX_DEPTH else self.allowed_roots.outside(file))
            if refusal:
                result.error = refusal
                continue
            try:
                tree = self._parse_file(file, directive)
            except OSError as error:
                result.error = errors.unreadable(error)
                continue
            result.files.append(file)
            self._expand(tree, chain + [real], depth + 1, nesting)
            directive.block.extend(tree)
