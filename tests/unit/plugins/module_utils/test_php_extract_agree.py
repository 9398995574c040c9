"""PHP's tokenizer (php_extract) and the Python lexer extract the same
statements, definitions, problems and declarations from every file: real
trees (the test root's WordPress, DokuWiki and /usr/share/php, and every
application of the corpus when it is there), hostile fixtures, token soups
and real files with hostile tokens spliced in. Also: what is left to
Python and why, the fallbacks when php fails, jobs, and the choice.

Skipped only where no php 8.0 or later with its tokenizer is installed
(hack/setup.sh installs php8.2-cli)."""

import os
import random
import shutil
import subprocess

import pytest

from ansible_collections.lastgood.webstack.plugins.module_utils._common.paths import PathMap
from ansible_collections.lastgood.webstack.plugins.module_utils._php import jobs as _php_jobs, php_extract
from ansible_collections.lastgood.webstack.plugins.module_utils._php.resolve import find_php_files, scan
from ansible_collections.lastgood.webstack.plugins.module_utils._php.statements import MAX_FILE_BYTES, extract
from ansible_collections.lastgood.webstack.tests.unit.conftest import COLLECTION_ROOT

CORPUS = os.path.join(COLLECTION_ROOT, ".cache", "corpus", "root", "usr", "share")
CORPUS_APPS = sorted(name for name in (os.listdir(CORPUS) if os.path.isdir(CORPUS) else ())
                     if find_php_files([os.path.join(CORPUS, name)], PathMap({}))[0])


def _php_binary():
    php = shutil.which("php")
    if php is None:
        return None
    probe = subprocess.run(php_extract.php_argv(php)[:-2] + ["-r", "echo PHP_VERSION_ID >= 80000 && class_exists('PhpToken') ? 'yes' : 'no';"],
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=dict(os.environ, LC_ALL="C"), check=False)
    return php if probe.stdout == b"yes" else None


PHP = _php_binary()
pytestmark = pytest.mark.skipif(PHP is None, reason="no php 8.0 or later with the tokenizer extension")


def plain(extracted):
    """An Extracted as plain data (lexer.Token has no equality of its own)."""
    def tokens(items):
        return [(token.kind, token.value, token.line, token.start, token.end, token.literal) for token in items]
    return {
        "problem": extracted.problem,
        "declares": extracted.declares,
        "statements": [statement._replace(tokens=tokens(statement.tokens)) for statement in extracted.statements],
        "definitions": [(name, definition._replace(tokens=tokens(definition.tokens)))
                        for name, definition in extracted.definitions],
    }


def difference(live, python, php):
    """The first thing that differs, for a person."""
    for key in ("problem", "declares", "statements", "definitions"):
        ours, theirs = python[key], php[key]
        if ours == theirs:
            continue
        if not isinstance(ours, list):
            return "%s: %s: python %r, php %r" % (live, key, ours, theirs)
        for number, (one, other) in enumerate(zip(ours, theirs)):
            if one != other:
                return "%s: %s[%d]:\n  python %r\n  php    %r" % (live, key, number, one, other)
        return "%s: %s: python has %d, php %d; the first extra: %r" % (
            live, key, len(ours), len(theirs), (ours + theirs)[min(len(ours), len(theirs))])
    return None


def _identity(path):
    try:
        status = os.stat(path)
    except OSError as error:
        return error.errno
    return (status.st_ino, status.st_size, status.st_mtime_ns, status.st_ctime_ns)


def agree(files, jobs=2):
    """Extract ``files`` both ways; assert the same Extracted for each file
    that did not change meanwhile (the corpus is mutated at times). Returns
    (files compared, what php left to Python: {live: why})."""
    before = [_identity(checked) for live, checked in files]
    left = {}
    delivered, tokenizer = php_extract.extract_with_php(files, php_extract.Php(PHP, True), jobs, left)
    assert tokenizer == php_extract.PHP
    python = [extract(live, checked) for live, checked in files]
    compared = 0
    differences = []
    for (live, checked), identity, ours, theirs in zip(files, before, python, delivered):
        if theirs is None or _identity(checked) != identity:
            continue
        compared += 1
        found = difference(live, plain(ours), plain(theirs))
        if found:
            differences.append(found)
    assert not differences, "%d of %d files differ:\n%s" % (len(differences), compared, "\n".join(differences[:5]))
    return compared, {files[index][0]: why for index, why in left.items()}


def tree_files(path):
    return find_php_files([path], PathMap({}))[0]


@pytest.mark.parametrize("app", ["wordpress", "dokuwiki", "php"])
def test_the_test_roots_trees_agree(test_root, app):
    files = tree_files(os.path.join(test_root, "usr", "share", app))
    compared, left = agree(files)
    # php reads nearly all of them itself: backticks and __halt_compiler() are left.
    assert compared >= len(files) - 10
    assert set(left.values()) <= {"halt-or-backtick"}


@pytest.mark.skipif(not CORPUS_APPS, reason="no corpus (.cache/corpus): benchmarks/bench_corpus.py makes it")
@pytest.mark.parametrize("app", CORPUS_APPS or ["none"])
def test_every_corpus_application_agrees(app):
    files = tree_files(os.path.join(CORPUS, app))
    compared, left = agree(files)
    assert set(left.values()) <= {"halt-or-backtick", "unread"}
    assert compared + len(left) >= len(files) * 0.95  # the rest changed under the test


def test_a_whole_scan_is_the_same_with_either_tokenizer(test_root):
    app = "/usr/share/wordpress"
    options = dict(include_path=[".", "/usr/share/php"], path_map={"/": test_root})
    with_python = scan([app], **options)
    with_php = scan([app], php=PHP, **options)
    assert (with_python.tokenizer, with_php.tokenizer) == ("python", "php")
    for attribute in ("findings", "problems", "files_scanned", "includes_total", "includes_resolved", "unresolved"):
        assert getattr(with_php, attribute) == getattr(with_python, attribute), attribute


HOSTILE = {
    "unterminated-single": b"<?php\nrequire 'a.php';\n$x = 'never closed; require 'b.php';\n",
    "unterminated-double": b"<?php\ninclude \"a.php\";\n$x = \"never $closed; require 'b.php';\n",
    "unterminated-heredoc": b"<?php\nrequire 'a.php';\n$x = <<<EOT\nrequire 'b.php';\n",
    "unterminated-nowdoc": b"<?php\n$x = <<<'EOT'\nrequire 'b.php';\n EOTX\n",
    "unterminated-comment": b"<?php\nrequire_once 'a.php'; /* require 'b.php';\n",
    "unterminated-statement": b"<?php\nrequire_once __DIR__ . '/a.php'",
    "latin1-bytes": b"<?php\n// caf\xe9 cr\xe8me\n$x = '\xff\xfe';\nrequire __DIR__ . '/\xe9t\xe9.php';\ndefine('B', '\xe9');\n"
                    b"require B . '/x.php';\n$y = \"\xc3\";\ninclude 'c.php';\n",
    "utf8-offsets": "<?php\n// 日本語 ✓ 😀 Ünïcödé\n$s = 'ünï'; require __DIR__ . '/é.php'; include_once \"😀/$x.php\";\n"
                    "define('Ü', '日本'); require Ü . '/z.php';\n".encode(),
    "close-tag-in-strings-and-comments": b"<?php $a = '?>'; $b = \"?>\"; // comment ?> html require 'html.php'; <?php "
                                         b"require 'real.php'; /* ?> */ include 'c.php'; # x ?>y<?php require 'd.php';\n",
    "attributes": b"<?php\n#[Attr(require: 'x')]\nfunction f() {}\n# comment require 'no.php';\n#[A] require 'yes.php';\n",
    "attribute-after-arrow": b"<?php\n$o->#[x\nrequire 'a.php';\n",
    "nested-require": b"<?php\nrequire (require 'a.php') . 'b.php';\ninclude include include 'x.php';\n"
                      b"require (((('deep.php'))));\nrequire $a[')'] . ';';\n",
    "short-echo-and-html": b"<html><?= include 'a.php' ?>\n<p>require 'html.php';</p><?php require 'b.php' ?>\n<?php\n"
                           b"require 'c.php';",
    "interpolation": b'<?php\nrequire "{$dir}/a.php";\n$y = "${b} $c[d] $e->f {$g->h[\'i\']}";\nrequire "$z.php";\n',
    "interpolation-with-quotes": b'<?php\n$x = "{$a["require"]} include \'no.php\' ";\nrequire \'z.php\';\n',
    "nested-string-in-interpolation": b'<?php\n$x = "a {$b["c$d e"]} f"; require \'a.php\';\n$y = "{$a["$b"]}"; include \'b.php\';\n',
    "heredocs": b"<?php\n$a = <<<EOT\n  {$b} require 'no.php';\n  EOT;\n$c = <<<'NOW'\ninclude 'no.php';\nNOW;\n"
                b"require_once 'yes.php';\n$d = <<<\"Q\"\nx\nQ . 'y';\nrequire 'after.php';\n",
    "heredoc-closing-next-to-non-ascii": "<?php\n$a = <<<EOT\nEOT·\nEOTX\nEOT;\nrequire 'a.php';\n".encode(),
    "heredoc-in-interpolation": b"<?php\n$a = \"{$x[<<<EOT\nk\nEOT\n]}\"; require 'a.php';\n",
    "constants-in-and-out-of-classes": b"<?php\nconst A = 'a';\nclass B { const C = 'c'; function f() { $x = ['{']; } }\n"
                                       b"const D = A . '/d';\ndefine('E', D);\ninterface I { const J = 1; }\nenum K { const L = 2; }\n"
                                       b"const M = 3;\n$o = new class { const N = 4; };\nconst O = 5;\nswitch ($x) { default:require 'x.php'; }\n"
                                       b"$v = \"{$w}\"; const P = 6; $q = $r->class; const Q = Foo::class;\n",
    "not-keywords": b"<?php\n$require = 1; $o->include('x'); Foo::require(); my_require('x'); \\Ns\\include_x(); INCLUDE 'up.php';\n"
                    b"Define('X', 1); $o-> include ('sp.php'); 1include 'n.php'; define\\X; $a ?: require 'e.php';\n"
                    b"$o?->require; $o-> /* c */ define('Y', 2); -->include 'z.php';\n",
    "guards-and-include-path": b"<?php\nif (file_exists(__DIR__ . '/x.php')) require __DIR__ . '/x.php';\n"
                               b"if (is_readable($f) && is_file( $g )) include $f;\n"
                               b"set_include_path(__DIR__ . '/lib' . PATH_SEPARATOR . get_include_path());\n"
                               b"ini_set('include_path', '.:/usr/share/php');\nini_set('display_errors', 1);\n"
                               b"stream_resolve_include_path('a.php') or require 'a.php';\n",
    "silenced": "<?php\n@ include 'a.php';\n@\t\n\x0b\x1cinclude 'b.php';\n@/* c */include 'c.php';\n@ \u00a0 include 'd.php';\n"
                "@\u3000\u2028 include 'e.php'; x\u00a0 include 'f.php'; @\u2009\u0085\u205f\u1680 include 'g.php';\n".encode(),
    "silenced-next-to-non-ascii": "<?php\n@\u2028include 'a.php';\n".encode(),
    "bare-cr": b"<?php\r$a = 1; // c\rrequire 'a.php';\r",
    "crlf": b"<?php\r\nrequire 'a.php'; // x\r\ninclude 'b.php';\r\n$x = <<<EOT\r\nrequire 'no.php';\r\nEOT;\r\nrequire 'c.php';\r\n",
    "halt-compiler": b"<?php\nrequire 'a.php';\n__halt_compiler(); require 'b.php'; \x00\xff binary",
    "backticks": b"<?php\n$x = `ls require 'a.php'`;\nrequire 'b.php';\n",
    "hidden-heredoc": b"<?php\n$a = $b <<<<EOT\nrequire 'x.php';\nEOT;\nrequire 'y.php';\n",
    "hidden-close-tag": b"<?php\n$c ??> 1; require 'y.php';\n",
    "astral-next-to-keyword": "<?php\n😀include 'a.php'; $x😀require 'b.php';\nrequire 'c.php';\n".encode(),
    "non-ascii-identifiers": "<?php\n$café = 1; function ünï() {} require 'a.php'; Ärger::include(); $é->require;\n".encode(),
    "binary-prefixes": b"<?php\n$a = b'x'; $b = b\"y $z\"; $c = B<<<EOT\nrequire 'no.php';\nEOT;\nrequire 'yes.php';\n",
    "declares-case-folds": "<?php\nclaſs Foo {}\nrequire 'a.php';\n".encode(),
    "declares-kelvin": "<?php\ntrait \u212aelvin {}\n".encode(),
    "declares-plain": b"<?php\n  abstract final class X {}\n",
    "open-tag-variants": b"<?php\x0brequire 'vt.php'; ?>\n<?PHP\nrequire 'upper.php'; ?><?php",
    "open-tag-at-the-end": b"<html>require 'x.php';</html><?php",
    "empty": b"",
    "nul-and-controls": b"<?php\n\x00\x01require\x1f'a.php';\x7f include 'b.php';\n",
    "statement-ends": b"<?php require 'a.php' ?>\n<?php require 'b.php' ?>x<?php include 'c.php' ?>\r\n"
                      b"<?php require ('d.php') { } require 'e.php'",
    "many-keywords": b"<?php " + b"include " * 2000 + b"'x.php';\n",
    "casts": b"<?php\nrequire (  int  ) $x . 'a.php';\nrequire (string)'b.php';\n",
    "numbers-and-names": b"<?php\nrequire 0x1F . 1.5e3 . 1_000 . .5 . 'a.php';\ndefine('C', 0b11);\n",
}
# Where PHP's tokenizer and the Python lexer could read a file differently,
# php_extract leaves it to the Python lexer, and says why.
LEFT = {
    "interpolation-with-quotes": "string-extent",
    "nested-string-in-interpolation": "string-extent",
    "heredoc-closing-next-to-non-ascii": "string-extent",
    "heredoc-in-interpolation": "string-extent",
    "attribute-after-arrow": "comment",
    "bare-cr": "cr",
    "halt-compiler": "halt-or-backtick",
    "backticks": "halt-or-backtick",
    "hidden-heredoc": "hidden-construct",
    "hidden-close-tag": "hidden-construct",
    "astral-next-to-keyword": "non-ascii",
    "silenced-next-to-non-ascii": "non-ascii",
    "open-tag-variants": "open-tag",
}


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    root = tmp_path_factory.mktemp("hostile")
    files = []
    for name, data in sorted(HOSTILE.items()):
        path = str(root / (name + ".php"))
        with open(path, "wb") as handle:
            handle.write(data)
        files.append((path, path))
    compared, left = agree(files, jobs=1)
    return root, {os.path.basename(path)[:-4]: why for path, why in left.items()}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_files_agree(hostile, name):
    dummy, left = hostile
    assert left.get(name) == LEFT.get(name)


def test_a_file_over_16_mib_is_cut_alike_even_inside_a_character(tmp_path):
    head = b"<?php\nrequire 'a.php';\n$s = '" + "é".encode() * 1000 + b"';\nrequire 'near-end.php';\n// "
    padding = (MAX_FILE_BYTES - len(head)) // 2 + 1
    if (len(head) + 2 * padding - MAX_FILE_BYTES) % 2 == 0:
        head += b" "
    path = str(tmp_path / "big.php")
    with open(path, "wb") as handle:
        handle.write(head + "é".encode() * padding + b"\nrequire 'after.php';\n")
    assert os.path.getsize(path) > MAX_FILE_BYTES and (MAX_FILE_BYTES - len(head)) % 2 == 1
    compared, left = agree([(path, path)], jobs=1)
    assert (compared, left) == (1, {})
    python = extract(path, path)
    assert [statement.expression for statement in python.statements] == ["'a.php'", "'near-end.php'"]
    assert "larger than 16 MiB" in python.problem


def test_what_cannot_be_read_is_left_to_python_without_blocking(tmp_path):
    os.mkfifo(str(tmp_path / "fifo.php"))
    os.symlink(str(tmp_path / "nowhere.php"), str(tmp_path / "dangling.php"))
    os.mkdir(str(tmp_path / "dir.php"))
    (tmp_path / "empty.php").write_text("")
    files = [(str(tmp_path / name), str(tmp_path / name)) for name in ("fifo.php", "dangling.php", "dir.php", "empty.php")]
    left = {}
    php_extract.extract_with_php(files, php_extract.Php(PHP, True), 1, left)
    assert left == {0: "unread", 1: "unread", 2: "unread"}
    both = _php_jobs.extract_all(files, 1, php_extract.Php(PHP, True))
    assert [plain(each) for each in both] == [plain(extract(*each)) for each in files]
    assert [each.problem for each in both[:3]] == [
        "%s cannot be read: %s" % (files[0][0], "not a regular file"),
        "%s cannot be read: %s" % (files[1][0], "No such file or directory"),
        "%s cannot be read: %s" % (files[2][0], "Is a directory")]


SOUP = [
    b"<?php ", b"<?php\n", b"<?=", b"?>", b"?>\n", b"<<<", b"<<<EOT\n", b"<<<'EOT'\n", b'<<<"EOT"\n', b"EOT", b"B<<<EOT\n",
    b"\nEOT;\n", b"  EOT\n", b"\n", b" ", b"\t", b"\r\n", b"/*", b"*/", b"//", b"#", b"#[", b"'", b'"', b"\\", b"\\'",
    b'b"', b"b'", b'\\"', b"\\\\", b"\\x2f", b"\\0", b"\\101", b"$", b"$a", b"${", b"{$", b"{", b"}", b"(", b")", b"[", b"]",
    b";", b",", b".", b"@", b"::", b"->", b"?->", b"-", b"=", b"=>", b"?", b":", b"&&", b"||", b"or ", b"include ",
    b"include_once ", b"require ", b"require_once ", b"define(", b"define('A', ", b"const ", b"const A = ", b"class ",
    b"class X {", b"new class {", b"interface ", b"trait ", b"enum ", b"file_exists(", b"is_file(", b"is_readable(",
    b"stream_resolve_include_path(", b"set_include_path(", b"ini_set('include_path', ", b"dirname(", b"dirname(__FILE__)",
    b"__DIR__", b"__FILE__", b"DIRECTORY_SEPARATOR", b"A", b"1", b"1.5", b"0x1f", b"x", b"INCLUDE ", b"Foo::class",
    b"define\\X", b"\\include", b"(int)", b"default:", b"/** doc */", b"?>x<?php ", b"<?PHP\n", b"'a.php'", b"'/a.php'",
    b"__DIR__ . '/a.php'", b'"$a/x.php"', b"\"{$a['k']}\"", b'"{$a["k"]}"', "é".encode(), b"\xe9", "😀".encode(),
    "\u00a0".encode(), "\u2003".encode(), b"\x0b", b"\x00",
]


def test_token_soups_agree(tmp_path):
    generator = random.Random(18)
    files = []
    for number in range(1500):
        path = str(tmp_path / ("soup%04d.php" % number))
        body = b"".join(generator.choice(SOUP) for dummy in range(generator.randrange(1, 60)))
        with open(path, "wb") as handle:
            handle.write((b"<?php\n" if generator.random() < 0.8 else b"") + body)
        files.append((path, path))
    compared, left = agree(files, jobs=2)
    assert compared > 900


def test_real_files_with_hostile_tokens_spliced_in_agree(test_root, tmp_path):
    generator = random.Random(18)
    sources = [checked for dummy, checked in tree_files(os.path.join(test_root, "usr", "share", "wordpress"))]
    files = []
    for number in range(300):
        with open(generator.choice(sources), "rb") as handle:
            data = handle.read()
        for dummy in range(generator.randrange(1, 4)):
            at = generator.randrange(len(data) + 1)
            data = data[:at] + b"".join(generator.choice(SOUP) for dummy in range(generator.randrange(1, 4))) + data[at:]
        path = str(tmp_path / ("spliced%03d.php" % number))
        with open(path, "wb") as handle:
            handle.write(data)
        files.append((path, path))
    compared, left = agree(files, jobs=2)
    assert compared > 250


@pytest.fixture
def app(make_tree):
    """MIN_FILES small files with statements, definitions and non-ASCII text."""
    count = php_extract.MIN_FILES
    files = {"f%03d.php" % number: "<?php\n// fichier n° %d\ndefine('F%d', __DIR__);\nrequire_once F%d . '/f%03d.php';\n"
             "if (file_exists('x')) { include 'x.php'; }\n" % (number, number, number, (number + 1) % count)
             for number in range(count)}
    root = make_tree(files)
    return [(str(root / name), str(root / name)) for name in sorted(files)]


def fake_php(tmp_path, body):
    path = tmp_path / "fake-php"
    path.write_text("#!/bin/sh\n" + body.replace("REAL", PHP) + "\n")
    path.chmod(0o755)
    return php_extract.Php(str(path), True)


@pytest.mark.parametrize("body, tokenizer", [
    # dies part way: what it delivered whole is kept, the rest extracted by Python
    ('"REAL" "$@" | head -c 3000; exit 255', php_extract.BOTH),
    ('cat >/dev/null; echo "o 1 0 garbled"; exit 0', php_extract.PYTHON),
    ('cat >/dev/null; echo unsupported; exit 3', php_extract.PYTHON),
    ('exec "REAL" -r "echo 1;"', php_extract.PYTHON),
])
def test_a_failing_php_leaves_its_files_to_python(app, tmp_path, body, tokenizer):
    extracted = _php_jobs.extract_all(app, 1, fake_php(tmp_path, body))
    assert extracted.tokenizer == tokenizer
    assert [plain(each) for each in extracted] == [plain(extract(*each)) for each in app]


def test_a_silent_php_is_killed_and_its_files_left_to_python(app, tmp_path, monkeypatch):
    monkeypatch.setattr(php_extract, "IDLE_TIMEOUT", 0.5)
    extracted = _php_jobs.extract_all(app, 1, fake_php(tmp_path, "exec sleep 60"))
    assert extracted.tokenizer == php_extract.PYTHON
    assert [plain(each) for each in extracted] == [plain(extract(*each)) for each in app]


def test_no_php_to_run(app, tmp_path):
    extracted = _php_jobs.extract_all(app, 1, php_extract.Php(str(tmp_path / "no-php"), True))
    assert extracted.tokenizer == php_extract.PYTHON
    assert [plain(each) for each in extracted] == [plain(extract(*each)) for each in app]


@pytest.fixture
def started(monkeypatch):
    """The php processes started."""
    argvs = []
    real = subprocess.Popen

    def counted(argv, *args, **kwargs):
        argvs.append(argv)
        return real(argv, *args, **kwargs)
    monkeypatch.setattr(php_extract.subprocess, "Popen", counted)
    return argvs


@pytest.mark.parametrize("jobs, processes", [(1, 1), (2, 2), (8, 4)])
def test_jobs_are_php_processes(make_tree, started, jobs, processes):
    count = 4 * php_extract.FILES_PER_PROCESS + 7
    root = make_tree({"f%04d.php" % number: "<?php\nrequire 'f%04d.php';\n" % number for number in range(count)})
    files = tree_files(str(root))
    extracted = _php_jobs.extract_all(files, jobs, PHP)
    # Shares of at least FILES_PER_PROCESS: 4 at most.
    assert (extracted.tokenizer, len(started)) == (php_extract.PHP, processes)
    assert [plain(each) for each in extracted] == [plain(extract(*each)) for each in files]
    assert started[0][:2] == [PHP, "-n"]


def test_the_choice(app, started):
    few = app[:php_extract.MIN_FILES - 1]
    assert _php_jobs.extract_all(few, 1, PHP).tokenizer == php_extract.PYTHON
    assert _php_jobs.extract_all(app, 1, None).tokenizer == php_extract.PYTHON
    assert started == []
    assert _php_jobs.extract_all(few, 1, php_extract.Php(PHP, True)).tokenizer == php_extract.PHP
    assert _php_jobs.extract_all(app[:php_extract.MIN_FILES], 1, PHP).tokenizer == php_extract.PHP
    assert _php_jobs.extract_all([], 1, php_extract.Php(PHP, True)) == []


def test_an_empty_share_is_no_path():
    done = subprocess.run(php_extract.php_argv(PHP), input=b"", stdout=subprocess.PIPE, check=False)
    assert (done.returncode, done.stdout) == (0, b"end\n")


def run_module(capsys, **args):
    import json

    from ansible.module_utils.testing import patch_module_args
    from ansible_collections.lastgood.webstack.plugins.modules import php_refs
    with patch_module_args(args):
        with pytest.raises(SystemExit) as exited:
            php_refs.main()
    return exited.value.code, json.loads(capsys.readouterr().out)


@pytest.mark.parametrize("tokenizer, files, used", [
    ("auto", 3, "python"), ("auto", php_extract.MIN_FILES, "php"), ("php", 3, "php"), ("python", 100, "python")])
def test_the_modules_tokenizer_option(make_tree, capsys, tokenizer, files, used):
    root = make_tree(dict(("app/f%03d.php" % number, "<?php\nrequire __DIR__ . '/f%03d.php';\n" % ((number + 1) % files))
                          for number in range(files)))
    code, result = run_module(capsys, paths=[str(root / "app")], include_path=["."], tokenizer=tokenizer)
    assert (code, result["tokenizer"], result["files_scanned"], result["findings"]) == (0, used, files, [])


def test_the_module_without_a_usable_php(make_tree, capsys, tmp_path, monkeypatch):
    from ansible.module_utils.basic import AnsibleModule
    root = make_tree({"app/index.php": "<?php require 'gone.php';\n"})
    monkeypatch.setattr(AnsibleModule, "get_bin_path", lambda self, name, *args, **kwargs: None)
    code, result = run_module(capsys, paths=[str(root / "app")], include_path=["."], tokenizer="php")
    assert code == 1 and result["msg"].startswith("tokenizer=php: no php binary on the PATH")
    code, result = run_module(capsys, paths=[str(root / "app")], include_path=["."])
    assert (code, result["tokenizer"]) == (1, "python")
    old = fake_php(tmp_path, "cat >/dev/null; echo unsupported; exit 3").binary
    monkeypatch.setattr(AnsibleModule, "get_bin_path", lambda self, name, *args, **kwargs: old)
    # Where the warning goes depends on what other tests imported (controller or not).
    warnings = []
    monkeypatch.setattr(AnsibleModule, "warn", lambda self, warning, *args, **kwargs: warnings.append(warning))
    code, result = run_module(capsys, paths=[str(root / "app")], include_path=["."], tokenizer="php")
    assert (code, result["tokenizer"], len(result["findings"])) == (1, "python", 1)
    assert [warning.split(": ", 1)[0] for warning in warnings] == ["tokenizer=php"]
    assert "could not tokenize" in warnings[0]
