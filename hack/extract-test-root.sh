#!/usr/bin/env bash
# Copy the parts of the test image the unit tests read (the web-server and
# PHP configs Debian ships, WordPress and DokuWiki as their packages install
# them) into .cache/test-root, so that the tests see real installed trees.
# Absolute symlinks are rewritten to point inside the copy. Skipped when the
# copy was made from the current image.
set -euo pipefail
# shellcheck source=hack/env.sh
. "$(dirname "$0")/env.sh"

dest="$LASTGOOD_CACHE/test-root"
stamp="$dest/.image"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$LASTGOOD_TEST_IMAGE" ]; then
  exit 0
fi

paths=(
  etc/nginx etc/apache2 etc/php etc/dokuwiki etc/wordpress etc/ssl etc/mime.types
  usr/share/nginx usr/share/wordpress usr/share/dokuwiki usr/share/php
  usr/share/javascript usr/share/apache2 usr/lib/apache2/modules usr/lib/cgi-bin
  usr/share/doc/wordpress usr/share/doc/dokuwiki
  var/lib/dokuwiki var/lib/wordpress var/www var/log/nginx var/log/apache2
  run/php
)
echo "extracting the test tree from $LASTGOOD_TEST_IMAGE into .cache/test-root"
rm -rf "$dest"
mkdir -p "$dest"
container=$(podman create --network none "$LASTGOOD_TEST_IMAGE" /bin/true)
trap 'podman rm -f "$container" >/dev/null' EXIT
podman export "$container" | tar -x -C "$dest" --no-same-owner --wildcards "${paths[@]}" 2>/dev/null || true
mkdir -p "$dest/run/php"
python3 - "$dest" <<'PY'
import os, sys
root = sys.argv[1]
for directory, dirs, files in os.walk(root):
    for name in dirs + files:
        link = os.path.join(directory, name)
        if os.path.islink(link):
            target = os.readlink(link)
            if target.startswith("/"):
                os.unlink(link)
                os.symlink(os.path.relpath(root + target, directory), link)
PY
echo "$LASTGOOD_TEST_IMAGE" >"$stamp"
