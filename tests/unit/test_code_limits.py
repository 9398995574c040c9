"""Sizes a reader can hold in mind: no file under plugins/ over 600 lines,
no function over 80."""

import ast
import os

import pytest

PLUGINS = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "plugins")
MAX_FILE_LINES = 600
MAX_FUNCTION_LINES = 80


def python_files():
    for root, _dirs, files in os.walk(PLUGINS):
        for name in sorted(files):
            if name.endswith(".py"):
                yield os.path.relpath(os.path.join(root, name), PLUGINS)


@pytest.mark.parametrize("path", list(python_files()))
def test_file_and_functions_are_small_enough_to_read(path):
    with open(os.path.join(PLUGINS, path)) as handle:
        source = handle.read()
    assert len(source.splitlines()) <= MAX_FILE_LINES
    too_long = ["%s at line %d: %d lines" % (node.name, node.lineno, node.end_lineno - node.lineno + 1)
                for node in ast.walk(ast.parse(source))
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
                and node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES]
    assert too_long == []
