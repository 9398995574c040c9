"""The forked tokenizing of php_refs: the same result as one process, in the
same order, whatever the children do."""
import json
import os
import pickle

import pytest

from ansible_collections.lastgood.webstack.plugins.module_utils._php import jobs as _php_jobs, resolve as _php_resolve
from ansible_collections.lastgood.webstack.plugins.module_utils._php.resolve import scan


def outcome(result):
    return json.dumps([result.findings, result.problems, result.files_scanned, result.includes_total,
                       result.includes_resolved, result.unresolved])


@pytest.fixture
def app(make_tree):
    """300 files: definitions in early files used by later ones, a missing
    target in every seventh, an unreadable FIFO among them."""
    files = {"app/config.php": "<?php\ndefine('LIB', __DIR__ . '/lib');\nconst SUB = 'sub';\n"}
    for number in range(300):
        target = "lib/%s/f%d.php" % ("sub", number + 1 if number % 7 else 100000 + number)
        files["app/lib/sub/f%d.php" % number] = (
            "<?php\n// file %d\nrequire_once LIB . '/' . SUB . '/f%d.php';\n"
            "if (true) { include __DIR__ . '/../../%s'; }\n" % (number, (number + 1) % 300, target))
    root = make_tree(files)
    os.mkfifo(str(root / "app" / "lib" / "pipe.php"))
    return str(root / "app")


@pytest.fixture
def forks(monkeypatch):
    """The pids of the children the scan forks."""
    pids = []
    real_fork = os.fork

    def counted_fork():
        pid = real_fork()
        if pid:
            pids.append(pid)
        return pid
    monkeypatch.setattr(os, "fork", counted_fork)
    return pids


def test_forked_scan_is_the_serial_scan(app):
    serial = scan([app], jobs=1)
    assert serial.files_scanned == 302
    # every seventh of f0..f298 (43), f299's include of f300, and the FIFO
    warnings = [f for f in serial.findings if f["severity"] == "warning"]
    assert len(warnings) == 45
    assert "%s/lib/pipe.php cannot be read: not a regular file; not scanned" % app in [f["message"] for f in warnings]
    assert serial.problems == []
    for jobs in (2, 3, 5):
        assert outcome(scan([app], jobs=jobs)) == outcome(serial)


def test_one_job_does_not_fork(app, monkeypatch):
    serial = outcome(scan([app], jobs=2))

    def no_fork():
        raise AssertionError("forked")
    monkeypatch.setattr(os, "fork", no_fork)
    assert outcome(scan([app], jobs=1)) == serial


def test_few_files_do_not_fork(make_tree, monkeypatch):
    root = make_tree({"a.php": "<?php require 'b.phpp';\n", "b.php": "<?php\n"})

    def no_fork():
        raise AssertionError("forked")
    monkeypatch.setattr(os, "fork", no_fork)
    assert len(scan([str(root)], jobs=8).findings) == 1


def test_a_failing_child_leaves_its_share_to_the_parent(app, forks, monkeypatch):
    serial = outcome(scan([app], jobs=1))

    def broken_dumps(*args, **kwargs):
        raise pickle.PicklingError("broken in the child")
    # pickle.dumps runs only in the children: each exits 1 without sending.
    monkeypatch.setattr(pickle, "dumps", broken_dumps)
    assert outcome(scan([app], jobs=3)) == serial
    assert len(forks) == 2


def test_no_fork_possible(app, monkeypatch):
    serial = outcome(scan([app], jobs=1))

    def failing_fork():
        raise OSError(11, "Resource temporarily unavailable")
    monkeypatch.setattr(os, "fork", failing_fork)
    assert outcome(scan([app], jobs=2)) == serial


def test_jobs_default_to_usable_cpus(app, monkeypatch):
    asked = []
    real = _php_resolve.extract_all

    def spy(files, jobs=None):
        asked.append(jobs)
        return real(files, jobs)
    monkeypatch.setattr(_php_resolve, "extract_all", spy)
    scan([app])
    assert asked == [None]
    assert _php_jobs.usable_cpus() >= 1


def test_default_jobs_are_capped(app, forks, monkeypatch):
    monkeypatch.setattr(_php_jobs, "usable_cpus", lambda: 64)
    # 302 files allow 4 jobs of 64 files; then the cap of 8 with more files.
    scan([app])
    assert len(forks) == 3
    monkeypatch.setattr(_php_jobs, "_FILES_PER_JOB", 1)
    del forks[:]
    scan([app])
    assert len(forks) == 7
