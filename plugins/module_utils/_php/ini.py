# -*- coding: utf-8 -*-
# Copyright: lastgood.webstack contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ``auto_prepend_file`` and ``auto_append_file`` settings of php.ini
and PHP-FPM pool files, checked as php_refs checks an include: the file must
exist and be inside ``allowed_roots``. Pure standard library."""

from __future__ import annotations

import os
import re

from ansible_collections.lastgood.webstack.plugins.module_utils._common.findings import ERROR
from ansible_collections.lastgood.webstack.plugins.module_utils._common.paths import AllowedRoots, FileSystem, describe_missing
from ansible_collections.lastgood.webstack.plugins.module_utils._php.statements import read_source

# The value is the rest of the line, stripped afterwards: a lazy (.*?)\s*$
# would try \s*$ at each character (quadratic on a long run of spaces).
_INI_SETTING = re.compile(
    r"^\s*(?:php_(?:admin_)?value\[\s*(auto_prepend_file|auto_append_file)\s*\]|(auto_prepend_file|auto_append_file))"
    r"\s*=(.*)$")


def ini_references(path, text):
    """``(line, setting, value)`` of auto_prepend/append settings in a
    php.ini or PHP-FPM pool file."""
    found = []
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if not stripped or stripped[0] in ";#[" and not stripped.startswith("php_"):
            continue
        match = _INI_SETTING.match(line)
        if match:
            value = match.group(3).split(";", 1)[0].strip().strip('"').strip("'")
            if value and value.lower() not in ("none", "null", "off"):
                found.append((number, match.group(1) or match.group(2), value))
    return found


def _expand_ini_files(ini_files, path_map):
    """``(live, checked)`` for each ini file; a directory stands for the
    ``*.conf`` and ``*.ini`` files in it."""
    for live in ini_files:
        checked = path_map.apply(live)
        if os.path.isdir(checked):
            for name in sorted(os.listdir(checked)):
                if name.endswith((".conf", ".ini")):
                    yield os.path.join(live, name), os.path.join(checked, name)
        else:
            yield live, checked


def check_ini_files(ini_files, path_map, result, allowed_roots=()):
    """Adds to ``result`` (a resolve.Result) an error for each setting of
    ``ini_files`` that names a file missing or outside ``allowed_roots``, a
    problem for each ini file that cannot be read."""
    fs = FileSystem()
    roots = AllowedRoots(allowed_roots, path_map)
    for live, checked in _expand_ini_files(ini_files, path_map):
        try:
            text = read_source(checked)
        except OSError as error:
            result.problems.append("ini file %s cannot be read: %s" % (live, error.strerror))
            continue
        for line, setting, value in ini_references(live, text):
            message = _wrong(setting, value, path_map.apply(value), fs, roots)
            if message:
                result.finding(ERROR, live, line, setting, value, message, statement=setting, expression=value)


def _wrong(setting, value, target, fs, roots):
    """What is wrong with the file a setting names (``target``: where it
    is looked for), or None."""
    if fs.is_file(target):
        outside = roots.outside(target)
        return "%s %s %s" % (setting, value, outside) if outside else None
    message = "%s %s %s" % (setting, value, describe_missing(target))
    if target != value:
        message += " (looked for at %s)" % target
    return message
