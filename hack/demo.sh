#!/usr/bin/env bash
# The collection's main job against local test hosts: sets this machine up,
# starts one staging and one production container (podman, no network), runs
# the collection's playbooks against them and prints what happened.
#   hack/demo.sh          run the story
#   hack/demo.sh clean    remove the demo hosts
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
"$here/setup.sh"
# shellcheck source=hack/env.sh
. "$here/env.sh"

hosts=(staging1 prod1)
demo_dir="$LASTGOOD_CACHE/demo"
inventory="$demo_dir/inventory.yml"

if [ "${1:-}" = "clean" ]; then
  for name in "${hosts[@]}"; do podman rm -f "lastgood-demo-$name" >/dev/null 2>&1 || true; done
  rm -rf "$demo_dir"
  echo "demo hosts removed"
  exit 0
fi

say() { printf '\n### %s\n' "$*"; }

say "starting the test hosts (image $LASTGOOD_TEST_IMAGE)"
for name in "${hosts[@]}"; do
  container="lastgood-demo-$name"
  image=$(podman container inspect -f '{{.ImageName}}' "$container" 2>/dev/null || true)
  if [ -n "$image" ] && [ "$image" != "$LASTGOOD_TEST_IMAGE" ]; then
    podman rm -f "$container" >/dev/null
    image=""
  fi
  if [ -z "$image" ]; then
    podman run -d --name "$container" --hostname "$name" --network none --init \
      "$LASTGOOD_TEST_IMAGE" /bin/sleep infinity >/dev/null
    echo "$name: started container $container"
  else
    podman start "$container" >/dev/null
    echo "$name: container $container is running"
  fi
done

mkdir -p "$demo_dir"
cat >"$inventory" <<YAML
all:
  vars:
    ansible_connection: containers.podman.podman
    ansible_python_interpreter: /usr/bin/python3
    lastgood_site: demo
    lastgood_server: nginx
  children:
    staging:
      hosts:
        staging1: {ansible_host: lastgood-demo-staging1}
    production:
      hosts:
        prod1: {ansible_host: lastgood-demo-prod1}
YAML

say "placing release v1 of the site 'demo' by hand (the deploy role will do this)"
ansible-playbook -i "$inventory" "$LASTGOOD_ROOT/hack/demo/place-release.yml" \
  -e release_id=v1 -e "release_src=$LASTGOOD_ROOT/molecule/resources/releases/demo-v1"

say "ansible-playbook lastgood.webstack.site: prepare every host for the site 'demo'"
ansible-playbook -i "$inventory" lastgood.webstack.site

say "what each host serves on its own loopback"
for name in "${hosts[@]}"; do
  answer=$(podman exec "lastgood-demo-$name" curl -sS -w ' [HTTP %{http_code}]' http://127.0.0.1/ 2>&1 | tr '\n' ' ')
  printf '%-9s %s\n' "$name" "$answer"
done
