"""Fuzzing of the nginx, Apache and PHP parsers (hypothesis).

Three kinds of input for each parser: (a) real files (Debian's nginx and
Apache configs, WordPress and DokuWiki PHP, from the test tree) with bytes
and tokens inserted, deleted, repeated and cut; (b) random text made of the
language's significant tokens; (c) arbitrary bytes (invalid UTF-8, NUL,
encoded lone surrogates) and, for the functions that take text, arbitrary
code points (lone surrogates included). The property: the parser returns,
or raises its documented error (ConfigError for nginx and Apache, naming
the file and a line of it that exists); the PHP lexer and php_refs never
raise. Any other exception is a bug in the parser. The loaders are fuzzed
whole: nginx with its includes, Apache with Include, Define and the If*
sections, php_refs' scan over a directory.

LASTGOOD_FUZZ_EXAMPLES: examples per property (default small, for the unit
suite); hack/fuzz.sh runs at least 100,000 inputs per parser. Runs are
derandomized and keep no example database, so CI sees the same inputs every
time. LASTGOOD_FUZZ_REPORT: a JSON file the number of inputs each parser
took is added to (hack/fuzz.sh prints it)."""

import collections
import json
import os
import shutil
import tempfile

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from hypothesis.configuration import set_hypothesis_home_dir

from ansible_collections.lastgood.webstack.plugins.module_utils._php import lexer as _php_lexer, resolve as _php_resolve
from ansible_collections.lastgood.webstack.plugins.module_utils._php import statements as _php_statements
from ansible_collections.lastgood.webstack.plugins.module_utils._webconf import apache_parse as _apache, nginx_parse as _nginx
from ansible_collections.lastgood.webstack.plugins.module_utils._webconf.errors import ConfigError
from ansible_collections.lastgood.webstack.plugins.module_utils._common.paths import AllowedRoots
from ansible_collections.lastgood.webstack.tests.unit.conftest import COLLECTION_ROOT
from ansible_collections.lastgood.webstack.tests.unit.plugins.module_utils.php_tokenize import tokenize

# Hypothesis keeps a cache of Unicode tables in its home directory (.hypothesis
# in the current directory by default): kept out of the checkout.
if not os.environ.get("HYPOTHESIS_STORAGE_DIRECTORY"):
    set_hypothesis_home_dir(os.path.join(COLLECTION_ROOT, ".cache", "hypothesis"))

EXAMPLES = int(os.environ.get("LASTGOOD_FUZZ_EXAMPLES") or 100)
FUZZ = settings(
    max_examples=EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    print_blob=False,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much,
                           HealthCheck.large_base_example],
)
WINDOW = 16 * 1024          # mutations of a large file work on a slice of it
INPUTS = collections.Counter()

# Errors that are about a whole file, not one of its lines.
WHOLE_FILE_ERRORS = ("file is larger than", "cannot read the main config", "the configuration read grows")

# Significant tokens of each language, as bytes; a few raw bytes besides
# (NUL, invalid UTF-8, an encoded lone surrogate).
ODD_BYTES = [b"\x00", b"\xff", b"\xc3", b"\xed\xa0\x80", b"\xe2\x80\xa8", b"\x0b", b"\x0c", b"\x85"]
NGINX_TOKENS = [
    b"{", b"}", b";", b'"', b"'", b"\\", b"#", b"$", b"${", b"}", b"\n", b" ", b"\t", b"\r", b"\\\n",
    b"include ", b"include a.conf;\n", b"include b.conf;\n", b"include conf.d/*.conf;\n", b"include sites/*;\n",
    b"include /etc/nginx/a.conf;\n", b"include *;\n", b"include [;\n", b"include a.conf b.conf;\n",
    b"http {", b"server {", b"location / {", b"events {}", b"root /var/www;", b"set $a \"x\";", b"if ($a) {",
    b"content_by_lua_block {", b"access_by_lua_block {", b"--[[", b"]]", b"[==[", b"]==]", b"--", b"[[", b"[=",
    b"\\\"", b"\\'", b"\\\\", b"x", b"/", b"*", b"=", b"~", b"(", b")",
    # Whole statements, so that token soup gets past the first few tokens.
    b"a b;\n", b"server {\n", b"}\n", b"location ~ \\.php$ {\n", b"include a.conf;\n", b"root \"/var/www\";\n",
    b"access_by_lua_block { ngx.say(\"}\") }\n",
] + ODD_BYTES
APACHE_TOKENS = [
    b"<", b">", b"</", b"\\\n", b"\\", b"#", b'"', b"'", b"${", b"}", b"${A}", b"${APACHE_LOG_DIR}", b"\n", b" ",
    b"\t", b"\r", b"!", b"~", b"/", b"*", b"=",
    b"Include ", b"IncludeOptional ", b"Include a.conf\n", b"Include b.conf\n", b"IncludeOptional conf.d/*.conf\n",
    b"Include conf.d\n", b"Include /etc/apache2/a.conf\n", b"Include *\n", b"Include [\n",
    b"Define ", b"Define A ", b"Define A ${A}${A}\n", b"UnDefine A\n", b"ServerRoot ", b"ServerRoot /etc/apache2\n",
    b"LoadModule rewrite_module mod_rewrite.so\n", b"<IfModule ", b"<IfModule mod_rewrite.c>", b"<IfModule !x>",
    b"</IfModule>", b"<IfDefine ", b"<IfDefine A>", b"<IfDefine !A>", b"</IfDefine>", b"<IfVersion ",
    b"<IfVersion >= 2.4>", b"<IfVersion ~ ^2>", b"<IfVersion /(a*)*/>", b"</IfVersion>", b"<IfFile /etc>",
    b"</IfFile>", b"<IfDirective X>", b"</IfDirective>", b"<IfSection X>", b"<VirtualHost *:80>",
    b"</VirtualHost>", b"<Directory /var/www>", b"</Directory>", b"DocumentRoot /var/www\n", b"x", b"\"a b\"",
] + ODD_BYTES
# Whole lines, so that random configs reach the sections and what they hold.
APACHE_LINES = [
    b"<IfModule mod_rewrite.c>\n", b"<IfModule !mod_x.c>\n", b"</IfModule>\n", b"<IfDefine A>\n", b"<IfDefine !A>\n",
    b"</IfDefine>\n", b"<IfVersion >= 2.4>\n", b"<IfVersion < 2.2>\n", b"<IfVersion ~ ^2\\.4>\n", b"</IfVersion>\n",
    b"<IfFile a.conf>\n", b"<IfFile !/nope>\n", b"</IfFile>\n", b"<VirtualHost *:80>\n", b"</VirtualHost>\n",
    b"<Directory /var/www>\n", b"</Directory>\n", b"Define A x\n", b"Define A ${A}${A}\n", b"UnDefine A\n",
    b"A ${A}\n", b"Include a.conf\n", b"IncludeOptional b.conf\n", b"Include conf.d\n", b"ServerRoot /etc/apache2\n",
    b"LoadModule rewrite_module modules/mod_rewrite.so\n", b"ServerName \"a b\"\n",
]
APACHE_TOKENS += APACHE_LINES
PHP_TOKENS = [
    b"<?php ", b"<?php\n", b"<?=", b"?>", b"?>\n", b"<<<", b"<<<EOT\n", b"<<<'EOT'\n", b'<<<"EOT"\n', b"EOT",
    b"\nEOT;\n", b"  EOT\n", b"\n", b" ", b"\t", b"\r", b"/*", b"*/", b"//", b"#", b"#[", b"'", b'"', b"\\", b"\\'",
    b'\\"', b"\\\\", b"\\x2f", b"\\0", b"\\101", b"$", b"$a", b"${", b"{$", b"{", b"}", b"(", b")", b"[", b"]", b";",
    b",", b".", b"@", b"::", b"->", b"=", b"?", b":", b"&&", b"||", b"or ", b"include ", b"include_once ",
    b"require ", b"require_once ", b"define(", b"define('A', ", b"const ", b"const A = ", b"class ", b"class X {",
    b"interface ", b"enum ", b"file_exists(", b"is_file(", b"is_readable(", b"dirname(", b"dirname(__FILE__)",
    b"__DIR__", b"__FILE__", b"DIRECTORY_SEPARATOR", b"A", b"1", b"2", b"1.5", b"0", b"99999999", b"x",
    b"'a.php'", b"'/a.php'", b"'./a.php'", b"'../b.php'", b"\"/b.php\"", b"__DIR__ . '/a.php'",
] + ODD_BYTES


def count(parser):
    INPUTS[parser] += 1


@pytest.fixture(scope="module", autouse=True)
def fuzz_report():
    """Adds the inputs each parser took here to LASTGOOD_FUZZ_REPORT."""
    INPUTS.clear()
    yield
    path = os.environ.get("LASTGOOD_FUZZ_REPORT")
    if path:
        report = {}
        if os.path.exists(path):
            with open(path) as handle:
                report = json.load(handle)
        for parser, inputs in INPUTS.items():
            report[parser] = report.get(parser, 0) + inputs
        with open(path, "w") as handle:
            json.dump(report, handle)


# Seeds: the real files of the test tree.

def _files_under(root, *relatives, suffix=""):
    found = []
    for relative in relatives:
        top = os.path.join(root, relative)
        if os.path.isfile(top):
            found.append(top)
            continue
        for directory, dirs, names in os.walk(top):
            dirs.sort()
            found.extend(os.path.join(directory, name) for name in sorted(names) if name.endswith(suffix))
    return [path for path in found if os.path.isfile(path)]


class Seeds(dict):
    """{parser: paths}; shown short in hypothesis' reports."""

    def __repr__(self):
        return "Seeds(%s)" % ", ".join("%d %s files" % (len(paths), parser) for parser, paths in self.items())


@pytest.fixture(scope="session")
def seeds(test_root):
    """Paths of the real files each parser is seeded from."""
    found = Seeds({
        "nginx": _files_under(test_root, "etc/nginx", "usr/share/doc/wordpress/examples/nginx-wordpress.conf"),
        "apache": _files_under(test_root, "etc/apache2"),
        "php": _files_under(test_root, "usr/share/wordpress", "usr/share/dokuwiki", suffix=".php"),
    })
    for parser, paths in found.items():
        assert len(paths) > 5, "too few %s files in the test tree %s" % (parser, test_root)
    return found


def seed_named(seeds, parser, name):
    """The seed of ``parser`` whose file name is ``name``."""
    key = (parser, name)
    if key not in _NAMED:
        [_NAMED[key]] = [path for path in seeds[parser] if os.path.basename(path) == name]
    return _NAMED[key]


_NAMED = {}


_CONTENTS = {}


def contents(path):
    data = _CONTENTS.get(path)
    if data is None:
        with open(path, "rb") as handle:
            data = _CONTENTS[path] = handle.read()
    return data


# Strategies.

def sized(strategy, max_size):
    """``strategy`` (lists, text or binary, given min_size and max_size) at
    a size drawn first: hypothesis' own sizes average about five, too short
    for long runs and nesting."""
    return st.integers(0, max_size).flatmap(lambda size: strategy(min_size=size, max_size=size))


def token_text(tokens, max_size=80):
    """Random text made of the language's tokens and a few random bytes."""
    part = st.one_of(st.sampled_from(tokens), st.binary(min_size=1, max_size=3))
    return sized(lambda **size: st.lists(part, **size), max_size).map(b"".join)


@st.composite
def mutated(draw, original, tokens):
    """``original`` (bytes) with up to six mutations; a slice of it when it
    is large."""
    data = bytearray(original)
    if len(data) > WINDOW:
        start = draw(st.integers(0, len(data) - WINDOW))
        data = data[start:start + WINDOW]
    for dummy in range(draw(st.integers(1, 6))):
        operation = draw(st.sampled_from(("insert", "delete", "duplicate", "bytes", "truncate", "repeat", "swap")))
        position = draw(st.integers(0, len(data)))
        if operation == "insert":
            data[position:position] = draw(st.sampled_from(tokens))
        elif operation == "delete":
            end = draw(st.integers(position, min(len(data), position + 200)))
            del data[position:end]
        elif operation == "duplicate":
            end = draw(st.integers(position, min(len(data), position + 200)))
            data[position:position] = data[position:end] * draw(st.integers(1, 4))
        elif operation == "bytes":
            data[position:position] = draw(st.binary(min_size=1, max_size=8))
        elif operation == "truncate":
            del data[position:]
        elif operation == "repeat":
            # Long runs: nesting past the limits, runs of quotes and escapes.
            data[position:position] = draw(st.sampled_from(tokens)) * draw(st.integers(2, 300))
        else:
            other = draw(st.integers(0, len(data)))
            low, high = min(position, other), max(position, other)
            data = data[:low] + data[high:] + data[low:high]
    return bytes(data)


def seeded(data, seeds, parser, tokens):
    """A mutated real file of ``parser``."""
    path = data.draw(st.sampled_from(seeds[parser]), label="seed")
    return data.draw(mutated(contents(path), tokens), label="mutated")


def anything(tokens):
    """Any of the three kinds of input, as bytes, for the file-reading tests
    that have no seed at hand."""
    return st.one_of(token_text(tokens), sized(st.binary, 300),
                     sized(lambda **size: st.text(ANY_CHARACTER, **size), 100).map(
                         lambda text: text.encode("utf-8", "surrogatepass")))


# Any code point, lone surrogates included (for the functions that take text).
ANY_CHARACTER = st.characters(codec=None, exclude_categories=())
ANY_TEXT = sized(lambda **size: st.text(ANY_CHARACTER, **size), 200)


def decode(data):
    return data.decode("utf-8", "surrogateescape")


# Checks of what the parsers return or raise.

def lines_of(path):
    with open(path, "rb") as handle:
        return handle.read().count(b"\n") + 1


def check_config_error(error, root=None, text_lines=None):
    """A ConfigError names the file and a line of it (the line after the last
    at the end of the file), or is about the whole file."""
    assert isinstance(error, ConfigError)
    assert error.file, "no file: %s" % error
    if error.line is None:
        assert error.message.startswith(WHOLE_FILE_ERRORS) or "MiB" in error.message, "no line: %s" % error
        return
    assert isinstance(error.line, int)
    last = text_lines if text_lines is not None else lines_of(error.file)
    assert 1 <= error.line <= last, "line %d of a file of %d lines: %s" % (error.line, last, error)
    assert str(error).startswith("%s:%d: " % (error.file, error.line))
    if root is not None:
        assert os.path.realpath(error.file).startswith(os.path.realpath(root) + os.sep), error.file


def walk(tree):
    """Every directive of a tree, included files' ones too."""
    stack = list(tree)
    while stack:
        directive = stack.pop()
        yield directive
        if directive.block:
            stack.extend(directive.block)


def check_tree(tree, root):
    lines = {}
    for directive in walk(tree):
        assert isinstance(directive.name, str)
        if directive.file not in lines:
            assert os.path.realpath(directive.file).startswith(os.path.realpath(root) + os.sep), directive.file
            lines[directive.file] = lines_of(directive.file)
        assert 1 <= directive.line <= lines[directive.file], directive


class Tree:
    """A temporary folder: files written as bytes, removed at the end."""

    def __init__(self):
        self.root = tempfile.mkdtemp(prefix="lastgood-fuzz-")

    def write(self, relative, data):
        path = os.path.join(self.root, relative)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as handle:
            handle.write(data)
        return path

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        shutil.rmtree(self.root, ignore_errors=True)


# nginx

def nginx_parse(data):
    text = decode(data) if isinstance(data, bytes) else data
    try:
        tree = _nginx.parse(text, "/etc/nginx/fuzz.conf")
    except ConfigError as error:
        assert error.file == "/etc/nginx/fuzz.conf"
        check_config_error(error, text_lines=text.count("\n") + 1)
        return
    assert isinstance(tree, list)
    for directive in walk(tree):
        assert 1 <= directive.line <= text.count("\n") + 1


@FUZZ
@given(data=st.data())
def test_nginx_parse_mutated_real_configs(seeds, data):
    count("nginx")
    nginx_parse(seeded(data, seeds, "nginx", NGINX_TOKENS))


@FUZZ
@given(data=token_text(NGINX_TOKENS, max_size=200))
@example(data=b"{" * 100000)
@example(data=b"a " + b"\"\\" * 5000)
@example(data=b"content_by_lua_block {" + b"[=" * 5000)
def test_nginx_parse_token_soup(data):
    count("nginx")
    nginx_parse(data)


@FUZZ
@given(text=ANY_TEXT)
def test_nginx_parse_any_text(text):
    count("nginx")
    nginx_parse(text)


NGINX_FILES = ["a.conf", "b.conf", "conf.d/c.conf", "sites/default", "snippets/fastcgi-php.conf", "mime.types",
               "modules-enabled/x.conf", "sites-enabled/default", "fastcgi_params"]


def nginx_load(files):
    """Write {relative path: bytes} (nginx.conf the main config) into a tree
    that stands for / and load it the way web_refs does."""
    with Tree() as tree:
        for relative, data in files.items():
            tree.write(os.path.join("etc/nginx", relative), data)
        loader = _nginx.Loader(path_map={"/": tree.root}, allowed_roots=AllowedRoots(["/"], {"/": tree.root}))
        try:
            result = loader.load("/etc/nginx/nginx.conf")
        except ConfigError as error:
            check_config_error(error, tree.root)
            return
        check_tree(result, tree.root)


@FUZZ
@given(data=st.data())
def test_nginx_load_mutated_real_configs_with_includes(seeds, data):
    count("nginx")
    files = {"nginx.conf": data.draw(mutated(contents(seed_named(seeds, "nginx", "nginx.conf")), NGINX_TOKENS))}
    for name in data.draw(st.lists(st.sampled_from(NGINX_FILES), max_size=4, unique=True)):
        files[name] = seeded(data, seeds, "nginx", NGINX_TOKENS)
    nginx_load(files)


@FUZZ
@given(files=st.dictionaries(st.sampled_from(NGINX_FILES), anything(NGINX_TOKENS), max_size=4),
       main=anything(NGINX_TOKENS))
@example(files={}, main=b"include a\x00b;\n")
@example(files={"a.conf": b"include b.conf;\n" * 2}, main=b"include a.conf;\n")
def test_nginx_load_random_files_with_includes(files, main):
    count("nginx")
    nginx_load(dict(files, **{"nginx.conf": main}))


# Apache

def apache_functions(text):
    """logical_lines never raises; split_args raises only ValueError (a
    missing closing quote)."""
    lines = list(_apache.logical_lines(text))
    for number, line in lines:
        assert 1 <= number <= text.count("\n") + 1
        try:
            _apache.split_args(line)
        except ValueError as error:
            assert "missing closing" in str(error)


@FUZZ
@given(text=st.one_of(ANY_TEXT, token_text(APACHE_TOKENS).map(decode)))
def test_apache_lines_and_arguments(text):
    count("apache")
    apache_functions(text)


APACHE_FILES = ["a.conf", "b.conf", "ports.conf", "conf.d/c.conf", "conf-enabled/x.conf", "mods-enabled/x.load",
                "mods-enabled/x.conf", "sites-enabled/000-default.conf"]


def apache_load(files, envvars=b""):
    """Write {relative path: bytes} (apache2.conf the main config) into a
    tree that stands for / and load it the way web_refs does."""
    with Tree() as tree:
        for relative, data in files.items():
            tree.write(os.path.join("etc/apache2", relative), data)
        tree.write("etc/apache2/envvars", envvars)
        loader = _apache.Loader(path_map={"/": tree.root}, allowed_roots=AllowedRoots(["/"], {"/": tree.root}))
        try:
            result = loader.load("/etc/apache2/apache2.conf")
        except ConfigError as error:
            check_config_error(error, tree.root)
            return
        check_tree(result, tree.root)
        for file, line, message in loader.warnings:
            assert 1 <= line <= lines_of(file), message


@FUZZ
@given(data=st.data())
def test_apache_load_mutated_real_configs_with_includes(seeds, data):
    count("apache")
    files = {"apache2.conf": data.draw(mutated(contents(seed_named(seeds, "apache", "apache2.conf")), APACHE_TOKENS))}
    for name in data.draw(st.lists(st.sampled_from(APACHE_FILES), max_size=4, unique=True)):
        files[name] = seeded(data, seeds, "apache", APACHE_TOKENS)
    envvars = data.draw(mutated(contents(seed_named(seeds, "apache", "envvars")), APACHE_TOKENS + [b"export A=", b": ${A:=", b"$("]))
    apache_load(files, envvars)


def apache_text():
    """Random lines: whole lines of APACHE_LINES or a few tokens."""
    # Few draws per line: hypothesis' drawing costs more than the parsing.
    fragments = st.lists(st.sampled_from(APACHE_TOKENS), max_size=4).map(lambda parts: b"".join(parts) + b"\n")
    line = st.one_of(st.sampled_from(APACHE_LINES), fragments)
    return st.one_of(sized(lambda **size: st.lists(line, **size), 40).map(b"".join), anything(APACHE_TOKENS))


@FUZZ
@given(files=st.dictionaries(st.sampled_from(APACHE_FILES), apache_text(), max_size=4),
       main=apache_text(), envvars=anything([b"export ", b"A=", b"$A", b"${A}", b": ${A:=", b"}", b"\n"]))
@example(files={}, main=b"<", envvars=b"")
@example(files={}, main=b"<IfModule mod_rewrite.c>\n", envvars=b"")
@example(files={}, main=b"<\\\n", envvars=b"")
@example(files={}, main=b"<IfDefine X>\n< \\\n\n</IfDefine>\n", envvars=b"")
@example(files={}, main=b"<IfVersion ~ " + b"(" * 5000 + b")" * 5000 + b">\n</IfVersion>\n", envvars=b"")
@example(files={}, main=b"<IfVersion ~ (?:(?:(?:(?:.*)*)*)*)*x>\n</IfVersion>\n", envvars=b"")
@example(files={}, main=b"<IfVersion = " + b"9" * 5000 + b">\n</IfVersion>\n", envvars=b"")
@example(files={}, main=b"Include a\x00b\n", envvars=b"")
@example(files={}, main=b"<IfModule x>\n" * 100000, envvars=b"")
@example(files={}, main=b"<IfModule nope>\n" * 100000, envvars=b"")
@example(files={}, main=b"A b\\\n" * 100000, envvars=b"")
def test_apache_load_random_files(files, main, envvars):
    count("apache")
    apache_load(dict(files, **{"apache2.conf": main}), envvars)


# PHP

def php_functions(text):
    """The lexer never raises, and what it returns points into the text."""
    lines = text.count("\n") + 1
    tokens = tokenize(text)
    for token in tokens:
        assert 1 <= token.line <= lines and 0 <= token.start < token.end <= len(text), token
    for scan in (_php_lexer.scan_statements, _php_lexer.scan_statements_fast):
        for hit in scan(text):
            assert hit.word in _php_lexer.INTERESTING
            assert 1 <= hit.line <= lines and text[hit.start:hit.start + len(hit.word)].lower() == hit.word
            assert hit.tokens and hit.tokens[0].start == hit.start
    statements, definitions = _php_statements.scan_source("/app/fuzz.php", text)
    for statement in statements:
        assert statement.statement in _php_statements.STATEMENTS and 1 <= statement.line <= lines


@FUZZ
@given(data=st.data())
def test_php_lexer_mutated_real_files(seeds, data):
    count("php")
    php_functions(decode(seeded(data, seeds, "php", PHP_TOKENS)))


@FUZZ
@given(text=st.one_of(ANY_TEXT, token_text(PHP_TOKENS, max_size=200).map(decode)))
@example(text="<?php \x0c")
@example(text="<?php require \x0b;")
@example(text="<?php " + "'" + "\\'" * 5000)
@example(text="<?php " + "<<<A\n" * 5000)
@example(text="<?php " + "include " * 5000)
def test_php_lexer_token_soup_and_any_text(text):
    count("php")
    php_functions(text)


def php_scan(files):
    """Write {relative path: bytes} under /app of a tree that stands for /
    and scan it; findings and problems name a scanned file and its line."""
    with Tree() as tree:
        for relative, data in files.items():
            tree.write(os.path.join("app", relative), data)
        tree.write("app/lib/a.php", b"<?php\n")
        result = _php_resolve.scan(["/app"], path_map={"/": tree.root}, allowed_roots=["/app"],
                                   constants={"ABSPATH": "/app/"})
        assert result.files_scanned == len(set(files) | {"lib/a.php"})
        for finding in result.findings:
            assert finding["severity"] in ("error", "warning", "info")
            assert finding["file"].startswith("/app/")
            checked = os.path.join(tree.root, finding["file"].lstrip("/"))
            assert 1 <= finding["line"] <= lines_of(checked), finding
        assert all(isinstance(problem, str) for problem in result.problems)


PHP_FILES = ["index.php", "wp-config.php", "a.php", "lib/b.php", "inc/c.php"]


@FUZZ
@given(data=st.data())
def test_php_scan_mutated_real_files(seeds, data):
    count("php")
    names = data.draw(st.lists(st.sampled_from(PHP_FILES), min_size=1, max_size=3, unique=True))
    php_scan({name: seeded(data, seeds, "php", PHP_TOKENS) for name in names})


@FUZZ
@given(files=st.dictionaries(st.sampled_from(PHP_FILES), anything(PHP_TOKENS), min_size=1, max_size=3))
@example(files={"a.php": b"<?php require dirname(__FILE__, 1.5) . '/x';"})
@example(files={"a.php": b"<?php require dirname('/a', 99999999999) . '/x';"})
@example(files={"a.php": b"<?php require " + b"(" * 5000 + b"'x'" + b")" * 5000 + b";"})
@example(files={"a.php": b"<?php require " + b"@" * 5000 + b"'x';"})
@example(files={"a.php": b"<?php define('A0', '/x');\n"
                + b"".join(b"define('A%d', A%d . 'x');\n" % (n + 1, n) for n in range(3000)) + b"require A3000;\n"})
@example(files={"a.php": b"<?php include \"/a\\0b\";"})
def test_php_scan_random_files(files):
    count("php")
    php_scan(files)
