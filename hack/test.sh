#!/usr/bin/env bash
# Every test of the collection: unit tests, ansible-test sanity, ansible-lint,
# the changelog lint and every molecule scenario. Each suite's output is shown
# as it runs and kept in .cache/test-logs/; the last line is the summary.
# Exits non-zero when any suite fails.
#   hack/test.sh                 all suites
#   hack/test.sh unit lint       only these suites
#   hack/test.sh molecule:default
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
"$here/setup.sh" || { echo "setup failed"; echo "0 passed, 1 failed"; exit 1; }
# shellcheck source=hack/env.sh
. "$here/env.sh"
cd "$LASTGOOD_ROOT" || exit 1

logs="$LASTGOOD_CACHE/test-logs"
mkdir -p "$logs"

scenarios=()
for file in molecule/*/molecule.yml; do
  scenarios+=("molecule:$(basename "$(dirname "$file")")")
done

suites=("$@")
[ "${#suites[@]}" -gt 0 ] || suites=(unit sanity lint changelog "${scenarios[@]}")

run_suite() {
  case "$1" in
    unit) python -m pytest -q -p no:cacheprovider tests/unit ;;
    sanity) "$here/sanity.sh" ;;
    # molecule installs a build of the collection into ~/.ansible/collections,
    # which ansible-lint finds before the working tree; a stale one makes it
    # miss new roles. molecule installs it again at its next run.
    lint) rm -rf "$HOME/.ansible/collections/ansible_collections/lastgood/webstack"; ansible-lint ;;
    changelog) antsibull-changelog lint ;;
    molecule:*) molecule test -s "${1#molecule:}" ;;
    *) echo "unknown suite $1 (known: unit sanity lint changelog ${scenarios[*]})"; return 2 ;;
  esac
}

passed=0
failed=0
report=()
for suite in "${suites[@]}"; do
  printf '\n===== %s =====\n' "$suite"
  start=$SECONDS
  run_suite "$suite" 2>&1 | grep --line-buffered -v "^WARNING: Location 'file:///opt/" | tee "$logs/${suite//:/-}.log"
  status=${PIPESTATUS[0]}
  took=$((SECONDS - start))
  if [ "$status" -eq 0 ]; then
    passed=$((passed + 1))
    report+=("$(printf 'passed  %-28s %5ss' "$suite" "$took")")
  else
    failed=$((failed + 1))
    report+=("$(printf 'FAILED  %-28s %5ss  (exit %s, log .cache/test-logs/%s.log)' "$suite" "$took" "$status" "${suite//:/-}")")
  fi
done

printf '\n===== summary =====\n'
printf '%s\n' "${report[@]}"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
