# Shared by the scripts that run as root inside the systemd container (../shared/tools/systemd-check.sh):
# tests/systemd/check.sh (the unit of a `make install` tree) and tests/package/systemd-check.sh (the
# Debian package installed with apt). The runner copies this file to /root/evr-systemd-lib.sh in
# the container's tree; the scripts source it. Every step prints what it saw; fail ends the script.
unit=evrouterd.service
ms() { echo $(( $(date +%s%N) / 1000000 )); }
t0=$(ms)
step() { local t=$(( $(ms) - t0 )); printf 'systemd-check %3d.%01ds: %s\n' $((t / 1000)) $((t % 1000 / 100)) "$*"; }
# The user and group a process runs as (minbase has no ps).
owner() { echo "$(getent passwd "$(awk '/^Uid:/ {print $2}' /proc/"$1"/status)" | cut -d: -f1):$(getent group "$(awk '/^Gid:/ {print $2}' /proc/"$1"/status)" | cut -d: -f1)"; }
fail() { echo "systemd-check: FAIL: $*" >&2; journalctl -u "$unit" --no-pager -n 40 >&2; exit 1; }
prop() { systemctl show -p "$1" --value "$unit"; }
# Wait up to $1 seconds for the command in $2... to succeed (polling systemd's state, 0.1 s apart).
await() { local limit=$1; shift; local end=$(( $(date +%s) + limit ));
  until "$@"; do [ "$(date +%s)" -lt "$end" ] || return 1; sleep 0.1; done; }

# send -> recv through the daemon: $1 sender, $2 receiver, $3 count; run as alice, a container user.
roundtrip() {
  runuser -u alice -- evrctl recv --as "$2" --count "$3" --timeout 20 >/tmp/recv.out &
  local recv=$!
  runuser -u alice -- evrctl send --as "$1" --type BAR --count "$3" --set symbol=ACME --set close=100 --timeout 20 ||
    { kill $recv; return 1; }
  wait $recv || return 1
  [ "$(wc -l </tmp/recv.out)" = "$3" ]
}

# systemctl reload of the running unit (generation 1, the shipped config $1 with its route
# data -> strategy): a good config adds strategy -> tracker (generation 2); then a bad one is
# refused (exit 1, file:line:col in the journal) and both routes stay. $1 is left as the good one.
check_reloads() {
  local config=$1
  step "systemctl reload with a good config (a new route strategy -> tracker)"
  cat >>"$config" <<'YAML'
    - type: "broadcast"
      name: "strategy_copies"
      source: "strategy"
      targets: ["tracker"]
YAML
  systemctl reload "$unit" || fail "reload of a good config exited $?"
  evrctl status | grep -q 'generation 2' || fail "generation did not move to 2"
  roundtrip strategy tracker 10 || fail "the new route does not carry events"

  step "systemctl reload with a bad config: exit 1, error with file:line:col, old routes kept"
  cp "$config" /root/evrouter.yaml.good
  printf '    - type: "pipeline"\n      containers: ["data", "nobody_declared_this", 5]\n  bogus_key: 1\n' >>"$config"
  systemctl reload "$unit"; local rc=$?
  [ $rc = 1 ] || fail "reload of a bad config exited $rc, not 1"
  journalctl -u "$unit" --no-pager | grep -E "$(basename "$config"):[0-9]+:[0-9]+: " | tail -n 3 | sed 's/^/  journal: /'
  # journald may take a moment to store the lines the processes wrote.
  await 10 bash -c "journalctl -u $unit --no-pager | grep -qE '$(basename "$config"):[0-9]+:[0-9]+: '" ||
    fail "no file:line:col in the journal"
  [ "$(prop ActiveState)" = active ] || fail "not active after a rejected reload"
  evrctl status | grep -q 'generation 2' || fail "a rejected reload changed the generation"
  roundtrip data strategy 10 || fail "old route data -> strategy lost after a rejected reload"
  roundtrip strategy tracker 10 || fail "old route strategy -> tracker lost after a rejected reload"
  cp /root/evrouter.yaml.good "$config"
}
