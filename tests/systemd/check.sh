#!/bin/bash
# Runs as root inside a Debian 12 container booted with a real systemd (tests/systemd/run.sh ->
# ../shared/tools/systemd-check.sh), with `make install` of this build copied in. It tries the
# shipped unit the way an operator uses it; every step prints what it saw and the first failure
# ends the script with exit 1. The helpers and the reload checks are tests/systemd/lib.sh's.
set -uo pipefail
. /root/evr-systemd-lib.sh

config=$(systemctl cat "$unit" | sed -n 's/^ExecStart=.* -c \([^ ]*\).*/\1/p')
[ -f "$config" ] || fail "the unit's config '$config' is not installed"
cp "$config" /root/evrouter.yaml.orig

# The socket group (the unit's header): alice is in it, bob is not.
groupadd --system evrouter
useradd --no-create-home --groups evrouter alice
useradd --no-create-home bob

step "systemd-analyze verify and security"
systemd-analyze verify "$unit" || fail "systemd-analyze verify"
exposure=$(systemd-analyze security "$unit" --no-pager | sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p')
step "  exposure $exposure"
[ -n "$exposure" ] && awk -v e="$exposure" 'BEGIN { exit !(e <= 2.5) }' || fail "exposure '$exposure' > 2.5"

step "start (Type=notify: returns once READY=1)"
systemctl start "$unit" || fail "systemctl start"
[ "$(prop ActiveState)" = active ] || fail "not active after start: $(prop ActiveState)/$(prop SubState)"
pid=$(prop MainPID)
step "  active, main pid $pid, running as $(owner "$pid")"
[ "$(owner "$pid" | cut -d: -f2)" = evrouter ] || fail "the daemon does not run with group evrouter"

step "the heap in huge pages (the unit's GLIBC_TUNABLES; THP mode: $(cat /sys/kernel/mm/transparent_hugepage/enabled 2>/dev/null || echo unknown))"
memory=$(journalctl -u "$unit" --no-pager | grep -o 'memory: the heap is [a-z ]*' | tail -n 1)
step "  ${memory:-no memory line in the journal}"
tr '\0' '\n' <"/proc/$pid/environ" | grep -q '^GLIBC_TUNABLES=' || fail "the daemon runs without the unit's GLIBC_TUNABLES"
if ! grep -q '\[never\]' /sys/kernel/mm/transparent_hugepage/enabled 2>/dev/null; then
  [ "$memory" = "memory: the heap is marked for transparent huge pages" ] || fail "the daemon's heap is not in huge pages"
fi

step "evrctl status through /run/evrouter (no flags)"
evrctl status --timeout 5 || fail "evrctl status"

step "the socket group: alice (in evrouter) reaches the sockets, bob does not"
runuser -u alice -- evrctl status --timeout 5 >/dev/null || fail "alice cannot reach the control socket"
if runuser -u bob -- evrctl status --timeout 2 >/dev/null 2>&1; then fail "bob reached the control socket"; fi
runuser -u bob -- test -e /run/evrouter/evrouterd.sock 2>/dev/null && fail "bob can see into /run/evrouter"
stat -c '  %A %U:%G %n' /run/evrouter /run/evrouter/evrouterd.sock

step "evrctl send -> recv (data -> strategy, 100 BARs)"
roundtrip data strategy 100 || fail "events did not arrive"

check_reloads "$config"

step "the watchdog: SIGSTOP the main process; systemd must restart it (WatchdogSec=$(prop WatchdogUSec))"
pid=$(prop MainPID)
restarts=$(prop NRestarts)
kill -STOP "$pid"
await 60 bash -c "[ \"\$(systemctl show -p NRestarts --value $unit)\" -gt $restarts ] && [ \"\$(systemctl show -p ActiveState --value $unit)\" = active ]" ||
  fail "not restarted after the watchdog timeout: $(prop ActiveState)/$(prop SubState), restarts $(prop NRestarts)"
journalctl -u "$unit" --no-pager | grep -i 'watchdog timeout' | tail -n 1 | sed 's/^/  journal: /'
journalctl -u "$unit" --no-pager | grep -qi 'watchdog timeout' || fail "the journal does not name the watchdog"
step "  restarted: main pid $(prop MainPID) (was $pid), restarts $(prop NRestarts)"
roundtrip data strategy 10 || fail "no events after the watchdog restart"

step "the journal under the unit: events for an absent container survive a SIGKILL of evrouterd"
cp "$config" /root/evrouter.yaml.nojournal
sed -i 's|^router:|router:\n  journal: {path: /var/lib/evrouter/journal, fsync: batch}|' "$config"
systemctl restart "$unit" || fail "restart with a journal"
evrctl status | grep -q '^journal: 0 events' || fail "the journal is not on: $(evrctl status | grep journal)"
# 50 BARs for strategy, which is not connected: queued and journaled, acked to the sender.
runuser -u alice -- evrctl send --as data --type BAR --count 50 --set symbol=ACME --timeout 20 ||
  fail "send to an absent container"
step "  $(evrctl status | grep '^journal')"
restarts=$(prop NRestarts)
systemctl kill -s SIGKILL "$unit"
await 30 bash -c "[ \"\$(systemctl show -p NRestarts --value $unit)\" -gt $restarts ] && [ \"\$(systemctl show -p ActiveState --value $unit)\" = active ]" ||
  fail "not restarted after SIGKILL: $(prop ActiveState)/$(prop SubState)"
journalctl -u "$unit" --no-pager | grep 'journal: .* events to send again' | tail -n 1 | sed 's/^/  journal: /'
runuser -u alice -- evrctl recv --as strategy --count 50 --timeout 20 >/tmp/recv.out ||
  fail "the 50 journaled events did not arrive after the restart ($(wc -l </tmp/recv.out) did)"
step "  all 50 arrived after the restart; $(ls /var/lib/private/evrouter/journal | wc -l) segment file(s) in /var/lib/private/evrouter/journal"
cp /root/evrouter.yaml.nojournal "$config"
systemctl restart "$unit" || fail "restart without the journal"

step "router.security under the unit: a root-only server key handed over with LoadCredential="
keys=/etc/evrouter/keys
mkdir -p "$keys" && chmod 0755 "$keys"
for who in server reload ops alice; do evrctl keygen --out "$keys/$who" >/dev/null || fail "evrctl keygen $who"; done
chown alice "$keys/alice.key"
stat -c '  %a %U %n' "$keys/server.key" "$keys/server.pub"
cp /root/evrouter.yaml.orig "$config"
sed -i "s|^router:|router:\n  security:\n    secret_key_file: $keys/server.key\n    clients:\n      - {key: $keys/alice.pub, names: [data, strategy]}\n      - {key: $keys/reload.pub, names: [], control: admin}\n      - {key: $keys/ops.pub, names: [], control: read}|" "$config"
dropin=/etc/systemd/system/$unit.d
mkdir -p "$dropin"
cp "$(dirname "$(command -v evrctl)")/../share/doc/evrouter/examples/evrouterd-keys.conf" "$dropin/keys.conf" ||
  fail "the drop-in example is not installed"
systemctl daemon-reload
systemctl restart "$unit" || fail "restart with router.security"
journalctl -u "$unit" --no-pager | grep 'router.security: CURVE' | tail -n 1 | sed 's/^.*evrouterd\[[0-9]*\]: /  /'
if evrctl status --timeout 3 >/dev/null 2>&1; then fail "a plain evrctl status was answered under router.security"; fi
EVR_SERVER_KEY=$keys/server.pub EVR_KEY=$keys/ops.key evrctl status --timeout 5 >/dev/null || fail "status with the read key"
if EVR_SERVER_KEY=$keys/server.pub EVR_KEY=$keys/ops.key evrctl reload --timeout 5 >/dev/null 2>&1; then
  fail "a read key reloaded"
fi
EVR_SERVER_KEY=$keys/server.pub EVR_KEY=$keys/alice.key roundtrip data strategy 20 || fail "no events with alice's key"
step "  send -> recv with alice's key; a plain status and a read key's reload refused"
systemctl reload "$unit" || fail "systemctl reload under router.security (the drop-in's admin key)"
step "  systemctl reload with the drop-in's admin key: $(journalctl -u "$unit" --no-pager | grep -c 'reload: .* is unchanged\|reload applied') reload(s) logged"
rm -r "$dropin"
cp /root/evrouter.yaml.orig "$config"
systemctl daemon-reload
systemctl restart "$unit" || fail "restart without router.security"

step "systemctl stop within TimeoutStopSec ($(prop TimeoutStopUSec)), exit status 0"
start=$(ms)
systemctl stop "$unit" || fail "systemctl stop"
took=$(( $(ms) - start ))
step "  stopped in ${took} ms: $(prop ActiveState), result $(prop Result), status $(prop ExecMainStatus)"
[ "$(prop Result)" = success ] || fail "stop result $(prop Result)"
[ "$took" -lt 30000 ] || fail "stop took ${took} ms"
step "all checks passed"
