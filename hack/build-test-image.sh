#!/usr/bin/env bash
# Build the Debian image the molecule scenarios run as test hosts:
# debootstrap from Debian's packages, then `podman import`. No registry is
# involved. The tag carries the suite and a hash of this script, so changing
# the package list builds a new image; an existing image is reused.
#   hack/build-test-image.sh [--print-name] [bullseye|bookworm|trixie]
# bookworm (Python 3.11, PHP 8.2) is the default and the one most scenarios
# use; bullseye (3.9, 7.4) and trixie (3.13, 8.4) are the other releases the
# roles are tested on.
#
# Every image also carries what users' hosts have and the roles must work
# with: openssh-server (a scenario reaches its hosts over ssh, sshd started
# per connection by `podman exec -i <host> /usr/sbin/sshd -i`), sudo and a
# normal user `lastgood` (uid 1000) who may run anything through sudo without
# a password, and systemd (PID 1 only in the scenario that boots it; the
# others run /bin/sleep and Debian's init scripts).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
export CONTAINERS_CONF="${CONTAINERS_CONF:-$root/tests/containers/containers.conf}"

mirror="${LASTGOOD_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
print_name=false
if [ "${1:-}" = "--print-name" ]; then
  print_name=true
  shift
fi
suite=${1:-bookworm}
case "$suite" in
  bullseye) php=7.4 ;;
  bookworm) php=8.2 ;;
  trixie) php=8.4 ;;
  *) echo "error: unknown suite '$suite' (known: bullseye bookworm trixie)" >&2; exit 2 ;;
esac
packages=(
  python3 python3-apt
  nginx
  "php$php-fpm" "php$php-cli"
  apache2
  curl ca-certificates procps iproute2 psmisc ssl-cert wrk
  openssh-server sudo systemd systemd-sysv
)
# Installed afterwards with apt inside the new root, whose resolver sees that
# php<version>-fpm satisfies `php` (debootstrap would pick libapache2-mod-php, the
# first alternative, and switch Apache to mod_php). The PHP applications are
# the real ones the validators are tested against.
applications=(php wordpress dokuwiki)

digest=$(sha256sum "$0" | cut -c1-12)
image="localhost/lastgood-webstack-test:$suite-$digest"
if [ "$suite" = bookworm ] && [ -n "${LASTGOOD_TEST_IMAGE:-}" ]; then
  image=$LASTGOOD_TEST_IMAGE
fi

if $print_name; then
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

# The normal user a scenario connects as over ssh, with passwordless sudo as
# deploy users commonly have; its authorized key is put in by the scenario.
chroot "$rootfs" useradd --create-home --uid 1000 --shell /bin/bash lastgood
printf 'lastgood ALL=(ALL:ALL) NOPASSWD: ALL\n' >"$rootfs/etc/sudoers.d/lastgood"
chmod 0440 "$rootfs/etc/sudoers.d/lastgood"
# sshd -i refuses to start without its privilege separation directory, which
# its init script or unit would create.
mkdir -p "$rootfs/run/sshd"
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
