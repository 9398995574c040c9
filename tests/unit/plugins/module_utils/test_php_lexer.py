from ansible_collections.lastgood.webstack.plugins.module_utils._php.lexer import scan_statements
from ansible_collections.lastgood.webstack.tests.unit.plugins.module_utils.php_tokenize import tokenize


def words(text):
    return [(hit.word, hit.line) for hit in scan_statements(text)]


def test_strings_comments_heredoc_and_inline_html_hide_statements():
    text = (
        "<html>require 'html.php';<?php\n"                    # 1
        "// require 'line.php';\n"                             # 2
        "# include 'hash.php';\n"                              # 3
        "/* require 'block.php';\n require 'x'; */\n"          # 4-5
        "$a = 'require \"single.php\"';\n"                     # 6
        "$b = \"include 'double.php'\";\n"                     # 7
        "$c = <<<EOT\nrequire 'heredoc.php';\nEOT;\n"          # 8-10
        "$d = <<<'EOT'\nrequire 'nowdoc.php';\n  EOT;\n"        # 11-13
        "require_once 'real.php';\n"                           # 14
        "?>require 'after-close.php';<?php include 'two.php'; // ?> require 'x.php';\n"  # 15
    )
    assert words(text) == [("require_once", 14), ("include", 15)]


def test_statement_tokens_and_string_values():
    [hit] = scan_statements("<?php\nrequire_once( __DIR__ . \"/lib\\x2fa.php\" ) ; echo 1;\n")
    assert [(token.kind, token.value) for token in hit.tokens] == [
        ("name", "require_once"), ("op", "("), ("name", "__DIR__"), ("op", "."), ("str", "/lib/a.php"),
        ("op", ")"), ("op", ";")]
    [hit] = scan_statements("<?php include \"$dir/a.php\";")
    assert not hit.tokens[1].literal


def test_names_that_only_contain_a_keyword_are_not_statements():
    text = "<?php $require = 1; $o->include('x'); Foo::require(); my_require('x'); \\Ns\\include_x();\n"
    assert words(text) == []


def test_class_constants_are_marked_inside_class():
    hits = scan_statements("<?php const TOP = 'a';\nclass A {\n  const IN = 'b';\n  function f() { }\n}\nconst AFTER = 1;\n")
    assert [(hit.word, hit.in_class) for hit in hits] == [("const", False), ("const", True), ("const", False)]


def test_short_echo_tag_and_full_tokenize():
    tokens = tokenize("x<?= 'a' ?>y<?php\n$v = 1; ?>")
    assert [token.value for token in tokens] == ["echo", "a", ";", "$v", "=", "1", ";", ";"]


def test_unterminated_constructs_do_not_raise():
    assert words("<?php /* never closed require 'a';") == []
    # The quote before a closes the string: require is inside it.
    assert words("<?php $x = 'never closed; require 'a';") == []
    assert words("<?php $x = <<<EOT\nrequire 'a';\n") == []
