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
