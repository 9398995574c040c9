# -*- coding: utf-8 -*-
# Copyright: lastgood.webstack contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a local variable was built from before a statement that uses it:
``$path = A; $path .= B; set_include_path($path);`` (Roundcube builds its
include_path so). Only a plain ``=`` and the ``.=`` after it, all in the
same branches as the use and with no function between them, are followed;
anything else is left unknown, never guessed. Pure standard library."""

from __future__ import annotations

import re

from ansible_collections.lastgood.webstack.plugins.module_utils._php.branches import branches_at
from ansible_collections.lastgood.webstack.plugins.module_utils._php.lexer import _php_tokens

_FUNCTION = re.compile(r"(?<![\w$\x80-\uffff])function(?![\w\x80-\uffff])", re.I)


def assigned_parts(text, variable, offset):
    """The token lists, in order, whose concatenation ``variable`` (``$x``)
    holds at ``offset`` of ``text``: the right side of its last ``=``
    before ``offset``, then of each ``.=`` after that; None when that
    cannot be told (no such ``=``, a write in other branches or in another
    function, an assignment that does not end)."""
    pattern = re.compile(re.escape(variable) + r"(?![\w\x80-\uffff])[ \t\r\n]*(\.?=)(?![=>])")
    writes = [(match.start(), match.group(1), match.end()) for match in pattern.finditer(text, 0, offset)]
    plain = [index for index, write in enumerate(writes) if write[1] == "="]
    if not plain:
        return None
    writes = writes[plain[-1]:]
    first = writes[0][0]
    if _FUNCTION.search(text, first, offset):
        return None
    around = branches_at(text, [write[0] for write in writes] + [offset])
    if any(each != around[-1] for each in around[:-1]):
        return None
    parts = []
    for dummy_start, dummy_operator, end in writes:
        tokens = []
        dummy_position, dummy_line, ran_out = _php_tokens(text, end, 0, tokens, stop_at_statement_end=True,
                                                          limit=offset)
        if ran_out or not tokens or tokens[-1].value != ";":
            return None
        parts.append(tokens[:-1])
    return parts
