#!/usr/bin/env bash
# Instructions per event in each process of the pipeline (publisher -> evrouterd -> consumer), one
# process at a time under valgrind's callgrind while the other two run natively. Instruction counts
# are deterministic where timings on a shared machine are not: what docs/performance.md's
# "Counting instructions" figures come from. They leave out what the kernel does (system calls,
# wake-ups), which callgrind does not see.
#
#   bench/e2e/count-instructions.sh [--pattern P] [BUILD_DIR] [EVENTS] [PROCESS...]     (make bench-instructions)
#   bench/e2e/count-instructions.sh --times [--pattern P] [BUILD_DIR] [EVENTS] [RUNS]
#
# PROCESS: publisher, evrouterd, consumer (default: all three). --pattern: pipeline (default),
# broadcast or selective, with the table's evrouterd config for it (`evr_e2e_bench --print-config`)
# and its consumers, sub1 measured, the others native. The consumer's figures are per event it
# received (a quarter of them in selective), the publisher's and evrouterd's per event published.
#
# Prints, per process, all its threads' user-space instructions divided by the events, then the
# functions of ours that take the most (inclusive, per event). The callgrind files stay in the
# work directory it names, for callgrind_annotate.
#
# --times: the same pipeline with all three processes native, each under `perf stat` (Debian's
# linux-perf), RUNS times (default 3): each process's user and kernel CPU time per event and its
# context switches and page faults per 1,000 events, per run and the medians ("Where each process's time goes
# now" in docs/performance.md). Whole processes, start-up included: use a million events or more.
set -euo pipefail

times=0
pattern=pipeline
while [ $# -gt 0 ]; do
  case "$1" in
    --times) times=1; shift ;;
    --pattern) pattern=${2:?--pattern needs a pattern}; shift 2 ;;
    *) break ;;
  esac
done
build=$(realpath "${1:-build}")
events=${2:-$((times ? 1000000 : 200000))}
shift $(($# < 2 ? $# : 2))
runs=${1:-3}  # --times
processes=("$@")
[ $# -eq 0 ] && processes=(publisher evrouterd consumer)
bench="$build/bench/evr_e2e_bench"
daemon="$build/daemon/evrouterd"
for program in "$bench" "$daemon"; do
  [ -x "$program" ] || { echo "count-instructions: $program is missing (make build)" >&2; exit 1; }
done
tool=valgrind
[ $times = 1 ] && tool=perf
command -v $tool >/dev/null || { echo "count-instructions: $tool is missing (scripts/install-deps.sh --profile)" >&2; exit 1; }

work=$(mktemp -d /tmp/evr-instructions.XXXXXX)
"$bench" --print-config "$pattern" >"$work/evrouter.yaml"
# Its consumers, in order (sub1 is the one measured), and what each receives: every event, or in
# selective one route key's share (the publisher labels event i with key i % 4, one rule per key;
# Scenario::expectedBy in bench/e2e/scenarios.cpp).
mapfile -t consumers < <(grep -o 'sub[0-9]*' "$work/evrouter.yaml" | awk '!seen[$0]++')
per_consumer=$events
if [ "$pattern" = selective ]; then
  (( events % ${#consumers[@]} == 0 )) || { echo "count-instructions: EVENTS must divide by ${#consumers[@]} in selective" >&2; exit 2; }
  per_consumer=$((events / ${#consumers[@]}))
fi
endpoint="ipc://$work/evrouterd.sock"
# evrouterd as the systemd unit runs it: with the unit's GLIBC_TUNABLES (docs/performance.md, "The
# heap in huge pages"), read from the unit this build generated; one given to this script stands.
shipped_env=()
tunables=$(sed -n 's/^Environment=GLIBC_TUNABLES=//p' "$build/systemd/evrouterd.service" 2>/dev/null || true)
[ -n "$tunables" ] && [ -z "${GLIBC_TUNABLES:-}" ] && shipped_env=("GLIBC_TUNABLES=$tunables")
common=(--system evr --endpoint "$endpoint" --events "$events" --timeout 600 --subject bench)

# One run of the pipeline, each process behind a command prefix: the arrays evrouterd_wrap,
# consumer_wrap and publisher_wrap (empty: native).
run() {
  local -n wrap_daemon=evrouterd_wrap wrap_consumer=consumer_wrap wrap_publisher=publisher_wrap
  local daemon_pid consumer_pids=() name wrap
  env "${shipped_env[@]}" "${wrap_daemon[@]}" "$daemon" -c "$work/evrouter.yaml" --runtime-dir "$work" --metrics off --log-level warn \
    2>"$work/evrouterd.err" &
  daemon_pid=$!
  for name in "${consumers[@]}"; do
    wrap=()
    [ "$name" = "${consumers[0]}" ] && wrap=("${wrap_consumer[@]}")
    "${wrap[@]}" "$bench" --role consumer --name "$name" --expect "$per_consumer" --warmup 0 --idle-timeout 60 \
      "${common[@]}" >"$work/$name.json" 2>"$work/$name.err" &
    consumer_pids+=($!)
  done
  "${wrap_publisher[@]}" "$bench" --role publisher --name pub --rate 0 --route-keys 4 --pad-bytes 0 \
    "${common[@]}" >"$work/publisher.json" 2>"$work/publisher.err"
  wait "${consumer_pids[@]}"
  # evrouterd itself: under perf it is perf's child (perf does not pass SIGINT on).
  kill -INT "$(pgrep -P "$daemon_pid" evrouterd || echo "$daemon_pid")"
  wait "$daemon_pid" || true
  for name in "${consumers[@]}"; do
    grep -q '"lost":0' "$work/$name.json" || { echo "count-instructions: $name lost events ($work)" >&2; exit 1; }
  done
}

# --times: every process under perf stat, RUNS times; user and kernel ns per event, medians.
if [ $times = 1 ]; then
  [[ $runs =~ ^[1-9][0-9]*$ ]] || { echo "count-instructions: RUNS must be a number, not '$runs'" >&2; exit 2; }
  stat=(perf stat -e task-clock,context-switches,page-faults -o)
  for ((r = 1; r <= runs; ++r)); do
    evrouterd_wrap=("${stat[@]}" "$work/evrouterd.$r.stat")
    consumer_wrap=("${stat[@]}" "$work/consumer.$r.stat")
    publisher_wrap=("${stat[@]}" "$work/publisher.$r.stat")
    run
  done
  /usr/bin/python3 - "$work" "$events" "$runs" "$per_consumer" <<'PY'
import re, statistics, sys
work, published, runs, per_consumer = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
events = published
print(f"{'process':10} {'user ns/ev':>11} {'kernel ns/ev':>13} {'switches/1k ev':>15} {'faults/1k ev':>13}   (medians of {runs} runs of {events:,} events; user + kernel of each run in brackets)")
for who in ("publisher", "evrouterd", "consumer"):
    events = per_consumer if who == "consumer" else published  # the consumer: per event it received
    rows = []
    for r in range(1, runs + 1):
        text = open(f"{work}/{who}.{r}.stat").read()
        user = float(re.search(r"([\d.]+) seconds user", text).group(1))
        system = float(re.search(r"([\d.]+) seconds sys", text).group(1))
        switches = int(re.search(r"([\d,]+)\s+context-switches", text).group(1).replace(",", ""))
        faults = int(re.search(r"([\d,]+)\s+page-faults", text).group(1).replace(",", ""))
        rows.append((user * 1e9 / events, system * 1e9 / events, switches * 1000 / events, faults * 1000 / events))
    med = [statistics.median(column) for column in zip(*rows)]
    runs_text = "; ".join(f"{u:.0f} + {k:.0f}" for u, k, _, _ in rows)
    print(f"{who:10} {med[0]:11.0f} {med[1]:13.0f} {med[2]:15.1f} {med[3]:13.1f}   ({runs_text})")
PY
  echo "perf stat files: $work/*.stat"
  exit 0
fi

report() {
  local who=$1 count=$events
  [ "$who" = consumer ] && count=$per_consumer  # per event it received
  callgrind_annotate --inclusive=yes --threshold=100 "$work/$who.out" >"$work/$who.txt" 2>/dev/null
  /usr/bin/python3 - "$work/$who.txt" "$count" "$who" <<'PY'
import re, sys
path, events, who = sys.argv[1], int(sys.argv[2]), sys.argv[3]
rows = []
for line in open(path, errors="replace"):
    m = re.match(r"\s*([\d,]+) \(\s*[\d.]+%\)\s+(.*)", line)
    if m:
        rows.append((int(m.group(1).replace(",", "")), m.group(2)))
total = next(n for n, what in rows if what.startswith("PROGRAM TOTALS"))
print(f"{who}: {total / events:,.0f} instructions per event ({events:,} events, all threads)")
seen = set()
for n, what in rows:
    # Our code only, one line per function (callgrind lists inlined parts under other files too).
    m = re.match(r"/work/.*?/(client|daemon|protocol)/[^:]*:(.*?)(?: \[.*)?$", what)
    if not m or "::" not in m.group(2) or m.group(2).startswith("std::"):
        continue
    name = re.sub(r"\(.*", "", m.group(2))
    if name in seen or n / events < 50:
        continue
    seen.add(name)
    print(f"  {n / events:8,.0f}  {name}")
    if len(seen) == 12:
        break
PY
}

for who in "${processes[@]}"; do
  case "$who" in publisher | evrouterd | consumer) ;; *) echo "count-instructions: no process '$who'" >&2; exit 2 ;; esac
  evrouterd_wrap=() consumer_wrap=() publisher_wrap=()
  declare -n under=${who}_wrap
  under=(valgrind --tool=callgrind "--callgrind-out-file=$work/$who.out")
  unset -n under
  run
  report "$who"
done
echo "callgrind files: $work/*.out"
