"""Hostile and broken input, one case at a time: the bugs the fuzzing of
test_fuzz_parsers.py found (with the input that showed each) and the limits
that keep deep nesting, include and ${VAR} bombs, huge files, FIFOs and
pathological text from ending in a RecursionError, a crash or a hang. No
assertion here is about seconds; where a limit is about work, the parser's
own count of work is checked."""

import os
import re
import threading

import pytest

from ansible_collections.lastgood.webstack.plugins.module_utils._php import evaluate as _php_evaluate, ini as _php_ini, lexer as _php_lexer
from ansible_collections.lastgood.webstack.plugins.module_utils._php import resolve as _php_resolve
from ansible_collections.lastgood.webstack.plugins.module_utils._php import statements as _php_statements
from ansible_collections.lastgood.webstack.plugins.module_utils._webconf import apache_parse as _apache, errors as _errors, nginx_parse as _nginx
from ansible_collections.lastgood.webstack.plugins.module_utils._webconf.errors import ConfigError
from ansible_collections.lastgood.webstack.tests.unit.plugins.module_utils.php_tokenize import tokenize
from ansible_collections.lastgood.webstack.tests.unit.plugins.module_utils.webrefs_helpers import run


def nginx_load(root, main="nginx.conf"):
    loader = _nginx.Loader()
    return loader, loader.load(str(root / main))


def apache_load(root, main="apache2.conf"):
    loader = _apache.Loader(server_root=str(root), envvars=str(root / "none"))
    return loader, loader.load(str(root / main))


def error_of(load, *args):
    with pytest.raises(ConfigError) as caught:
        load(*args)
    return caught.value


def finishes(function, *args):
    """Run ``function`` in a thread; False if it is still blocked after a
    minute (a guard against a read that never returns, not a speed check)."""
    outcome = []
    worker = threading.Thread(target=lambda: outcome.append(function(*args)), daemon=True)
    worker.start()
    worker.join(60)
    return not worker.is_alive() and bool(outcome)


# nginx

def test_nginx_blocks_nested_100000_deep_are_an_error_at_the_101st(tmp_path):
    (tmp_path / "nginx.conf").write_text("a {\n" * 100000)
    error = error_of(nginx_load, tmp_path)
    assert (error.file, error.line) == (str(tmp_path / "nginx.conf"), 101)
    assert "blocks nested deeper than 100 levels" in error.message


def test_nginx_nesting_counts_the_blocks_of_including_files(make_tree):
    root = make_tree({
        "nginx.conf": "a {\n" * 60 + "include b.conf;\n" + "}\n" * 60,
        "b.conf": "b {\n" * 60 + "}\n" * 60,
    })
    error = error_of(nginx_load, root)
    assert error.file == str(root / "b.conf") and error.line == 41
    assert "nested deeper than 100 levels, counting the files that include them" in error.message


def test_nginx_at_the_nesting_limit_across_files_the_checks_still_run(make_tree):
    # 100 levels in two files: allowed; web_refs' walkers must not recurse too deep either.
    root = make_tree({
        "nginx.conf": "http {\n" + "a {\n" * 49 + "include b.conf;\n" + "}\n" * 49 + "}\n",
        "b.conf": "b {\n" * 49 + "root /nope;\n" + "}\n" * 49,
    })
    report = run("nginx", root / "nginx.conf")
    assert report is not None


def test_nginx_include_fan_out_is_bounded(make_tree, monkeypatch):
    # Each file includes the next twice: 2**30 inclusions without a bound.
    monkeypatch.setattr(_errors, "MAX_LOAD_BYTES", 256 * 1024)
    files = {"f%d.conf" % n: "include f%d.conf;\ninclude f%d.conf;\n# %s\n" % (n + 1, n + 1, "x" * 1000)
             for n in range(30)}
    files["f30.conf"] = "root /a;\n"
    root = make_tree(files)
    loader = _nginx.Loader()
    with pytest.raises(ConfigError) as caught:
        loader.load(str(root / "f0.conf"))
    assert "(a file included over and over?)" in caught.value.message
    assert caught.value.line in (1, 2) and caught.value.file.startswith(str(root))
    # The work done: files read (each inclusion counted) stay within the bound.
    assert loader.bytes_loaded <= 256 * 1024 + 1100
    assert len(loader.files_parsed) < 1000


def test_nginx_file_larger_than_the_limit(tmp_path, monkeypatch):
    monkeypatch.setattr(_errors, "MAX_FILE_BYTES", 1024)
    (tmp_path / "nginx.conf").write_text("# padding\n" * 200)
    error = error_of(nginx_load, tmp_path)
    assert error.file == str(tmp_path / "nginx.conf") and "larger than" in error.message


def test_nginx_include_with_a_nul_byte(make_tree):
    # Found by fuzzing: ValueError (embedded null byte) from os.path.realpath.
    root = make_tree({"nginx.conf": "include a\0b.conf;\n"})
    loader, tree = nginx_load(root)
    assert "NUL" in tree[0].include.error


def test_nginx_include_of_a_fifo_or_a_device_is_not_read(make_tree):
    root = make_tree({"nginx.conf": "include fifo;\ninclude /dev/zero;\n"})
    os.mkfifo(str(root / "fifo"))
    assert finishes(nginx_load, root), "reading the FIFO blocked"
    loader, tree = nginx_load(root)
    assert [directive.include.error for directive in tree] == ["cannot be read: not a regular file"] * 2


# Apache

@pytest.mark.parametrize("opening", ["<IfModule mod_so.c>", "<Directory /a>"])
def test_apache_sections_nested_100000_deep_are_an_error_at_the_101st(tmp_path, opening):
    (tmp_path / "apache2.conf").write_text((opening + "\n") * 100000)
    error = error_of(apache_load, tmp_path)
    assert (error.file, error.line) == (str(tmp_path / "apache2.conf"), 101)
    assert "sections nested deeper than 100 levels" in error.message


def test_apache_skipped_sections_nest_without_limit_and_unclosed_name_their_line(tmp_path):
    # Found by fuzzing: the error had no line.
    (tmp_path / "apache2.conf").write_text("A 1\n" + "<IfModule nope.c>\n" * 100000)
    error = error_of(apache_load, tmp_path)
    assert error.line == 2 and "<ifmodule> section is not closed" in error.message


def test_apache_nesting_counts_the_sections_of_including_files(make_tree):
    root = make_tree({
        "apache2.conf": "<Directory /a>\n" * 60 + "Include b.conf\n" + "</Directory>\n" * 60,
        "b.conf": "<Directory /b>\n" * 60 + "</Directory>\n" * 60,
    })
    error = error_of(apache_load, root)
    assert (error.file, error.line) == (str(root / "b.conf"), 41)
    assert "counting the files that include them" in error.message


def test_apache_define_doubling_is_bounded(tmp_path):
    (tmp_path / "apache2.conf").write_text("Define A 0123456789abcdef\n" + "Define A ${A}${A}\n" * 40)
    error = error_of(apache_load, tmp_path)
    assert "${VAR} substitution makes the configuration grow past 4 MiB" in error.message
    assert error.line == 19    # 16 bytes doubled 18 times: past 4 MiB in all


def test_apache_include_fan_out_is_bounded(make_tree, monkeypatch):
    monkeypatch.setattr(_errors, "MAX_LOAD_BYTES", 256 * 1024)
    files = {"f%d.conf" % n: "Include f%d.conf\nInclude f%d.conf\n# %s\n" % (n + 1, n + 1, "x" * 1000)
             for n in range(30)}
    files["f30.conf"] = "A 1\n"
    root = make_tree(files)
    loader = _apache.Loader(server_root=str(root), envvars=str(root / "none"))
    with pytest.raises(ConfigError) as caught:
        loader.load(str(root / "f0.conf"))
    assert "(a file included over and over?)" in caught.value.message and caught.value.line in (1, 2)
    assert loader.bytes_loaded <= 256 * 1024 + 1100


@pytest.mark.parametrize("text, line, message", [
    # Found by fuzzing: IndexError where the name after '<' was looked for.
    ("<\n", 1, "< directive missing closing '>'"),
    ("A 1\n<\\\n", 2, "< directive missing closing '>'"),
    # RecursionError from the re module's parser, OverflowError from a repetition.
    ("<IfVersion ~ %s>\n</IfVersion>\n" % ("(" * 5000 + ")" * 5000), 1, "invalid regular expression"),
    ("<IfVersion ~ a{99999999999999999999}>\n</IfVersion>\n", 1, "invalid regular expression"),
    # Minutes of backtracking against "2.4.62" (Python's re has no limit).
    ("<IfVersion ~ (?:(?:(?:(?:.*)*)*)*)*x>\n</IfVersion>\n", 1, "too many to match safely"),
    # ValueError: more digits than int() converts.
    ("<IfVersion = %s>\n</IfVersion>\n" % ("9" * 5000), 1, "cannot read the version"),
])
def test_apache_broken_sections(tmp_path, text, line, message):
    (tmp_path / "apache2.conf").write_text(text)
    error = error_of(apache_load, tmp_path)
    assert error.line == line and message in error.message, str(error)
    assert len(error.message) < 300


def test_apache_odd_lines_inside_a_skipped_section(tmp_path):
    # Found by fuzzing: IndexError on "< " (a continuation made it) while skipping.
    (tmp_path / "apache2.conf").write_text("<IfDefine X>\n< \\\n\n</IfDefine>\nA 1\n")
    loader, tree = apache_load(tmp_path)
    assert [directive.raw_name for directive in tree] == ["A"]


def test_apache_100000_continuation_lines_make_one_directive(tmp_path):
    (tmp_path / "apache2.conf").write_text("A b\\\n" * 100000 + "c\nB 1\n")
    loader, tree = apache_load(tmp_path)
    assert [(directive.raw_name, directive.line) for directive in tree] == [("A", 1), ("B", 100002)]
    assert tree[0].args == ["bA"] * 99999 + ["bc"]


def test_apache_include_with_a_nul_byte_and_of_a_fifo(make_tree):
    root = make_tree({"apache2.conf": "Include a\0b.conf\nInclude fifo\n"})
    os.mkfifo(str(root / "fifo"))
    assert finishes(apache_load, root), "reading the FIFO blocked"
    loader, tree = apache_load(root)
    assert "NUL" in tree[0].include.error
    assert tree[1].include.error == "cannot be read: not a regular file"


# PHP

def php_scan(make_tree, text, **options):
    root = make_tree({"index.php": text})
    return _php_resolve.scan([str(root)], include_path=(".",), **options)


@pytest.mark.parametrize("expression", [
    "(" * 100000 + "'/a.php'" + ")" * 100000,
    "@" * 100000 + "'a.php'",     # (with a '/' in it, a literal tail that exists nowhere is an error)
    "dirname(" * 1000 + "'/a/b.php'" + ")" * 1000,
])
def test_php_deeply_nested_include_expressions_are_unresolved(make_tree, expression):
    # Found by fuzzing: RecursionError in the evaluator.
    result = php_scan(make_tree, "<?php\nrequire %s;\n" % expression)
    assert [(f["severity"], f["line"]) for f in result.findings] == [("info", 2)]
    assert "cannot be resolved statically" in result.findings[0]["message"]


def test_php_nesting_below_the_limit_still_resolves(make_tree):
    result = php_scan(make_tree, "<?php\nrequire %s'/nope.php'%s;\n" % ("(" * 20, ")" * 20))
    assert [(f["severity"], f["path"]) for f in result.findings] == [("error", "/nope.php")]


def test_php_constants_defined_through_3000_others(make_tree):
    # Found by fuzzing: RecursionError through Constants.lookup.
    text = "<?php define('A0', '/x');\n" + "".join(
        "define('A%d', A%d . 'x');\n" % (n + 1, n) for n in range(3000)) + "require A3000;\nrequire A10;\n"
    result = php_scan(make_tree, text)
    assert [(f["severity"], f["path"]) for f in result.findings] == [("info", None), ("error", "/x" + "x" * 10)]


def test_php_constants_doubling_are_bounded(make_tree):
    text = "<?php define('A0', 'ab');\n" + "".join(
        "define('A%d', A%d . A%d);\n" % (n + 1, n, n) for n in range(60)) + "require '/' . A60;\n"
    root = make_tree({"index.php": text})
    statements, definitions = _php_statements.scan_source("/index.php", text)
    constants = _php_evaluate.Constants({}, definitions)
    with pytest.raises(_php_evaluate.Unresolved):
        constants.evaluator.evaluate(statements[0].tokens, "/index.php")
    # The work done: characters concatenated stay within the bound.
    assert constants.evaluator.chars <= _php_evaluate.MAX_EVALUATION_CHARS + 2 * 2 ** 26
    assert [f["severity"] for f in _php_resolve.scan([str(root)]).findings] == ["info"]


@pytest.mark.parametrize("levels, severity, path", [
    ("1.5", "info", None),          # Found by fuzzing: ValueError from int().
    ("0", "info", None),
    ("99999999999", "error", "/x.php"),    # a loop of 10**11 dirname() calls before
])
def test_php_dirname_levels(make_tree, levels, severity, path):
    result = php_scan(make_tree, "<?php\nrequire dirname('/a/b/c', %s) . 'x.php';\n" % levels)
    assert [(f["severity"], f["path"]) for f in result.findings] == [(severity, path)]


def test_php_include_of_a_path_with_a_nul_byte(make_tree):
    # Found by fuzzing: ValueError (embedded null byte) from os.stat in describe_missing.
    result = php_scan(make_tree, '<?php\ninclude "/a\\0b.php";\n')
    [finding] = result.findings
    assert finding["severity"] == "warning" and "NUL byte" in finding["message"]


@pytest.mark.parametrize("text", ["<?php \x0c", "<?php require \x0b;", "<?php include \x1c 'a.php';"])
def test_php_characters_no_token_matched(text):
    # Found by fuzzing: AttributeError ('NoneType' has no 'lastgroup'): \v,
    # \f and \x1c-\x1f are whitespace to \s but not to PHP.
    assert tokenize(text)
    assert [hit.word for hit in _php_lexer.scan_statements_fast(text)] == \
        [hit.word for hit in _php_lexer.scan_statements(text)]


@pytest.mark.parametrize("unit", ["include ", "require (", "require require_once ("])
def test_php_keywords_without_statement_end_cost_a_bounded_number_of_tokens(unit):
    text = "<?php " + unit * 20000
    hits = _php_lexer.scan_statements_fast(text)
    assert len(hits) == 20000 * len(re.findall(r"\w+", unit))
    # The work done: each statement's tokens stop at the keyword after the
    # next, instead of running to the end of the file (20000**2 / 2 tokens).
    assert sum(len(hit.tokens) for hit in hits) <= 4 * len(hits)
    assert sum(len(hit.tokens) for hit in _php_lexer.scan_statements(text)) <= 4 * len(hits)


@pytest.mark.parametrize("text, words", [
    # An unterminated string or heredoc runs to the end of the file in both
    # scans (the fast one skipped the quote and scanned again: quadratic).
    ("<?php $a = \"x; require 'a.php';", []),
    ("<?php $a = 'x; require \\'a.php\\';", []),
    ("<?php $a = <<<EOT\nrequire 'a.php';\n", []),
    ("<?php $a = 'x'; require 'a.php';", ["require"]),
])
def test_php_fast_and_full_scans_agree_on_unterminated_constructs(text, words):
    assert [hit.word for hit in _php_lexer.scan_statements_fast(text)] == words
    assert [hit.word for hit in _php_lexer.scan_statements(text)] == words


def test_php_statement_keeps_the_keyword_after_its_own():
    [require, guard] = _php_lexer.scan_statements_fast("<?php require_once (file_exists(A) ? A : B);")
    assert [token.value for token in require.tokens][:4] == ["require_once", "(", "file_exists", "("]
    assert require.tokens[-1].value == ";" and guard.word == "file_exists"


def test_php_file_larger_than_the_limit_is_a_problem(make_tree, monkeypatch):
    monkeypatch.setattr(_php_statements, "MAX_FILE_BYTES", 1024)
    result = php_scan(make_tree, "<?php\n" + "// padding\n" * 200 + "require '/nope.php';\n")
    assert result.findings == []
    assert [problem.split(" is ")[1] for problem in result.problems] == [
        "larger than 0 MiB: only its first 0 MiB were scanned"]


def test_php_fifo_named_like_a_php_file_is_not_read(make_tree):
    root = make_tree({"index.php": "<?php\n"})
    os.mkfifo(str(root / "fifo.php"))
    assert finishes(_php_resolve.scan, [str(root)]), "reading the FIFO blocked"
    result = _php_resolve.scan([str(root)])
    assert result.problems == []
    [finding] = result.findings
    assert (finding["severity"], finding["file"]) == ("warning", str(root / "fifo.php"))
    assert finding["message"] == "%s cannot be read: not a regular file; not scanned" % (root / "fifo.php")


def test_php_ini_value_with_a_long_run_of_spaces(tmp_path):
    # (.*?)\s*$ tried \s*$ at every character of the run: quadratic.
    ini = tmp_path / "php.ini"
    ini.write_text("auto_prepend_file = /a" + " " * 100000 + "b  \n")
    assert _php_ini.ini_references(str(ini), ini.read_text()) == [(1, "auto_prepend_file", "/a" + " " * 100000 + "b")]
