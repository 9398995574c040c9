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

import errno
import glob
import os
import re

from ansible_collections.lastgood.webstack.plugins.module_utils._nginx import ConfigError, read_text
from ansible_collections.lastgood.webstack.plugins.module_utils._paths import AllowedRoots, PathMap

SERVER_ROOT = "/etc/apache2"
# `apache2 -l` of Debian's build.
STATIC_MODULES = ("core.c", "mod_so.c", "mod_watchdog.c", "http_core.c", "mod_log_config.c",
                  "mod_logio.c", "mod_version.c", "mod_unixd.c")
MAX_DEPTH = 128
MAX_NESTING = 100
CONDITIONAL_SECTIONS = frozenset(("ifmodule", "ifdefine", "ifversion", "iffile", "ifdirective", "ifsection"))

_VARIABLE = re.compile(r"\$\{([A-Za-z0-9_:.-]+)\}")
_GLOB_CHARS = re.compile(r"[*?\[]")
_ENVVAR_EXPORT = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$")
_ENVVAR_DEFAULT = re.compile(r"^\s*:\s*\$\{([A-Za-z_][A-Za-z0-9_]*):?=([^}]*)\}")
_SHELL_VARIABLE = re.compile(r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))")
_NAME = re.compile(r"(\S*)\s*(.*)", re.S)
_VERSION = re.compile(r"(\d+)(?:\.(\d+))?(?:\.(\d+))?")


class Directive:
    """One directive or section: ``name`` (lower case), ``raw_name`` as
    written, ``args``, ``file``, ``line`` and ``block`` (a list for a
    section, else None). ``include`` holds what an Include did."""

    __slots__ = ("name", "raw_name", "args", "file", "line", "block", "include")

    def __init__(self, raw_name, args, file, line, block=None):
        self.raw_name = raw_name
        self.name = raw_name.lower()
        self.args = args
        self.file = file
        self.line = line
        self.block = block
        self.include = None

    def __repr__(self):
        return "Directive(%r, %r, %s:%d%s)" % (
            self.raw_name, self.args, self.file, self.line, ", block" if self.block is not None else "")


def _split_name(text):
    match = _NAME.match(text)
    return match.group(1), match.group(2)


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
    pending = None
    start = 0
    for number, raw in enumerate(text.split("\n"), 1):
        line = raw.strip()
        if pending is not None:
            line = pending + line
        elif not line or line[0] == "#":
            continue
        else:
            start = number
        if line.endswith("\\") and not line.endswith("\\\\"):
            pending = line[:-1]
            continue
        pending = None
        if line and line[0] != "#":
            yield start, line
    if pending:
        yield start, pending


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
    return tuple(int(part or 0) for part in match.groups())


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


class IncludeResult:
    __slots__ = ("path", "checked", "files", "is_glob", "optional", "error")

    def __init__(self, path, checked, is_glob, optional):
        self.path = path
        self.checked = checked
        self.is_glob = is_glob
        self.optional = optional
        self.files = []
        self.error = None


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
            raise ConfigError("cannot read the main config: %s" % (error.strerror or error), checked)
        return root

    def _substitute(self, text, file, line):
        def replace(match):
            name = match.group(1)
            if name in self.variables:
                return self.variables[name]
            self.warnings.append((file, line, "config variable ${%s} is not defined" % name))
            return match.group(0)
        return _VARIABLE.sub(replace, text) if "${" in text else text

    def _read_file(self, path, block, chain):
        text = read_text(path)
        self.files_parsed.append(path)
        stack = [(None, block, path, 0)]   # (section name, block, file, line)
        skipping = 0                        # depth inside a false conditional
        skip_name = None
        for number, line in logical_lines(text):
            if skipping:
                lower = line.lower()
                if lower.startswith("</"):
                    name = lower[2:].rstrip(">").strip()
                    if name == skip_name:
                        skipping -= 1
                elif lower.startswith("<"):
                    name = lower[1:].split(None, 1)[0].rstrip(">") if len(lower) > 1 else ""
                    if name == skip_name:
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
                    raise ConfigError("<%s directive missing closing '>'" % line[1:].split(None, 1)[0], path, number)
                inner = line[1:-1].strip()
                raw_name, rest = _split_name(inner)
                name = raw_name.lower()
                try:
                    args = split_args(rest)
                except ValueError as error:
                    raise ConfigError("<%s: %s" % (raw_name, error), path, number)
                if len(stack) > MAX_NESTING:
                    raise ConfigError("sections nested deeper than %d levels" % MAX_NESTING, path, number)
                if name in CONDITIONAL_SECTIONS:
                    if self._condition(name, args, path, number):
                        stack.append((name, stack[-1][1], path, number))
                    else:
                        skipping = 1
                        skip_name = name
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
            self._on_read(directive, chain)
        if skipping:
            raise ConfigError("<%s> section is not closed at the end of the file" % skip_name, path, None)
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
            try:
                result = re.search(pattern, current) is not None
            except re.error:
                raise ConfigError("<IfVersion> has an invalid regular expression %r" % value, file, line)
        else:
            wanted = parse_version(value)
            if wanted is None:
                raise ConfigError("<IfVersion> cannot read the version %r" % value, file, line)
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
        path = self.resolve(directive.args[0])
        checked = self.path_map.apply(path)
        is_glob = bool(_GLOB_CHARS.search(path))
        result = IncludeResult(path, checked, is_glob, directive.name == "includeoptional")
        directive.include = result
        directive.block = []
        if len(chain) > MAX_DEPTH:
            result.error = "includes nested deeper than %d files" % MAX_DEPTH
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
                for directory, dirs, names in os.walk(file):
                    dirs.sort()
                    expanded.extend(os.path.join(directory, name) for name in sorted(names))
            else:
                expanded.append(file)
        for file in expanded:
            real = os.path.realpath(file)
            if real in chain:
                result.error = "include loop: %s includes itself through %s" % (
                    file, " -> ".join(chain[chain.index(real):]))
                continue
            outside = self.allowed_roots.outside(file)
            if outside:
                result.error = outside
                continue
            try:
                self._read_file(file, directive.block, chain + [real])
            except OSError as error:
                if error.errno == errno.ELOOP:
                    result.error = "is a symlink loop"
                elif error.errno in (errno.ENOENT, errno.ENOTDIR):
                    result.error = "does not exist"
                else:
                    result.error = "cannot be read: %s" % (error.strerror or error)
                continue
            result.files.append(file)
