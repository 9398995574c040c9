# -*- coding: utf-8 -*-
# Copyright: lastgood.webstack contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""``php -l`` over the scanned files, as many at once as the scan has jobs
(jobs.default_jobs): each file PHP refuses is an error finding. Standard
library; needs the PHP CLI."""

from __future__ import annotations

import os
import subprocess
from concurrent.futures import ThreadPoolExecutor

from ansible_collections.lastgood.webstack.plugins.module_utils._common.findings import ERROR, make_finding
from ansible_collections.lastgood.webstack.plugins.module_utils._php.jobs import default_jobs

LINT = "php -l"
_ON_LINE = " on line "


def lint(php, files, jobs=None):
    """The findings of ``php -n -l`` (``php``: the PHP CLI) on each
    ``(live, checked)`` of ``files``, in their order; ``jobs`` at once
    (default: one per CPU this process may use, 8 at most)."""
    environ = dict(os.environ, LC_ALL="C")

    def one(pair):
        live, checked = pair
        completed = subprocess.run([php, "-n", "-l", checked], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                   env=environ, check=False)
        return live, completed.returncode, completed.stdout.decode("utf-8", "replace")

    findings = []
    with ThreadPoolExecutor(max_workers=max(1, default_jobs(jobs))) as pool:
        for live, rc, output in pool.map(one, files):
            if rc != 0:
                findings.append(lint_finding(live, output))
    return findings


def lint_finding(live, output):
    """The finding of ``php -l`` refusing ``live`` with ``output``: its
    message on one line, the line it names if any."""
    message = " ".join(line for line in output.splitlines() if line.strip() and "Errors parsing" not in line)
    line = None
    marker = message.rfind(_ON_LINE)
    if marker >= 0:
        after = message[marker + len(_ON_LINE):].split()
        if after and after[0].isdigit():
            line = int(after[0])
    return make_finding(ERROR, live, line, LINT, live, message.strip(), statement=LINT, expression="")
