# The processes a launcher script started (scripts/demo.sh, scripts/sweep.sh): sourced, not run.
#
#   pids+=("$!")     after starting one
#   forget PID       once it has been reaped (its number may be reused)
#   stop_all         TERM, then KILL what is still there after 5 s, and reap
pids=()
stop_all() {
  [ ${#pids[@]} -gt 0 ] || return 0
  kill -TERM "${pids[@]}" 2>/dev/null || true
  for _ in $(seq 50); do
    local alive=0 pid
    for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    [ $alive = 0 ] && break
    sleep 0.1
  done
  kill -KILL "${pids[@]}" 2>/dev/null || true
  wait "${pids[@]}" 2>/dev/null || true
  pids=()
}
forget() {
  local kept=() p
  for p in "${pids[@]}"; do [ "$p" = "$1" ] || kept+=("$p"); done
  pids=("${kept[@]+"${kept[@]}"}")
}
