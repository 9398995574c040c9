"""The statement scan's one regex in both its forms: the atomic group of
Python 3.11 and later, and the lookahead-and-backreference form older host
Pythons use, find the same statements in the same tokens."""
import glob
import os
import sys

import pytest

from ansible_collections.lastgood.webstack.plugins.module_utils._php import lexer

HOSTILE = [
    "<?php $s = 'unterminated",
    '<?php $s = "a \\" require \'x\'; ',
    "<?php /* require 'a.php'; ",
    "<?php $h = <<<EOT\nrequire 'x.php';\nEOT;\nrequire 'y.php';\n",
    "<?php $h = <<<'N'\nrequire 'x.php';\n",
    "<?php # require 'a'\nrequire 'b'; // ?> <?php require 'c';",
    "<?php #[Attr] require 'a'; $o->require('b'); A::require; \\require_once 'c';",
    "<?php " + "'" * 2000 + " require 'z';",
    "<?php " + "<<<" * 500 + "\nrequire 'z';",
]


def hits(text, atomic, monkeypatch):
    monkeypatch.setattr(lexer, "_FAST", lexer._fast_pattern(atomic))
    return [(h.word, h.line, h.start, h.in_class, [(t.kind, t.value) for t in h.tokens])
            for h in lexer.scan_statements_fast(text)]


def both_agree(text, monkeypatch):
    emulated = hits(text, False, monkeypatch)
    try:
        atomic = hits(text, True, monkeypatch)
    except lexer.re.error:
        pytest.skip("this Python has no atomic groups")
    assert emulated == atomic


@pytest.mark.parametrize("text", HOSTILE)
def test_both_forms_agree_on_hostile_text(text, monkeypatch):
    both_agree(text, monkeypatch)


def test_both_forms_agree_on_wordpress_and_dokuwiki(test_root, monkeypatch):
    files = []
    for app in ("wordpress", "dokuwiki"):
        files += sorted(glob.glob(os.path.join(test_root, "usr/share", app, "**/*.php"), recursive=True))
    assert len(files) > 2000
    for path in files:
        with open(path, encoding="utf-8", errors="surrogateescape") as handle:
            both_agree(handle.read(), monkeypatch)


# The host Pythons the modules must run on besides the controller's own; the
# interpreters are pyenv's on the machines the tests run on.
HOST_PYTHONS = ("3.8", "3.9", "3.10", "3.11", "3.12", "3.13")

SCAN_IN_SUBPROCESS = r"""
import json, sys
sys.path.insert(0, sys.argv[1])
from ansible_collections.lastgood.webstack.plugins.module_utils._php import lexer
out = []
for text in json.load(sys.stdin):
    out.append([[h.word, h.line, h.start, h.in_class, [[t.kind, t.value] for t in h.tokens]]
                for h in lexer.scan_statements_fast(text)])
json.dump({"version": list(sys.version_info[:2]), "hits": out}, sys.stdout)
"""


def host_python(version):
    found = sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/%s.*/bin/python%s" % (version, version))))
    if not found:
        if not os.path.isdir(os.path.expanduser("~/.pyenv/versions")):
            pytest.skip("no pyenv Pythons on this machine")
        pytest.fail("Python %s is not under ~/.pyenv/versions; the host-Python tests need it" % version)
    return found[-1]


@pytest.mark.parametrize("version", HOST_PYTHONS)
def test_every_host_python_scans_as_the_controller_does(version, test_root):
    import json
    import subprocess

    files = sorted(glob.glob(os.path.join(test_root, "usr/share/wordpress/**/*.php"), recursive=True))[::15]
    assert len(files) > 50
    texts = list(HOSTILE)
    for path in files:
        with open(path, encoding="utf-8", errors="replace") as handle:
            texts.append(handle.read())
    collections = next(path for path in sys.path
                       if os.path.isdir(os.path.join(path, "ansible_collections", "lastgood", "webstack")))
    result = subprocess.run([host_python(version), "-c", SCAN_IN_SUBPROCESS, collections],
                            input=json.dumps(texts), capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    answer = json.loads(result.stdout)
    assert "%d.%d" % tuple(answer["version"]) == version
    expected = [[[h.word, h.line, h.start, h.in_class, [[t.kind, t.value] for t in h.tokens]]
                 for h in lexer.scan_statements_fast(text)] for text in texts]
    assert answer["hits"] == expected
