"""The statement scan's one regex in both its forms: the atomic group of
Python 3.11 and later, and the lookahead-and-backreference form older host
Pythons use, find the same statements in the same tokens."""
import glob
import os

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
