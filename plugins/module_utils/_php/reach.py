# -*- coding: utf-8 -*-
# Copyright: lastgood.webstack contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Resolution as PHP runs the code: from each entry point, with the entry
script's directory as the working directory and the include_path the code
sets for itself, each include is followed into the file it reaches, in the
order the statements run. What a statement resolves to is recorded per
entry point; the one that fails is reported. Pure standard library."""

from __future__ import annotations

import os
import re

from ansible_collections.lastgood.webstack.plugins.module_utils._common.findings import ERROR, INFO, WARNING
from ansible_collections.lastgood.webstack.plugins.module_utils._common.paths import describe_missing
from ansible_collections.lastgood.webstack.plugins.module_utils._php.assignments import assigned_parts
from ansible_collections.lastgood.webstack.plugins.module_utils._php.branches import UNDECIDABLE, branches_at, in_function_bodies
from ansible_collections.lastgood.webstack.plugins.module_utils._php.evaluate import Unresolved
from ansible_collections.lastgood.webstack.plugins.module_utils._php.lexer import NAME, OP, STRING, VARIABLE
from ansible_collections.lastgood.webstack.plugins.module_utils._php.statements import SET_INCLUDE_PATH, normalized, read_source

LIVE, DEAD, UNDECIDED = "live", "dead", "undecided"
# What _record is told when the branches around a statement weigh on it.
BRANCHES = "branches"
# Files included inside each other that the walk follows; deeper, it stops
# (PHP itself would have run out of memory long before).
MAX_INCLUDE_DEPTH = 200
# The include_path entry that code set to a value the scan cannot evaluate.
UNKNOWN_ENTRY = "\0unknown"
# A target in one of these folders is a development file that packaged
# releases commonly leave out: missing, it is a warning.
DEVELOPMENT_TARGETS = frozenset(("tests", "test", "Tests", "Test"))
_RANK = {ERROR: 3, WARNING: 2, INFO: 1}
_FILE_NAME = re.compile(r"^[\w.-]+\.(?:php|inc)$")
_UNDECIDED_NOTE = "; behind a condition that cannot be decided statically"
_FILE_TESTS = {"file_exists": "exists", "is_file": "is_file", "is_readable": "exists", "is_dir": "is_dir"}
# A condition that names one of these probes the PHP it runs on (version,
# extensions, what is defined): one of its branches is commonly written for
# another PHP or another installation and legitimately names files this one
# lacks. Any other condition the code may meet on some request: a branch
# behind it counts as code that runs.
ENVIRONMENT_PROBES = frozenset((
    "function_exists", "class_exists", "interface_exists", "trait_exists", "enum_exists", "method_exists",
    "is_callable", "extension_loaded", "version_compare", "phpversion", "defined", "ini_get", "getenv",
    "php_version", "php_version_id", "php_major_version", "php_minor_version", "php_os", "php_os_family",
    "php_sapi", "php_sapi_name", "php_int_size", "file_exists", "is_file", "is_readable", "is_dir"))


def candidates(path, including_file, cwd, include_path):
    """Where PHP looks for ``path`` included from ``including_file`` with
    working directory ``cwd``: an absolute path as it is; ``./`` and ``../``
    against the working directory only; any other relative path in each
    include_path entry (``.`` and relative entries against the working
    directory), then in the including file's own directory."""
    if path.startswith("/"):
        return [os.path.normpath(path)]
    if path.startswith("./") or path.startswith("../") or path in (".", ".."):
        return [os.path.normpath(os.path.join(cwd, path))]
    found = []
    for entry in include_path:
        if entry == UNKNOWN_ENTRY:
            continue
        base = entry if entry.startswith("/") else os.path.join(cwd, entry)
        found.append(os.path.normpath(os.path.join(base, path)))
    found.append(os.path.normpath(os.path.join(os.path.dirname(including_file), path)))
    return found


class Outcome:
    """The worst of what a statement came to, over the contexts it ran in."""

    __slots__ = ("severity", "path", "message", "entry", "reached", "branch")

    def __init__(self, severity, path, message, entry, reached, branch):
        self.severity = severity
        self.path = path
        self.message = message
        self.entry = entry
        self.reached = reached
        self.branch = branch

    def worse_than(self, other):
        if other is None:
            return True
        if self.reached != other.reached:
            return self.reached
        return _RANK[self.severity] > _RANK[other.severity]


class Walk:
    """Follows includes from entry points. ``source(live)`` gives a file's
    statements (None when it is not to be scanned); ``path_map`` says where
    a live path is on disk; ``fs`` answers existence; ``tails`` whether any
    file ends with a literal tail; ``roots`` says what is outside
    allowed_roots."""

    def __init__(self, source, constants, include_path, path_map, fs, tails, roots, guarded):
        self.source = source
        self.checked = path_map.apply
        self.unchecked = path_map.unapply
        self._php_files = {}
        self._branches = {}
        self._functions = {}
        self._context_free = False
        self._context = (None, ())
        self._presumed_root = None
        self.evaluator = constants.evaluator
        self.include_path = tuple(include_path)
        self.fs = fs
        self.tails = tails
        self.roots = roots
        self.guarded = guarded
        self.done = {}
        self.visited = set()
        self.autoloaded = set()
        self.outcomes = {}
        self._evaluated = {}

    def php_file(self, live):
        """The path PHP knows ``live`` by, for ``__FILE__``, ``__DIR__`` and
        the including file's directory: with its symlinks resolved (Debian's
        ``wp-config.php`` is in ``/etc/wordpress``), as a live path."""
        known = self._php_files.get(live)
        if known is None:
            checked = self.checked(live)
            real = os.path.realpath(checked)
            known = self._php_files[live] = live if real == checked else self.unchecked(real)
        return known

    def branches_of(self, statement):
        """The branches around ``statement``, worked out for its whole file
        the first time a statement of it needs them (few files do)."""
        return self._per_position(self._branches, statement, branches_at).get(statement.position, ())

    def in_function(self, statement):
        """Whether ``statement`` is in a function, method or closure body,
        worked out for its whole file the first time (few files need it)."""
        return self._per_position(self._functions, statement, in_function_bodies).get(statement.position, False)

    def _per_position(self, cache, statement, compute):
        """``compute(text, positions)`` for the statements of
        ``statement``'s file, by position, kept in ``cache``."""
        found = cache.get(statement.file)
        if found is None:
            statements = self.source(statement.file) or ()
            try:
                text = read_source(self.checked(statement.file))
            except OSError:
                text = ""
            positions = [each.position for each in statements]
            found = cache[statement.file] = dict(zip(positions, compute(text, positions)))
        return found

    def enter(self, entry, reached=True, root=None, autoloaded=False):
        """Runs ``entry`` as a request (or a command) does. ``root``: the
        web root of an entry point that is only presumed one (a PHP file
        under it that nothing includes as far as the scan can tell): a
        relative path that its own directory lacks but the root has is
        found, as the file is most likely included by code running there.
        ``autoloaded``: ``entry`` declares a class that an autoloader loads
        on some request (its own directory stands for the request's)."""
        self._presumed_root = root
        if autoloaded:
            self.autoloaded.add(entry)
        try:
            self._visit(entry, os.path.dirname(entry), self.include_path, entry, reached)
        finally:
            self._presumed_root = None

    def _visit(self, live, cwd, include_path, entry, reached, depth=0):
        key = (live, cwd, include_path, reached)
        if key in self.done:
            return self.done[key]
        if depth > MAX_INCLUDE_DEPTH:
            return include_path
        self.done[key] = include_path
        self.visited.add(live)
        for statement in self.source(live) or ():
            self._context = (cwd, include_path)
            if statement.statement == SET_INCLUDE_PATH:
                include_path = self._new_include_path(statement, include_path)
                continue
            target = self._resolve(statement, cwd, include_path, entry, reached)
            if target is not None and self.source(target) is not None:
                include_path = self._visit(target, cwd, include_path, entry, reached, depth + 1)
        self.done[key] = include_path
        return include_path

    def evaluate(self, statement, include_path):
        """The value of ``statement``'s expression with ``include_path``, or
        the Unresolved it raised."""
        key = (statement.file, statement.position, include_path)
        if key not in self._evaluated:
            self.evaluator.include_path = include_path
            try:
                self._evaluated[key] = self.evaluator.evaluate(statement.tokens, self.php_file(statement.file))
            except Unresolved as unresolved:
                self._evaluated[key] = unresolved
            finally:
                self.evaluator.include_path = None
        return self._evaluated[key]

    def _new_include_path(self, statement, include_path):
        value = self.evaluate(statement, include_path)
        if isinstance(value, Unresolved) and len(statement.tokens) == 1 and statement.tokens[0].kind == VARIABLE:
            value = self._variable_value(statement, include_path)
        if isinstance(value, Unresolved) or not value:
            # From here on a bare relative path may be anywhere.
            return include_path + (UNKNOWN_ENTRY,) if UNKNOWN_ENTRY not in include_path else include_path
        # An entry met again changes nothing where it is met again: code that
        # prepends its own folder on each run does not grow the path forever.
        entries = []
        for entry in value.split(":"):
            if entry and entry not in entries:
                entries.append(entry)
        return tuple(entries)

    def _variable_value(self, statement, include_path):
        """The value of ``set_include_path($variable)``'s variable where the
        file builds it from parts the scan can evaluate, else Unresolved."""
        try:
            text = read_source(self.checked(statement.file))
        except OSError:
            return Unresolved()
        parts = assigned_parts(text, statement.tokens[0].value, statement.position)
        if parts is None:
            return Unresolved()
        self.evaluator.include_path = include_path
        try:
            return "".join(self.evaluator.evaluate(tokens, self.php_file(statement.file)) for tokens in parts)
        except Unresolved as unresolved:
            return unresolved
        finally:
            self.evaluator.include_path = None

    def branch_state(self, statement, cwd, include_path):
        """LIVE, DEAD or UNDECIDED for the branches around ``statement``,
        with the innermost undecided Branch: DEAD when a file test decides
        that its branch does not run, UNDECIDED when an environment probe
        it cannot decide stands before it."""
        state, undecided = LIVE, None
        for branch in self.branches_of(statement):
            own = branch.conditions[branch.index]
            answers = [self._decide(condition, self.php_file(statement.file), cwd, include_path)
                       for condition in branch.conditions[:branch.index]]
            if True in answers:
                return DEAD, None
            mine = True if own is None else self._decide(own, self.php_file(statement.file), cwd, include_path)
            if mine is False:
                return DEAD, None
            probes = [condition for condition, answer in zip(branch.conditions[:branch.index], answers)
                      if answer is None and _probes_environment(condition)]
            if (mine is None and _probes_environment(own)) or probes:
                state, undecided = UNDECIDED, branch
        return state, undecided

    def _decide(self, condition, file, cwd, include_path):
        """True or False for ``[!]file_exists(X)`` (or is_file, is_readable,
        is_dir) of an X it can evaluate, else None."""
        if condition is None or condition is UNDECIDABLE or not condition:
            return None
        tokens = list(condition)
        negated = False
        while tokens and tokens[0].kind == OP and tokens[0].value == "!":
            negated = not negated
            tokens = tokens[1:]
        if len(tokens) < 4 or tokens[0].kind != NAME or tokens[1].value != "(" or tokens[-1].value != ")":
            return None
        test = _FILE_TESTS.get(tokens[0].value.lstrip("\\").lower())
        if test is None:
            return None
        self.evaluator.include_path = include_path
        try:
            path = self.evaluator.evaluate(tokens[2:-1], file)
        except Unresolved:
            return None
        finally:
            self.evaluator.include_path = None
        checked = self.checked(os.path.normpath(os.path.join(cwd, path)))
        answer = getattr(self.fs, test)(checked)
        return answer != negated

    def _resolve(self, statement, cwd, include_path, entry, reached):
        """Records what ``statement`` comes to here; the live path it
        includes, or None."""
        path = self.evaluate(statement, include_path)
        self._context_free = not isinstance(path, Unresolved) and path.startswith("/")
        if isinstance(path, Unresolved):
            tail = path.tail or self._file_name_tail(statement)
            if tail and statement.statement.startswith("require") and not self.tails.exists(tail) \
                    and self.tails.folder_exists(tail) and not self.guarded(statement):
                self._record(statement, ERROR, tail, "%s: no file in the trees and nothing in include_path ends "
                             "with %s, though the folder is there" % (statement.expression, tail),
                             entry, reached, BRANCHES)
            else:
                self._record(statement, INFO, tail, "%s cannot be resolved statically" % statement.expression,
                             entry, reached, LIVE)
            # One file of the trees ends with the tail: that is the one.
            matches = self.tails.ending_with(tail) if tail else ()
            return matches[0] if len(matches) == 1 else None
        if "://" in path:
            self._record(statement, INFO, path, "%s is a stream (%s), not checked" % (statement.expression, path),
                         entry, reached, LIVE)
            return None
        looked = candidates(path, self.php_file(statement.file), cwd, include_path)
        for candidate in looked:
            checked = self.checked(candidate)
            if self.fs.is_file(checked):
                outside = self.roots.outside(checked) if self.roots else None
                if outside:
                    self._record(statement, ERROR, candidate, "%s %s" % (candidate, outside), entry, reached,
                                 BRANCHES)
                    return None
                return candidate
        if self._presumed_root and not path.startswith("/"):
            for candidate in candidates(path, self.php_file(statement.file), self._presumed_root, include_path):
                if self.fs.is_file(self.checked(candidate)):
                    self._record(statement, INFO, candidate, "%s is found from the web root %s, not from %s: %s is "
                                 "likely included by code that runs there" % (
                                     candidate, self._presumed_root, cwd, entry), entry, reached, LIVE)
                    return candidate
        self._missing(statement, path, looked, UNKNOWN_ENTRY in include_path, entry, reached)
        return None

    def _file_name_tail(self, statement):
        """``'x.php'`` of ``CONSTANT . 'x.php'`` with a constant the code
        defines (to a value the scan cannot work out): a file name the
        trees must have."""
        tokens = statement.tokens
        if len(tokens) == 5 and tokens[0].value == "(" and tokens[-1].value == ")":
            tokens = tokens[1:-1]
        if len(tokens) != 3 or tokens[0].kind != NAME or tokens[1].value != "." or tokens[2].kind != STRING \
                or not tokens[2].literal or tokens[0].value.lstrip("\\") not in self.evaluator.defined:
            return None
        return tokens[2].value if _FILE_NAME.match(tokens[2].value) else None

    def _missing(self, statement, path, looked, unknown_include_path, entry, reached):
        missing = looked[0] if len(looked) == 1 else looked[-1]
        checked = self.checked(missing)
        message = "%s %s" % (missing, describe_missing(checked))
        if checked != missing:
            message += " (looked for at %s)" % checked
        if len(looked) > 1:
            message += " (nor in the include_path %s)" % ":".join(
                os.path.dirname(candidate) for candidate in looked[:-1])
        elif not path.startswith("/"):
            message += " (a path starting with ./ or ../ is relative to the working directory)"
        if self.guarded(statement):
            self._record(statement, INFO, missing, message + "; guarded, PHP goes on", entry, reached, LIVE)
        elif unknown_include_path and len(looked) > 1:
            self._record(statement, INFO, missing, message + "; the code set the include_path to a value the scan "
                         "cannot evaluate", entry, reached, LIVE)
        elif DEVELOPMENT_TARGETS.intersection(missing.split("/")):
            self._record(statement, WARNING, missing, message + "; a development file, which packaged releases "
                         "often leave out", entry, reached, LIVE)
        elif statement.statement.startswith("require"):
            self._record(statement, ERROR, missing, message, entry, reached, BRANCHES)
        else:
            self._record(statement, WARNING, missing, message + "; include only warns", entry, reached, BRANCHES)

    def _record(self, statement, severity, path, message, entry, reached, weigh):
        """Keeps what ``statement`` came to, unless its branch cannot run;
        ``weigh``: BRANCHES when an undecided branch lowers the severity."""
        state, branch = self.branch_state(statement, *self._context)
        if state == DEAD:
            return
        if weigh != BRANCHES:
            state = LIVE
        if state == UNDECIDED and severity != INFO:
            severity = INFO
            message += _UNDECIDED_NOTE
        if entry in self.autoloaded:
            if severity != INFO and self.in_function(statement):
                reached = False
            elif severity == ERROR and not self._context_free:
                severity = WARNING
                message += "; where it is looked for depends on the request that loads the class"
            message += " (%s declares a class, loaded by the autoloader that the code registers)" % entry
        elif entry != statement.file:
            message += " (reached from %s, working directory %s)" % (entry, os.path.dirname(entry))
        if not reached and severity == ERROR:
            severity = WARNING
            if entry in self.autoloaded:
                message += "; in a function body, which runs only when called"
            else:
                message += "; no entry point reaches %s" % statement.file
        outcome = Outcome(severity, path, message, entry, reached, branch if state == UNDECIDED else None)
        key = (statement.file, statement.position)
        current = self.outcomes.get(key)
        if current is None or outcome.worse_than(current[1]):
            self.outcomes[key] = (statement, outcome)


def _probes_environment(condition):
    if not condition or condition is UNDECIDABLE:
        return False
    return any(token.kind == NAME and token.value.lstrip("\\").lower() in ENVIRONMENT_PROBES for token in condition)


def both_branches_fail(outcomes):
    """Raises to an error a require that fails behind an undecidable
    condition when every body of its if/elseif/else chain has a require
    that fails."""
    failing = {}
    for statement, outcome in outcomes.values():
        if outcome.branch is not None and outcome.reached and statement.statement.startswith("require"):
            failing.setdefault((statement.file, outcome.branch.chain), {})[outcome.branch.index] = outcome
    for (dummy, dummy_chain), by_index in failing.items():
        branch = next(iter(by_index.values())).branch
        if branch.has_else and len(by_index) == branch.count:
            for outcome in by_index.values():
                outcome.severity = ERROR
                outcome.message = outcome.message.replace(_UNDECIDED_NOTE, "; and so does every branch of its if/else")


def guarded(statement):
    """A statement silenced with ``@`` or guarded by ``file_exists()`` (or a
    like test) of its own expression written shortly before it."""
    if statement.silenced:
        return True
    text = normalized(statement.expression)
    if text.startswith("(") and text.endswith(")"):
        text = text[1:-1]
    return any(guard == text or guard.strip("()") == text for guard in statement.guard_texts)
