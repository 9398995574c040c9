"""Make ``ansible_collections.lastgood.webstack`` importable from a checkout.

Inside an ``ansible_collections/lastgood/webstack`` tree (ansible-test) the
tree's parent is used; in a plain checkout, the symlink farm that
hack/setup.sh keeps in .cache/collections."""

import os
import sys

COLLECTION_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _collections_dir():
    parts = COLLECTION_ROOT.split(os.sep)
    if parts[-3:-2] == ["ansible_collections"]:
        return os.sep.join(parts[:-3])
    return os.path.join(COLLECTION_ROOT, ".cache", "collections")


if _collections_dir() not in sys.path:
    sys.path.insert(0, _collections_dir())


import pytest  # noqa: E402  (after the sys.path set-up above)

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
