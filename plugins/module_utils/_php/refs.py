# -*- coding: utf-8 -*-
# Copyright: lastgood.webstack contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Static resolution of PHP's include and require statements.

Each scanned file is tokenized once. Expressions made of string literals,
concatenation, parentheses, ``__DIR__``, ``__FILE__``, ``dirname()``,
``DIRECTORY_SEPARATOR`` and constants from ``define()``/``const`` are
evaluated; anything else is left unresolved and never guessed. Pure
standard library."""

from __future__ import annotations

import bisect
import fnmatch
import gc
import os
import pickle
import re

from ansible_collections.lastgood.webstack.plugins.module_utils._php.lexer import (
    NAME,
    NUMBER,
    OP,
    STRING,
    scan_statements_fast,
)
from ansible_collections.lastgood.webstack.plugins.module_utils._common.paths import (
    AllowedRoots,
    FileSystem,
    PathMap,
    describe_missing,
    read_regular,
)

ERROR = "error"
WARNING = "warning"
INFO = "info"
STATEMENTS = ("include", "include_once", "require", "require_once")
GUARDS = ("file_exists", "is_file", "is_readable", "stream_resolve_include_path")
_GUARD_WINDOW = 4000         # characters before a statement in which a guard counts
_GUARD_COUNT = 16            # and how many of the guards nearest to it count at most
_ENDS = frozenset((";", ",", "or", "and", "xor", "||", "&&", "?", ":", "??", "]", "}", "=>"))
MAX_FILE_BYTES = 16 * 1024 * 1024
# Fewer files than this a job: forking costs more than it saves.
_FILES_PER_JOB = 64
# By default: a host with many CPUs is most often serving the site meanwhile.
_DEFAULT_JOBS_AT_MOST = 8
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


class Statement:
    __slots__ = ("file", "line", "statement", "expression", "tokens", "silenced", "guard_texts")

    def __init__(self, file, line, statement, expression, tokens, silenced, guard_texts):
        self.file = file
        self.line = line
        self.statement = statement
        self.expression = expression
        self.tokens = tokens
        self.silenced = silenced
        self.guard_texts = guard_texts


class Definition:
    __slots__ = ("file", "position", "tokens")

    def __init__(self, file, position, tokens):
        self.file = file
        self.position = position
        self.tokens = tokens


def _text(source, tokens):
    if not tokens:
        return ""
    return source[tokens[0].start:tokens[-1].end]


def _normal(text):
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
    statements = []
    definitions = []
    guard_offsets = []
    guard_texts = []  # normalized argument text of each guard, in the order of the text
    for hit in scan_statements_fast(source):
        tokens = hit.tokens
        word = hit.word
        if word in STATEMENTS:
            end = _expression_end(tokens, 1)
            expression_tokens = tokens[1:end]
            before = hit.start - 1
            while before >= 0 and source[before].isspace():
                before -= 1
            silenced = before >= 0 and source[before] == "@"
            first = bisect.bisect_left(guard_offsets, hit.start - _GUARD_WINDOW)
            window = guard_texts[max(first, len(guard_texts) - _GUARD_COUNT):]
            statements.append(Statement(path, hit.line, word, _text(source, expression_tokens),
                                        expression_tokens, silenced, window))
        elif len(tokens) < 2 or tokens[1].value != "(":
            if word == "const" and not hit.in_class and len(tokens) > 3 and tokens[1].kind == NAME \
                    and tokens[2].value == "=":
                value_end = _expression_end(tokens, 3)
                definitions.append((tokens[1].value, Definition(path, hit.start, tokens[3:value_end])))
        elif word in GUARDS:
            guard_offsets.append(hit.start)
            guard_texts.append(_normal(_text(source, _call_argument(tokens, 1))))
        elif word == "define":
            name_tokens = _call_argument(tokens, 1)
            if len(name_tokens) == 1 and name_tokens[0].kind == STRING:
                value_start = 2 + len(name_tokens) + 1
                value_end = _expression_end(tokens, value_start)
                definitions.append((name_tokens[0].value, Definition(path, hit.start, tokens[value_start:value_end])))
    return statements, definitions


class Evaluator:
    """Evaluates expression tokens in the context of one file."""

    def __init__(self, constants):
        self.constants = constants
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


def read_source(path):
    return _read_source(path)[0]


def _read_source(path):
    """The text of the first MAX_FILE_BYTES of a file (bytes that are not
    UTF-8 kept as surrogates, as PHP reads bytes), and whether there was more.
    OSError for what is not a regular file (a FIFO named x.php would block)."""
    data = read_regular(path, MAX_FILE_BYTES)
    return data[:MAX_FILE_BYTES].decode("utf-8", "surrogateescape"), len(data) > MAX_FILE_BYTES


class Result:
    def __init__(self):
        self.findings = []
        self.files_scanned = 0
        self.includes_total = 0
        self.includes_resolved = 0
        self.unresolved = 0
        self.problems = []

    def finding(self, severity, statement, path, message):
        self.findings.append({
            "severity": severity,
            "file": statement.file,
            "line": statement.line,
            "statement": statement.statement,
            "expression": statement.expression,
            "path": path,
            "message": message,
        })


def scan(paths, include_path=(".", "/usr/share/php"), constants=None, path_map=None, exclude=(), allowed_roots=(),
         jobs=None):
    """Resolve every include/require in the PHP files under ``paths``. With
    ``allowed_roots``, an include that reaches outside them is an error.
    ``jobs``: processes that read and tokenize the files (default: one per
    CPU this process may use, 8 at most)."""
    # Many small objects, almost none freed: the cyclic collector only costs time.
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _scan(paths, include_path, constants, path_map, exclude, allowed_roots, jobs)
    finally:
        if collecting:
            gc.enable()


def _scan(paths, include_path, constants, path_map, exclude, allowed_roots, jobs):
    path_map = path_map if isinstance(path_map, PathMap) else PathMap(path_map)
    roots = AllowedRoots(allowed_roots, path_map)
    fs = FileSystem()
    result = Result()
    files, result.problems = find_php_files(paths, path_map, exclude, roots)
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


def extract(live, checked):
    """``(statements, definitions, problem)`` of one file; ``problem`` is
    None or why the file was not read whole."""
    try:
        source, cut = _read_source(checked)
    except OSError as error:
        return [], [], "%s cannot be read: %s" % (live, error.strerror)
    statements, definitions = scan_source(live, source)
    problem = None
    if cut:
        problem = "%s is larger than %d MiB: only its first %d MiB were scanned" % (
            live, MAX_FILE_BYTES // (1024 * 1024), MAX_FILE_BYTES // (1024 * 1024))
    return statements, definitions, problem


def usable_cpus():
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def extract_all(files, jobs=None):
    """``extract`` of each ``(live, checked)`` of ``files``, in their order.
    With more than one job, forked children tokenize a share of the files each
    (tokenizing is most of a scan and needs nothing from other files) and
    send their results back through a pipe; a child that fails leaves its
    share to this process, so the result never depends on the forks."""
    jobs = min(usable_cpus(), _DEFAULT_JOBS_AT_MOST) if jobs is None else jobs
    jobs = min(jobs, len(files) // _FILES_PER_JOB)
    if jobs < 2 or not hasattr(os, "fork"):
        return [extract(live, checked) for live, checked in files]
    # Interleaved shares: trees keep their big files together.
    shares = [list(range(number, len(files), jobs)) for number in range(jobs)]
    children = []
    for share in shares[1:]:
        children.append((_fork_extract(files, share), share))
    results = [None] * len(files)
    for index in shares[0]:
        results[index] = extract(*files[index])
    for child, share in children:
        extracted = _collect(child)
        for position, index in enumerate(share):
            results[index] = extracted[position] if extracted is not None else extract(*files[index])
    return results


def _fork_extract(files, share):
    """(pid, read end of its pipe) of a child sending the pickled ``extract``
    of the files at ``share``; (None, None) when it cannot fork."""
    try:
        read_end, write_end = os.pipe()
    except OSError:
        return None, None
    try:
        pid = os.fork()
    except OSError:
        os.close(read_end)
        os.close(write_end)
        return None, None
    if pid == 0:  # pragma: no cover - the child; its result is checked by the parent
        code = 1
        try:
            os.close(read_end)
            data = pickle.dumps([extract(*files[index]) for index in share], pickle.HIGHEST_PROTOCOL)
            with os.fdopen(write_end, "wb") as pipe:
                pipe.write(data)
            code = 0
        finally:
            # Never back into the caller's code (or its exit handlers).
            os._exit(code)
    os.close(write_end)
    return pid, read_end


def _collect(child):
    """The list a child sent, or None when it did not finish."""
    pid, read_end = child
    if pid is None:
        return None
    with os.fdopen(read_end, "rb") as pipe:
        data = pipe.read()
    dummy, status = os.waitpid(pid, 0)
    if status != 0 or not data:
        return None
    try:
        return pickle.loads(data)  # nosec - written by this process's own child
    except (pickle.UnpicklingError, EOFError, ValueError):
        return None


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
            result.finding(ERROR, statement, tail, "%s: no scanned file and nothing in include_path ends with %s"
                           % (statement.expression, tail))
            return
        result.finding(INFO, statement, tail, "%s cannot be resolved statically" % statement.expression)
        return
    result.includes_resolved += 1
    candidates = _candidates(path, statement, include_path)
    for candidate in candidates:
        checked = path_map.apply(candidate)
        if fs.is_file(checked):
            outside = roots.outside(checked) if roots else None
            if outside:
                result.finding(ERROR, statement, candidate, "%s %s" % (candidate, outside))
            return
    missing = candidates[0] if path.startswith("/") or path.startswith(".") else candidates[-1]
    checked = path_map.apply(missing)
    message = "%s %s" % (missing, describe_missing(checked))
    if checked != missing:
        message += " (looked for at %s)" % checked
    if len(candidates) > 1:
        message += " (nor in include_path)"
    if _guarded(statement):
        result.finding(INFO, statement, missing, message + "; guarded, PHP goes on")
    elif statement.statement.startswith("require"):
        result.finding(ERROR, statement, missing, message)
    else:
        result.finding(WARNING, statement, missing, message + "; include only warns")


def _guarded(statement):
    if statement.silenced:
        return True
    text = _normal(statement.expression)
    if text.startswith("(") and text.endswith(")"):
        text = text[1:-1]
    return any(guard == text or guard.strip("()") == text for guard in statement.guard_texts)


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
    fs = FileSystem()
    roots = AllowedRoots(allowed_roots, path_map)
    for live, checked in _expand_ini_files(ini_files, path_map):
        try:
            text = read_source(checked)
        except OSError as error:
            result.problems.append("ini file %s cannot be read: %s" % (live, error.strerror))
            continue
        for line, setting, value in ini_references(live, text):
            target = path_map.apply(value)
            if fs.is_file(target):
                outside = roots.outside(target)
                if not outside:
                    continue
                message = "%s %s %s" % (setting, value, outside)
                result.findings.append({"severity": ERROR, "file": live, "line": line, "statement": setting,
                                        "expression": value, "path": value, "message": message})
                continue
            message = "%s %s %s" % (setting, value, describe_missing(target))
            if target != value:
                message += " (looked for at %s)" % target
            result.findings.append({"severity": ERROR, "file": live, "line": line, "statement": setting,
                                    "expression": value, "path": value, "message": message})
