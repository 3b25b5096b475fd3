#!/usr/bin/env bash
# Instructions per event in each process of the pipeline (publisher -> evrouterd -> consumer), one
# process at a time under valgrind's callgrind while the other two run natively. Instruction counts
# are deterministic where timings on a shared machine are not: what docs/performance.md's
# "Counting instructions" figures come from. They leave out what the kernel does (system calls,
# wake-ups), which callgrind does not see.
#
#   bench/e2e/count-instructions.sh [BUILD_DIR] [EVENTS] [PROCESS...]     (make bench-instructions)
#
# PROCESS: publisher, evrouterd, consumer (default: all three).
#
# Prints, per process, all its threads' user-space instructions divided by the events, then the
# functions of ours that take the most (inclusive, per event). The callgrind files stay in the
# work directory it names, for callgrind_annotate.
set -euo pipefail

build=$(realpath "${1:-build}")
events=${2:-200000}
shift $(($# < 2 ? $# : 2))
processes=("$@")
[ $# -eq 0 ] && processes=(publisher evrouterd consumer)
bench="$build/bench/evr_e2e_bench"
daemon="$build/daemon/evrouterd"
for program in "$bench" "$daemon"; do
  [ -x "$program" ] || { echo "count-instructions: $program is missing (make build)" >&2; exit 1; }
done
command -v valgrind >/dev/null || { echo "count-instructions: valgrind is missing (scripts/install-deps.sh --profile)" >&2; exit 1; }

work=$(mktemp -d /tmp/evr-instructions.XXXXXX)
cat >"$work/evrouter.yaml" <<'EOF'
router:
  listen: ["ipc://evrouterd.sock"]
event_communication:
  adapters:
    - type: pipeline
      name: bench
      containers: [pub, sub1]
EOF
endpoint="ipc://$work/evrouterd.sock"
common=(--system evr --endpoint "$endpoint" --events "$events" --timeout 600 --subject bench)

# One run with `who` (publisher, evrouterd or consumer) under callgrind.
run() {
  local who=$1 daemon_pid consumer_pid
  local grind=(valgrind --tool=callgrind "--callgrind-out-file=$work/$who.out")
  local daemon_cmd=("$daemon" -c "$work/evrouter.yaml" --runtime-dir "$work" --metrics off --log-level warn)
  local consumer_cmd=("$bench" --role consumer --name sub1 --expect "$events" --warmup 0 --idle-timeout 60 "${common[@]}")
  local publisher_cmd=("$bench" --role publisher --name pub --rate 0 --route-keys 4 --pad-bytes 0 "${common[@]}")
  [ "$who" = evrouterd ] && daemon_cmd=("${grind[@]}" "${daemon_cmd[@]}")
  [ "$who" = consumer ] && consumer_cmd=("${grind[@]}" "${consumer_cmd[@]}")
  [ "$who" = publisher ] && publisher_cmd=("${grind[@]}" "${publisher_cmd[@]}")
  "${daemon_cmd[@]}" 2>"$work/evrouterd.err" &
  daemon_pid=$!
  "${consumer_cmd[@]}" >"$work/consumer.json" 2>"$work/consumer.err" &
  consumer_pid=$!
  "${publisher_cmd[@]}" >"$work/publisher.json" 2>"$work/publisher.err"
  wait "$consumer_pid"
  kill -INT "$daemon_pid"
  wait "$daemon_pid" || true
  grep -q '"lost":0' "$work/consumer.json" || { echo "count-instructions: the consumer lost events ($work)" >&2; exit 1; }
}

report() {
  local who=$1
  callgrind_annotate --inclusive=yes --threshold=100 "$work/$who.out" >"$work/$who.txt" 2>/dev/null
  /usr/bin/python3 - "$work/$who.txt" "$events" "$who" <<'PY'
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
  run "$who"
  report "$who"
done
echo "callgrind files: $work/*.out"
