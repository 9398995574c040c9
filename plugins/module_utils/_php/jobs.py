# -*- coding: utf-8 -*-
# Copyright: lastgood.webstack contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""How many processes read and tokenize PHP files, and the forked
extraction itself: each child tokenizes a share of the files and sends its
results back through a pipe; or, given a php binary, as many php
processes (php_extract.py). The policy (default_jobs) also sets how many
``php -l`` the lint runs at once. Pure standard library."""

from __future__ import annotations

import os
import pickle

from ansible_collections.lastgood.webstack.plugins.module_utils._php import php_extract
from ansible_collections.lastgood.webstack.plugins.module_utils._php.statements import extract

# Fewer files than this a job: forking costs more than it saves.
_FILES_PER_JOB = 64
# By default: a host with many CPUs is most often serving the site meanwhile.
_DEFAULT_JOBS_AT_MOST = 8


def usable_cpus():
    """The CPUs this process may run on (its affinity), else all of them."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def default_jobs(jobs=None):
    """``jobs`` when given, else one per CPU this process may use, 8 at most."""
    return min(usable_cpus(), _DEFAULT_JOBS_AT_MOST) if jobs is None else jobs


class ExtractedFiles(list):
    """The Extracted of each file, and ``tokenizer``: which tokenizer read
    them, php_extract.PHP, PYTHON or BOTH (php failed part way)."""

    def __init__(self, results, tokenizer):
        super().__init__(results)
        self.tokenizer = tokenizer


def extract_all(files, jobs=None, php=None):
    """``extract`` of each ``(live, checked)`` of ``files``, in their order.
    ``php``: a php_extract.Php (or a php binary's path): when it is worth it
    (php_extract.worth), ``jobs`` php processes tokenize the files with PHP's
    own tokenizer; the files they leave or fail to deliver are extracted
    here. The result is the same whichever tokenizer ran."""
    if isinstance(php, str):
        php = php_extract.Php(php, False)
    if php is None or not php_extract.worth(files, php):
        return ExtractedFiles(_extract_python(files, jobs), php_extract.PYTHON)
    results, tokenizer = php_extract.extract_with_php(files, php, default_jobs(jobs))
    missing = [index for index, result in enumerate(results) if result is None]
    for index, result in zip(missing, _extract_python([files[index] for index in missing], jobs)):
        results[index] = result
    return ExtractedFiles(results, tokenizer)


def _extract_python(files, jobs):
    """With more than one job, forked children tokenize a share of the files
    each (tokenizing is most of a scan and needs nothing from other files)
    and send their results back through a pipe; a child that fails leaves
    its share to this process, so the result never depends on the forks."""
    jobs = min(default_jobs(jobs), len(files) // _FILES_PER_JOB)
    if jobs < 2 or not hasattr(os, "fork"):
        return [extract(live, checked) for live, checked in files]
    # Interleaved shares: trees keep their big files together.
    shares = [list(range(number, len(files), jobs)) for number in range(jobs)]
    children = []
    for share in shares[1:]:
        children.append((_fork_extract(files, share), share))
    results = [None] * len(files)
    for index in shares[0]:
        results[index] = extract(*files[index])
    for child, share in children:
        extracted = _collect(child)
        for position, index in enumerate(share):
            results[index] = extracted[position] if extracted is not None else extract(*files[index])
    return results


def _fork_extract(files, share):
    """(pid, read end of its pipe) of a child sending the pickled ``extract``
    of the files at ``share``; (None, None) when it cannot fork."""
    try:
        read_end, write_end = os.pipe()
    except OSError:
        return None, None
    try:
        pid = os.fork()
    except OSError:
        os.close(read_end)
        os.close(write_end)
        return None, None
    if pid == 0:  # pragma: no cover - the child; its result is checked by the parent
        code = 1
        try:
            os.close(read_end)
            data = pickle.dumps([extract(*files[index]) for index in share], pickle.HIGHEST_PROTOCOL)
            with os.fdopen(write_end, "wb") as pipe:
                pipe.write(data)
            code = 0
        finally:
            # Never back into the caller's code (or its exit handlers).
            os._exit(code)
    os.close(write_end)
    return pid, read_end


def _collect(child):
    """The list a child sent, or None when it did not finish."""
    pid, read_end = child
    if pid is None:
        return None
    with os.fdopen(read_end, "rb") as pipe:
        data = pipe.read()
    dummy, status = os.waitpid(pid, 0)
    if status != 0 or not data:
        return None
    try:
        return pickle.loads(data)  # nosec - written by this process's own child
    except (pickle.UnpicklingError, EOFError, ValueError):
        return None
