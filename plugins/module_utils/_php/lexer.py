# -*- coding: utf-8 -*-
# Copyright: lastgood.webstack contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A PHP tokenizer for static include resolution: inline HTML outside
``<?php``/``<?=`` ... ``?>``, comments, single- and double-quoted strings,
heredoc and nowdoc are recognised so that nothing inside them counts; what
remains is identifiers, variables, numbers and operators with line numbers.
Pure standard library."""

from __future__ import annotations

import re
import sys
from collections import namedtuple

# Token kinds.
STRING = "str"        # value: the string's text; literal: False when it interpolates variables
NAME = "name"         # identifiers and keywords, value as written
VARIABLE = "var"
NUMBER = "num"
OP = "op"             # one or two characters: ( ) , ; . @ :: -> etc.; ?> is ';'

_OPEN_TAG = re.compile(r"<\?(?:php(?=[\s])|=)", re.I)
_CLOSE_OR_NEWLINE = re.compile(r"\?>|\n")
_TOKEN = re.compile(r"""
    (?P<ws>[ \t\r\n]+)
  | (?P<line_comment>(?://|\#(?!\[))[^\n?]*(?:\?(?!>)[^\n?]*)*)
  | (?P<block_comment>/\*.*?(?:\*/|\Z))
  | (?P<close>\?>\n?)
  | (?P<single>'(?:[^'\\]|\\.)*'?)
  | (?P<double>"(?:[^"\\]|\\.)*"?)
  | (?P<heredoc><<<[ \t]*(?P<quote>["']?)(?P<label>[A-Za-z_][A-Za-z0-9_]*)(?P=quote)\r?\n)
  | (?P<variable>\$[A-Za-z_\x80-\uffff][A-Za-z0-9_\x80-\uffff]*)
  | (?P<name>\\?[A-Za-z_\x80-\uffff][A-Za-z0-9_\x80-\uffff]*(?:\\[A-Za-z_\x80-\uffff][A-Za-z0-9_\x80-\uffff]*)*)
  | (?P<number>\d[\d_]*(?:\.\d+)?)
  | (?P<op>::|->|=>|\.=|\.\.\.|&&|\|\||===|!==|==|!=|<=|>=|\?\?|.)
""", re.X | re.S)
_SINGLE_ESCAPE = re.compile(r"\\([\\'])")
_DOUBLE_ESCAPE = re.compile(r"\\(?:([nrtvef\\$\"])|x([0-9A-Fa-f]{1,2})|([0-7]{1,3}))")
_INTERPOLATION = re.compile(r"(?<!\\)(?:\$[A-Za-z_{]|\{\$)")
# A statement's tokens end at the STATEMENT_KEYWORDS-th keyword of interest
# after its own, if no ';', '{', '}' or '?>' ended it before: otherwise
# "include include include ..." or "require ( require ( ..." would tokenize
# the rest of the file once per keyword (quadratic time and memory). Real
# statements hold at most one more keyword (a guard's call in an include).
STATEMENT_KEYWORDS = 2
_DOUBLE_MAP = {"n": "\n", "r": "\r", "t": "\t", "v": "\v", "e": "\x1b", "f": "\f", "\\": "\\", "$": "$", '"': '"'}


class Token:
    __slots__ = ("kind", "value", "line", "literal", "start", "end")

    def __init__(self, kind, value, line, start, end, literal=True):
        self.kind = kind
        self.value = value
        self.line = line
        self.start = start
        self.end = end
        self.literal = literal

    def __repr__(self):
        return "Token(%s, %r, %d)" % (self.kind, self.value, self.line)


def _double(body):
    def replace(match):
        if match.group(1):
            return _DOUBLE_MAP[match.group(1)]
        if match.group(2):
            return chr(int(match.group(2), 16))
        return chr(int(match.group(3), 8) & 0xFF)
    return _DOUBLE_ESCAPE.sub(replace, body)


def _php_tokens(text, position, line, tokens, stop_at_statement_end=False, limit=None):
    """Tokenize PHP code from ``position`` (inside ``<?php``) into ``tokens``
    until ``?>`` or the end, or with ``stop_at_statement_end`` until a ``;``
    or ``{``/``}`` at bracket depth 0; no token starts at or after ``limit``.
    Returns (position, line, closed)."""
    append = tokens.append
    length = len(text)
    stop = length if limit is None else min(limit, length)
    count = text.count
    token_match = _TOKEN.match
    depth = 0
    while position < stop:
        match = token_match(text, position)
        kind = match.lastgroup
        start = position
        end = match.end()
        value = match.group(0)
        if kind == "ws" or kind == "block_comment":
            line += count("\n", start, end)
            position = end
            continue
        if kind == "line_comment":
            position = end
            continue
        if kind == "close":
            append(Token(OP, ";", line, start, end))
            line += count("\n", start, end)
            return end, line, True
        if kind == "single":
            body = value[1:-1] if len(value) > 1 and value.endswith("'") else value[1:]
            append(Token(STRING, _SINGLE_ESCAPE.sub(r"\1", body), line, start, end))
        elif kind == "double":
            body = value[1:-1] if len(value) > 1 and value.endswith('"') else value[1:]
            append(Token(STRING, _double(body), line, start, end, literal=not _INTERPOLATION.search(body)))
        elif kind == "heredoc":
            label = match.group("label")
            nowdoc = match.group("quote") == "'"
            closing = re.compile(r"^[ \t]*" + re.escape(label) + r"\b", re.M)
            found = closing.search(text, end)
            body_end = found.start() if found else length
            body = text[end:body_end]
            if body.endswith("\n"):
                body = body[:-1]
            end = found.end() if found else length
            literal = nowdoc or not _INTERPOLATION.search(body)
            append(Token(STRING, body if nowdoc else _double(body), line, start, end, literal=literal))
        elif kind == "variable":
            append(Token(VARIABLE, value, line, start, end))
        elif kind == "name":
            append(Token(NAME, value, line, start, end))
        elif kind == "number":
            append(Token(NUMBER, value, line, start, end))
        else:
            append(Token(OP, value, line, start, end))
            if stop_at_statement_end:
                if value in ("(", "["):
                    depth += 1
                elif value in (")", "]"):
                    depth -= 1
                elif depth <= 0 and value in (";", "{", "}"):
                    return end, line, False
        line += count("\n", start, end)
        position = end
    return position, line, True


def each_php_block(text, scan_block):
    """Calls ``scan_block(opening, line)`` for each piece of PHP code in
    ``text``: ``opening`` is the match of its ``<?php`` or ``<?=``, ``line``
    the line it ends on. ``scan_block`` scans the code from ``opening.end()``
    and returns the position and line just past its ``?>``, or the length of
    the text and the last line. The one loop over PHP code and inline HTML
    for every scanner."""
    position = 0
    line = 1
    length = len(text)
    while position < length:
        opening = _OPEN_TAG.search(text, position)
        if opening is None:
            break
        line += text.count("\n", position, opening.end())
        position, line = scan_block(opening, line)


# What a static include scan needs to see, and what it must skip over: the
# keywords and calls of interest, braces (for class bodies), and everything
# that can hide them (strings, comments, heredocs, the end of PHP code).
INTERESTING = ("include", "include_once", "require", "require_once", "define", "const",
               "file_exists", "is_file", "is_readable", "stream_resolve_include_path",
               "set_include_path", "ini_set",
               "class", "interface", "trait", "enum")
_SKIP = re.compile(r"""
  # Positions no alternative can start at are rejected by one class test.
  (?=[/#?'"<{}cdefirst])
  (?:
    (?P<line_comment>(?://|\#(?!\[))[^\n?]*(?:\?(?!>)[^\n?]*)*)
  | (?P<block_comment>/\*.*?(?:\*/|\Z))
  | (?P<close>\?>)
  | (?P<single>'[^'\\]*(?:\\.[^'\\]*)*'?)
  | (?P<double>"[^"\\]*(?:\\.[^"\\]*)*"?)
  | (?P<heredoc><<<[ \t]*(?P<quote>["']?)(?P<label>[A-Za-z_][A-Za-z0-9_]*)(?P=quote)\r?\n)
  | (?P<brace>[{}])
  | (?P<word>%s)\b
  )
""" % "|".join(sorted(INTERESTING, key=len, reverse=True)), re.X | re.S)


class Hit(namedtuple("Hit", "word line tokens depth in_class start")):
    """A keyword of interest: the tokens of its statement, its brace depth,
    whether it is in a class body, the line and the offset it starts at."""
    __slots__ = ()


def scan_statements(text):
    """The statements of ``text`` that start with or hold a keyword of
    ``INTERESTING``, each tokenized from the keyword to the end of its
    statement. Much faster than tokenizing everything: the regex engine
    skips what cannot matter."""
    statements = []     # (word, line, start, depth, in_class) of each statement
    length = len(text)
    count = text.count
    search = _SKIP.search
    depth = 0
    class_depths = []
    pending_class = False

    def scan_block(opening, line):
        nonlocal depth, pending_class
        position = opening.end()
        while position < length:
            match = search(text, position)
            if match is None:
                return length, line
            kind = match.lastgroup
            if kind == "quote" or kind == "label":
                kind = "heredoc"
            start = match.start()
            line += count("\n", position, start)
            end = match.end()
            if kind == "close":
                return end, line
            if kind == "heredoc":
                closing = re.compile(r"^[ \t]*" + re.escape(match.group("label")) + r"\b", re.M)
                found = closing.search(text, end)
                end = found.end() if found else length
            elif kind == "brace":
                if text[start] == "{":
                    depth += 1
                    if pending_class:
                        class_depths.append(depth)
                        pending_class = False
                else:
                    if class_depths and class_depths[-1] == depth:
                        class_depths.pop()
                    depth -= 1
            elif kind == "word" and start and (text[start - 1].isalnum() or text[start - 1] in "_$\\>:"):
                # Part of a longer name, a variable, a method or a constant.
                end = start + len(match.group("word"))
            elif kind == "word":
                word = match.group("word").lower()
                if word in ("class", "interface", "trait", "enum"):
                    pending_class = True
                else:
                    statements.append((word, line, start, depth, bool(class_depths)))
                    end = start + len(match.group("word"))
            line += count("\n", start, end)
            position = end
        return position, line
    each_php_block(text, scan_block)
    return _statements(text, statements)


def _statements(text, found):
    """A Hit for each ``(word, line, start, depth, in_class)`` of ``found``
    (in the order of the text), its tokens up to the end of its statement or
    the STATEMENT_KEYWORDS-th keyword after its own."""
    hits = []
    last = len(found) - STATEMENT_KEYWORDS
    for index, (word, line, start, depth, in_class) in enumerate(found):
        limit = found[index + STATEMENT_KEYWORDS][2] if index < last else None
        tokens = []
        _php_tokens(text, start, line, tokens, stop_at_statement_end=True, limit=limit)
        hits.append(Hit(word, line, tokens, depth, in_class, start))
    return hits


# One search per statement of interest: strings, comments, heredocs, names
# and everything else are consumed inside the regex engine, which stops only
# at a keyword of INTERESTING (as a whole word, not after $, -> or ::) or at
# the end of PHP code. As in scan_statements, an unterminated string or
# heredoc runs to the end of the file (were it skipped as one character, the
# next quote or <<< would scan to the end again: quadratic time).
# Each skipped token is taken whole, never given back: an atomic group on
# Python 3.11 and later, the same as a lookahead that captures the token and
# a backreference that consumes it on older Pythons (hosts run 3.8 on).
_FAST_TOKENS = r"""
      '[^'\\]*(?:\\.[^'\\]*)*'?
    | "[^"\\]*(?:\\.[^"\\]*)*"?
    | (?://|\#(?!\[))[^\n?]*(?:\?(?!>)[^\n?]*)*
    | /\*.*?(?:\*/|\Z)
    | <<<[ \t]*(?P<hq>["']?)(?P<hl>[A-Za-z_][A-Za-z0-9_]*)(?P=hq)\r?\n.*?^[ \t]*(?P=hl)\b
    | <<<[ \t]*(?:"[A-Za-z_][A-Za-z0-9_]*"|'[A-Za-z_][A-Za-z0-9_]*'|[A-Za-z_][A-Za-z0-9_]*)\r?\n.*
    | (?:\$|->|::|\\)[A-Za-z_\x80-\uffff][\w\x80-\uffff]*
    | [^'"/\#<?$:\\A-Za-z_\x80-\uffff-]+
    | [A-Za-z_\x80-\uffff][\w\x80-\uffff]*
    | .
"""
_FAST_HIT = r"""
  (?P<hit>\?>|(?=[cdefirst])(?<![\w\x80-\uffff])(?:%s)(?![\w\x80-\uffff]))
""" % "|".join(sorted(INTERESTING, key=len, reverse=True))


def _fast_pattern(atomic):
    if atomic:
        skip = "(?>" + _FAST_TOKENS + ")*?"
    else:
        skip = "(?:(?=(?P<token>" + _FAST_TOKENS + "))(?P=token))*?"
    return re.compile(skip + _FAST_HIT, re.X | re.S | re.M)


_FAST = _fast_pattern(sys.version_info >= (3, 11))


def scan_statements_fast(text):
    """As scan_statements, with class context only worked out (by the
    slower scan) for files that define constants."""
    statements = []
    length = len(text)
    count = text.count
    search = _FAST.match
    has_const = False

    def scan_block(opening, line):
        nonlocal has_const
        position = opening.end()
        while position < length:
            match = search(text, position)
            if match is None:
                return length, line
            start = match.start("hit")
            line += count("\n", position, start)
            word = match.group("hit")
            if word == "?>":
                return match.end(), line
            if word in ("class", "interface", "trait", "enum"):
                position = match.end()
                continue
            if word == "const":
                has_const = True
            statements.append((word, line, start, 0, False))
            position = start + len(word)
        return position, line
    each_php_block(text, scan_block)
    if has_const:
        return scan_statements(text)
    return _statements(text, statements)
