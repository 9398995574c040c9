# -*- coding: utf-8 -*-
# Copyright: lastgood.webstack contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The conditional branches around each include: which ``if``, ``elseif``,
``else`` and ``switch`` bodies (brace, colon and single-statement forms) a
position of a PHP file is in, with the conditions of its chain, so that
resolution can tell code that always runs from code behind a condition.
Loops, functions and ``try`` are not conditions here. Pure standard
library."""

from __future__ import annotations

import re
from collections import namedtuple

from ansible_collections.lastgood.webstack.plugins.module_utils._php.lexer import _php_tokens, each_php_block

# A condition that is not a decidable expression (a switch's cases).
UNDECIDABLE = ()


class Branch(namedtuple("Branch", "chain index count has_else conditions")):
    """One body of an if/elseif/else chain (or a switch): the chain's number
    in its file, this body's index in it, the chain's number of bodies,
    whether it ends with ``else``, and the condition tokens of the bodies up
    to this one (None for ``else``, UNDECIDABLE for a switch)."""
    __slots__ = ()


_STRUCTURE = re.compile(r"""
    '[^'\\]*(?:\\.[^'\\]*)*'?
  | "[^"\\]*(?:\\.[^"\\]*)*"?
  | (?://|\#(?!\[))[^\n?]*(?:\?(?!>)[^\n?]*)*
  | /\*.*?(?:\*/|\Z)
  | <<<[ \t]*(?P<hq>["']?)(?P<hl>[A-Za-z_][A-Za-z0-9_]*)(?P=hq)\r?\n.*?^[ \t]*(?P=hl)\b
  | <<<[^\n]*\n.*
  | (?P<close>\?>)
  | (?:\$|->|::|\\)[A-Za-z_\x80-\uffff][\w\x80-\uffff]*
  | (?P<word>(?:if|elseif|else|while|for|foreach|switch|declare|endif|endwhile|endfor|endforeach|endswitch|enddeclare
                |function)
             (?![\w\x80-\uffff]))
  | [A-Za-z_\x80-\uffff][\w\x80-\uffff]*
  | ::
  | (?P<punct>[{}();:])
  | [^'"/\#<?$:\\A-Za-z_\x80-\uffff{}();]+
  | .
""", re.X | re.S | re.M | re.I)

_HEADERS = frozenset(("if", "elseif", "while", "for", "foreach", "switch", "declare"))
_CONDITIONAL = frozenset(("if", "elseif", "else", "switch"))
_ALT_ENDS = frozenset(("endif", "endwhile", "endfor", "endforeach", "endswitch", "enddeclare"))


def _structure_tokens(text):
    """``(kind, value, start, end)`` of the words and punctuation that shape
    control flow, ``?>`` as ``;``."""
    found = []

    def scan_block(opening, line):
        position = opening.end()
        for match in _STRUCTURE.finditer(text, position):
            if match.lastgroup == "close":
                found.append(("p", ";", match.start(), match.end()))
                return match.end(), line
            if match.lastgroup == "word":
                found.append(("w", match.group("word").lower(), match.start(), match.end()))
            elif match.lastgroup == "punct":
                found.append(("p", match.group("punct"), match.start(), match.end()))
        return len(text), line
    each_php_block(text, scan_block)
    return found


class _Frame:
    __slots__ = ("kind", "style", "chain", "index", "condition", "start", "end", "level")

    def __init__(self, kind, style, chain, index, condition, start, level):
        self.kind = kind
        self.style = style            # "brace", "alt" or "statement"
        self.chain = chain
        self.index = index
        self.condition = condition    # (start, end) of the text between the parentheses
        self.start = start
        self.end = None
        self.level = level


class _Structure:
    """Walks the structure tokens once and records every conditional body."""

    def __init__(self, tokens):
        self.tokens = tokens
        self.frames = []      # every frame, closed or not
        self.open = []        # frames and plain braces (None) that are open
        self.chains = 0
        self.last_chain = None

    def run(self, length):
        tokens = self.tokens
        index = 0
        while index < len(tokens):
            index = self._step(index)
        for frame in self.open:
            if frame is not None and frame.end is None:
                frame.end = length
        return self.frames

    def _step(self, index):
        kind, value, start, end = self.tokens[index]
        if kind == "w":
            if value in _HEADERS or (value == "else" and self._next_is(index, "if")):
                if value == "else":
                    index += 1
                    value = "elseif"
                return self._header(value, index)
            if value == "else":
                return self._body("else", None, index + 1, start, end)
            if value in _ALT_ENDS:
                self._close_alt(start)
            return index + 1
        if value == "{":
            self.open.append(None)
        elif value == "}":
            self._close_brace(start)
        elif value == ";":
            self._close_statements(end)
        return index + 1

    def _next_is(self, index, word):
        return index + 1 < len(self.tokens) and self.tokens[index + 1][:2] == ("w", word)

    def _header(self, word, index):
        """A control header at ``index``: its parenthesized condition, then its body."""
        tokens = self.tokens
        position = index + 1
        if position >= len(tokens) or tokens[position][1] != "(":
            return position
        depth = 0
        condition_start = tokens[position][3]
        while position < len(tokens):
            value = tokens[position][1]
            if value == "(":
                depth += 1
            elif value == ")":
                depth -= 1
                if depth == 0:
                    break
            position += 1
        if position >= len(tokens):
            return position
        condition = (condition_start, tokens[position][2])
        return self._body(word, condition, position + 1, tokens[index][2], tokens[position][3])

    def _body(self, word, condition, index, start, body_start):
        """The body of a header that starts at ``start`` and ends at
        ``body_start``: braces, a colon, or one statement."""
        if word in ("elseif", "else"):
            # A colon-form chain goes on: close the body before this one.
            top = self.open[-1] if self.open else None
            if top is not None and top.style == "alt" and top.kind in ("if", "elseif"):
                self._close_frame(top, start)
                self.open.pop()
            chain = self.last_chain
            if chain is None:
                chain = self._new_chain()
                chain_index = 0
            else:
                chain_index = max(frame.index for frame in self.frames if frame.chain == chain) + 1
        elif word == "if":
            chain, chain_index = self._new_chain(), 0
        else:
            chain, chain_index = None, 0
        tokens = self.tokens
        style = "statement"
        if index < len(tokens) and tokens[index][1] == "{":
            style, index = "brace", index + 1
        elif index < len(tokens) and tokens[index][1] == ":":
            style, index = "alt", index + 1
        frame = _Frame(word, style, chain, chain_index, condition, body_start, self._level())
        self.frames.append(frame)
        self.open.append(frame)
        self.last_chain = None
        return index

    def _new_chain(self):
        self.chains += 1
        return self.chains

    def _level(self):
        return sum(1 for entry in self.open if entry is None or entry.style != "statement")

    def _close_frame(self, frame, end):
        frame.end = end
        self.last_chain = frame.chain if frame.kind in ("if", "elseif") else None

    def _close_brace(self, position):
        while self.open and self.open[-1] is not None and self.open[-1].style == "statement":
            self._close_frame(self.open.pop(), position)
        if not self.open:
            return
        entry = self.open.pop()
        if entry is not None:
            self._close_frame(entry, position + 1)
            self._close_statements(position + 1, keep_chain=True)

    def _close_statements(self, position, keep_chain=False):
        """A ``;`` ends the single-statement bodies open at its level."""
        chain = self.last_chain
        closed = False
        while self.open and self.open[-1] is not None and self.open[-1].style == "statement" \
                and self.open[-1].level == self._level():
            self._close_frame(self.open.pop(), position)
            closed = True
        if not closed and not keep_chain:
            self.last_chain = None
        elif keep_chain and not closed:
            self.last_chain = chain

    def _close_alt(self, position):
        """An ``end...`` keyword closes the innermost colon-form body."""
        for place in range(len(self.open) - 1, -1, -1):
            entry = self.open[place]
            if entry is not None and entry.style == "alt":
                for inner in self.open[place + 1:]:
                    if inner is not None and inner.end is None:
                        inner.end = position
                del self.open[place:]
                self._close_frame(entry, position)
                return


def branches_at(text, offsets):
    """For each offset of ``offsets``, the tuple of Branch it is in, the
    outermost first."""
    frames = _Structure(_structure_tokens(text)).run(len(text))
    conditional = [frame for frame in frames if frame.kind in _CONDITIONAL]
    if not conditional:
        return [()] * len(offsets)
    by_chain = {}
    for frame in conditional:
        if frame.chain is not None:
            by_chain.setdefault(frame.chain, []).append(frame)
    conditions = {}
    answers = []
    for offset in offsets:
        around = [frame for frame in conditional if frame.start <= offset < frame.end]
        around.sort(key=lambda frame: frame.start)
        answers.append(tuple(_branch(frame, by_chain, conditions, text) for frame in around))
    return answers


def _branch(frame, by_chain, conditions, text):
    if frame.chain is None:
        return Branch(0, 0, 1, False, (UNDECIDABLE,))
    chain = by_chain[frame.chain]
    has_else = any(member.kind == "else" for member in chain)
    own = []
    for member in chain:
        if member.index > frame.index:
            break
        own.append(_condition_tokens(member, conditions, text))
    return Branch(frame.chain, frame.index, len(chain), has_else, tuple(own))


def _condition_tokens(frame, cache, text):
    if frame.kind == "switch":
        return UNDECIDABLE
    if frame.condition is None:
        return None
    key = frame.condition
    if key not in cache:
        tokens = []
        _php_tokens(text, frame.condition[0], 1, tokens, limit=frame.condition[1])
        cache[key] = tuple(tokens)
    return cache[key]


def in_function_bodies(text, offsets):
    """For each offset of ``offsets``, whether it is inside the body of a
    function, method or closure: code there runs only when it is called."""
    tokens = _structure_tokens(text)
    spans = []
    index = 0
    while index < len(tokens):
        if tokens[index][:2] != ("w", "function"):
            index += 1
            continue
        parens = 0
        index += 1
        while index < len(tokens):
            value = tokens[index][1]
            if value == "(":
                parens += 1
            elif value == ")":
                parens -= 1
            elif parens == 0 and value in (";", "{", "}"):
                break
            index += 1
        if index >= len(tokens) or tokens[index][1] != "{":
            continue
        start, braces = tokens[index][2], 0
        while index < len(tokens):
            value = tokens[index][1]
            if value == "{":
                braces += 1
            elif value == "}":
                braces -= 1
                if braces == 0:
                    break
            index += 1
        end = tokens[index][3] if index < len(tokens) else len(text)
        spans.append((start, end))
        # Nested functions are inside their outer one's span already.
    return [any(start <= offset < end for start, end in spans) for offset in offsets]
