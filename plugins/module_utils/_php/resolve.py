# -*- coding: utf-8 -*-
# Copyright: lastgood.webstack contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Static resolution of PHP's include and require statements; the entry
point is scan().

Each scanned file is tokenized once (statements.py, spread over processes by
jobs.py). Expressions made of string literals, concatenation, parentheses,
``__DIR__``, ``__FILE__``, ``dirname()``, ``DIRECTORY_SEPARATOR`` and
constants from ``define()``/``const`` are evaluated (evaluate.py); anything
else is left unresolved and never guessed. Each target is then looked for
as PHP would, and what is missing or outside ``allowed_roots`` becomes a
finding. Pure standard library."""

from __future__ import annotations

import fnmatch
import os

from ansible_collections.lastgood.webstack.plugins.module_utils._common.findings import ERROR, INFO, WARNING, Findings
from ansible_collections.lastgood.webstack.plugins.module_utils._common.params import gc_paused
from ansible_collections.lastgood.webstack.plugins.module_utils._common.paths import (
    AllowedRoots,
    FileSystem,
    PathMap,
    describe_missing,
)
from ansible_collections.lastgood.webstack.plugins.module_utils._php.evaluate import Constants, Unresolved
from ansible_collections.lastgood.webstack.plugins.module_utils._php.jobs import extract_all
from ansible_collections.lastgood.webstack.plugins.module_utils._php.statements import normalized


def find_php_files(paths, path_map, exclude=(), allowed_roots=None):
    """``(live path, checked path)`` of every PHP file under ``paths``;
    symlinked folders followed once, loops skipped; with ``allowed_roots``,
    folders and files that lead outside them are problems, not scanned."""
    roots = allowed_roots or AllowedRoots()
    found = []
    seen_dirs = set()
    problems = []
    for live in paths:
        checked = path_map.apply(live)
        if os.path.isfile(checked):
            found.append((live, checked))
            continue
        if not os.path.isdir(checked):
            problems.append("%s %s" % (live, describe_missing(checked)))
            continue
        for directory, dirs, files in os.walk(checked, followlinks=True):
            real = os.path.realpath(directory)
            if real in seen_dirs:
                dirs[:] = []
                continue
            seen_dirs.add(real)
            dirs.sort()
            live_dir = path_map.unapply(directory)
            outside = roots.outside(directory)
            if outside:
                problems.append("%s %s" % (live_dir, outside))
                dirs[:] = []
                continue
            dirs[:] = [name for name in dirs if not _excluded(os.path.join(live_dir, name), exclude)]
            for name in sorted(files):
                if name.endswith(".php"):
                    live_path = os.path.join(live_dir, name)
                    if _excluded(live_path, exclude):
                        continue
                    outside = roots.outside(os.path.join(directory, name)) if roots else None
                    if outside:
                        problems.append("%s %s" % (live_path, outside))
                        continue
                    found.append((live_path, os.path.join(directory, name)))
    return found, problems


def _excluded(path, patterns):
    return any(fnmatch.fnmatch(path, pattern) for pattern in patterns)


class Result(Findings):
    """What a scan found: its findings (with the ``statement`` and its
    ``expression`` besides the keys of every finding), its counts, the files
    it scanned (``(live, checked)``) and the problems that stopped it from
    reading some of them."""

    def __init__(self):
        super().__init__()
        self.files = []
        self.files_scanned = 0
        self.includes_total = 0
        self.includes_resolved = 0
        self.unresolved = 0
        self.problems = []

    def statement_finding(self, severity, statement, path, message):
        self.finding(severity, statement.file, statement.line, statement.statement, path, message,
                     statement=statement.statement, expression=statement.expression)


def scan(paths, include_path=(".", "/usr/share/php"), constants=None, path_map=None, exclude=(), allowed_roots=(),
         jobs=None):
    """Resolve every include/require in the PHP files under ``paths``. With
    ``allowed_roots``, an include that reaches outside them is an error.
    ``jobs``: processes that read and tokenize the files (default: one per
    CPU this process may use, 8 at most)."""
    with gc_paused():
        return _scan(paths, include_path, constants, path_map, exclude, allowed_roots, jobs)


def _scan(paths, include_path, constants, path_map, exclude, allowed_roots, jobs):
    path_map = path_map if isinstance(path_map, PathMap) else PathMap(path_map)
    roots = AllowedRoots(allowed_roots, path_map)
    fs = FileSystem()
    result = Result()
    files, result.problems = find_php_files(paths, path_map, exclude, roots)
    result.files = files
    result.files_scanned = len(files)
    all_statements = []
    all_definitions = []
    for statements, definitions, problem in extract_all(files, jobs):
        all_statements.extend(statements)
        all_definitions.extend(definitions)
        if problem:
            result.problems.append(problem)
    known = Constants(constants, all_definitions)
    tails = _TailIndex(files, include_path, path_map)
    for statement in all_statements:
        result.includes_total += 1
        _resolve(statement, known, include_path, path_map, fs, tails, result, roots)
    return result


class _TailIndex:
    """Answers whether any scanned or include_path file ends with a tail."""

    def __init__(self, files, include_path, path_map):
        self.files = _by_name(live for live, _checked in files)
        self.include_path = [entry for entry in include_path if entry.startswith("/")]
        self.path_map = path_map
        self._extra = None
        self._answers = {}

    def exists(self, tail):
        tail = "/" + tail.lstrip("/")
        answer = self._answers.get(tail)
        if answer is None:
            answer = self._answers[tail] = self._exists(tail)
        return answer

    def _exists(self, tail):
        name = tail.rsplit("/", 1)[1]
        if any(path.endswith(tail) for path in self.files.get(name, ())):
            return True
        if self._extra is None:
            extra = []
            for entry in self.include_path:
                found, dummy = find_php_files([entry], self.path_map)
                extra.extend(live for live, _checked in found)
            self._extra = _by_name(extra)
        return any(path.endswith(tail) for path in self._extra.get(name, ()))


def _by_name(paths):
    """The paths by their last component (a tail can only end one of those
    that share its own)."""
    names = {}
    for path in paths:
        names.setdefault(path.rsplit("/", 1)[-1], []).append(path)
    return names


def _candidates(path, statement, include_path):
    """Where PHP looks for ``path`` included from ``statement.file``."""
    if path.startswith("/"):
        return [os.path.normpath(path)]
    including_dir = os.path.dirname(statement.file)
    if path.startswith("./") or path.startswith("../"):
        # Relative to the executing script's directory, which is not known
        # statically; the including file's directory is the usual case.
        return [os.path.normpath(os.path.join(including_dir, path))]
    candidates = []
    for entry in include_path:
        base = including_dir if entry == "." else entry
        candidates.append(os.path.normpath(os.path.join(base, path)))
    candidates.append(os.path.normpath(os.path.join(including_dir, path)))
    return candidates


def _resolve(statement, constants, include_path, path_map, fs, tails, result, roots=None):
    if not statement.tokens:
        return
    try:
        path = constants.evaluator.evaluate(statement.tokens, statement.file)
    except Unresolved as unresolved:
        result.unresolved += 1
        tail = unresolved.tail
        if tail and statement.statement.startswith("require") and not tails.exists(tail) \
                and not _guarded(statement):
            result.statement_finding(ERROR, statement, tail, "%s: no scanned file and nothing in include_path ends "
                                     "with %s" % (statement.expression, tail))
            return
        result.statement_finding(INFO, statement, tail, "%s cannot be resolved statically" % statement.expression)
        return
    result.includes_resolved += 1
    candidates = _candidates(path, statement, include_path)
    for candidate in candidates:
        checked = path_map.apply(candidate)
        if fs.is_file(checked):
            outside = roots.outside(checked) if roots else None
            if outside:
                result.statement_finding(ERROR, statement, candidate, "%s %s" % (candidate, outside))
            return
    missing = candidates[0] if path.startswith("/") or path.startswith(".") else candidates[-1]
    checked = path_map.apply(missing)
    message = "%s %s" % (missing, describe_missing(checked))
    if checked != missing:
        message += " (looked for at %s)" % checked
    if len(candidates) > 1:
        message += " (nor in include_path)"
    if _guarded(statement):
        result.statement_finding(INFO, statement, missing, message + "; guarded, PHP goes on")
    elif statement.statement.startswith("require"):
        result.statement_finding(ERROR, statement, missing, message)
    else:
        result.statement_finding(WARNING, statement, missing, message + "; include only warns")


def _guarded(statement):
    if statement.silenced:
        return True
    text = normalized(statement.expression)
    if text.startswith("(") and text.endswith(")"):
        text = text[1:-1]
    return any(guard == text or guard.strip("()") == text for guard in statement.guard_texts)
