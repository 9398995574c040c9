#!/usr/bin/env bash
# Every test of the collection: unit tests, ansible-test sanity, ansible-lint,
# the changelog lint and every molecule scenario. Each suite's output is kept
# in .cache/test-logs/ and shown when the suite ends; the last line is the
# summary. Exits non-zero when any suite fails.
#
# The molecule scenarios run LASTGOOD_TEST_JOBS at a time (default 2), the
# longest first. Each has its own containers on their own loopback
# (network: none), and the collection comes from the symlink farm
# (prerun: false in .config/molecule/config.yml, the base config every
# scenario's molecule.yml is merged over), so side by side they share nothing.
#   hack/test.sh                 all suites
#   hack/test.sh unit lint       only these suites
#   hack/test.sh molecule:default
#   LASTGOOD_TEST_JOBS=1 hack/test.sh   one scenario at a time
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
"$here/setup.sh" || { echo "setup failed"; echo "0 passed, 1 failed"; exit 1; }
# shellcheck source=hack/env.sh
. "$here/env.sh"
cd "$LASTGOOD_ROOT" || exit 1

logs="$LASTGOOD_CACHE/test-logs"
mkdir -p "$logs"

# Scenarios run only when named: incident replays the story that ssh
# (bookworm, nginx), bullseye and trixie (nginx, podman) and apache (canary
# batches over two production hosts) each run too, so CI leaves it out to stay
# under an hour; hack/demo.sh and `hack/test.sh molecule:incident` run it.
on_demand=(incident)
scenarios=()
for file in molecule/*/molecule.yml; do
  name=$(basename "$(dirname "$file")")
  case " ${on_demand[*]} " in *" $name "*) continue ;; esac
  scenarios+=("molecule:$name")
done

suites=("$@")
[ "${#suites[@]}" -gt 0 ] || suites=(unit sanity lint changelog sanity:host-pythons "${scenarios[@]}")

run_suite() {
  case "$1" in
    unit) python -m pytest -q -p no:cacheprovider tests/unit ;;
    sanity) "$here/sanity.sh" ;;
    sanity:host-pythons) "$here/sanity.sh" --host-pythons ;;
    # molecule installs a build of the collection into ~/.ansible/collections,
    # which ansible-lint finds before the working tree; a stale one makes it
    # miss new roles. molecule installs it again at its next run.
    lint) rm -rf "$HOME/.ansible/collections/ansible_collections/lastgood/webstack"; ansible-lint ;;
    changelog) antsibull-changelog lint ;;
    # The base config named, not left to molecule's search of the git root:
    # a copy of the tree without .git runs the same scenarios.
    molecule:*) molecule --base-config .config/molecule/config.yml test -s "${1#molecule:}" ;;
    *) echo "unknown suite $1 (known: unit sanity lint changelog sanity:host-pythons ${scenarios[*]} ${on_demand[*]/#/molecule:})"; return 2 ;;
  esac
}

# Seconds each scenario took in CI, to start the longest first; a scenario
# not listed starts last.
longest_first=(apache incident bullseye trixie ssh deploy freeze kill default watchdog watchdog_systemd deploy_incident sanity:host-pythons host_pythons deploy_runtime_failure site_apache)

results="$logs/results"
: >"$results"

# Runs one suite, keeps its output in its log and adds a line to $results.
run_logged() {
  local suite=$1 start status took
  start=$SECONDS
  run_suite "$suite" 2>&1 | grep --line-buffered -v "^WARNING: Location 'file:///opt/" >"$logs/${suite//:/-}.log"
  status=${PIPESTATUS[0]}
  took=$((SECONDS - start))
  {
    flock 9
    printf '\n===== %s (%ss, exit %s) =====\n' "$suite" "$took" "$status"
    cat "$logs/${suite//:/-}.log"
    printf '%s %s %s\n' "$suite" "$status" "$took" >>"$results"
  } 9>"$logs/.output.lock"
}

serial=()
parallel=()
for suite in "${suites[@]}"; do
  case "$suite" in
    # The host-Python sanity tests wait mostly on venvs being made: they run
    # in a lane beside the scenarios.
    molecule:* | sanity:host-pythons) parallel+=("$suite") ;;
    *) serial+=("$suite") ;;
  esac
done
ordered=()
for name in "${longest_first[@]}"; do
  for suite in "${parallel[@]}"; do
    [ "$suite" = "molecule:$name" ] || [ "$suite" = "$name" ] && ordered+=("$suite")
  done
done
for suite in "${parallel[@]}"; do
  case " ${ordered[*]} " in *" $suite "*) ;; *) ordered+=("$suite") ;; esac
done

for suite in "${serial[@]}"; do
  run_logged "$suite"
done

# Each lane takes the next scenario from the queue until it is empty.
queue="$logs/.queue"
printf '%s\n' "${ordered[@]}" >"$queue"
next_scenario() {
  local suite
  {
    flock 8
    suite=$(head -n 1 "$queue")
    sed -i 1d "$queue"
  } 8>"$queue.lock"
  printf '%s' "$suite"
}
lane() {
  local suite
  while suite=$(next_scenario) && [ -n "$suite" ]; do
    run_logged "$suite"
  done
}
jobs=${LASTGOOD_TEST_JOBS:-2}
[ "$jobs" -le "${#ordered[@]}" ] || jobs=${#ordered[@]}
lanes=()
for _ in $(seq "$jobs"); do
  lane &
  lanes+=($!)
  # Not both creating containers in the same second.
  sleep 5
done
[ "${#lanes[@]}" -eq 0 ] || wait "${lanes[@]}"

passed=0
failed=0
report=()
for suite in "${suites[@]}"; do
  line=$(grep -m1 "^$suite " "$results" || echo "$suite 1 0")
  read -r _ status took <<<"$line"
  if [ "$status" -eq 0 ]; then
    passed=$((passed + 1))
    report+=("$(printf 'passed  %-28s %5ss' "$suite" "$took")")
  else
    failed=$((failed + 1))
    report+=("$(printf 'FAILED  %-28s %5ss  (exit %s, log .cache/test-logs/%s.log)' "$suite" "$took" "$status" "${suite//:/-}")")
  fi
done

# CI keeps only the end of its output: the cause of each failure goes just
# above the summary, cut to what fits.
for suite in "${suites[@]}"; do
  line=$(grep -m1 "^$suite " "$results" || echo "$suite 1 0")
  read -r _ status _ <<<"$line"
  [ "$status" -ne 0 ] || continue
  log="$logs/${suite//:/-}.log"
  printf '\n===== why %s failed (%s) =====\n' "$suite" "${log#"$LASTGOOD_ROOT"/}"
  [ -f "$log" ] || { echo "(no log)"; continue; }
  grep -E '^fatal:|^failed:|^E  |^FAILED |ERROR|Error:|failed=[1-9]' "$log" | tail -n 12 | cut -c 1-1500
done

printf '\n===== summary (%ss in all) =====\n' "$SECONDS"
printf '%s\n' "${report[@]}"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
