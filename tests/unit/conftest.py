"""Make ``ansible_collections.lastgood.webstack`` importable from a checkout.

Inside an ``ansible_collections/lastgood/webstack`` tree (ansible-test) the
tree's parent is used; in a plain checkout, the symlink farm that
hack/setup.sh keeps in .cache/collections."""

import os
import signal
import subprocess
import sys
import time

COLLECTION_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _collections_dir():
    parts = COLLECTION_ROOT.split(os.sep)
    if parts[-3:-2] == ["ansible_collections"]:
        return os.sep.join(parts[:-3])
    return os.path.join(COLLECTION_ROOT, ".cache", "collections")


if _collections_dir() not in sys.path:
    sys.path.insert(0, _collections_dir())


import pytest  # noqa: E402  (after the sys.path set-up above)

from ansible_collections.lastgood.webstack.plugins.module_utils._release import services  # noqa: E402

TEST_ROOT = os.environ.get("LASTGOOD_TEST_ROOT") or os.path.join(COLLECTION_ROOT, ".cache", "test-root")


@pytest.fixture(scope="session")
def test_root():
    """The tree extracted from the test image (Debian's nginx, Apache, PHP,
    WordPress and DokuWiki as their packages install them). hack/setup.sh
    makes it; without it the tests that need it fail rather than skip."""
    if not os.path.isdir(os.path.join(TEST_ROOT, "etc", "nginx")):
        pytest.fail("the test tree %s is missing: run hack/setup.sh (or set LASTGOOD_TEST_ROOT)" % TEST_ROOT)
    return TEST_ROOT


@pytest.fixture
def make_tree(tmp_path):
    """Write ``{relative path: text}`` under tmp_path and return tmp_path.
    Text None makes a directory; missing parents are created."""
    def make(files):
        for relative, text in files.items():
            path = tmp_path / relative
            if text is None:
                path.mkdir(parents=True, exist_ok=True)
            else:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(text)
        return tmp_path
    return make


# A stand-in for PHP-FPM's master: writes its pid file at start and, on
# SIGUSR2, after ``delay`` seconds, the way ``mode`` says.
MASTER = r"""
import ctypes, os, signal, sys, time
pidfile, mode, delay = sys.argv[1], sys.argv[2], float(sys.argv[3])
# Named as Debian's master is (PR_SET_NAME), which is what is checked before it is signalled.
ctypes.CDLL(None).prctl(15, b"php-fpm8.2", 0, 0, 0)

def write():
    with open(pidfile, "w") as handle:
        handle.write("%d\n" % os.getpid())

def reload(signum, frame):
    time.sleep(delay)
    if mode == "stop":
        os._exit(78)
    if mode == "hang":
        return
    if mode == "daemonize" and os.fork() > 0:
        os._exit(0)
    write()

signal.signal(signal.SIGUSR2, reload)
write()
while True:
    time.sleep(0.05)
"""


@pytest.fixture
def php_fpm_master(tmp_path):
    """Start a stand-in PHP-FPM master: ``start(mode, delay)`` returns its
    pid file and process; every one started is killed afterwards."""
    started = []

    def start(mode="in-place", delay=0.0):
        pidfile = tmp_path / "php-fpm.pid"
        process = subprocess.Popen([sys.executable, "-c", MASTER, str(pidfile), mode, str(delay)])
        started.append(process)
        deadline = time.monotonic() + 10
        while services.read_pid(str(pidfile)) != process.pid:
            assert time.monotonic() < deadline, "the stand-in master did not write its pid file"
            time.sleep(0.01)
        return str(pidfile), process
    yield start
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait()
    for path in tmp_path.iterdir():
        if path.name == "php-fpm.pid":
            pid = services.read_pid(str(path))
            if pid and services.alive(pid):
                os.kill(pid, signal.SIGKILL)
