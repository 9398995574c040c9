# -*- coding: utf-8 -*-
# Copyright: lastgood.webstack contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Every relative link of README.md and docs/*.md leads to a file of the
repository, and a link to a heading (#anchor) to a heading that exists."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import glob
import os
import re

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DOCUMENTS = sorted(["README.md"] + [os.path.relpath(path, ROOT)
                                    for path in glob.glob(os.path.join(ROOT, "docs", "*.md"))])

# [text](target) and [text](target "title"); images too.
LINK = re.compile(r"\[(?:[^\]\\]|\\.)*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
FENCE = re.compile(r"^\s*(```|~~~)")
HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")


def without_code(text):
    """The text with fenced code blocks and inline code spans blanked, so that
    a link-like string in an example is not taken for a link."""
    lines = []
    fenced = False
    for line in text.split("\n"):
        if FENCE.match(line):
            fenced = not fenced
            lines.append("")
            continue
        lines.append("" if fenced else re.sub(r"`[^`]*`", "``", line))
    return "\n".join(lines)


def slug(heading):
    """GitHub's anchor of a heading: lower case, punctuation other than - and
    _ dropped, each space a hyphen."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)
    text = text.replace("`", "").strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(path):
    with open(path, encoding="utf-8") as handle:
        text = handle.read()
    found = set()
    seen = {}
    fenced = False
    for line in text.split("\n"):
        if FENCE.match(line):
            fenced = not fenced
            continue
        match = None if fenced else HEADING.match(line)
        if match:
            base = slug(match.group(2))
            count = seen.get(base, 0)
            found.add(base if count == 0 else "%s-%d" % (base, count))
            seen[base] = count + 1
    return found


def links(document):
    with open(os.path.join(ROOT, document), encoding="utf-8") as handle:
        text = without_code(handle.read())
    for number, line in enumerate(text.split("\n"), 1):
        for match in LINK.finditer(line):
            yield number, match.group(1)


def broken(document):
    problems = []
    here = os.path.dirname(os.path.join(ROOT, document))
    for number, target in links(document):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.I):  # https:, mailto:, ...
            continue
        path, dummy, anchor = target.partition("#")
        full = os.path.normpath(os.path.join(here, path)) if path else os.path.join(ROOT, document)
        if not full.startswith(ROOT + os.sep):
            problems.append("%s:%d: %s leads outside the repository" % (document, number, target))
        elif not os.path.exists(full):
            problems.append("%s:%d: %s: no such file" % (document, number, target))
        elif anchor and full.endswith(".md") and anchor not in anchors(full):
            problems.append("%s:%d: %s: no heading with that anchor in %s"
                            % (document, number, target, os.path.relpath(full, ROOT)))
    return problems


def test_there_are_documents_to_check():
    assert "README.md" in DOCUMENTS
    assert os.path.join("docs", "usage.md") in DOCUMENTS


@pytest.mark.parametrize("document", DOCUMENTS)
def test_relative_links_resolve(document):
    assert broken(document) == []


def test_the_checker_finds_a_broken_link(tmp_path, monkeypatch):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "a.md").write_text("# A title\n\n## Second `part`: here\n")
    (tmp_path / "README.md").write_text(
        "[ok](docs/a.md) [ok](docs/a.md#second-part-here) [ok](#b) [web](https://example.com/x)\n"
        "`[in code](nowhere.md)`\n```\n[in a fence](nowhere.md)\n```\n"
        "## B\n[gone](docs/gone.md) [bad anchor](docs/a.md#nope) [out](../../etc/passwd)\n")
    monkeypatch.setitem(globals(), "ROOT", str(tmp_path))
    assert broken("README.md") == [
        "README.md:7: docs/gone.md: no such file",
        "README.md:7: docs/a.md#nope: no heading with that anchor in docs/a.md",
        "README.md:7: ../../etc/passwd leads outside the repository",
    ]


def test_slug_follows_github():
    assert slug("web_refs: what `nginx -t` and `apachectl -t` let through") == \
        "web_refs-what-nginx--t-and-apachectl--t-let-through"
    assert slug("deploy: what happens to a release") == "deploy-what-happens-to-a-release"
    assert slug("Freeze, status and validate") == "freeze-status-and-validate"
