# -*- coding: utf-8 -*-
# Copyright: lastgood.webstack contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PHP-FPM pool files, read as far as the other checks need them: which
unix sockets the pools listen on. Pure standard library."""

from __future__ import annotations

import re

_SECTION = re.compile(r"^\s*\[([^\]]+)\]\s*$")
_SETTING = re.compile(r"^\s*([A-Za-z0-9_.\[\]]+)\s*=\s*(.*?)\s*$")


def _unquote(value):
    value = value.split(";", 1)[0].strip() if not value.startswith(('"', "'")) else value
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1]
    return value


def pool_listens(text):
    """``(line, pool, listen)`` for each ``listen`` setting of a pool file,
    with PHP-FPM's ``$pool`` replaced by the pool's name. Settings outside a
    pool section (``[global]`` or before any section) are skipped."""
    found = []
    pool = None
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if not stripped or stripped[0] in ";#":
            continue
        section = _SECTION.match(line)
        if section:
            name = section.group(1).strip()
            pool = None if name == "global" else name
            continue
        setting = _SETTING.match(line)
        if setting and setting.group(1) == "listen" and pool is not None:
            value = _unquote(setting.group(2)).replace("$pool", pool)
            found.append((number, pool, value))
    return found


def unix_sockets(text):
    """The unix socket paths a pool file listens on (a ``listen`` value that
    is an absolute path; addresses and ports are not sockets in the file
    system)."""
    return [listen for _line, _pool, listen in pool_listens(text) if listen.startswith("/")]
