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

releases="$LASTGOOD_ROOT/molecule/resources/releases"
served() {
  for name in "${hosts[@]}"; do
    answer=$(podman exec "lastgood-demo-$name" curl -sS -H 'Host: demo.test' -w ' [HTTP %{http_code}]' \
      http://127.0.0.1/ 2>&1 | tr '\n' ' ')
    printf '  %-9s serves: %s\n' "$name" "$answer"
  done
}
deploy() {
  ansible-playbook -i "$inventory" "$LASTGOOD_ROOT/hack/demo/deploy.yml" -e "lastgood_release_src=$1" \
    >"$demo_dir/last-deploy.log" 2>&1 || { tail -n 30 "$demo_dir/last-deploy.log"; exit 1; }
  grep -o 'OUTCOME .*' "$demo_dir/last-deploy.log" | sed -e 's/^OUTCOME /  /' -e 's/"$//' -e 's/\\n/ /g'
  served
}

say "ansible-playbook lastgood.webstack.site: prepare every host for the site 'demo'"
ansible-playbook -i "$inventory" lastgood.webstack.site >"$demo_dir/site.log" 2>&1 || {
  tail -n 30 "$demo_dir/site.log"; exit 1; }
grep -A3 'PLAY RECAP' "$demo_dir/site.log"

say "deploy v1 (role lastgood.webstack.deploy: stage, validate, switch, probe)"
deploy "$releases/demo-v1"

say "deploy v2, a good release"
deploy "$releases/demo-v2"

say "deploy the incident's change: SCRIPT_FILENAME names a PHP file the release does not have"
deploy "$releases/demo-v2-missing-script"

say "deploy a release that passes every static check and dies with a PHP fatal error"
deploy "$releases/demo-v2-fatal"

say "done: logs in $demo_dir; 'hack/demo.sh clean' removes the hosts"
