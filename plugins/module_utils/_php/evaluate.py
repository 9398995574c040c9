# -*- coding: utf-8 -*-
# Copyright: lastgood.webstack contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Static evaluation of a PHP expression: string literals, concatenation,
parentheses, ``__DIR__``, ``__FILE__``, ``dirname()``,
``DIRECTORY_SEPARATOR``, ``PATH_SEPARATOR``, ``get_include_path()`` and
``ini_get('include_path')`` (when the include_path is known) and the constants of ``define()``/``const`` are
evaluated; anything else raises Unresolved with the literal tail the
expression ends with, if any, and is never guessed. Pure standard library."""

from __future__ import annotations

import os

from ansible_collections.lastgood.webstack.plugins.module_utils._php.lexer import NAME, NUMBER, OP, STRING

# Parentheses, @ and dirname() inside each other, and constants defined
# through each other, that an expression may go through; deeper, it is left
# unresolved (the evaluator recurses on each).
MAX_EVALUATION_DEPTH = 64
# Characters one scan's concatenations may build in all: define('B', A . A),
# define('C', B . B)... doubles a value per line; past this, unresolved.
MAX_EVALUATION_CHARS = 64 * 1024 * 1024
UNRESOLVED = object()
_DISAGREE = object()


class Unresolved(Exception):
    """The expression cannot be known statically; ``tail`` is its literal end."""

    def __init__(self, tail=None):
        super().__init__(tail)
        self.tail = tail


class Evaluator:
    """Evaluates expression tokens in the context of one file."""

    def __init__(self, constants):
        self.constants = constants
        # The include_path in effect where the expression runs, for
        # get_include_path(); None when not known.
        self.include_path = None
        # The names of the constants the code defines.
        self.defined = {}
        self.depth = 0
        self.chars = 0

    def evaluate(self, tokens, file):
        value, index = self._concat(tokens, 0, file)
        if index != len(tokens):
            raise Unresolved(_literal_tail(tokens))
        return value

    def _term(self, tokens, index, file):
        # Every way the evaluation recurses (parentheses, @, dirname(), a
        # constant defined by another) goes through here.
        if self.depth >= MAX_EVALUATION_DEPTH:
            raise Unresolved(_literal_tail(tokens))
        self.depth += 1
        try:
            return self._term_at(tokens, index, file)
        finally:
            self.depth -= 1

    def _concat(self, tokens, index, file):
        value, index = self._term(tokens, index, file)
        while index < len(tokens) and tokens[index].kind == OP and tokens[index].value == ".":
            try:
                right, index = self._term(tokens, index + 1, file)
            except Unresolved:
                raise Unresolved(_literal_tail(tokens))
            self.chars += len(value) + len(right)
            if self.chars > MAX_EVALUATION_CHARS:
                raise Unresolved(_literal_tail(tokens))
            value += right
        return value, index

    def _term_at(self, tokens, index, file):
        if index >= len(tokens):
            raise Unresolved()
        token = tokens[index]
        if token.kind == STRING:
            if not token.literal:
                raise Unresolved(_literal_tail(tokens))
            return token.value, index + 1
        if token.kind == OP and token.value == "(":
            value, index = self._concat(tokens, index + 1, file)
            if index >= len(tokens) or tokens[index].value != ")":
                raise Unresolved(_literal_tail(tokens))
            return value, index + 1
        if token.kind == OP and token.value == "@":
            return self._term(tokens, index + 1, file)
        if token.kind == NAME:
            name = token.value.lstrip("\\")
            upper = name.upper()
            if upper == "__DIR__":
                return os.path.dirname(file), index + 1
            if upper == "__FILE__":
                return file, index + 1
            if upper == "DIRECTORY_SEPARATOR":
                return "/", index + 1
            if upper == "PATH_SEPARATOR":
                return ":", index + 1
            if name.lower() == "get_include_path" and self.include_path is not None \
                    and tokens[index + 1:index + 3] and [token.value for token in tokens[index + 1:index + 3]] == ["(", ")"]:
                return ":".join(self.include_path), index + 3
            if name.lower() == "ini_get" and self.include_path is not None and _asks_include_path(tokens, index + 1):
                return ":".join(self.include_path), index + 4
            if name.lower() == "dirname" and index + 1 < len(tokens) and tokens[index + 1].value == "(":
                return self._dirname(tokens, index + 1, file)
            if index + 1 < len(tokens) and tokens[index + 1].value in ("(", "::"):
                raise Unresolved(_literal_tail(tokens))
            value = self.constants(name, file)
            if value is UNRESOLVED:
                raise Unresolved(_literal_tail(tokens))
            return value, index + 1
        raise Unresolved(_literal_tail(tokens))

    def _dirname(self, tokens, index, file):
        value, position = self._concat(tokens, index + 1, file)
        levels = 1
        if position < len(tokens) and tokens[position].value == ",":
            digits = tokens[position + 1].value.replace("_", "") if position + 1 < len(tokens) \
                and tokens[position + 1].kind == NUMBER else ""
            # PHP wants an int of at least 1 (1.5 or 0 are not what it means).
            if not digits.isdigit() or not digits.strip("0"):
                raise Unresolved(_literal_tail(tokens))
            # Past the number of components more levels change nothing.
            levels = int(digits) if len(digits) < 6 else 99999
            position += 2
        if position >= len(tokens) or tokens[position].value != ")":
            raise Unresolved(_literal_tail(tokens))
        for dummy in range(levels):
            parent = os.path.dirname(value.rstrip("/")) if value not in ("/", "") else value
            parent = parent or "."
            if parent == value:
                break
            value = parent
        return value, position + 1


def _asks_include_path(tokens, index):
    """``('include_path')`` at ``index``: ini_get() asks for the include_path."""
    called = tokens[index:index + 3]
    return len(called) == 3 and called[0].value == "(" and called[1].kind == STRING and called[1].literal \
        and called[1].value == "include_path" and called[2].value == ")"


def _literal_tail(tokens):
    """The literal string the expression ends with, when it does."""
    if tokens and tokens[-1].kind == STRING and tokens[-1].literal and "/" in tokens[-1].value:
        return tokens[-1].value
    if len(tokens) >= 2 and tokens[-1].value == ")" and tokens[-2].kind == STRING and tokens[-2].literal \
            and "/" in tokens[-2].value:
        return tokens[-2].value
    return None


class Constants:
    """Constants from outside and from the scanned code. One value known
    everywhere when every definition agrees; otherwise a file sees the value
    it defines itself before the use, else the constant is unresolved."""

    def __init__(self, given, definitions):
        self.given = dict(given or {})
        self.definitions = {}
        for name, definition in definitions:
            self.definitions.setdefault(name, []).append(definition)
        self._values = {}
        self._evaluating = set()
        # Per name: the one value every definition agrees on, or _DISAGREE;
        # per (name, file): the file's first definition. Without them each
        # use of a constant defined N times would cost N.
        self._agreed = {}
        self._local = {}
        self._cycle = False
        self.evaluator = Evaluator(self.lookup)
        self.evaluator.defined = self.definitions

    def _value_of(self, definition, name):
        key = (name, definition.file, definition.position)
        if key in self._values:
            return self._values[key]
        if key in self._evaluating:
            self._cycle = True
            return UNRESOLVED
        self._evaluating.add(key)
        try:
            value = self.evaluator.evaluate(definition.tokens, definition.file)
        except Unresolved:
            value = UNRESOLVED
        finally:
            self._evaluating.discard(key)
        self._values[key] = value
        return value

    def lookup(self, name, file):
        if name in self.given:
            return str(self.given[name])
        definitions = self.definitions.get(name)
        if not definitions:
            return UNRESOLVED
        agreed = self._agreed.get(name)
        if agreed is None:
            outer = self._cycle
            self._cycle = False
            values = {self._value_of(definition, name) for definition in definitions}
            agreed = values.pop() if len(values) == 1 else _DISAGREE
            # A definition met again while it is being evaluated counted as
            # unresolved for now only: nothing is kept from such a round.
            if not self._cycle:
                self._agreed[name] = agreed
            self._cycle = self._cycle or outer
        if agreed is not _DISAGREE:
            return agreed
        if not self._local:
            for each, its in self.definitions.items():
                for definition in its:
                    self._local.setdefault((each, definition.file), definition)
        local = self._local.get((name, file))
        if local is not None:
            return self._value_of(local, name)
        return UNRESOLVED
