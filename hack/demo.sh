#!/usr/bin/env bash
# The collection's main job against local test hosts: sets this machine up,
# starts fresh test hosts (podman containers, no network): staging1 in the
# group staging, prod1 and prod2 in the group production, and replays the
# incident through the collection's playbooks, run as a user runs them
# (ansible-playbook lastgood.webstack.<name>), with a load loop on each
# production host's loopback the whole time. Prints each step's outcome.
#   hack/demo.sh          run the story (about four minutes)
#   hack/demo.sh clean    remove the demo hosts
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
"$here/setup.sh"
# shellcheck source=hack/env.sh
. "$here/env.sh"

hosts=(staging1 prod1 prod2)
production=(prod1 prod2)
demo_dir="$LASTGOOD_CACHE/demo"
inventory="$demo_dir/inventory.yml"
releases="$LASTGOOD_ROOT/molecule/resources/releases"

remove_hosts() {
  for name in "${hosts[@]}"; do podman rm -f "lastgood-demo-$name" >/dev/null 2>&1 || true; done
}
if [ "${1:-}" = "clean" ]; then
  remove_hosts
  rm -rf "$demo_dir"
  echo "demo hosts removed"
  exit 0
fi

say() { printf '\n### %s\n' "$*"; }
step=0
# play EXPECT TITLE ARGS...: run ansible-playbook ARGS, check that it ended as
# EXPECT says (ok or refused), print its outcome lines.
play() {
  local expect=$1 title=$2 rc=0
  shift 2
  step=$((step + 1))
  local log="$demo_dir/$step.log"
  say "$step. $title"
  local shown="" arg
  for arg in "$@"; do
    case "$arg" in *[[:space:]\{\"]*) shown+=" '$arg'" ;; *) shown+=" $arg" ;; esac
  done
  echo "  \$ ansible-playbook$shown" | sed "s|$LASTGOOD_ROOT/||g"
  ansible-playbook -i "$inventory" "$@" >"$log" 2>&1 || rc=$?
  # What a person reads: the failure messages, the reports, the recap.
  grep -E '^\[ERROR\]: Task failed: Action failed: |^ *"msg": "(demo on|PROMOTION|Promotion)|^(staging1|prod1|prod2) +: ok=' "$log" \
    | sed -e 's/^\[ERROR\]: Task failed: Action failed: /  refused: /' -e 's/^ *"msg": "/  /' -e 's/",\?$//' \
      -e 's/\\n/\n    /g' -e 's/^\(staging1\|prod1\|prod2\) *: /  recap \1: /' || true
  if [ "$expect" = ok ] && [ "$rc" -ne 0 ]; then
    echo "UNEXPECTED: exit $rc; the whole output is in $log"; tail -n 30 "$log"; exit 1
  fi
  if [ "$expect" = refused ] && [ "$rc" -eq 0 ]; then
    echo "UNEXPECTED: it went through; the whole output is in $log"; exit 1
  fi
  echo "  -> exit $rc, as expected"
}
served() {
  for name in "${hosts[@]}"; do
    answer=$(podman exec "lastgood-demo-$name" curl -sS -H 'Host: demo.test' -w ' [HTTP %{http_code}]' \
      http://127.0.0.1/ 2>&1 | tr '\n' ' ')
    printf '  %-9s serves: %s\n' "$name" "$answer"
  done
}

# The collection's playbooks write their timeline here (the timeline callback).
export LASTGOOD_TIMELINE_DIR="$demo_dir/timeline"

say "starting fresh test hosts (image $LASTGOOD_TEST_IMAGE)"
remove_hosts
rm -rf "$demo_dir"
mkdir -p "$demo_dir"
for name in "${hosts[@]}"; do
  podman run -d --name "lastgood-demo-$name" --hostname "$name" --network none --init \
    "$LASTGOOD_TEST_IMAGE" /bin/sleep infinity >/dev/null
  echo "  $name: container lastgood-demo-$name"
done
cat >"$inventory" <<YAML
all:
  vars:
    ansible_connection: containers.podman.podman
    ansible_python_interpreter: /usr/bin/python3
    lastgood_site: demo
    lastgood_server: nginx
    deploy_probe_host_header: demo.test
    rollback_probe_host_header: demo.test
    deploy_bake_seconds: 3
  children:
    staging:
      hosts:
        staging1: {ansible_host: lastgood-demo-staging1}
    production:
      hosts:
        prod1: {ansible_host: lastgood-demo-prod1}
        prod2: {ansible_host: lastgood-demo-prod2}
YAML

play ok "prepare every host for the site 'demo'" lastgood.webstack.site
play ok "deploy v1: staging, the promotion gate, production in canary batches" \
  lastgood.webstack.deploy -e "lastgood_release_src=$releases/demo-v1" -e lastgood_release_id=v1
served

say "load: two threads of 250 requests a second on each production host's loopback, from now to the end"
for name in "${production[@]}"; do
  podman cp "$LASTGOOD_ROOT/molecule/resources/files/lastgood-load.py" "lastgood-demo-$name:/usr/local/lib/lastgood-load.py"
  podman exec -d "lastgood-demo-$name" /usr/bin/python3 /usr/local/lib/lastgood-load.py --rate 250 \
    --stop-file /var/tmp/demo-load.stop --out /var/tmp/demo-load.json
done
sleep 2

play refused "deploy v2, the incident's change (SCRIPT_FILENAME names a PHP file the release does not have)" \
  lastgood.webstack.deploy -e "lastgood_release_src=$releases/demo-v2-missing-script" -e lastgood_release_id=v2
play refused "push v2 straight to production (--limit production), as in the incident" \
  lastgood.webstack.deploy -e "lastgood_release_src=$releases/demo-v2-missing-script" -e lastgood_release_id=v2 \
  --limit production
play refused "deploy v2b, which passes every static check and dies with a PHP fatal error" \
  lastgood.webstack.deploy -e "lastgood_release_src=$releases/demo-v2-fatal" -e lastgood_release_id=v2b
play ok "deploy v3, a good release: staging, the gate, prod1, then prod2" \
  lastgood.webstack.deploy -e "lastgood_release_src=$releases/demo-v3" -e lastgood_release_id=v3
served
play ok "roll production back to the last known-good release" \
  lastgood.webstack.rollback -e '{"lastgood_rollback_reason": "demo"}'
served
play ok "freeze the site" lastgood.webstack.freeze -e '{"lastgood_freeze_reason": "demo freeze"}'
play refused "deploy while frozen" \
  lastgood.webstack.deploy -e "lastgood_release_src=$releases/demo-v2" -e lastgood_release_id=v4
play ok "thaw the site" lastgood.webstack.freeze -e lastgood_freeze=false
play ok "status of every host" lastgood.webstack.status
sed -n '/"msg": \[/,/\]/p' "$demo_dir/$step.log" | sed -e '1d;$d' -e 's/^ *"//' -e 's/",\?$//' -e 's/^/  /'

say "load on production during all of it"
for name in "${production[@]}"; do
  podman exec "lastgood-demo-$name" touch /var/tmp/demo-load.stop
done
sleep 3
for name in "${production[@]}"; do
  podman exec "lastgood-demo-$name" python3 -c '
import json; s = json.load(open("/var/tmp/demo-load.json"))
print("  %-6s %d requests, %d failed, over %.0f s" % ("'"$name"'", s["total"], s["failed"], s["seconds"]))'
done

play ok "the timeline of the whole story: every run's events from $LASTGOOD_TIMELINE_DIR, merged" \
  lastgood.webstack.timeline
sed -n '/"msg": \[/,/\]/p' "$demo_dir/$step.log" | sed -e '1d;$d' -e 's/^ *"//' -e 's/",\?$//' -e 's/^/  /'

say "done: logs in $demo_dir; 'hack/demo.sh clean' removes the hosts"
