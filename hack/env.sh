# Sourced by the scripts in hack/: where things live and the environment the
# tools run in. Changes nothing on the machine.
# shellcheck shell=bash

LASTGOOD_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
LASTGOOD_CACHE="$LASTGOOD_ROOT/.cache"
LASTGOOD_VENV="$LASTGOOD_ROOT/.venv"

# podman: runc and explicit ulimits, without touching the machine's own config.
export CONTAINERS_CONF="$LASTGOOD_ROOT/tests/containers/containers.conf"
# The collection is found through a symlink farm, so edits take effect at once.
export ANSIBLE_COLLECTIONS_PATH="$LASTGOOD_CACHE/collections"
export ANSIBLE_FORCE_COLOR="${ANSIBLE_FORCE_COLOR:-0}"
export ANSIBLE_NOCOLOR="${ANSIBLE_NOCOLOR:-1}"
export PY_COLORS="${PY_COLORS:-0}"
export PATH="$LASTGOOD_VENV/bin:$PATH"
export LC_ALL=C.UTF-8
# No __pycache__ in the tree: the watchdog role copies plugins/module_utils to
# its hosts file by file, and the unit tests would double what it copies.
export PYTHONDONTWRITEBYTECODE=1
LASTGOOD_TEST_IMAGE=$("$LASTGOOD_ROOT/hack/build-test-image.sh" --print-name)
LASTGOOD_TEST_IMAGE_BULLSEYE=$("$LASTGOOD_ROOT/hack/build-test-image.sh" --print-name bullseye)
LASTGOOD_TEST_IMAGE_TRIXIE=$("$LASTGOOD_ROOT/hack/build-test-image.sh" --print-name trixie)
export LASTGOOD_TEST_IMAGE LASTGOOD_TEST_IMAGE_BULLSEYE LASTGOOD_TEST_IMAGE_TRIXIE
