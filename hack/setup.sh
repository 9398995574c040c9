#!/usr/bin/env bash
# Make this machine ready to run the collection against local test hosts:
# Debian packages (podman, runc, debootstrap, the PHP CLI for php -l), the Python venv with pinned
# tools, the collection link and the test image. Each step is skipped when
# already done, so running it again costs a few seconds.
set -euo pipefail
# shellcheck source=hack/env.sh
. "$(dirname "$0")/env.sh"

step() { printf '==> %s\n' "$*"; }

host_packages=(podman runc catatonit conmon debootstrap make curl git rsync shellcheck python3-venv php8.2-cli)
missing=()
for package in "${host_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' || missing+=("$package")
done
if [ "${#missing[@]}" -gt 0 ]; then
  step "installing Debian packages: ${missing[*]}"
  if [ "$(id -u)" -ne 0 ]; then
    echo "error: installing packages needs root; run as root or install: ${missing[*]}" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

requirements_digest=$(cat "$LASTGOOD_ROOT"/requirements/*.txt | sha256sum | cut -c1-16)
stamp="$LASTGOOD_VENV/.requirements-$requirements_digest"
if [ ! -e "$stamp" ]; then
  step "creating the Python venv in .venv from requirements/test.txt"
  rm -rf "$LASTGOOD_VENV"
  python3 -m venv "$LASTGOOD_VENV"
  "$LASTGOOD_VENV/bin/pip" install -q --disable-pip-version-check \
    -r "$LASTGOOD_ROOT/requirements/test.txt" \
    -c "$LASTGOOD_ROOT/requirements/constraints.txt"
  touch "$stamp"
fi

# A second controller with the oldest ansible-core the collection supports,
# its own stamp so that either venv is rebuilt alone.
old_core_requirements="$LASTGOOD_ROOT/requirements/ansible-core-2.16/controller.txt"
old_core_venv="$LASTGOOD_CACHE/venv-ansible-core-2.16"
old_core_stamp="$old_core_venv/.requirements-$(sha256sum <"$old_core_requirements" | cut -c1-16)"
if [ ! -e "$old_core_stamp" ]; then
  step "creating the ansible-core 2.16 controller venv in .cache/venv-ansible-core-2.16"
  rm -rf "$old_core_venv"
  python3 -m venv "$old_core_venv"
  "$old_core_venv/bin/pip" install -q --disable-pip-version-check -r "$old_core_requirements"
  touch "$old_core_stamp"
fi

link="$ANSIBLE_COLLECTIONS_PATH/ansible_collections/lastgood/webstack"
if [ "$(readlink "$link" 2>/dev/null)" != "../../../.." ]; then
  mkdir -p "$(dirname "$link")"
  ln -sfn ../../../.. "$link"
fi

for suite in bookworm bullseye trixie; do
  "$LASTGOOD_ROOT/hack/build-test-image.sh" "$suite"
done
"$LASTGOOD_ROOT/hack/extract-test-root.sh"
