# -*- coding: utf-8 -*-
# Copyright: lastgood.webstack contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The autoload maps composer writes in ``vendor/composer/``, checked
against the release: a file a map names that the release lacks is a fatal
error at run time. The entry point is check_composer_maps().

The maps are read line by line as composer 1.x and 2.x generate them, never
by running PHP: ``'Foo\\\\Bar' => $vendorDir . '/foo/src/Bar.php',`` in
``autoload_classmap.php`` and ``autoload_files.php`` (files entries had no
key before 2015), ``'Ns\\\\' => array($baseDir . '/src', ...),`` in
``autoload_psr4.php`` and ``autoload_namespaces.php`` (psr-0; ``''``: the
fallback), and the ``var_export()`` arrays of ``autoload_static.php``
(``$files``, ``$classMap``, ``$prefixDirsPsr4``, ``$fallbackDirsPsr4``,
``$prefixesPsr0``, ``$fallbackDirsPsr0``), over several lines, of
``__DIR__ . '/..' . '/foo/src/Bar.php'``.

Only the maps PHP loads are checked: from composer 1.1 on, ``autoload_real.php``
loads ``autoload_static.php`` on every PHP from 5.6 on (from 2.3 on, nothing
else), so when it is there (and ``autoload_real.php``, if there, loads it)
only it is checked, else the four others. No entry is reported twice, each
at the line PHP reads; and stale plain maps are no error (Debian's DokuWiki
ships an ``autoload_files.php`` entry for a path that does not exist, its
static map the right one). Pure standard library."""

from __future__ import annotations

import os
import re
from collections import namedtuple

from ansible_collections.lastgood.webstack.plugins.module_utils._common.findings import ERROR, WARNING
from ansible_collections.lastgood.webstack.plugins.module_utils._common.paths import (
    FileSystem,
    PathMap,
    describe_missing,
    read_regular,
)

STATIC = "autoload_static.php"
REAL = "autoload_real.php"
CLASSMAP = "composer classmap"
FILES = "composer files"
PSR4 = "composer psr-4"
PSR0 = "composer psr-0"
MAP = "composer map"
PHAR = "phar://"
# The maps besides the static one, each with what its entries are.
PLAIN_MAPS = (
    ("autoload_classmap.php", CLASSMAP),
    ("autoload_files.php", FILES),
    ("autoload_psr4.php", PSR4),
    ("autoload_namespaces.php", PSR0),
)
# The arrays of autoload_static.php that name paths: their directive and the
# index of the namespace among an entry's keys (None: fallback directories).
# The others (prefixLengthsPsr4) are read past.
STATIC_ARRAYS = {
    "files": (FILES, None),
    "classMap": (CLASSMAP, None),
    "prefixDirsPsr4": (PSR4, 0),
    "fallbackDirsPsr4": (PSR4, None),
    "prefixesPsr0": (PSR0, 1),
    "fallbackDirsPsr0": (PSR0, None),
}
MAX_MAP_BYTES = 64 * 1024 * 1024
MAX_NESTING = 16
MAX_LINE = 64 * 1024        # composer's lines are short; a longer one is not read
# A single-quoted string (unrolled, so linear), one that does not end (the
# rest of the line, so that the scan stays linear), a variable, a name, a
# number, =>, or any other single character.
_TOKENS = re.compile(r"'[^'\\]*(?:\\.[^'\\]*)*'|'.*|\$\w+|\\?[A-Za-z_]\w*|\d+|=>|\S")
_STRING = re.compile(r"'[^'\\]*(?:\\.[^'\\]*)*'")
_ESCAPE = re.compile(r"\\([\\'])")
_PHAR_ARCHIVE = re.compile(r"(.*?\.phar)(?:/|$)")
# The line of most entries, in one match: a key, then a prefix composer
# writes (__DIR__ . '/..', $vendorDir, 'phar://' . $vendorDir), then a
# string without quotes in it.
_FAST_ENTRY = re.compile(
    r"[ \t]*(?:'([^'\\]*(?:\\.[^'\\]*)*)'|(\d+)) => "
    r"(__DIR__ \. '[/.]*'|\$\w+|'phar://' \. (?:__DIR__ \. '[/.]*'|\$\w+)) \. '([^'\\]*)',\r?$")

Counts = namedtuple("Counts", "dirs maps entries")


class _Unknown(Exception):
    """An expression or a line that is not as composer writes it."""


def check_composer_maps(paths, path_map, findings):
    """Check the autoload maps of every composer vendor directory under
    ``paths`` (live files or directories, as php_refs scans them; a path
    inside ``vendor/composer/`` stands for its vendor directory).
    ``path_map``: a PathMap (or its dict). Adds to ``findings`` (a
    Findings) an error for each class or ``files`` entry whose file does
    not exist, a warning for each psr-4 or psr-0 directory that does not
    (composer goes on without it), one warning for a map that cannot be
    read or has lines not as composer writes them (those are not checked);
    each at the live path and line of the entry, with the directive as
    ``statement`` and the entry as written as ``expression``.

    A vendor directory is one whose ``composer/`` holds a map or
    ``autoload_real.php``, whatever its name; the walk goes no further into
    it (the vendor directories of packages are not composer's). ``__DIR__``
    is where the symlinks of the map's directory lead, as in PHP. Returns
    Counts: vendor directories, maps read, entries checked."""
    path_map = path_map if isinstance(path_map, PathMap) else PathMap(path_map)
    fs = FileSystem()
    maps = entries = 0
    vendors = find_vendor_dirs(paths, path_map)
    for _live, checked in vendors:
        checker = _Checker(os.path.join(checked, "composer"), path_map, fs, findings)
        for name, directive in _maps_loaded(checker.checked_dir):
            maps += 1
            entries += checker.check_map(name, directive)
    return Counts(len(vendors), maps, entries)


def find_vendor_dirs(paths, path_map):
    """``(live, checked)`` of each composer vendor directory under
    ``paths``, once each; symlinked folders followed once, loops skipped."""
    found = {}      # by identity, in the order met
    seen = set()
    for live in paths:
        checked = os.path.normpath(path_map.apply(live))
        is_dir = os.path.isdir(checked)
        # A file in vendor/composer/ (a map) stands for its vendor directory.
        composer = checked if is_dir else os.path.dirname(checked)
        if os.path.basename(composer) == "composer" and _is_vendor(os.path.dirname(composer)):
            found.setdefault(_identity(os.path.dirname(composer)), os.path.dirname(composer))
            continue
        for directory, dirs, _files in os.walk(checked, followlinks=True) if is_dir else ():
            identity = _identity(directory)
            if identity in seen or identity in found:
                dirs[:] = []
            elif "composer" in dirs and _is_vendor(directory):
                found[identity] = directory
                dirs[:] = []
            else:
                seen.add(identity)
                dirs.sort()
    return [(path_map.unapply(checked), checked) for checked in found.values()]


def _identity(directory):
    """A directory's identity, whatever the path to it (one stat)."""
    try:
        info = os.stat(directory)
    except OSError:
        return directory
    return info.st_dev, info.st_ino


def _is_vendor(directory):
    names = (STATIC, REAL) + tuple(name for name, _directive in PLAIN_MAPS)
    return any(os.path.isfile(os.path.join(directory, "composer", name)) for name in names)


def _maps_loaded(composer_dir):
    """``(name, directive)`` of the maps PHP loads from ``composer_dir``:
    the static one (directive None) if the loader reads it, else the others."""
    if os.path.isfile(os.path.join(composer_dir, STATIC)):
        try:
            loader = read_regular(os.path.join(composer_dir, REAL), MAX_MAP_BYTES)
        except OSError:
            loader = None
        if loader is None or STATIC.encode() in loader:
            return [(STATIC, None)]
    return [(name, directive) for name, directive in PLAIN_MAPS if os.path.isfile(os.path.join(composer_dir, name))]


# ``name``: its class, files key or namespace (``raw``: as written between
# quotes); ``source``: its line as written; ``key_length``: the length of
# its key there (0 for none); ``value``: see _MapParser._evaluate.
Entry = namedtuple("Entry", "line directive name raw source key_length value")


def _written(entry):
    """The value of ``entry`` as written."""
    value = entry.source.strip()[entry.key_length:].lstrip()
    if entry.key_length:
        value = value[2:].strip()
    return value[:-1].rstrip() if value.endswith(",") else value


class _Checker:
    """Reads and checks the maps of one ``vendor/composer`` directory
    (``checked_dir``: where it is looked for)."""

    def __init__(self, checked_dir, path_map, fs, findings):
        self.checked_dir, self.path_map, self.fs, self.findings = checked_dir, path_map, fs, findings
        self.live_dir = path_map.unapply(checked_dir)
        # PHP's __DIR__: the directory with every symlink followed. Paths
        # under it are shown through the links that lead there.
        self.real_dir = os.path.realpath(checked_dir)
        self._shown = []
        ancestor = checked_dir
        while os.path.dirname(ancestor) != ancestor:
            self._shown.append((os.path.realpath(ancestor), ancestor))
            ancestor = os.path.dirname(ancestor)
        self._shown.sort(key=lambda pair: len(pair[0]), reverse=True)
        self._listings = {}

    def check_map(self, name, directive):
        """Check one map; the number of entries checked."""
        live_map = os.path.join(self.live_dir, name)
        try:
            data = read_regular(os.path.join(self.checked_dir, name), MAX_MAP_BYTES)
        except OSError as error:
            self._odd(live_map, None, "cannot be read (%s); its entries are not checked" % (error.strerror or error))
            return 0
        if len(data) > MAX_MAP_BYTES:
            self._odd(live_map, None, "is over %d MiB; its entries are not checked" % (MAX_MAP_BYTES >> 20))
            return 0
        parser = _MapParser(self, name, directive)
        entries = parser.parse(data.decode("utf-8", "surrogateescape"))
        if parser.unknown:
            line, what = parser.unknown[0]
            count = len(parser.unknown)
            self._odd(live_map, line, "has %d line%s not as composer writes them (the first: %s); %s not checked"
                      % (count, "s" if count > 1 else "", what, "they are" if count > 1 else "it is"))
        elif not parser.arrays and data.strip():
            self._odd(live_map, None, "holds no array as composer writes it; it is not checked")
        fs = self.fs
        apply = self.path_map.apply if self.path_map else None
        for entry in entries:
            # The usual entry, a path from __DIR__ that exists, costs one stat.
            text, live, _lexical = entry.value
            checked = apply(text) if live and apply else text
            if entry.directive in (PSR4, PSR0):
                if not fs.is_dir(checked) or checked.startswith(PHAR):
                    self._check_entry(live_map, entry, True)
            elif not self._is_file(checked) or checked.startswith(PHAR):
                self._check_entry(live_map, entry, False)
        return len(entries)

    def _is_file(self, path):
        """Whether ``path`` is a file (symlinks followed). A directory asked
        about twice is listed: 10,000 classes in 1,000 directories take
        2,000 system calls."""
        directory, _slash, name = path.rpartition("/")
        listing = self._listings.get(directory)
        if listing is _ONCE:
            listing = self._listings[directory] = _listing(directory or "/")
        elif listing is None:
            self._listings[directory] = _ONCE
        if not isinstance(listing, dict):
            return self.fs.is_file(path)
        entry = listing.get(name)
        try:
            return entry is not None and entry.is_file()
        except OSError:
            return False

    def _odd(self, live_map, line, what):
        self.findings.finding(WARNING, live_map, line, MAP, live_map, "composer's autoload map %s" % what,
                              statement=MAP, expression="")

    def paths(self, value):
        """``(checked, live, escaped)`` of a path ``value`` (see
        _MapParser._evaluate): where it is looked for, where PHP sees it,
        whether symlinks make it leave the path the map's directory was
        reached by (the ``..`` of a symlinked vendor directory)."""
        text, live, lexical = value
        if text.startswith(PHAR):
            checked, shown, escaped = self.paths((text[len(PHAR):], live, lexical[len(PHAR):]))
            return PHAR + checked, PHAR + shown, escaped
        if live:
            return self.path_map.apply(text), text, False
        normal = os.path.normpath(text)
        if text == lexical:
            # No symlink on the way: shown as it is.
            return text, self.path_map.unapply(normal), False
        shown = normal
        for real, ancestor in self._shown:
            if normal == real or normal.startswith(real + "/"):
                shown = ancestor + normal[len(real):]
                break
        return text, self.path_map.unapply(shown), shown != os.path.normpath(lexical)

    def _check_entry(self, live_map, entry, want_dir):
        """A finding for ``entry`` unless its path is there after all (one
        in a phar archive whose archive is)."""
        checked, shown, escaped = self.paths(entry.value)
        phar = checked.startswith(PHAR)
        if phar:
            # The archive: the path up to the first component in .phar.
            archive = _PHAR_ARCHIVE.match(checked[len(PHAR):])
            checked = archive.group(1) if archive else None
            if checked is not None and self.fs.is_file(checked):
                return
        what = _what(checked, self.fs, want_dir, phar)
        where = "%s %s" % (os.path.normpath(shown) if not phar else shown, what)
        looked = os.path.normpath(entry.value[0]) if not entry.value[1] else self.path_map.apply(entry.value[0])
        if not phar and looked != os.path.normpath(shown):
            where += " (looked for at %s)" % looked
        if escaped:
            where += " (composer's paths start from where the symlinks of the map's directory lead, %s)" \
                % self.real_dir
        self.findings.finding(WARNING if want_dir else ERROR, live_map, entry.line, entry.directive, shown,
                              _message(entry, where), statement=entry.directive, expression=_written(entry))


_ONCE = object()


def _listing(directory):
    """``{name: os.DirEntry}`` of ``directory``, False when it cannot be
    listed (then each path is looked for with a stat)."""
    try:
        with os.scandir(directory) as entries:
            return {entry.name: entry for entry in entries}
    except (OSError, ValueError):
        return False


def _what(checked, fs, want_dir, phar):
    """What is wrong with the path looked for at ``checked``."""
    if phar:
        if checked is None:
            return "names no .phar archive"
        problem = "is not a file" if fs.exists(checked) else describe_missing(checked)
        return "is in the phar archive %s, which %s" % (checked, problem)
    if fs.exists(checked):
        return "is not a directory" if want_dir else "is not a file"
    return describe_missing(checked)


def _message(entry, where):
    """The message of a finding on ``entry``; ``where``: its path and what
    is wrong with it."""
    if entry.raw:
        entry = entry._replace(name=_unescape(entry.name), raw=False)
    if entry.directive == CLASSMAP:
        return "class %s: %s; composer's classmap names it, so the first request that uses the class fails" % (
            entry.name, where)
    if entry.directive == FILES:
        entry_name = "files entry %s" % entry.name if entry.name is not None else "a files entry"
        return ("%s; composer's autoloader requires it (%s) on every request that loads vendor/autoload.php, "
                "so each of them fails" % (where, entry_name))
    kind = entry.directive.split()[-1]
    owner = "the %s fallback directory" % kind if entry.name == "" else "%s %s" % (
        "namespace" if entry.directive == PSR4 else "prefix", entry.name)
    return ("%s: %s; composer's %s map names it, so no class is loaded from it (composer skips a missing "
            "directory; a class found nowhere else fails the request that uses it)" % (owner, where, kind))


def _unescape(text):
    """``text`` from between single quotes: ``\\\\`` is ``\\``, ``\\'`` is ``'``."""
    if "\\" not in text:
        return text
    if "'" not in text:
        return text.replace("\\\\", "\\")
    return _ESCAPE.sub(lambda match: match.group(1), text)


def _key(token):
    if _STRING.fullmatch(token):
        return _unescape(token[1:-1])
    if token.isdigit():
        return int(token)
    raise _Unknown("a key that is not a string nor a number")


class _MapParser:
    """The entries of one map, from its text; ``unknown``: ``(line, what)``
    of each line not as composer writes it; ``arrays``: the arrays read."""

    def __init__(self, checker, name, directive):
        self.checker = checker
        self.directive = directive
        self.file = (os.path.join(checker.real_dir, name), False, os.path.join(checker.checked_dir, name))
        self.variables, self.unknown, self.arrays = {}, [], 0
        self._cache, self._prefixes = {}, {}
        self._tokens, self._end, self._depth = [], 0, 0

    def parse(self, text):
        """The entries of ``text``. ``array``: the directive of the array
        being read (False: one read past); ``stack``: the keys of the
        arrays open inside it; ``pending``: a key whose array opens on the
        next line."""
        entries, array, namespace_at, stack, pending, last = [], None, None, [], None, 0
        fast = _FAST_ENTRY.match
        for number, line in enumerate(text.split("\n"), 1):
            # The lines of most maps: 'key' => prefix . 'tail',
            match = fast(line) if array in (CLASSMAP, FILES) and not stack else None
            if match is not None:
                last = number
                entry = self._fast_entry(number, line, array, match)
                if entry is not None:
                    entries.append(entry)
                continue
            line = line.strip()
            if not line or line.startswith(("//", "#", "/*", "* ", "*/")):
                continue
            last = number
            if len(line) > MAX_LINE:
                self.unknown.append((number, "line %d, over %d characters" % (number, MAX_LINE)))
                continue
            if array is None:
                array, namespace_at = self._outside(number, line)
                stack, pending = [], None
                continue
            try:
                tokens = _TOKENS.findall(line)
                if tokens[0] == ")":
                    if tokens[1:] == [";"] and not stack:
                        array = None
                    elif tokens[1:] in ([","], []) and stack:
                        stack.pop()
                    else:
                        raise _Unknown("a bracket that closes no array")
                elif tokens == ["array", "("]:
                    if len(stack) >= MAX_NESTING:
                        raise _Unknown("arrays nested too deep")
                    stack.append(pending)
                    pending = None
                elif len(tokens) == 2 and tokens[1] == "=>":
                    pending = _key(tokens[0])
                elif array:
                    entries.extend(self._entries(number, line, tokens, stack, array, namespace_at))
            except _Unknown as error:
                self.unknown.append((number, "line %d, %s" % (number, error)))
        if array is not None:
            self.unknown.append((last, "line %d, an array that does not end" % last))
        return entries

    def _fast_entry(self, number, line, directive, match):
        """The entry of a line ``_FAST_ENTRY`` matches; None when its
        prefix has no value."""
        key, index, prefix, tail = match.groups()
        value = self._prefixes.get(prefix)
        if value is None:
            tokens = _TOKENS.findall(prefix)
            try:
                value = self._evaluate(tokens, 0, len(tokens))
                if not value[0].startswith(("/", PHAR + "/")):
                    raise _Unknown("a path that is not absolute: %s" % value[0])
            except _Unknown as error:
                value = str(error)
            self._prefixes[prefix] = value
        if not isinstance(value, tuple):
            self.unknown.append((number, "line %d, %s" % (number, value)))
            return None
        text, live, lexical = value
        # The tail holds no backslash; the key is unescaped for a message only.
        if index is None:
            return Entry(number, directive, key, True, line, len(key) + 2, (text + tail, live, lexical + tail))
        return Entry(number, directive, int(index), False, line, len(index), (text + tail, live, lexical + tail))

    def _outside(self, number, line):
        """``(directive, namespace index)`` of an array that opens at a line
        outside the arrays, ``(False, None)`` for one read past, else
        ``(None, None)`` (a variable set, the PHP around the arrays)."""
        if not line.startswith(("$", "return", "public")):
            return None, None
        tokens = _TOKENS.findall(line)
        try:
            if self.directive and len(tokens) > 3 and tokens[0][0] == "$" and tokens[1] == "=" \
                    and tokens[-1] == ";":
                self.variables[tokens[0]] = self._evaluate(tokens, 2, len(tokens) - 1)
            elif self.directive and tokens == ["return", "array", "("]:
                self.arrays += 1
                return self.directive, 0 if self.directive in (PSR4, PSR0) else None
            elif not self.directive and tokens[:2] == ["public", "static"] and tokens[3:] == ["=", "array", "("]:
                self.arrays += 1
                return STATIC_ARRAYS.get(tokens[2][1:], (False, None))
        except _Unknown as error:
            self.unknown.append((number, "line %d, %s" % (number, error)))
        return None, None

    def _entries(self, number, line, tokens, stack, directive, namespace_at):
        """The entries of one line of an array: ``key => value,`` or, in the
        files map of composer before 2015, ``value,``."""
        end = len(tokens) - 1 if tokens[-1] == "," else len(tokens)
        if len(tokens) > 2 and tokens[1] == "=>":
            keys, start = stack + [_key(tokens[0])], 2
        elif directive == FILES and not stack:
            keys, start = [None], 0
        else:
            raise _Unknown("an entry without a key")
        written = (line, len(tokens[0]) if start else 0)
        if directive in (CLASSMAP, FILES):
            if len(keys) != 1:
                raise _Unknown("an entry nested in an array")
            return [self._entry(number, directive, keys[0], written, tokens, start, end)]
        if len(keys) > (namespace_at or 0) + 2 or namespace_at is not None and len(keys) <= namespace_at:
            raise _Unknown("a directory where no namespace is")
        name = "" if namespace_at is None else keys[namespace_at]
        if end - start > 2 and tokens[start:start + 2] == ["array", "("] and tokens[end - 1] == ")":
            return [self._entry(number, directive, name, written, tokens, first, last)
                    for first, last in _elements(tokens, start + 2, end - 1)]
        return [self._entry(number, directive, name, written, tokens, start, end)]

    def _entry(self, number, directive, name, written, tokens, start, end):
        """The entry of ``tokens[start:end]``; ``written``: ``(line, length
        of its key)``."""
        value = self._evaluate(tokens, start, end)
        if not value[0].startswith(("/", PHAR + "/")):
            raise _Unknown("a path that is not absolute: %s" % value[0])
        return Entry(number, directive, name, False, written[0], written[1], value)

    def _evaluate(self, tokens, start, end):
        """The value of the expression ``tokens[start:end]``, made of
        single-quoted strings, ``.``, parentheses, ``__DIR__``, ``__FILE__``,
        ``dirname()`` and the map's variables: ``(text, live, lexical)``;
        ``live`` when it starts with a literal (a path as PHP sees it, looked
        for through the path map), not when from ``__DIR__``, which is where
        the map's directory is with its symlinks followed, as in PHP;
        ``lexical``: the same from the path the directory was reached by.
        What comes before a last literal is evaluated once per map."""
        if end - start > 2 and tokens[end - 2] == "." and _STRING.fullmatch(tokens[end - 1]):
            key = tuple(tokens[start:end - 2])
            try:
                text, live, lexical = self._cache[key]
            except KeyError:
                text, live, lexical = self._cache[key] = self._evaluate(tokens, start, end - 2)
            tail = _unescape(tokens[end - 1][1:-1])
            return text + tail, live, lexical + tail
        self._tokens, self._end, self._depth = tokens, end, 0
        value, index = self._concat(start)
        if index != end:
            raise _Unknown("an expression not as composer writes it")
        return value

    def _concat(self, index):
        (text, live, lexical), index = self._term(index)
        phar = live and text == PHAR
        while index < self._end and self._tokens[index] == ".":
            (right, right_live, right_lexical), index = self._term(index + 1)
            if phar:
                # 'phar://' . $vendorDir ...: a path of the kind after it.
                live, phar = right_live, False
            text += right
            lexical += right_lexical
        return (text, live, lexical), index

    def _term(self, index):
        if index >= self._end:
            raise _Unknown("an expression that ends too soon")
        token = self._tokens[index]
        if token[0] == "'":
            if not _STRING.fullmatch(token):
                raise _Unknown("a string that does not end")
            text = _unescape(token[1:-1])
            return (text, True, text), index + 1
        if token in ("__DIR__", "\\__DIR__"):
            return (self.checker.real_dir, False, self.checker.checked_dir), index + 1
        if token in ("__FILE__", "\\__FILE__"):
            return self.file, index + 1
        if token[0] == "$":
            if token not in self.variables:
                raise _Unknown("%s, which is not set before" % token)
            return self.variables[token], index + 1
        if token in ("(", "dirname", "\\dirname") and self._depth < MAX_NESTING:
            self._depth += 1
            try:
                return self._call(token, index)
            finally:
                self._depth -= 1
        raise _Unknown("%s in an expression" % token)

    def _call(self, token, index):
        """Parentheses or ``dirname(value[, levels])`` at ``index``."""
        tokens, end = self._tokens, self._end
        if token != "(":
            index += 1
            if index >= end or tokens[index] != "(":
                raise _Unknown("dirname without (")
        (text, live, lexical), index = self._concat(index + 1)
        levels = 1
        if token != "(" and index + 1 < end and tokens[index] == "," and tokens[index + 1].isdigit():
            levels = min(int(tokens[index + 1]), 4096)
            index += 2
        if index >= end or tokens[index] != ")" or levels < 1:
            raise _Unknown("a call not as composer writes it")
        if token != "(":
            text, lexical = _dirname(text, levels), _dirname(lexical, levels)
        return (text, live, lexical), index + 1


def _elements(tokens, start, end):
    """``(start, end)`` of each element of ``tokens[start:end]``, split at
    the commas outside brackets."""
    depth, first = 0, start
    for index in range(start, end + 1):
        token = tokens[index] if index < end else ","
        depth += (token == "(") - (token == ")")
        if token == "," and not depth and index > first:
            yield first, index
        first = index + 1 if token == "," and not depth else first


def _dirname(path, levels):
    """PHP's ``dirname(path, levels)``."""
    for _level in range(levels):
        path = os.path.dirname(path.rstrip("/")) or ("/" if path.startswith("/") else ".")
    return path
