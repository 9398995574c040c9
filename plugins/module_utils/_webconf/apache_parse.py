# -*- coding: utf-8 -*-
# Copyright: lastgood.webstack contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Apache httpd configuration reader, in the order httpd reads it: lines with
continuations, whole-line comments, case-insensitive directives, quoted
arguments, ``Define`` and ``${VAR}`` (with Debian's ``envvars``),
``<IfModule>``/``<IfDefine>``/``<IfVersion>``/``<IfFile>`` decided as they
are met (``LoadModule`` counts from the line it is on), and ``Include`` /
``IncludeOptional`` followed in place relative to ``ServerRoot``.

The result is a tree of the sections that stay (VirtualHost, Directory,
Location, Files...) with the conditional sections already resolved away.
Pure standard library."""

from __future__ import annotations

import glob
import os
import re

from ansible_collections.lastgood.webstack.plugins.module_utils._common.paths import AllowedRoots, PathMap
from ansible_collections.lastgood.webstack.plugins.module_utils._webconf import errors, tree
from ansible_collections.lastgood.webstack.plugins.module_utils._webconf.errors import MAX_NESTING, ConfigError, read_text

SERVER_ROOT = "/etc/apache2"
# `apache2 -l` of Debian's build.
STATIC_MODULES = ("core.c", "mod_so.c", "mod_watchdog.c", "http_core.c", "mod_log_config.c",
                  "mod_logio.c", "mod_version.c", "mod_unixd.c")
# Limits of httpd's language; those of every load (file size, bytes read,
# nesting) are in errors.py.
MAX_DEPTH = 128
# What ${VAR} substitution may add to the lines of one load ("Define B
# ${A}${A}", "Define C ${B}${B}"... doubles a line per line; a real
# configuration adds a few KiB).
MAX_SUBSTITUTION_BYTES = 4 * 1024 * 1024
# Repetitions (*, +, ?, {m,n}) an <IfVersion> regular expression may hold:
# Python's re backtracks without bounds; (?:(?:(?:(?:.*)*)*)*)*x ran for
# minutes against the six characters of "2.4.62", while the worst seen with
# three repetitions takes milliseconds.
MAX_VERSION_REGEX_REPEATS = 3
CONDITIONAL_SECTIONS = frozenset(("ifmodule", "ifdefine", "ifversion", "iffile", "ifdirective", "ifsection"))

_VARIABLE = re.compile(r"\$\{([A-Za-z0-9_:.-]+)\}")
_GLOB_CHARS = re.compile(r"[*?\[]")
_ENVVAR_EXPORT = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$")
_ENVVAR_DEFAULT = re.compile(r"^\s*:\s*\$\{([A-Za-z_][A-Za-z0-9_]*):?=([^}]*)\}")
_SHELL_VARIABLE = re.compile(r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))")
_NAME = re.compile(r"(\S*)\s*(.*)", re.S)
_VERSION = re.compile(r"(\d+)(?:\.(\d+))?(?:\.(\d+))?")


class Directive(tree.Directive):
    """One directive or section, named as httpd matches names: in lower
    case (``raw_name`` as written)."""

    __slots__ = ()

    def __init__(self, raw_name, args, file, line, block=None):
        super().__init__(raw_name.lower(), args, file, line, block, raw_name)


def _split_name(text):
    match = _NAME.match(text)
    return match.group(1), match.group(2)


def _clip(text, width=80):
    """``text`` shortened for a message."""
    return text if len(text) <= width else text[:width - 3] + "..."


def _regex_repeats(pattern):
    """How many repetition operators ``pattern`` holds (outside character
    classes and escapes; a lazy or possessive suffix is not counted again)."""
    repeats = 0
    position = 0
    length = len(pattern)
    in_class = False
    previous = ""
    while position < length:
        char = pattern[position]
        if char == "\\":
            position += 2
            previous = "x"
            continue
        if in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
        elif char in "*+{" or (char == "?" and previous not in ("(", "*", "+", "?", "}")):
            repeats += 1
        previous = char
        position += 1
    return repeats


def _section_word(line):
    """The first word of a line that starts with '<' (without the '<' and a
    closing '>'), shortened for a message; '' when there is none."""
    words = line[1:].split(None, 1)
    return _clip(words[0].rstrip(">")) if words else ""


def split_args(text):
    """Arguments as httpd's ap_getword_conf reads them: words split on
    whitespace; a word opened by a quote runs to the same unescaped quote,
    where ``\\`` escapes that quote."""
    args = []
    position = 0
    length = len(text)
    while True:
        while position < length and text[position] in " \t":
            position += 1
        if position >= length:
            return args
        quote = text[position]
        if quote in "\"'":
            position += 1
            chars = []
            while position < length and text[position] != quote:
                if text[position] == "\\" and position + 1 < length and text[position + 1] == quote:
                    position += 1
                chars.append(text[position])
                position += 1
            if position >= length:
                raise ValueError("missing closing %s" % quote)
            position += 1
            args.append("".join(chars))
        else:
            end = position
            while end < length and text[end] not in " \t":
                end += 1
            args.append(text[position:end])
            position = end


def logical_lines(text):
    """``(line_number, text)`` of each directive line: continuations joined,
    comments and blank lines dropped, whitespace trimmed."""
    pending = None      # the parts of a line continued so far
    start = 0
    for number, raw in enumerate(text.split("\n"), 1):
        part = raw.strip()
        if pending is None:
            if not part or part[0] == "#":
                continue
            start = number
        # What came before never ends with a backslash: the part decides.
        if part.endswith("\\") and not part.endswith("\\\\"):
            # Joined once at the end: adding each part to a growing string
            # would copy it again for every continuation line.
            if pending is None:
                pending = []
            pending.append(part[:-1])
            continue
        if pending is not None:
            pending.append(part)
            line = "".join(pending)
            pending = None
        else:
            line = part
        if line and line[0] != "#":
            yield start, line
    if pending:
        line = "".join(pending)
        if line:
            yield start, line


def read_envvars(path):
    """Variables Debian's apache2ctl exports from ``envvars``, from its
    ``export NAME=value`` and ``: ${NAME:=value}`` lines (no shell runs)."""
    variables = {"SUFFIX": ""}
    try:
        text = read_text(path)
    except (OSError, ConfigError):
        return {}

    def expand(value):
        value = value.strip().strip('"').strip("'")
        return _SHELL_VARIABLE.sub(lambda match: variables.get(match.group(1) or match.group(2), ""), value)

    for line in text.split("\n"):
        match = _ENVVAR_DEFAULT.match(line)
        if match:
            variables.setdefault(match.group(1), expand(match.group(2)))
            continue
        match = _ENVVAR_EXPORT.match(line)
        if match and "$(" not in match.group(2) and "`" not in match.group(2):
            variables[match.group(1)] = expand(match.group(2))
    variables.pop("SUFFIX", None)
    return variables


def parse_version(text):
    match = _VERSION.match(text.strip())
    if not match:
        return None
    try:
        return tuple(int(part or 0) for part in match.groups())
    except ValueError:      # more digits than int() reads (Python 3.11+)
        return None


def module_ids(name, path):
    """The names <IfModule> may use for a module loaded as ``name`` from
    ``path``: ``rewrite_module`` and ``mod_rewrite.c``."""
    ids = {name}
    if name.endswith("_module"):
        ids.add("mod_%s.c" % name[:-len("_module")])
        if name.startswith("mpm_"):
            ids.add("%s.c" % name[len("mpm_"):-len("_module")])
    base = os.path.basename(path)
    if base.endswith(".so"):
        ids.add(base[:-3] + ".c")
    return ids


class Loader:
    """Reads an Apache main config and what it includes, as httpd does.

    ``defines``: names defined as with ``-D``; ``version``: the httpd version
    <IfVersion> compares with; ``envvars``: Debian's envvars file (default
    ``<ServerRoot>/envvars`` when it exists)."""

    def __init__(self, path_map=None, server_root=SERVER_ROOT, defines=(), version=(2, 4, 62),
                 envvars=None, allowed_roots=None):
        self.path_map = path_map if isinstance(path_map, PathMap) else PathMap(path_map)
        # An include outside these trees is reported and never read.
        self.allowed_roots = allowed_roots or AllowedRoots()
        self.server_root = server_root
        self.version = version
        self.variables = {}
        self.defined = set(defines)
        self.modules = set(STATIC_MODULES)
        self.files_parsed = []
        self.warnings = []
        self.bytes_loaded = 0
        self.bytes_substituted = 0
        self._nesting = 0                   # sections open where an Include is read
        envvars = envvars if envvars is not None else os.path.join(server_root, "envvars")
        for name, value in read_envvars(self.path_map.apply(envvars)).items():
            self.variables[name] = value

    def resolve(self, path):
        """A path as httpd resolves it: relative ones against ServerRoot."""
        if not path.startswith("/"):
            path = os.path.join(self.server_root, path)
        return os.path.normpath(path)

    def load(self, main_path):
        main_path = os.path.abspath(main_path)
        checked = self.path_map.apply(main_path)
        root = []
        try:
            self._read_file(checked, root, [os.path.realpath(checked)])
        except OSError as error:
            raise errors.main_config_error(error, checked)
        return root

    def _substitute(self, text, file, line):
        def replace(match):
            name = match.group(1)
            if name in self.variables:
                return self.variables[name]
            self.warnings.append((file, line, "config variable ${%s} is not defined" % name))
            return match.group(0)
        if "${" not in text:
            return text
        result = _VARIABLE.sub(replace, text)
        self.bytes_substituted += len(result) - len(text)
        if self.bytes_substituted > MAX_SUBSTITUTION_BYTES:
            raise ConfigError("${VAR} substitution makes the configuration grow past %d MiB" % (
                MAX_SUBSTITUTION_BYTES // (1024 * 1024)), file, line)
        return result

    def _read_file(self, path, block, chain, nesting=0, include=None):
        """Read ``path`` into ``block``, inside ``nesting`` sections of the
        files that include it; ``include``: the Include directive."""
        text = read_text(path)
        self.bytes_loaded += len(text)
        if include is None:
            errors.check_load_bytes(self.bytes_loaded, "the configuration read grows", path, None)
        else:
            errors.check_load_bytes(self.bytes_loaded, errors.included_again(path), include.file, include.line)
        self.files_parsed.append(path)
        stack = [(None, block, path, 0)]   # (section name, block, file, line)
        skipping = 0                        # depth inside a false conditional
        skip_name = None
        skip_line = None
        for number, line in logical_lines(text):
            if skipping:
                lower = line.lower()
                if lower.startswith("</"):
                    name = lower[2:].rstrip(">").strip()
                    if name == skip_name:
                        skipping -= 1
                elif lower.startswith("<"):
                    words = lower[1:].split(None, 1)
                    if words and words[0].rstrip(">") == skip_name:
                        skipping += 1
                continue
            line = self._substitute(line, path, number)
            if line.startswith("</"):
                name = line[2:].rstrip(">").strip().lower()
                open_name = stack[-1][0]
                if open_name is None or name != open_name:
                    expected = "</%s>" % open_name if open_name else "no closing section"
                    raise ConfigError("</%s> without matching <%s> section (expected %s)" % (
                        name, name, expected), path, number)
                stack.pop()
                continue
            if line.startswith("<"):
                if not line.endswith(">"):
                    raise ConfigError("<%s directive missing closing '>'" % _section_word(line), path, number)
                inner = line[1:-1].strip()
                raw_name, rest = _split_name(inner)
                name = raw_name.lower()
                try:
                    args = split_args(rest)
                except ValueError as error:
                    raise ConfigError("<%s: %s" % (raw_name, error), path, number)
                if nesting + len(stack) > MAX_NESTING:
                    raise ConfigError("sections nested deeper than %d levels%s" % (
                        MAX_NESTING, ", counting the files that include them" if nesting else ""), path, number)
                if name in CONDITIONAL_SECTIONS:
                    if self._condition(name, args, path, number):
                        stack.append((name, stack[-1][1], path, number))
                    else:
                        skipping = 1
                        skip_name = name
                        skip_line = number
                    continue
                section = Directive(raw_name, args, path, number, [])
                stack[-1][1].append(section)
                stack.append((name, section.block, path, number))
                continue
            raw_name, rest = _split_name(line)
            try:
                args = split_args(rest)
            except ValueError as error:
                raise ConfigError("%s: %s" % (raw_name, error), path, number)
            directive = Directive(raw_name, args, path, number)
            stack[-1][1].append(directive)
            self._nesting = nesting + len(stack) - 1
            self._on_read(directive, chain)
        if skipping:
            raise ConfigError("<%s> section is not closed at the end of the file" % skip_name, path, skip_line)
        if len(stack) > 1:
            name, _block, file, number = stack[-1]
            raise ConfigError("<%s> section is not closed at the end of the file" % name, file, number)

    def _condition(self, name, args, file, line):
        if not args:
            raise ConfigError("<%s> needs an argument" % name, file, line)
        if name == "ifversion":
            return self._version_matches(args, file, line)
        negate = args[0].startswith("!")
        value = args[0][1:] if negate else args[0]
        if name == "ifmodule":
            result = value in self.modules
        elif name == "ifdefine":
            result = value in self.defined
        elif name == "iffile":
            result = os.path.exists(self.path_map.apply(self.resolve(value)))
        else:
            # <IfDirective>/<IfSection>: whether a module registers the name
            # cannot be known without httpd; assume it does.
            result = True
        return result != negate

    def _version_matches(self, args, file, line):
        if len(args) == 1:
            operator, value = "=", args[0]
        else:
            operator, value = args[0], args[1]
        negate = operator.startswith("!")
        operator = operator.lstrip("!") or "="
        current = ".".join(str(part) for part in self.version)
        if operator == "~" or (value.startswith("/") and value.endswith("/") and len(value) > 1):
            pattern = value.strip("/") if operator != "~" else value
            if _regex_repeats(pattern) > MAX_VERSION_REGEX_REPEATS:
                raise ConfigError("<IfVersion> regular expression %r has more than %d repetitions (*, +, ?, {}), "
                                  "too many to match safely" % (_clip(value), MAX_VERSION_REGEX_REPEATS), file, line)
            try:
                result = re.search(pattern, current) is not None
            except (re.error, OverflowError, RecursionError):
                # RecursionError: parentheses nested deeper than the re
                # module's parser goes (PCRE refuses them too).
                raise ConfigError("<IfVersion> has an invalid regular expression %r" % _clip(value), file, line)
        else:
            wanted = parse_version(value)
            if wanted is None:
                raise ConfigError("<IfVersion> cannot read the version %r" % _clip(value), file, line)
            version = self.version
            result = {
                "=": version == wanted, "==": version == wanted, ">": version > wanted,
                ">=": version >= wanted, "<": version < wanted, "<=": version <= wanted,
            }.get(operator)
            if result is None:
                raise ConfigError("<IfVersion> has an unknown operator %r" % operator, file, line)
        return result != negate

    def _on_read(self, directive, chain):
        """Directives httpd executes while reading (EXEC_ON_READ)."""
        name = directive.name
        args = directive.args
        if name == "define" and args:
            self.defined.add(args[0])
            self.variables[args[0]] = args[1] if len(args) > 1 else ""
        elif name == "undefine" and args:
            self.defined.discard(args[0])
            self.variables.pop(args[0], None)
        elif name == "loadmodule" and len(args) >= 2:
            self.modules.update(module_ids(args[0], args[1]))
        elif name == "serverroot" and args:
            self.server_root = os.path.normpath(args[0])
        elif name in ("include", "includeoptional") and args:
            self._include(directive, chain)

    def _include(self, directive, chain):
        nesting = self._nesting
        path = self.resolve(directive.args[0])
        checked = self.path_map.apply(path)
        is_glob = bool(_GLOB_CHARS.search(path))
        result = tree.IncludeResult(path, checked, is_glob, directive.name == "includeoptional")
        directive.include = result
        directive.block = []
        if len(chain) > MAX_DEPTH:
            result.error = errors.includes_too_deep(MAX_DEPTH)
            return
        if "\0" in checked:
            result.error = errors.NUL_IN_PATH
            return
        if is_glob:
            files = sorted(glob.glob(checked))
            if not files:
                parent = os.path.dirname(checked)
                if not _GLOB_CHARS.search(parent) and not os.path.isdir(parent):
                    result.error = "directory %s does not exist" % os.path.dirname(path)
                else:
                    result.error = "matches no file"
                return
        else:
            files = [checked]
        expanded = []
        for file in files:
            if os.path.isdir(file):
                # Not walked at all outside allowed_roots ("Include /").
                outside = self.allowed_roots.outside(file)
                if outside:
                    result.error = outside
                    continue
                for directory, dirs, names in os.walk(file):
                    dirs.sort()
                    expanded.extend(os.path.join(directory, name) for name in sorted(names))
            else:
                expanded.append(file)
        for file in expanded:
            real = os.path.realpath(file)
            refusal = errors.include_loop(file, real, chain) or self.allowed_roots.outside(file)
            if refusal:
                result.error = refusal
                continue
            try:
                self._read_file(file, directive.block, chain + [real], nesting, directive)
            except OSError as error:
                result.error = errors.unreadable(error)
                continue
            result.files.append(file)
