#!/usr/bin/env bash
# ansible-test sanity on a copy of the collection in an
# ansible_collections/lastgood/webstack tree, locally in venvs (no docker).
#   hack/sanity.sh [ansible-test sanity options]   every test, the controller's Python
#   hack/sanity.sh --host-pythons                  compile and import on the host Pythons
set -euo pipefail
# shellcheck source=hack/env.sh
. "$(dirname "$0")/env.sh"

# ansible-test bootstraps pip in its venvs with get-pip.py from a host this
# machine cannot reach; it reuses a cached copy, so give it one that works
# offline for the pip version this ansible-test asks for.
pip_version=$(python - <<'PY'
import re, ansible_test, pathlib
source = pathlib.Path(ansible_test.__file__).parent / "_internal" / "python_requirements.py"
print(re.search(r"pip='([0-9.]+)'", source.read_text()).group(1))
PY
)
cache="$HOME/.ansible/test/cache"
mkdir -p "$cache"
cp "$LASTGOOD_ROOT/hack/get-pip-offline.py" "$cache/get_pip_${pip_version//./_}.py"

# Outside the repository: inside it, ansible-test would ask the outer git
# checkout for the file list.
workdir=$(mktemp -d "${TMPDIR:-/tmp}/lastgood-sanity.XXXXXX")
trap 'rm -rf "$workdir"' EXIT
tree="$workdir/ansible_collections/lastgood/webstack"
mkdir -p "$tree"
(cd "$LASTGOOD_ROOT" && git ls-files -co --exclude-standard -z) |
  rsync -a --from0 --ignore-missing-args --files-from=- "$LASTGOOD_ROOT/" "$tree/"

cd "$tree"
python_version=$(python -c 'import sys; print("%d.%d" % sys.version_info[:2])')
if [ "${1:-}" != --host-pythons ]; then
  ansible-test sanity --venv --python "$python_version" --color no "$@"
  exit
fi

# --host-pythons: the modules and the watchdog run on the managed host's
# Python, 3.8 to 3.13 (Debian 11 has 3.9, Ubuntu 22.04 and RHEL 9 3.10), so
# compile and import them on each other than the controller's, with the
# interpreters pyenv keeps on this machine.
host_pythons=()
for version in 3.8 3.9 3.10 3.11 3.12 3.13; do
  [ "$version" != "$python_version" ] || continue
  bin=
  for candidate in "$HOME"/.pyenv/versions/"$version".*/bin; do
    [ -x "$candidate/python$version" ] && bin=$candidate
  done
  if [ -z "$bin" ]; then
    echo "error: Python $version is not under ~/.pyenv/versions; the host-Python sanity tests need it" >&2
    exit 1
  fi
  host_pythons+=("$version")
  PATH="$PATH:$bin"
done
for version in "${host_pythons[@]}"; do
  ansible-test sanity --venv --python "$version" --color no --test compile --test import
done
