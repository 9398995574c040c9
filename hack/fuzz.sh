#!/usr/bin/env bash
# Fuzz the nginx, Apache and PHP parsers, then show how their time grows on
# pathological input.
#
# 1. tests/unit/plugins/module_utils/test_fuzz_parsers.py (hypothesis), run
#    per parser with enough examples per property for INPUTS generated
#    inputs per parser (default 100000): mutated real configs and PHP files
#    from the test tree, token soup, arbitrary bytes. Prints the inputs each
#    parser took and how long. Derandomized: the same inputs on every run.
# 2. tests/fuzz/atheris_parsers.py (atheris, coverage-guided), INPUTS runs
#    per parser from the real files, with the same checks; atheris is
#    installed from requirements/fuzz.txt into the venv when missing
#    (LASTGOOD_FUZZ_ATHERIS=0 skips this step).
# 3. benchmarks/parser_growth.py: each pathological input at n, 4n and 16n
#    bytes and the time per byte at each size (flat rows: linear growth).
#
#   hack/fuzz.sh                 100,000 inputs per parser, then the growth table
#   hack/fuzz.sh 5000            5,000 inputs per parser
#   LASTGOOD_GROWTH_BYTES=16384 hack/fuzz.sh    a smaller n for the growth table
#   LASTGOOD_GROWTH_BYTES=0 hack/fuzz.sh        no growth table
#   LASTGOOD_FUZZ_PARSERS="apache php" hack/fuzz.sh   only these parsers
#   LASTGOOD_FUZZ_HYPOTHESIS=0 hack/fuzz.sh     atheris only
# On a shared machine, run it as `nice -n 19 hack/fuzz.sh`.
set -euo pipefail
# shellcheck source=hack/env.sh
. "$(dirname "$0")/env.sh"
cd "$LASTGOOD_ROOT"

inputs=${1:-100000}
read -r -a parsers <<<"${LASTGOOD_FUZZ_PARSERS:-nginx apache php}"
growth_bytes=${LASTGOOD_GROWTH_BYTES:-65536}
tests=tests/unit/plugins/module_utils/test_fuzz_parsers.py
report=$(mktemp)
trap 'rm -f "$report"' EXIT
echo '{}' >"$report"
# Hypothesis' cache of Unicode tables, out of the checkout.
export HYPOTHESIS_STORAGE_DIRECTORY="$LASTGOOD_CACHE/hypothesis"

now() { date +%s.%N; }

failed=()
summary=()
hypothesis_parsers=("${parsers[@]}")
[ "${LASTGOOD_FUZZ_HYPOTHESIS:-1}" != 0 ] || hypothesis_parsers=()
for parser in "${hypothesis_parsers[@]}"; do
  properties=$(python -m pytest -q -p no:cacheprovider --collect-only -k "$parser" "$tests" | grep -c '::')
  per_property=$(( (inputs + properties - 1) / properties ))
  printf '==> %s: %d properties, %d examples each\n' "$parser" "$properties" "$per_property"
  start=$(now)
  if ! LASTGOOD_FUZZ_EXAMPLES=$per_property LASTGOOD_FUZZ_REPORT=$report \
      python -m pytest -q -p no:cacheprovider -k "$parser" "$tests"; then
    failed+=("$parser")
  fi
  seconds=$(awk -v start="$start" -v end="$(now)" 'BEGIN { printf "%.1f", end - start }')
  took=$(python -c 'import json, sys; print(json.load(open(sys.argv[1])).get(sys.argv[2], 0))' "$report" "$parser")
  summary+=("$(printf '%-7s %9d inputs  %8.1f s  (hypothesis, %.0f inputs/s)' "$parser" "$took" "$seconds" \
    "$(awk -v n="$took" -v s="$seconds" 'BEGIN { print (s > 0 ? n / s : 0) }')")")
  if [ "$took" -lt "$inputs" ]; then
    echo "error: $parser took $took inputs, fewer than $inputs" >&2
    failed+=("$parser (count)")
  fi
done

if [ "${LASTGOOD_FUZZ_ATHERIS:-1}" != 0 ]; then
  python -c 'import atheris' 2>/dev/null ||
    pip install -q -r requirements/fuzz.txt -c requirements/constraints.txt
  artifacts="$LASTGOOD_CACHE/fuzz-artifacts"
  mkdir -p "$artifacts"
  for parser in "${parsers[@]}"; do
    printf '==> atheris %s: %d runs\n' "$parser" "$inputs"
    log="$LASTGOOD_CACHE/test-logs/atheris-$parser.log"
    mkdir -p "$(dirname "$log")"
    start=$(now)
    if ! (cd "$artifacts" && python "$LASTGOOD_ROOT/tests/fuzz/atheris_parsers.py" "$parser" \
        -runs="$inputs" -seed=1 -print_final_stats=1) >"$log" 2>&1; then
      tail -n 40 "$log"
      failed+=("atheris $parser")
    fi
    seconds=$(awk -v start="$start" -v end="$(now)" 'BEGIN { printf "%.1f", end - start }')
    runs=$(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' "$log" | tail -n 1)
    summary+=("$(printf '%-7s %9d inputs  %8.1f s  (atheris, log %s)' "$parser" "${runs:-0}" "$seconds" \
      "${log#"$LASTGOOD_ROOT/"}")")
  done
fi

printf '\n%s\n' "Inputs per parser:"
printf '  %s\n' "${summary[@]}"

if [ "$growth_bytes" -gt 0 ]; then
  printf '\n==> growth on pathological input (benchmarks/parser_growth.py --bytes %d)\n' "$growth_bytes"
  python benchmarks/parser_growth.py --bytes "$growth_bytes" || failed+=("growth")
fi

if [ "${#failed[@]}" -gt 0 ]; then
  printf '\nFAILED: %s\n' "${failed[*]}"
  exit 1
fi
