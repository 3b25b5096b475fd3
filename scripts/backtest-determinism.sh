#!/usr/bin/env bash
# Measures whether the backtest demo's results depend on process timing: runs every organization
# (or the --config files given) RUNS times (default 2) and compares, run against run, the files
# that hold results: summary.json, fills.csv, equity.csv, pnl_by_portfolio.csv,
# pnl_by_strategy.csv and routes.md (events per route). report.md is not compared as a whole: it
# ends with the run's wall-clock time. Beside the files, it compares the runs' journals (every
# routed event, journal/) with `evrctl journal diff`: on every route source -> target the same
# events in the same order (docs/delivery.md, "Comparing two runs"); the diff's output of a
# differing pair is kept in the printed path.
#
#   scripts/backtest-determinism.sh [--runs N] [demo.sh options, e.g. --slice 200 --speed 0]
#
# Prints one line per organization and run, and "identical: K of N comparisons"; exits 1 when
# any pair differs (the differing files are listed).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
runs=2
pass=()
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs=$2; shift 2 ;;
    --results) echo "backtest-determinism: results go to a temporary directory" >&2; exit 1 ;;
    *) pass+=("$1"); shift ;;
  esac
done
[ "$runs" -ge 2 ] || { echo "backtest-determinism: --runs must be at least 2" >&2; exit 1; }
printf '%s\n' "${pass[@]+"${pass[@]}"}" | grep -q -- '^--config$' || pass+=(--all)

build="$root/build"
for ((i = 0; i < ${#pass[@]}; ++i)); do
  [ "${pass[$i]}" = --build ] && [ $((i + 1)) -lt ${#pass[@]} ] && build=${pass[$((i + 1))]}
done
evrctl="$(realpath -m "$build")/client/evrctl"
[ -x "$evrctl" ] || { echo "backtest-determinism: $evrctl is missing: build first (make build)" >&2; exit 1; }

work=$(mktemp -d)
keep=false
trap '$keep || rm -rf "$work"' EXIT
for run in $(seq "$runs"); do
  "$root/scripts/demo.sh" "${pass[@]}" --results "$work/run$run" >"$work/run$run.log" 2>&1 ||
    { cat "$work/run$run.log" >&2; exit 1; }
done

files=(summary.json fills.csv equity.csv pnl_by_portfolio.csv pnl_by_strategy.csv routes.md)
same=0 total=0 same_files=0 same_journals=0
for dir in "$work"/run1/*/; do
  organization=$(basename "$dir")
  for run in $(seq 2 "$runs"); do
    total=$((total + 1))
    differ=()
    for file in "${files[@]}"; do
      cmp -s "$dir/$file" "$work/run$run/$organization/$file" || differ+=("$file")
    done
    [ ${#differ[@]} -eq 0 ] && same_files=$((same_files + 1))
    diff_out="$work/$organization.run1-run$run.journal-diff"
    code=0
    "$evrctl" journal diff "$dir/journal" "$work/run$run/$organization/journal" >"$diff_out" 2>&1 || code=$?
    if [ "$code" = 0 ]; then
      same_journals=$((same_journals + 1))
    else
      differ+=("journal (evrctl journal diff exit $code: $(tail -n 1 "$diff_out"); see $diff_out)")
      keep=true
    fi
    if [ ${#differ[@]} -eq 0 ]; then
      same=$((same + 1))
      echo "$organization: run 1 = run $run ($(tail -n 1 "$diff_out"))"
    else
      echo "$organization: run 1 != run $run in ${differ[*]}"
    fi
  done
done
echo "identical: $same of $total comparisons ($runs runs of each organization): files $same_files of $total," \
     "journals $same_journals of $total"
$keep && echo "the runs and the journal diffs are kept in $work"
[ "$same" = "$total" ]
