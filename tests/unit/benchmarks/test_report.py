# -*- coding: utf-8 -*-
# Copyright: lastgood.webstack contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""benchmarks/report.py: the README section comes from the saved results."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "..", "benchmarks"))

import report  # noqa: E402  pylint: disable=wrong-import-position

RESULT = {
    "measured_at": "2026-11-29T06:00:00+0000",
    "machine": {"cpu_model": "Test CPU", "cpus": 2, "python": "3.11.7"},
    "tables": [{"title": "a | title", "header": ["tool", "median"], "rows": [["web_refs", "1.0 ms"]]}],
    "notes": ["goal: met"],
}


def test_render_puts_tables_notes_date_and_machine():
    text = report.render({"web_refs": RESULT})
    assert "#### Validation speed: web_refs against crossplane" in text
    assert "2026-11-29T06:00:00+0000, on Test CPU (2 CPUs), Python 3.11.7" in text
    assert "*a | title*" in text
    assert "| web_refs | 1.0 ms |" in text
    assert "- goal: met" in text
    assert "`bench_stock.py`" in text.split("Not in this report")[1]


def test_render_says_when_a_result_has_no_tables():
    text = report.render({"deploy": {"measured_at": "x", "machine": {}}})
    assert "saved by an older version of the benchmark" in text


def test_replace_between_markers_keeps_the_rest():
    readme = "head\n%s\nold figures\n%s\ntail\n" % (report.BEGIN, report.END)
    updated = report.replace_between_markers(readme, "new figures\n", "README.md")
    assert updated == "head\n%s\nnew figures\n%s\ntail\n" % (report.BEGIN, report.END)


@pytest.mark.parametrize("readme", ["no markers\n", "%s\n%s\n" % (report.END, report.BEGIN),
                                    "%s\n%s\n%s\n" % (report.BEGIN, report.END, report.END)])
def test_replace_between_markers_refuses_bad_markers(readme):
    with pytest.raises(SystemExit, match="README.md: needs exactly one"):
        report.replace_between_markers(readme, "x", "README.md")
