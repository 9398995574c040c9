#!/usr/bin/env bash
# Every benchmark: runs benchmarks/bench_*.py in turn, each printing a
# Markdown table and its ratio against the stock tool it is compared with
# (results also kept in benchmarks/results/<name>.json), then
# benchmarks/report.py writes benchmarks/results/report.{md,json} and the
# results section of docs/benchmarks.md from them. Options are passed to every
# benchmark. Exits non-zero when one fails.
#   hack/bench.sh              all benchmarks, full runs
#   hack/bench.sh --quick      fewer runs
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
"$here/setup.sh" || { echo "setup failed"; exit 1; }
# shellcheck source=hack/env.sh
. "$here/env.sh"
cd "$LASTGOOD_ROOT" || exit 1

failed=()
benchmarks/corpus/build.sh || failed+=(benchmarks/corpus/build.sh)  # bench_corpus.py's root, built once and kept
for bench in benchmarks/bench_*.py; do
  [ -e "$bench" ] || continue
  printf '\n===== %s =====\n' "$bench"
  python "$bench" "$@" || failed+=("$bench")
done

printf '\n===== benchmarks/report.py =====\n'
python benchmarks/report.py --write docs/benchmarks.md || failed+=(benchmarks/report.py)

if [ "${#failed[@]}" -gt 0 ]; then
  printf '\nFAILED: %s\n' "${failed[*]}"
  exit 1
fi
