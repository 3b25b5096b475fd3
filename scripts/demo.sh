#!/usr/bin/env bash
# The issue-2 demo: evrouterd on configs/default.yaml and four container processes
#   data -> strategy -> execution (pipeline)   execution -> tracker (broadcast: FILL, END_OF_DATA)
# Every container is its own process with its own bus; evrouterd relays between them. The demo
# ends when END_OF_DATA has reached the tracker, then stops everything (also on Ctrl-C).
set -euo pipefail

build_dir=${1:-build}
config=${EVR_DEMO_CONFIG:-configs/default.yaml}
run_dir=$(realpath -m "$build_dir/demo-run")
bin="$build_dir/examples"
rm -rf "$run_dir"
mkdir -p "$run_dir"
export EVR_ENDPOINT="ipc://$run_dir/evrouterd.sock"

pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT
trap 'echo; echo "demo: interrupted, stopping"; exit 130' INT TERM

echo "demo: evrouterd --check -c $config"
"$build_dir/daemon/evrouterd" --check -c "$config" | sed 's/^/    /'

# Metrics on any free loopback port, so a second demo (or a running evrouterd) never collides.
"$build_dir/daemon/evrouterd" -c "$config" --runtime-dir "$run_dir" --metrics 127.0.0.1:0 \
  2>"$run_dir/evrouterd.log" &
daemon=$!
pids+=("$daemon")

# Containers may start in any order; the tracker first so nothing scrolls by before it listens.
"$bin/pnl_tracker" & tracker=$!; pids+=("$tracker")
"$bin/paper_execution" & pids+=("$!")
"$bin/sma_strategy" & pids+=("$!")
"$bin/data_feed" --bars "${EVR_DEMO_BARS:-120}" --rate "${EVR_DEMO_RATE:-300}" & pids+=("$!")

# The tracker exits once END_OF_DATA has passed through the whole chain.
if ! timeout 120 tail --pid="$tracker" -f /dev/null; then
  echo "demo: END_OF_DATA did not reach the tracker within 120 s" >&2
  exit 1
fi
# The other containers stop on END_OF_DATA too; give them a few seconds, then stop them.
for pid in "${pids[@]:1}"; do
  timeout 10 tail --pid="$pid" -f /dev/null || { echo "demo: stopping pid $pid"; kill "$pid" 2>/dev/null || true; }
done
echo
echo "demo: evrctl stats (where every event went):"
"$build_dir/client/evrctl" stats --control "ipc://$run_dir/evrouterd.ctl" | sed 's/^/    /' || true
kill -TERM "$daemon"
timeout 10 tail --pid="$daemon" -f /dev/null || kill -KILL "$daemon"
pids=()
echo
echo "demo: evrouterd log ($run_dir/evrouterd.log):"
sed 's/^/    /' "$run_dir/evrouterd.log"
