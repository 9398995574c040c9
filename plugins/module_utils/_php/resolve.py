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

from ansible_collections.lastgood.webstack.plugins.module_utils._common.findings import WARNING, Findings
from ansible_collections.lastgood.webstack.plugins.module_utils._common.params import gc_paused
from ansible_collections.lastgood.webstack.plugins.module_utils._common.paths import (
    AllowedRoots,
    FileSystem,
    PathMap,
    describe_missing,
    read_regular,
)
from ansible_collections.lastgood.webstack.plugins.module_utils._php.evaluate import Constants, Unresolved
from ansible_collections.lastgood.webstack.plugins.module_utils._php.jobs import extract_all
from ansible_collections.lastgood.webstack.plugins.module_utils._php.reach import Walk, both_branches_fail, candidates, guarded
from ansible_collections.lastgood.webstack.plugins.module_utils._php.statements import MAX_FILE_BYTES, SET_INCLUDE_PATH, extract


def find_php_files(paths, path_map, exclude=(), allowed_roots=None, every_file=None):
    """``(live path, checked path)`` of every PHP file under ``paths``;
    symlinked folders followed once, loops skipped; with ``allowed_roots``,
    folders and files that lead outside them are problems, not scanned.
    ``every_file``: a list that gets the live path of every file seen,
    whatever its name."""
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
            if every_file is not None:
                every_file.extend(os.path.join(live_dir, name) for name in files)
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


# Folders of development scripts that no web request is meant to reach: a
# PHP file under them is no entry point unless it is named as one.
DEVELOPMENT_FOLDERS = frozenset(("tests", "test", "Tests", "Test", "benchmarks", "benchmark", "demo", "demos",
                                 "examples", "example", "docs", "doc"))


def scan(paths, include_path=(".", "/usr/share/php"), constants=None, path_map=None, exclude=(), allowed_roots=(),
         jobs=None, web_entrypoints=(), web_roots=(), web_hidden=(), cli_entrypoints=(), php=None):
    """Resolve every include/require in the PHP files under ``paths`` as PHP
    does from each entry point: ``web_entrypoints`` and ``cli_entrypoints``,
    and every PHP file under ``web_roots`` (``paths`` when no web entry
    point nor root is given) that no other file includes, that no
    ``web_hidden`` pattern hides and that is not in a development folder.
    A failing require that no entry point reaches is a warning. With
    ``allowed_roots``, an include that reaches outside them is an error.
    ``jobs``: processes that read and tokenize the files (default: one per
    CPU this process may use, 8 at most). ``php``: a php_extract.Php (or the
    path of a php binary) whose tokenizer reads the files when that is worth
    it, else None; the result's ``tokenizer`` says which one did (the
    findings are the same)."""
    entry_points = dict(web_entrypoints=list(web_entrypoints), web_roots=list(web_roots),
                        web_hidden=list(web_hidden), cli_entrypoints=list(cli_entrypoints))
    with gc_paused():
        return _scan(paths, include_path, constants, path_map, exclude, allowed_roots, jobs, entry_points, php)


def _scan(paths, include_path, constants, path_map, exclude, allowed_roots, jobs, entry_points, php):
    path_map = path_map if isinstance(path_map, PathMap) else PathMap(path_map)
    roots = AllowedRoots(allowed_roots, path_map)
    fs = FileSystem()
    result = Result()
    every_file = []
    files, result.problems = find_php_files(paths, path_map, exclude, roots, every_file)
    result.files = files
    result.files_scanned = len(files)
    trees = _Trees(path_map, exclude, result)
    definitions = []
    extracted_files = extract_all(files, jobs) if php is None else extract_all(files, jobs, php)
    result.tokenizer = getattr(extracted_files, "tokenizer", "python")
    for (live, dummy), extracted in zip(files, extracted_files):
        trees.add(live, extracted)
        definitions.extend(extracted.definitions)
    known = Constants(constants, definitions)
    tails = _TailIndex(every_file, include_path, path_map)
    walk = Walk(trees.statements, known, include_path, path_map, fs, tails, roots, guarded)
    included = trees.included(walk, include_path, result, _web_roots(paths, entry_points))
    if trees.extra_definitions:
        walk.evaluator = Constants(constants, definitions + trees.extra_definitions).evaluator
    named, implied = _entry_points(paths, files, included, entry_points, trees.libraries)
    for entry in named:
        walk.enter(entry)
    # Shallow files first: a page reached from another one is no entry point.
    for entry, root in implied:
        if entry not in walk.visited:
            walk.enter(entry, root=root.rstrip("/"))
    if _registers_autoloader(walk.visited, path_map):
        roots = _web_roots(paths, entry_points)
        for live in _class_files(files, trees.libraries, walk.visited):
            root = next((root for root in roots if live.startswith(root)), None)
            walk.enter(live, root=root.rstrip("/") if root else None, autoloaded=True)
    for live, dummy in files:
        if live not in walk.visited:
            walk.enter(live, reached=False)
    both_branches_fail(walk.outcomes)
    for statement, outcome in walk.outcomes.values():
        result.statement_finding(outcome.severity, statement, outcome.path, outcome.message)
    return result


# What a file that registers an autoloader calls (composer's autoload_real.php
# and Debian's generated autoload.php files do).
_AUTOLOADER = (b"spl_autoload_register", b"function __autoload")
# Folders of command-line scripts, which may declare a class but are run, not
# autoloaded (parsoid's tools/ requires its own vendor/autoload.php).
_NOT_AUTOLOADED = DEVELOPMENT_FOLDERS | frozenset(("bin", "tools", "scripts"))


def _registers_autoloader(visited, path_map):
    """Whether a file that an entry point reaches registers an autoloader:
    then any class the trees declare may be loaded on a request."""
    for live in visited:
        try:
            data = read_regular(path_map.apply(live), MAX_FILE_BYTES)
        except OSError:
            continue
        if any(call in data for call in _AUTOLOADER):
            return True
    return False


def _class_files(files, libraries, visited):
    """The files that declare a class, outside development and script
    folders, that no entry point reached through an include."""
    return [live for live, dummy in files
            if live in libraries and live not in visited
            and not _NOT_AUTOLOADED.intersection(live.split("/")[:-1])]


def _web_roots(paths, entry_points):
    roots = entry_points["web_roots"]
    if not roots and not entry_points["web_entrypoints"]:
        roots = paths
    return [root.rstrip("/") + "/" for root in roots]


def _entry_points(paths, files, included, entry_points, libraries):
    """The named entry points, and the implied ones (shallowest first): the
    PHP files under the web roots that nothing includes, that declare no
    class, are not bundled libraries' (``vendor/``) and are neither hidden
    nor in a development folder."""
    named = entry_points["web_entrypoints"] + entry_points["cli_entrypoints"]
    roots = _web_roots(paths, entry_points)
    hidden = entry_points["web_hidden"]
    implied = []
    seen = set(named)
    for live, dummy in files:
        if live in seen or live in included or live in libraries:
            continue
        root = next((root for root in roots if live.startswith(root) or live == root[:-1]), None)
        if root is None or _excluded(live, hidden):
            continue
        folders = live[len(root):].split("/")[:-1] if live != root[:-1] else []
        if "vendor" in folders or any(folder in DEVELOPMENT_FOLDERS for folder in folders):
            continue
        seen.add(live)
        implied.append((live, root if live != root[:-1] else os.path.dirname(live) + "/"))
    implied.sort(key=lambda pair: (pair[0].count("/"), pair[0]))
    return named, implied


class _Trees:
    """The statements of every file the scan reads: the PHP files under
    ``paths`` and any other file under them that code includes."""

    def __init__(self, path_map, exclude, result):
        self.path_map = path_map
        self.exclude = exclude
        self.result = result
        self._statements = {}
        self.extra_definitions = []
        self.libraries = set()

    def add(self, live, extracted):
        self._statements[live] = extracted.statements
        if extracted.declares:
            self.libraries.add(live)
        problem = extracted.problem
        if problem and "cannot be read" in problem:
            self.result.finding(WARNING, live, None, "read", live, problem + "; not scanned",
                                statement="read", expression="")
        elif problem:
            self.result.problems.append(problem)

    def statements(self, live):
        """The statements of ``live``, read now if it was not read yet:
        code reaches it, wherever it is (a library in the include_path);
        None for a file ``exclude`` names."""
        found = self._statements.get(live)
        if found is not None or live in self._statements:
            return found
        if _excluded(live, self.exclude):
            self._statements[live] = None
            return None
        extracted = extract(live, self.path_map.apply(live))
        self.add(live, extracted)
        self.extra_definitions.extend(extracted.definitions)
        self.result.files_scanned += 1
        return extracted.statements

    def included(self, walk, include_path, result, roots):
        """The live paths that some statement includes, from any of the
        directories it may run in (its own, a web root's); counts the
        statements."""
        directories = [root.rstrip("/") for root in roots]
        included = set()
        pending = list(self._statements)
        while pending:
            live = pending.pop()
            for statement in self._statements.get(live) or ():
                if statement.statement == SET_INCLUDE_PATH:
                    continue
                result.includes_total += 1
                path = walk.evaluate(statement, tuple(include_path))
                if isinstance(path, Unresolved):
                    result.unresolved += 1
                    matches = walk.tails.ending_with(path.tail) if path.tail else ()
                    if len(matches) == 1:
                        included.update(matches)
                    continue
                result.includes_resolved += 1
                for candidate in self._anywhere(path, walk.php_file(statement.file), include_path, directories):
                    if candidate not in included and candidate != statement.file \
                            and walk.fs.is_file(self.path_map.apply(candidate)):
                        included.add(candidate)
                        if candidate not in self._statements and self.statements(candidate):
                            pending.append(candidate)
        return included

    @staticmethod
    def _anywhere(path, including_file, include_path, directories):
        found = candidates(path, including_file, os.path.dirname(including_file), include_path)
        if not path.startswith("/"):
            for directory in directories:
                found.extend(candidates(path, including_file, directory, include_path))
        return found


class _TailIndex:
    """Answers whether any file of the trees or the include_path, whatever
    its name, ends with a tail."""

    def __init__(self, every_file, include_path, path_map):
        self.files = _by_name(every_file)
        self.include_path = [entry for entry in include_path if entry.startswith("/")]
        self.path_map = path_map
        self._extra = None
        self._folders = None
        self._answers = {}

    def folder_exists(self, tail):
        """Whether a folder of the trees or the include_path ends with the
        folder part of ``tail`` (always, for a tail with no folder part):
        a tail in a folder the trees lack is under a prefix outside them."""
        stripped = tail.strip("/")
        if "/" not in stripped:
            return True
        folder = "/" + stripped.rsplit("/", 1)[0]
        if self._folders is None:
            folders = set()
            for paths in list(self.files.values()) + list(self._include_path_files().values()):
                for path in paths:
                    parent = path.rsplit("/", 1)[0]
                    while parent and parent not in folders:
                        folders.add(parent)
                        parent = parent.rsplit("/", 1)[0]
            self._folders = _by_name(folders)
        return any(known.endswith(folder) for known in self._folders.get(folder.rsplit("/", 1)[1], ()))

    def _include_path_files(self):
        if self._extra is None:
            extra = []
            for entry in self.include_path:
                find_php_files([entry], self.path_map, every_file=extra)
            self._extra = _by_name(extra)
        return self._extra

    def ending_with(self, tail):
        """The files of the trees whose path ends with ``tail`` (whose name
        is it, for a tail with no folder: ``CONST . 'x.php'``)."""
        if "/" not in tail:
            return list(self.files.get(tail, ()))
        tail = "/" + tail.lstrip("/")
        return [path for path in self.files.get(tail.rsplit("/", 1)[1], ()) if path.endswith(tail)]

    def exists(self, tail):
        if "/" not in tail:
            return any(name.endswith(tail) for name in list(self.files) + list(self._include_path_files()))
        tail = "/" + tail.lstrip("/")
        answer = self._answers.get(tail)
        if answer is None:
            answer = self._answers[tail] = self._exists(tail)
        return answer

    def _exists(self, tail):
        name = tail.rsplit("/", 1)[1]
        if any(path.endswith(tail) for path in self.files.get(name, ())):
            return True
        return any(path.endswith(tail) for path in self._include_path_files().get(name, ()))


def _by_name(paths):
    """The paths by their last component (a tail can only end one of those
    that share its own)."""
    names = {}
    for path in paths:
        names.setdefault(path.rsplit("/", 1)[-1], []).append(path)
    return names
