#!/usr/bin/env bash
# Build the Debian bookworm image the molecule scenarios run as test hosts:
# debootstrap from Debian's packages, then `podman import`. No registry is
# involved. The tag carries a hash of this script, so changing the package
# list builds a new image; an existing image is reused.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
export CONTAINERS_CONF="${CONTAINERS_CONF:-$root/tests/containers/containers.conf}"

mirror="${LASTGOOD_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
suite=bookworm
packages=(
  python3 python3-apt
  nginx
  php8.2-fpm php8.2-cli
  apache2
  curl ca-certificates procps iproute2 psmisc ssl-cert wrk
)
# Installed afterwards with apt inside the new root, whose resolver sees that
# php8.2-fpm satisfies `php` (debootstrap would pick libapache2-mod-php, the
# first alternative, and switch Apache to mod_php). The PHP applications are
# the real ones the validators are tested against.
applications=(php wordpress dokuwiki)

digest=$(sha256sum "$0" | cut -c1-12)
image="${LASTGOOD_TEST_IMAGE:-localhost/lastgood-webstack-test:$suite-$digest}"

if [ "${1:-}" = "--print-name" ]; then
  echo "$image"
  exit 0
fi

if podman image exists "$image"; then
  echo "test image $image exists, reusing it"
  exit 0
fi

for tool in debootstrap podman; do
  command -v "$tool" >/dev/null || { echo "error: $tool is not installed (run hack/setup-host.sh)" >&2; exit 1; }
done

workdir=$(mktemp -d /var/tmp/lastgood-image.XXXXXX)
rootfs="$workdir/rootfs"
cleanup() {
  mountpoint -q "$rootfs/proc" && umount "$rootfs/proc"
  rm -rf "$workdir"
}
trap cleanup EXIT

echo "building $image with debootstrap from $mirror (about a minute)"
include=$(IFS=,; echo "${packages[*]}")
debootstrap --variant=minbase --include="$include" "$suite" "$rootfs" "$mirror" \
  >"$workdir/debootstrap.log" 2>&1 || {
  tail -n 30 "$workdir/debootstrap.log" >&2
  echo "error: debootstrap failed; full log above" >&2
  exit 1
}

echo "installing ${applications[*]} inside it"
printf '#!/bin/sh\nexit 101\n' >"$rootfs/usr/sbin/policy-rc.d"
chmod 0755 "$rootfs/usr/sbin/policy-rc.d"
mount -t proc proc "$rootfs/proc"
chroot "$rootfs" env DEBIAN_FRONTEND=noninteractive LC_ALL=C \
  apt-get install -y -q --no-install-recommends "${applications[@]}" \
  >"$workdir/apt.log" 2>&1 || {
  tail -n 30 "$workdir/apt.log" >&2
  echo "error: installing ${applications[*]} in the image failed" >&2
  exit 1
}
umount "$rootfs/proc"
rm -f "$rootfs/usr/sbin/policy-rc.d"

# Services are started by the roles through Debian's init scripts; the image
# itself starts nothing and keeps no package caches.
rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
echo "deb $mirror $suite main" >"$rootfs/etc/apt/sources.list"
: >"$rootfs/etc/hostname"

tar -C "$rootfs" --numeric-owner -c . |
  podman import \
    --change 'CMD ["/bin/sleep", "infinity"]' \
    --change 'ENV LANG=C.UTF-8' \
    - "$image" >/dev/null
echo "built $image"
