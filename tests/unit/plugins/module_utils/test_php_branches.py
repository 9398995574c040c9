"""The conditional bodies around each statement: brace, colon and
single-statement forms, chains, switch, and what is not a condition."""
import pytest

from ansible_collections.lastgood.webstack.plugins.module_utils._php.assignments import assigned_parts
from ansible_collections.lastgood.webstack.plugins.module_utils._php.branches import branches_at, in_function_bodies


def shape(source):
    """(chain, index, count, has_else) of the branches around each require."""
    offsets = [index for index in range(len(source)) if source.startswith("require", index)]
    return [[(b.chain, b.index, b.count, b.has_else) for b in branches] for branches in branches_at(source, offsets)]


@pytest.mark.parametrize("source, expected", [
    ("<?php require 'a'; if (file_exists('x')) { require 'b'; } else { require 'c'; } require 'd';",
     [[], [(1, 0, 2, True)], [(1, 1, 2, True)], []]),
    ("<?php if ($a) require 'b'; elseif (is_file($q)) require 'c'; else require 'd'; require 'e';",
     [[(1, 0, 3, True)], [(1, 1, 3, True)], [(1, 2, 3, True)], []]),
    ("<?php if ($a): require 'b'; else: require 'c'; endif; require 'd'; foreach ($x as $y): require 'e'; endforeach;",
     [[(1, 0, 2, True)], [(1, 1, 2, True)], [], []]),
    ("<?php if ($z) { ?> <p>html</p> <?php require 'f'; } require 'g';", [[(1, 0, 1, False)], []]),
    ("<?php function f() { require 'a'; } switch ($x) { case 1: require 'c'; break; } require 'd';",
     [[], [(0, 0, 1, False)], []]),
    ("<?php if ($a) { if ($b) { require 'x'; } else if ($c) { require 'y'; } } else { require 'z'; } require 'w';",
     [[(1, 0, 2, True), (2, 0, 2, False)], [(1, 0, 2, True), (2, 1, 2, False)], [(1, 1, 2, True)], []]),
    ("<?php if ( is_readable( __DIR__.'/a' ) ) require __DIR__ . '/a'; require 'b';", [[(1, 0, 1, False)], []]),
    ("<?php $s = 'if ($x) {'; /* if ($y) { */ require 'a'; $o->if; Foo::else; require 'b';", [[], []]),
    ("<?php while ($x) { require 'a'; } for ($i = 0; $i < 2; $i++) require 'b'; declare(ticks=1); require 'c';",
     [[], [], []]),
])
def test_branch_shapes(source, expected):
    assert shape(source) == expected


def test_conditions_are_given_per_body():
    source = "<?php if (is_file('/x')) { } elseif ($y) { } else { require 'a'; }"
    [[branch]] = branches_at(source, [source.index("require")])
    texts = [None if condition is None else "".join(token.value for token in condition) for condition in branch.conditions]
    assert texts == ["is_file(/x)", "$y", None]


def test_assigned_parts_follow_a_plain_assignment_and_its_appends():
    text = "<?php\n$p = 'a';\n$p = 'b' . X;\n$p .= 'c';\nset_include_path($p);\n"
    parts = assigned_parts(text, "$p", text.index("set_include_path"))
    assert [[token.value for token in part] for part in parts] == [["b", ".", "X"], ["c"]]


def test_assigned_parts_are_unknown_when_they_cannot_be_told():
    cases = [
        "<?php\n$p .= 'c';\nuse($p);\n",                                     # no plain assignment
        "<?php\n$p = 'a';\nif ($x) { $p .= 'c'; }\nuse($p);\n",              # appended in a branch
        "<?php\n$p = 'a';\nfunction f() {\nuse($p);\n}\n",                    # another function
        "<?php\n$p = 'a'\n",                                                  # no end
    ]
    for text in cases:
        offset = text.index("use(") if "use(" in text else len(text)
        assert assigned_parts(text, "$p", offset) is None, text
    text = "<?php\n$pp = 'a';\n$p == 'b';\nuse($p);\n"
    assert assigned_parts(text, "$p", text.index("use(")) is None


def test_in_function_bodies_knows_functions_methods_and_closures():
    text = ("<?php\nrequire 'a.php';\nfunction f($x = array()) { require 'b.php'; }\n"
            "abstract class C {\n  abstract function g();\n  require_once 'not-php-but-here.php';\n"
            "  public function h(): ?array { if ($x) { require 'c.php'; } }\n}\n"
            "$k = function () use ($y) { require 'd.php'; };\nrequire 'e.php';\n// function x() {\nrequire 'f.php';\n")
    names = ["a.php", "b.php", "not-php-but-here.php", "c.php", "d.php", "e.php", "f.php"]
    offsets = [text.index(name) for name in names]
    assert dict(zip(names, in_function_bodies(text, offsets))) == {
        "a.php": False, "b.php": True, "not-php-but-here.php": False, "c.php": True, "d.php": True,
        "e.php": False, "f.php": False}
