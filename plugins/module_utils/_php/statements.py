# -*- coding: utf-8 -*-
# Copyright: lastgood.webstack contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The include and require statements of one PHP file and the constants it
defines (``define()``, and ``const`` outside classes), each with the tokens
of its expression: all that resolution needs from a file's text. Pure
standard library."""

from __future__ import annotations

import bisect
import re
from collections import namedtuple

from ansible_collections.lastgood.webstack.plugins.module_utils._common.paths import read_regular
from ansible_collections.lastgood.webstack.plugins.module_utils._php.lexer import NAME, OP, STRING, scan_statements_fast

STATEMENTS = ("include", "include_once", "require", "require_once")
# set_include_path(X) and ini_set('include_path', X) both become a Statement
# of this keyword whose tokens are X.
SET_INCLUDE_PATH = "set_include_path"
GUARDS = ("file_exists", "is_file", "is_readable", "stream_resolve_include_path")
_GUARD_WINDOW = 4000         # characters before a statement in which a guard counts
_GUARD_COUNT = 16            # and how many of the guards nearest to it count at most
_ENDS = frozenset((";", ",", "or", "and", "xor", "||", "&&", "?", ":", "??", "]", "}", "=>"))
MAX_FILE_BYTES = 16 * 1024 * 1024


class Statement(namedtuple("Statement", "file line statement expression tokens silenced guard_texts position branches")):
    """An include or require (or a change of the include_path): its file and
    line, its keyword, its expression as written and as tokens, whether
    ``@`` silences it, the normalized arguments of the guards
    (``file_exists()``...) written shortly before, its offset in the file
    and the conditional branches (branches.Branch) it is in, when known
    (resolution works them out only for statements that fail)."""
    __slots__ = ()


class Definition(namedtuple("Definition", "file position tokens")):
    """A ``define()`` or ``const``: its file, its offset there and the tokens
    of its value."""
    __slots__ = ()


def _text(text, tokens):
    if not tokens:
        return ""
    return text(tokens[0].start, tokens[-1].end)


def normalized(text):
    """``text`` without blanks, in lower case: a guard's argument as it
    compares with an expression."""
    return re.sub(r"\s+", "", text).lower()


def _expression_end(tokens, index):
    """Index just past the expression starting at ``index``: it ends at
    depth 0 on ``;``, ``,``, a logical operator, or a bracket it did not open."""
    depth = 0
    length = len(tokens)
    while index < length:
        token = tokens[index]
        value = token.value
        if token.kind == OP:
            if value in ("(", "["):
                depth += 1
            elif value in (")", "]"):
                if depth == 0:
                    return index
                depth -= 1
            elif depth == 0 and value in _ENDS:
                return index
        elif token.kind == NAME and depth == 0 and value.lower() in ("or", "and", "xor"):
            return index
        index += 1
    return index


def _call_argument(tokens, index):
    """Tokens of the first argument of a call whose '(' is at ``index``."""
    depth = 0
    start = index + 1
    for position in range(index, len(tokens)):
        token = tokens[position]
        if token.kind != OP:
            continue
        if token.value in ("(", "["):
            depth += 1
        elif token.value in (")", "]"):
            depth -= 1
            if depth == 0:
                return tokens[start:position]
        elif token.value == "," and depth == 1:
            return tokens[start:position]
    return tokens[start:]


def scan_source(path, source):
    """Statements and constant definitions of one file."""
    def silenced(start):
        before = start - 1
        while before >= 0 and source[before].isspace():
            before -= 1
        return before >= 0 and source[before] == "@"
    return statements_of(path, scan_statements_fast(source), lambda start, end: source[start:end], silenced)


def statements_of(path, hits, text, silenced):
    """Statements and constant definitions of one file from its ``hits``
    (lexer.Hit, in the order of the text, from either tokenizer):
    ``text(start, end)`` is the file's text between two offsets of a hit's
    tokens, ``silenced(start)`` whether ``@`` is the first non-blank before
    a hit."""
    statements = []
    definitions = []
    guard_offsets = []
    guard_texts = []  # normalized argument text of each guard, in the order of the text
    for hit in hits:
        tokens = hit.tokens
        word = hit.word
        if word in STATEMENTS:
            end = _expression_end(tokens, 1)
            expression_tokens = tokens[1:end]
            first = bisect.bisect_left(guard_offsets, hit.start - _GUARD_WINDOW)
            window = guard_texts[max(first, len(guard_texts) - _GUARD_COUNT):]
            statements.append(Statement(path, hit.line, word, _text(text, expression_tokens),
                                        expression_tokens, silenced(hit.start), window, hit.start, ()))
        elif len(tokens) < 2 or tokens[1].value != "(":
            if word == "const" and not hit.in_class and len(tokens) > 3 and tokens[1].kind == NAME \
                    and tokens[2].value == "=":
                value_end = _expression_end(tokens, 3)
                definitions.append((tokens[1].value, Definition(path, hit.start, tokens[3:value_end])))
        elif word in GUARDS:
            guard_offsets.append(hit.start)
            guard_texts.append(normalized(_text(text, _call_argument(tokens, 1))))
        elif word == SET_INCLUDE_PATH or word == "ini_set":
            setter = _include_path_setter(path, text, hit, word)
            if setter is not None:
                statements.append(setter)
        elif word == "define":
            name_tokens = _call_argument(tokens, 1)
            if len(name_tokens) == 1 and name_tokens[0].kind == STRING:
                value_start = 2 + len(name_tokens) + 1
                value_end = _expression_end(tokens, value_start)
                definitions.append((name_tokens[0].value, Definition(path, hit.start, tokens[value_start:value_end])))
    return statements, definitions


def _include_path_setter(path, text, hit, word):
    """The Statement of ``set_include_path(X)`` or ``ini_set('include_path', X)``."""
    tokens = hit.tokens
    arguments = _call_argument(tokens, 1)
    if word == "ini_set":
        if len(arguments) != 1 or arguments[0].kind != STRING or arguments[0].value != "include_path":
            return None
        comma = 1 + 1 + len(arguments)
        if comma >= len(tokens) or tokens[comma].value != ",":
            return None
        value_tokens = tokens[comma + 1:_expression_end(tokens, comma + 1)]
    else:
        value_tokens = arguments
    return Statement(path, hit.line, SET_INCLUDE_PATH, _text(text, value_tokens), value_tokens, False, (),
                     hit.start, ())


def read_source(path):
    return _read_source(path)[0]


def _read_source(path):
    """The text of the first MAX_FILE_BYTES of a file (bytes that are not
    UTF-8 kept as surrogates, as PHP reads bytes), and whether there was more.
    OSError for what is not a regular file (a FIFO named x.php would block)."""
    data = read_regular(path, MAX_FILE_BYTES)
    return data[:MAX_FILE_BYTES].decode("utf-8", "surrogateescape"), len(data) > MAX_FILE_BYTES


class Extracted(namedtuple("Extracted", "statements definitions problem declares")):
    """What resolution needs of one file: its statements and constant
    definitions, None or why it was not read whole, and whether it declares
    a class, interface, trait or enum (a library file, not a page)."""
    __slots__ = ()


_DECLARATION = re.compile(r"^[ \t]*(?:(?:abstract|final|readonly)[ \t]+)*(?:class|interface|trait|enum)[ \t]+[A-Za-z_]",
                          re.M | re.I)


def extract(live, checked):
    """The Extracted of one file."""
    try:
        source, cut = _read_source(checked)
    except OSError as error:
        return Extracted([], [], "%s cannot be read: %s" % (live, error.strerror), False)
    statements, definitions = scan_source(live, source)
    return Extracted(statements, definitions, cut_problem(live) if cut else None,
                     _DECLARATION.search(source) is not None)


def cut_problem(live):
    """The problem of a file larger than MAX_FILE_BYTES."""
    return "%s is larger than %d MiB: only its first %d MiB were scanned" % (
        live, MAX_FILE_BYTES // (1024 * 1024), MAX_FILE_BYTES // (1024 * 1024))
