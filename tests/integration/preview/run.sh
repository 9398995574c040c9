#!/usr/bin/env bash
# The preview listener (plugins/module_utils/_webconf/preview.py) on real
# servers: one test host per web server, each with nginx or Apache and
# PHP-FPM serving the demo site live, where check.py previews other
# releases. Usage: tests/integration/preview/run.sh [nginx] [apache]
# LASTGOOD_PREVIEW_IMAGE picks another test image ("$LASTGOOD_TEST_IMAGE_TRIXIE").
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../../../hack/env.sh
. "$here/../../../hack/env.sh"
servers=("${@:-nginx apache}")
# shellcheck disable=SC2206
servers=(${servers[*]})
image=${LASTGOOD_PREVIEW_IMAGE:-${LASTGOOD_TEST_IMAGE:?}}
status=0
for server in "${servers[@]}"; do
    name="lastgood-preview-$server-$$"
    trap 'podman rm -f -t 0 "$name" >/dev/null 2>&1 || true' EXIT
    podman run -d --init --name "$name" --network none \
        -v "$LASTGOOD_CACHE/collections/ansible_collections/lastgood/webstack:/collections/ansible_collections/lastgood/webstack:ro" \
        "$image" sleep infinity >/dev/null
    echo "== $server ($image)"
    podman exec -e PYTHONDONTWRITEBYTECODE=1 "$name" \
        python3 /collections/ansible_collections/lastgood/webstack/tests/integration/preview/check.py "$server" /collections \
        || status=1
    podman rm -f -t 0 "$name" >/dev/null
done
exit "$status"
