"""Growth of the nginx, Apache and PHP parsers on pathological input.

Each case builds an input of about n, 4n and 16n bytes meant to hurt a
regex engine or a careless loop (long runs of quotes, backslashes, comment
openers, ``<<<``, ``${``, unterminated strings, keywords that never end
their statement, ...), runs the parser's whole load path on it (the file
written to disk and read as the server reads it) and prints the time per
byte at each size. Linear growth shows as a flat row: the ratio column
(time per byte at 16n over time per byte at n) stays near 1; a quadratic
parser shows about 16. Nothing here asserts on seconds: it is for a person
to read (hack/fuzz.sh runs it after the fuzzing).

    python benchmarks/parser_growth.py [--bytes N] [--only WORD] [--limit SECONDS]
"""

import argparse
import os
import shutil
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, ".cache", "collections"))

from ansible_collections.lastgood.webstack.plugins.module_utils._php import ini as _php_ini, resolve as _php_resolve  # noqa: E402
from ansible_collections.lastgood.webstack.plugins.module_utils._php import statements as _php_statements  # noqa: E402
from ansible_collections.lastgood.webstack.plugins.module_utils._webconf import apache_parse as _apache, nginx_parse as _nginx  # noqa: E402
from ansible_collections.lastgood.webstack.plugins.module_utils._webconf.errors import ConfigError  # noqa: E402
from ansible_collections.lastgood.webstack.plugins.module_utils._common.paths import PathMap  # noqa: E402
from ansible_collections.lastgood.webstack.tests.unit.plugins.module_utils.php_tokenize import tokenize  # noqa: E402


def repeat(head, unit, tail, size):
    """``head`` + ``unit`` repeated to about ``size`` bytes + ``tail``; in a
    unit that holds ``{n}``, ``{n}`` is the repetition's number (from 1) and
    ``{p}`` the one before."""
    count = max(1, size // len(unit))
    if "{n}" in unit:
        return head + "".join(unit.format(n=number, p=number - 1) for number in range(1, count + 1)) + tail
    return head + unit * count + tail


# (parser, case, head, repeated unit, tail)
CASES = [
    ("nginx", "whitespace", "a", " ", ";\n"),
    ("nginx", "comment lines", "", "#\n", ""),
    ("nginx", "one long comment", "#", "#", "\n"),
    ("nginx", "many directives", "", "a b;\n", ""),
    ("nginx", "many arguments", "a", " b", ";\n"),
    ("nginx", "unterminated double quote, escapes", "a \"", "\\\"", ""),
    ("nginx", "unterminated single quote", "a '", "x", ""),
    ("nginx", "quote pairs", "a ", "\"\" ", ";"),
    ("nginx", "backslashes", "a ", "\\\\", ";\n"),
    ("nginx", "${ runs", "a ", "${", ";\n"),
    ("nginx", "$ runs", "a ", "$", ";\n"),
    ("nginx", "open blocks (nesting limit)", "", "a {\n", ""),
    ("nginx", "closed blocks", "", "a { b c; }\n", ""),
    ("nginx", "lua block, long-bracket openers", "content_by_lua_block {", "[=", "}\n"),
    ("nginx", "lua block, comment openers", "content_by_lua_block {", "--[=\n", "}\n"),
    ("nginx", "lua block, unterminated string", "content_by_lua_block { \"", "\\}", "\n"),
    ("apache", "continuation lines", "ServerName a", "b\\\n", "\n"),
    ("apache", "comment lines", "", "#\n", ""),
    ("apache", "many directives", "", "ServerName a\n", ""),
    ("apache", "many arguments", "A", " b", "\n"),
    ("apache", "unterminated quote, escapes", "A \"", "\\\"", "\n"),
    ("apache", "quote pairs", "A", " \"\"", "\n"),
    ("apache", "${ runs", "A ", "${", "\n"),
    ("apache", "${VAR} expansions", "Define V 0123456789abcdef\nA ", "${V}", "\n"),
    ("apache", "undefined ${VAR}", "A ", "${U}", "\n"),
    ("apache", "< lines", "", "<\n", ""),
    ("apache", "skipped <IfModule> nesting", "<IfModule nope>\n", "<IfModule nope>\n", ""),
    ("apache", "closed sections", "", "<Directory /a>\nA b\n</Directory>\n", ""),
    ("php", "inline HTML", "", "<a>", ""),
    ("php", "open tags", "", "<?php ", ""),
    ("php", "unterminated single quote, escapes", "<?php '", "\\'", ""),
    ("php", "unterminated double quote, escapes", "<?php \"", "\\\"", ""),
    ("php", "single quotes", "<?php ", "'", ""),
    ("php", "backslashes", "<?php ", "\\", ""),
    ("php", "comment openers /*", "<?php ", "/*", ""),
    ("php", "line comments", "<?php ", "//\n", ""),
    ("php", "hash comments", "<?php ", "#?\n", ""),
    ("php", "unterminated heredocs", "<?php ", "<<<A\n", ""),
    ("php", "heredoc openers <<<", "<?php ", "<<<", ""),
    ("php", "terminated heredocs", "<?php ", "<<<A\nx\nA;\n", ""),
    ("php", "${ runs", "<?php \"", "${", "\";"),
    ("php", "keywords without statement end", "<?php ", "include ", ""),
    ("php", "open parentheses after require", "<?php ", "require (", ""),
    ("php", "requires", "<?php\n", "require 'a.php';\n", ""),
    ("php", "guards and requires", "<?php\n", "if (file_exists('a.php')) require 'a.php';\n", ""),
    ("php", "consts (class-aware scan)", "<?php\n", "const A = 'x';\n", ""),
    ("php", "nested parentheses", "<?php require ", "(", "'a')"),
    ("php", "@ runs", "<?php require ", "@", "'a';"),
    ("php", "dirname levels", "<?php require dirname('/a', ", "9", ") . '/b';"),
    ("php", "one constant defined over and over, used", "<?php\n", "define('A', '/a'); require A . '/b.php';\n", ""),
    ("php", "constants doubling", "<?php define('A0', 'ab');\n", "define('A{n}', A{p} . A{p});\n", "require A99;"),
    ("php", "constants defined through each other", "<?php define('A0', 'a');\n", "define('A{n}', A{p});\n",
     "require A99;"),
    ("php", "unresolved requires, distinct tails", "<?php\n", "require $x . '/a/b{n}.php';\n", ""),
    ("php ini", "long run of spaces in a value", "auto_prepend_file = a", " ", "b\n"),
    ("php ini", "many settings", "", "auto_prepend_file = /a\n", ""),
]


def run_nginx(directory, data):
    path = os.path.join(directory, "nginx.conf")
    with open(path, "wb") as handle:
        handle.write(data)
    try:
        _nginx.Loader().load(path)
        return "ok"
    except ConfigError as error:
        return "ConfigError line %s" % error.line


def run_apache(directory, data):
    path = os.path.join(directory, "apache2.conf")
    with open(path, "wb") as handle:
        handle.write(data)
    try:
        _apache.Loader(server_root=directory, envvars=os.path.join(directory, "none")).load(path)
        return "ok"
    except ConfigError as error:
        return "ConfigError line %s" % error.line


def run_php(directory, data):
    tree = os.path.join(directory, "php")
    os.makedirs(tree, exist_ok=True)
    path = os.path.join(tree, "index.php")
    with open(path, "wb") as handle:
        handle.write(data)
    result = _php_resolve.scan([tree])
    tokenize(_php_statements.read_source(path))
    return "ok, %d includes" % result.includes_total


def run_php_ini(directory, data):
    path = os.path.join(directory, "php.ini")
    with open(path, "wb") as handle:
        handle.write(data)
    result = _php_resolve.Result()
    _php_ini.check_ini_files([path], PathMap(), result)
    return "ok, %d findings" % len(result.findings)


RUNNERS = {"nginx": run_nginx, "apache": run_apache, "php": run_php, "php ini": run_php_ini}


def measure(parser, data):
    directory = tempfile.mkdtemp(prefix="lastgood-growth-")
    try:
        start = time.perf_counter()
        try:
            outcome = RUNNERS[parser](directory, data)
        except Exception as error:  # a bug: shown in the table, the other cases still run
            outcome = "BUG: %s: %s" % (type(error).__name__, str(error)[:60])
        return time.perf_counter() - start, outcome
    finally:
        shutil.rmtree(directory)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--bytes", type=int, default=64 * 1024, help="the smallest size n (default 64 KiB)")
    parser.add_argument("--only", default="", help="only the cases whose parser or name holds this")
    parser.add_argument("--limit", type=float, default=60.0,
                        help="seconds after which the larger sizes of a case are skipped (default 60)")
    options = parser.parse_args()
    sizes = [options.bytes, 4 * options.bytes, 16 * options.bytes]
    columns = "  ".join("%14s" % ("ns/byte @%dK" % (size // 1024)) for size in sizes)
    header = "%-7s %-42s %s  %7s  %s" % ("parser", "input", columns, "16n/n", "outcome at 16n")
    print(header)
    print("-" * len(header))
    worst = 0.0
    for name, case, head, unit, tail in CASES:
        if options.only and options.only not in name and options.only not in case:
            continue
        per_byte = []
        outcome = ""
        for size in sizes:
            data = repeat(head, unit, tail, size).encode("utf-8")
            # The best of two runs: a noisy moment on the machine makes one slower, never faster.
            seconds, outcome = min(measure(name, data) for dummy in range(2))
            per_byte.append(seconds * 1e9 / len(data))
            if seconds > options.limit:
                outcome = "stopped: %.0f s at %d bytes" % (seconds, len(data))
                break
        cells = "  ".join("%14.1f" % value for value in per_byte + [float("nan")] * (3 - len(per_byte)))
        ratio = per_byte[-1] / per_byte[0] if len(per_byte) == 3 and per_byte[0] else float("nan")
        worst = max(worst, ratio)
        print("%-7s %-42s %s  %7.2f  %s" % (name, case, cells, ratio, outcome))
        sys.stdout.flush()
    print("\nLinear growth keeps the 16n/n ratio near 1 (quadratic would be about 16); the largest here: %.2f" % worst)


if __name__ == "__main__":
    main()
