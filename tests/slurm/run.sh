#!/usr/bin/env bash
# ctest's slurm.sweep: the optimization sweep as a Slurm job array equals the local sweep
# (docs/optimization.md). Starts a one-node Slurm (../shared/tools/slurm-local.sh: slurmctld,
# slurmd, munge) in a temporary directory, runs a small grid locally and with --slurm (2 array
# tasks, each its own evrouterd group), compares the two tables byte for byte, and stops Slurm.
# Exit 77 (skipped, never a pass) when there is no slurm-local.sh or it cannot start Slurm here.
#
#   tests/slurm/run.sh BUILD_DIR          (TOOLS=dir of slurm-local.sh, default ../shared/tools)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=$(realpath "${1:?BUILD_DIR}")
tools=${TOOLS:-$root/../shared/tools}
if [ ! -x "$tools/slurm-local.sh" ]; then echo "slurm test: no $tools/slurm-local.sh; skipped" >&2; exit 77; fi
dir=$(mktemp -d -t evr-slurm.XXXX)
# Stops the three daemons and waits (bounded) until they are gone: they write their state files
# while stopping, which an early rm would race with.
cleanup() {
  local pids=() f
  for f in "$dir"/slurm/{slurmd,slurmctld,munge/munged}.pid; do [ -f "$f" ] && pids+=("$(cat "$f")"); done
  "$tools/slurm-local.sh" stop "$dir/slurm" >/dev/null 2>&1 || true
  for _ in $(seq 100); do
    local alive=0 p
    for p in "${pids[@]+"${pids[@]}"}"; do [ -d "/proc/$p" ] && ! grep -q '^State:.*Z' "/proc/$p/status" 2>/dev/null && alive=1; done
    [ $alive = 0 ] && break
    sleep 0.1
  done
  rm -rf "$dir" || echo "slurm test: could not remove $dir" >&2
}
trap cleanup EXIT
code=0
start=$("$tools/slurm-local.sh" start "$dir/slurm") || code=$?
if [ "$code" = 77 ]; then echo "slurm test: Slurm cannot run here; skipped" >&2; exit 77; fi
[ "$code" = 0 ] || { echo "slurm test: slurm-local.sh start failed ($code)" >&2; exit 1; }
eval "$start"

grid=(--fast 3,5,8 --slow 4,10 --slice 40 --build "$build")
"$root/scripts/sweep.sh" "${grid[@]}" --no-sequential --results "$dir/local"
"$root/scripts/sweep.sh" "${grid[@]}" --slurm --shards 2 --results "$dir/slurm-results"
cmp "$dir/local/table.csv" "$dir/slurm-results/table.csv" ||
  { diff "$dir/local/table.csv" "$dir/slurm-results/table.csv" >&2 || true; echo "slurm test: tables differ" >&2; exit 1; }
cmp "$dir/local/table.md" "$dir/slurm-results/table.md"
rows=$(($(wc -l <"$dir/slurm-results/table.csv") - 1))
[ "$rows" = 4 ] || { echo "slurm test: $rows strategies in the table, expected 4" >&2; exit 1; }
for i in 0 1; do
  [ -s "$dir/slurm-results/work/shard-$i/results.csv" ] || { echo "slurm test: array task $i ran nothing" >&2; exit 1; }
done
grep -q "<svg" "$dir/slurm-results/sharpe.svg"
echo "slurm test: the job array's table ($rows strategies, 2 tasks) equals the local sweep's"
