#!/usr/bin/env bash
# Runs each libFuzzer target of a -DEVR_FUZZ=ON build for a while and prints a summary
# (`make fuzz`, docs/fuzzing.md). Usage: run-fuzz.sh <build dir> <seconds> <target>...
# Each target starts from its corpus, fuzz/corpus/<target>/ (read only), and writes new inputs to
# <build dir>/fuzz-out/<target>/corpus and findings (crash-*, timeout-*, leak-*, oom-*) to
# <build dir>/fuzz-out/<target>/; its log is <build dir>/fuzz-out/<target>.log.
# Exit status 1 when any target found something.
set -uo pipefail

build=$1
seconds=$2
shift 2
root=$(cd "$(dirname "$0")/.." && pwd)
found=0
summary=()
for target in "$@"; do
  binary="$build/fuzz/evr_fuzz_$target"
  out="$build/fuzz-out/$target"
  mkdir -p "$out/corpus"
  echo "fuzz: $target for ${seconds}s (log: $out.log)"
  # -timeout: one input taking over 10 s is a hang. -rss_limit_mb: over 2 GB is a memory bug.
  # -print_final_stats: the executions for the summary. message and control run ZeroMQ, whose I/O
  # thread frees memory while an input runs, so libFuzzer would take every input for a possible
  # leak and stop the world to check (a few executions per second): they check for leaks once, at
  # exit (LeakSanitizer's own check), instead of per input.
  leaks=()
  case "$target" in message|control) leaks=(-detect_leaks=0) ;; esac
  "$binary" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 "${leaks[@]}" \
    -artifact_prefix="$out/" "$out/corpus" "$root/fuzz/corpus/$target" >"$out.log" 2>&1
  status=$?
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$out.log" | grep -o '[0-9]*$')
  rate=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$out.log" | grep -o '[0-9]*$')
  last=$(grep -E '^#[0-9]+' "$out.log" | tail -1)
  cov=$(grep -o 'cov: [0-9]*' <<<"$last" | grep -o '[0-9]*')
  ft=$(grep -o 'ft: [0-9]*' <<<"$last" | grep -o '[0-9]*')
  corpus=$(grep -o 'corp: [0-9]*/[0-9]*[a-zA-Z]*' <<<"$last" | cut -d' ' -f2)
  findings=$(find "$out" -maxdepth 1 -type f \( -name 'crash-*' -o -name 'timeout-*' -o -name 'leak-*' \
    -o -name 'oom-*' -o -name 'slow-unit-*' \) | wc -l)
  [ "$status" -ne 0 ] || [ "$findings" -ne 0 ] && found=1
  summary+=("$(printf '%-10s %12s %8s %6s %6s %12s %9s %s' "$target" "${execs:-?}" "${rate:-?}" \
    "${cov:-?}" "${ft:-?}" "${corpus:-?}" "$findings" "exit $status")")
done
printf '%-10s %12s %8s %6s %6s %12s %9s\n' target execs exec/s cov ft corpus findings
printf '%s\n' "${summary[@]}"
exit $found
