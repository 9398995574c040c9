#!/usr/bin/env bash
# Build the corpus root of benchmarks/bench_corpus.py once: a Debian bookworm
# root in .cache/corpus/root (debootstrap from Debian's packages), with nginx,
# Apache, PHP-FPM and real PHP applications and libraries installed by apt
# inside it, so that every absolute symlink and /usr/share/php library is
# where the code expects it. Nothing is started in it (policy-rc.d forbids
# it) and no database is configured (dbconfig-no-thanks). Skipped when the
# root was built from this script as it is now (its hash is in .built).
#   benchmarks/corpus/build.sh          build it if needed (about 10 minutes)
#   benchmarks/corpus/build.sh --force  build it again
# Needs root (debootstrap, chroot, mounting /proc) and the Debian mirror.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
cache="$repo/.cache/corpus"
root="$cache/root"
mirror="${LASTGOOD_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
suite=bookworm

base=(python3 nginx php8.2-fpm php8.2-cli apache2 ca-certificates ssl-cert)
# The applications and libraries of the corpus: Debian's own packages.
applications=(
  php dbconfig-no-thanks
  wordpress dokuwiki mediawiki phpmyadmin cacti zabbix-frontend-php tt-rss icingaweb2
  roundcube-core roundcube-sqlite3 phpldapadmin postfixadmin adminer simplesamlphp gosa
  composer php-symfony php-laravel-framework
)

digest=$(sha256sum "$0" | cut -c1-16)
if [ "${1:-}" != "--force" ] && [ -f "$root/.built" ] && [ "$(cat "$root/.built")" = "$digest" ]; then
  echo "corpus root $root is built (from this script, $digest)"
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "error: building the corpus root needs root (debootstrap, chroot)" >&2
  exit 1
fi
command -v debootstrap >/dev/null || { echo "error: debootstrap is not installed (hack/setup.sh installs it)" >&2; exit 1; }

mkdir -p "$cache"
new="$cache/root.new"
log="$cache/build.log"
umount_proc() { if mountpoint -q "$new/proc"; then umount "$new/proc"; fi; }
trap umount_proc EXIT
umount_proc
rm -rf "$new"
: >"$log"
start=$(date +%s)
echo "building the corpus root in $new with debootstrap from $mirror (log: $log)"
include=$(IFS=,; echo "${base[*]}")
debootstrap --variant=minbase --include="$include" "$suite" "$new" "$mirror" >>"$log" 2>&1 || {
  tail -n 30 "$log" >&2; echo "error: debootstrap failed" >&2; exit 1; }

printf '#!/bin/sh\nexit 101\n' >"$new/usr/sbin/policy-rc.d"
chmod 0755 "$new/usr/sbin/policy-rc.d"
echo "deb $mirror $suite main" >"$new/etc/apt/sources.list"
mount -t proc proc "$new/proc"
echo "installing ${applications[*]} inside it"
chroot "$new" env DEBIAN_FRONTEND=noninteractive LC_ALL=C apt-get update -q >>"$log" 2>&1
chroot "$new" env DEBIAN_FRONTEND=noninteractive LC_ALL=C \
  apt-get install -y -q --no-install-recommends "${applications[@]}" >>"$log" 2>&1 || {
  tail -n 30 "$log" >&2; echo "error: installing the applications failed" >&2; exit 1; }
umount_proc
rm -rf "$new"/var/cache/apt/archives/*.deb
# shellcheck disable=SC2016  # dpkg-query's format, not the shell's
chroot "$new" dpkg-query -W -f '${Package} ${Version}\n' >"$new/.packages"
echo "$digest" >"$new/.built"
rm -rf "$root"
mv "$new" "$root"
echo "built $root in $(( $(date +%s) - start )) s"
