#!/usr/bin/env bash
# The backtest demo launcher (docs/demo.md).
#
#   scripts/demo.sh [--config FILE] [--slice N] [--speed X] [--data PATH] [--results DIR]
#                   [--build DIR] [--timeout S]
#   scripts/demo.sh --all [same options]     the four organizations' configs/demo/*.yaml in turn, then a summary
#
# For one config: checks it (evrouterd --check), starts evrouterd and one process per container
# of the config's `# launch:` table, shows progress (bars through the tracker of the total,
# events/s through evrouterd), waits until END_OF_DATA has passed through every container, stops
# the daemon, and writes results/<organization>/: report.md, equity.svg (gnuplot), topology.svg
# (Graphviz, from `evrctl graph`), the tracker's data files, evrouterd's journal of every routed
# event (journal/), the first trade's lineage from it (lineage.txt, lineage.svg: `evrctl trace`)
# and every process's log (logs/). Ctrl-C stops every process it started. Who each container
# waits for is evrouterd's to say (the routes of the config; the client library's event-time
# ordering, docs/determinism.md).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build="$root/build"
configs=()
all=false
slice=0
speed=0
data="$root/examples/data"
results="$root/results"
timeout_s=300

usage() { sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit "${1:-0}"; }
while [ $# -gt 0 ]; do
  case "$1" in
    --config) configs+=("$2"); shift 2 ;;
    --all) all=true; shift ;;
    --slice) slice=$2; shift 2 ;;
    --speed) speed=$2; shift 2 ;;
    --data) data=$2; shift 2 ;;
    --results) results=$2; shift 2 ;;
    --build) build=$2; shift 2 ;;
    --timeout) timeout_s=$2; shift 2 ;;
    -h|--help) usage 0 ;;
    *) echo "demo: unknown argument '$1'" >&2; usage 1 >&2 ;;
  esac
done
if $all; then configs+=("$root"/configs/demo/{strategy_first,classifier_first,risk_first,portfolio_first}.yaml); fi
[ ${#configs[@]} -gt 0 ] || configs=("$root/configs/demo/classifier_first.yaml")

build=$(realpath -m "$build")
results=$(realpath -m "$results")
data=$(realpath -m "$data")
evrouterd="$build/daemon/evrouterd"
# Containers written in Python (examples/python) import the evrouter package of this build.
export PYTHONPATH="$build/python${PYTHONPATH:+:$PYTHONPATH}"
evrctl="$build/client/evrctl"
for tool in "$evrouterd" "$evrctl"; do
  [ -x "$tool" ] || { echo "demo: $tool is missing: build first (make build)" >&2; exit 1; }
done
for tool in gnuplot dot; do
  command -v "$tool" >/dev/null || { echo "demo: '$tool' is missing: make deps (gnuplot-nox, graphviz)" >&2; exit 1; }
done
tty=false
[ -t 1 ] && tty=true

# pids, stop_all, forget: every process this script started and has not reaped.
# shellcheck source=lib/process_group.sh
source "$root/scripts/lib/process_group.sh"
trap stop_all EXIT
trap 'echo; echo "demo: interrupted, stopping everything"; stop_all; exit 130' INT TERM

# The value of key=value in the last line of FILE that has it (empty when none).
last_value() { grep -o "$2=[^ ]*" "$1" 2>/dev/null | tail -n 1 | cut -d= -f2 || true; }

summary_rows=()

run_one() {
  local config=$1
  local organization
  organization=$(sed -n 's/^organization:[[:space:]]*"\{0,1\}\([a-z_]*\)"\{0,1\}.*/\1/p' "$config" | head -n 1)
  [ -n "$organization" ] || organization=$(basename "$config" .yaml)
  local out="$results/$organization"
  # Sockets and logs of this run: a short path (ipc paths are limited to 107 bytes); the logs are
  # copied into $out/logs at the end, and the directory is kept when the run fails.
  local run_dir
  run_dir=$(mktemp -d "${TMPDIR:-/tmp}/evr-demo-$organization.XXXXXX")
  rm -rf "$out"
  mkdir -p "$out"
  echo "== demo: $organization ($config)"

  if ! "$evrouterd" --check -c "$config" >"$run_dir/check.txt" 2>&1; then
    cat "$run_dir/check.txt" >&2
    echo "demo: $config does not pass evrouterd --check" >&2
    return 1
  fi
  grep -i "warning" "$run_dir/check.txt" | sed 's/^/   /' || true

  local names=() commands=()
  while read -r name program rest; do
    [ -x "$build/examples/$program" ] || { echo "demo: $config: no program $build/examples/$program" >&2; return 1; }
    # Placeholders become shell-quoted words, so paths with spaces survive the eval below.
    rest=${rest//\{data\}/$(printf %q "$data")}
    rest=${rest//\{slice\}/$(printf %q "$slice")}
    rest=${rest//\{speed\}/$(printf %q "$speed")}
    rest=${rest//\{results\}/$(printf %q "$out")}
    local command
    command="$(printf %q "$build/examples/$program") --as $name $rest"
    names+=("$name")
    commands+=("$command")
    printf '%s\t%s\n' "$name" "${command#"$(printf %q "$build/examples/")"}" >>"$run_dir/commands.txt"
  done < <(sed -n 's/^# launch:[[:space:]]*//p' "$config")
  [ ${#names[@]} -gt 0 ] || { echo "demo: $config has no '# launch:' lines" >&2; return 1; }

  local control="ipc://$run_dir/evrouterd.ctl"
  export EVR_ENDPOINT="ipc://$run_dir/evrouterd.sock"
  journaled_config "$config" "$out/journal" >"$run_dir/evrouter.yaml" || return 1
  "$evrouterd" -c "$run_dir/evrouter.yaml" --runtime-dir "$run_dir" --metrics off 2>"$run_dir/evrouterd.log" &
  local daemon=$!
  pids+=("$daemon")
  local started=$SECONDS
  local start_ns
  start_ns=$(date +%s%N)
  # Containers start once the daemon answers on its control socket (bounded), so the progress
  # queries below talk to a running daemon from the first one on.
  if ! "$evrctl" status --control "$control" --timeout 30 >/dev/null 2>&1; then
    echo "demo: evrouterd did not answer within 30 s; see $run_dir/evrouterd.log" >&2
    stop_all
    return 1
  fi
  local ready_ns
  ready_ns=$(date +%s%N)
  local running=() i
  for i in "${!names[@]}"; do
    eval "exec ${commands[$i]}" >"$run_dir/${names[$i]}.log" 2>&1 &
    pids+=("$!")
    running+=("$!:${names[$i]}")
  done
  echo "   started evrouterd and ${#names[@]} containers: ${names[*]}"

  # Progress until every container has exited (they do after END_OF_DATA).
  # events and rate show "?" until evrouterd has answered; a query that gets no answer within its
  # bound (a busy machine) keeps the last figures instead of reading as 0. The rate counts from
  # when the daemon first answered, before any container ran (0 events then).
  local failed="" events="?" rate="?" last_in=0 last_t=$ready_ns graphed=false last_print=0
  while [ ${#running[@]} -gt 0 ]; do
    local still=() entry
    for entry in "${running[@]}"; do
      local pid=${entry%%:*} name=${entry#*:}
      if kill -0 "$pid" 2>/dev/null; then still+=("$entry"); continue; fi
      local code=0
      wait "$pid" || code=$?
      forget "$pid"
      [ "$code" = 0 ] || failed+=" $name(exit $code)"
    done
    running=("${still[@]+"${still[@]}"}")
    if [ -n "$failed" ]; then break; fi
    if [ $((SECONDS - started)) -ge "$timeout_s" ]; then failed=" timeout after ${timeout_s}s"; break; fi

    local stats total done answer now
    stats=$("$evrctl" stats --control "$control" --timeout 5 2>/dev/null | head -n 1 || true)
    answer=$(sed -n 's/^in \([0-9]*\),.*/\1/p' <<<"$stats")
    now=$(date +%s%N)
    if [ -n "$answer" ]; then
      events=$answer
      if [ $((now - last_t)) -ge 500000000 ]; then
        rate=$(( (answer - last_in) * 1000000000 / (now - last_t) ))
        last_in=$answer
        last_t=$now
      fi
    fi
    if ! $graphed && [ "$("$evrctl" status --control "$control" --timeout 1 2>/dev/null |
                          sed -n 's/^connected (\([0-9]*\)).*/\1/p')" = "${#names[@]}" ]; then
      "$evrctl" graph --control "$control" >"$out/topology.dot" 2>/dev/null && graphed=true
    fi
    total=$(last_value "$run_dir/data.log" bars)
    done=$(last_value "$run_dir/performance_tracker.log" bars)
    local line
    line=$(printf "   bars %s/%s through the tracker, %s events routed, %s events/s, %ss" \
           "${done:-0}" "${total:-?}" "$events" "$rate" $((SECONDS - started)))
    if $tty; then
      printf "\r%s   " "$line"
    elif [ $((SECONDS - last_print)) -ge 2 ]; then
      echo "$line"
      last_print=$SECONDS
    fi
    sleep 0.2
  done
  # The last figures: on a terminal they stay on the line; elsewhere a run shorter than the 2 s
  # between progress lines would otherwise print none.
  if $tty; then echo; elif [ -z "$failed" ] && [ -n "${line:-}" ]; then echo "$line"; fi
  local elapsed_ms=$(( ($(date +%s%N) - start_ns) / 1000000 ))

  if [ -n "$failed" ]; then
    echo "demo: $organization failed:$failed; logs in $run_dir" >&2
    for name in "${names[@]}"; do tail -n 3 "$run_dir/$name.log" | sed "s/^/   $name: /" >&2; done
    stop_all
    return 1
  fi

  "$evrctl" stats --control "$control" >"$run_dir/stats.txt"
  $graphed || "$evrctl" graph --control "$control" >"$out/topology.dot"
  kill -TERM "$daemon"
  local code=0
  wait "$daemon" || code=$?
  pids=()
  [ "$code" = 0 ] || { echo "demo: evrouterd exited with $code; see $run_dir/evrouterd.log" >&2; return 1; }

  dot -Tsvg "$out/topology.dot" -o "$out/topology.svg"
  local portfolios
  portfolios=$(($(head -n 1 "$out/pnl_by_portfolio.csv" | tr ',' '\n' | wc -l) - 1))
  gnuplot -e "dir='$out'; title='$organization'; portfolios=$portfolios" "$root/examples/report/equity.gnuplot"
  sed -n 's/^route \(.*\) -> \(.*\): \([0-9]*\)$/| \1 | \2 | \3 |/p' "$run_dir/stats.txt" >"$out/routes.md"
  write_lineage "$out"
  write_report "$config" "$organization" "$out" "$run_dir" "$elapsed_ms" "${names[@]}"
  mkdir -p "$out/logs"
  cp "$run_dir"/*.log "$run_dir/check.txt" "$run_dir/stats.txt" "$run_dir/evrouter.yaml" "$out/logs/"
  rm -rf "$run_dir"

  local tracker="$out/logs/performance_tracker.log" routed
  routed=$(sed -n 's/^in \([0-9]*\),.*/\1/p' "$out/logs/stats.txt")
  summary_rows+=("$(printf "%-17s %6s %6s %7s %8s%% %7s %8s%% %8s %7ss" "$organization" \
    "$(last_value "$tracker" days)" "$(last_value "$tracker" fills)" "$(last_value "$tracker" trades)" \
    "$(last_value "$tracker" return | tr -d %)" "$(last_value "$tracker" sharpe)" \
    "$(last_value "$tracker" max_drawdown | tr -d %)" "$routed" "$(seconds "$elapsed_ms" 1)")")
  echo "   $(grep ' done ' "$tracker" | tail -n 1)"
  echo "   results: $out/report.md"
}

# The config evrouterd runs with: the demo config plus a journal of every routed event
# (`types: all`) in the run's results, for `evrctl trace` (the report's lineage) and `evrctl
# journal diff` (scripts/backtest-determinism.sh). A generated copy rather than a `journal:` in the
# shipped configs: a relative journal path would resolve against configs/demo/ (docs/config.md),
# so every run would write into the source tree, and whoever copies a demo config would get a
# journal they did not ask for. The copy lives in the run directory and gets an absolute path; the
# demo configs name no other file (a relative key file would resolve against the copy's place).
# fsync none: the journal is for analysis after the run, not for surviving a crash.
journaled_config() {
  local config=$1 journal=$2
  local entry="  journal: {path: \"$journal\", fsync: none, types: all}"
  if grep -q '^router:' "$config"; then
    if awk '/^router:/ { on = 1; next } /^[^ #]/ { on = 0 } on && /^  journal:/ { found = 1 } END { exit !found }' "$config"; then
      echo "demo: $config already has router.journal; the demo sets its own" >&2
      return 1
    fi
    awk -v entry="$entry" '{ print } /^router:/ { print entry }' "$config"
  else
    cat "$config"
    printf '\nrouter:\n%s\n' "$entry"
  fi
}

# lineage.txt and lineage.svg: `evrctl trace` of the run's first FILL, from the journal. Empty
# lineage.txt when the run has no FILL; the chain as far as it goes when a cause is missing.
write_lineage() {
  local out=$1 fill_id
  rm -f "$out/lineage.txt" "$out/lineage.svg"
  # The first FILL record's event id (the dump's event object is the only one with an "id" key).
  fill_id=$({ "$evrctl" journal dump "$out/journal" 2>/dev/null || true; } |
            grep -m 1 '"kind":"event".*"type":"FILL"' | grep -o '"id":[0-9]*' | head -n 1 | cut -d: -f2 || true)
  : >"$out/lineage.txt"
  [ -n "$fill_id" ] || return 0
  # Notes and problems (stderr) after the chain.
  "$evrctl" trace "$fill_id" --journal "$out/journal" >"$out/lineage.txt" 2>"$out/lineage.err" || true
  cat "$out/lineage.err" >>"$out/lineage.txt"
  rm -f "$out/lineage.err"
  if "$evrctl" trace "$fill_id" --journal "$out/journal" --format dot >"$out/lineage.dot" 2>/dev/null ||
     [ -s "$out/lineage.dot" ]; then
    dot -Tsvg "$out/lineage.dot" -o "$out/lineage.svg" || rm -f "$out/lineage.svg"
  fi
  rm -f "$out/lineage.dot"
}

write_report() {
  local config=$1 organization=$2 out=$3 run_dir=$4 elapsed_ms=$5
  shift 5
  local routed
  routed=$(sed -n 's/^in \([0-9]*\),.*/\1/p' "$run_dir/stats.txt")
  {
    echo "# Backtest demo: $organization"
    echo
    echo "Config \`${config#"$root"/}\`; data \`${data#"$root"/}\`$([ "$slice" != 0 ] && echo ", first $slice days");"
    echo "$(jq_free_field "$out/summary.json" first_date) to $(jq_free_field "$out/summary.json" last_date)," \
         "$(jq_free_field "$out/summary.json" days) trading days, $(jq_free_field "$out/summary.json" bars) bars."
    echo "Every container below ran as its own process; evrouterd routed every event between them."
    echo
    echo "## Results"
    echo
    cat "$out/metrics.md"
    echo
    echo "PnL is after commissions and slippage. Sharpe: annualised from daily returns (account) or daily PnL"
    echo "over the account capital (portfolio, strategy). Buy & hold: the equal-weighted average return of the"
    echo "symbols over the same days. A trade is a round trip of one book line (portfolio, strategy, symbol)."
    echo "The tracker checked its account against the broker's own statement on"
    echo "$(jq_free_field "$out/summary.json" statement_checks) days: $(jq_free_field "$out/summary.json" statement_mismatches) disagreements."
    echo
    echo "![equity, PnL per portfolio and drawdown](equity.svg)"
    echo
    echo "## What ran"
    echo
    echo "| container | command | its last words |"
    echo "|---|---|---|"
    local name
    for name in "$@"; do
      echo "| $name | \`$(awk -F '\t' -v n="$name" '$1 == n { print $2 }' "$run_dir/commands.txt")\` |" \
           "$(grep ' done ' "$run_dir/$name.log" | tail -n 1 | sed "s/^$name: done //") |"
    done
    echo
    echo "## Events per route (evrouterd's stats)"
    echo
    echo "$routed events published into evrouterd and routed:"
    echo
    echo "| from | to | events |"
    echo "|---|---|---:|"
    cat "$out/routes.md"
    echo
    echo "![routing topology](topology.svg)"
    echo
    echo "## Reproducibility"
    echo
    echo "Every container's connection hands its handlers the events of its inputs one trading day at a time,"
    echo "in event-time order, once all of its inputs have passed that day (the client library's event-time"
    echo "ordering, docs/determinism.md). The figures above, the fills and the route counts are therefore the same on"
    echo "every run with the same data and config; \`scripts/backtest-determinism.sh\` runs each organization"
    echo "twice and compares these files and, with \`evrctl journal diff\`, the events on every route. Only this"
    echo "run's timing differs: $(seconds "$elapsed_ms" 2) s wall clock."
    echo
    echo "## Lineage of the first trade"
    echo
    if [ -s "$out/lineage.txt" ]; then
      echo "The run's first FILL and the chain of events that caused it, effect first, from evrouterd's journal of"
      echo "every routed event (\`journal/\`): \`evrctl trace ID --journal journal\` (docs/operations.md, \"Tracing an"
      echo "event's lineage\"). Each event names the event whose handler published it."
      echo
      echo '```'
      cat "$out/lineage.txt"
      echo '```'
      echo
      [ -f "$out/lineage.svg" ] && echo "![lineage of the first trade](lineage.svg)"
    else
      echo "This run has no FILL."
    fi
  } >"$out/report.md"
}

# Milliseconds as seconds with N decimals.
seconds() { awk -v ms="$1" -v n="$2" 'BEGIN { printf "%.*f", n, ms / 1000 }'; }

# A number or string field of the tracker's flat summary.json, without a JSON tool.
jq_free_field() { sed -n "s/^  \"$2\": \"\{0,1\}\([^\",]*\)\"\{0,1\},\{0,1\}$/\1/p" "$1" | head -n 1; }

status=0
for config in "${configs[@]}"; do
  run_one "$(realpath "$config")" || status=1
  [ $status = 0 ] || break
done
if [ ${#summary_rows[@]} -gt 1 ] || $all; then
  echo
  printf "%-17s %6s %6s %7s %9s %7s %9s %8s %8s\n" organization days fills trades return sharpe "max dd" routed time
  printf "%s\n" "${summary_rows[@]}"
fi
exit $status
