#!/bin/bash
# Runs as root inside a Debian 12 container booted with a real systemd (tests/package/run-systemd.sh
# -> ../shared/tools/systemd-check.sh), whose tree holds only the packages in /root/debs and the
# helpers of tests/systemd/lib.sh. The evrouter package the way an operator uses it: apt install
# (dependencies from Debian's archive), enable --now, status, send/recv as a member of the group,
# reload good and bad, remove (service stopped, conffile kept), purge (conffile and state gone).
set -uo pipefail
. /root/evr-systemd-lib.sh
config=/etc/evrouter/evrouter.yaml
export DEBIAN_FRONTEND=noninteractive

step "apt-get install ./evrouter_*.deb (its dependencies from Debian's archive)"
apt-get update -qq >/dev/null 2>&1 || true
apt-get install -y -q /root/debs/evrouter_*.deb >/tmp/apt.log 2>&1 || { tail -n 20 /tmp/apt.log; fail "apt-get install"; }
step "  $(grep -c '^Setting up' /tmp/apt.log) package(s) set up; $(dpkg-query -W evrouter)"
getent group evrouter >/dev/null || fail "postinst made no group evrouter"
step "  group: $(getent group evrouter); unit $(systemctl is-enabled $unit 2>&1), $(prop ActiveState)"
[ "$(systemctl is-enabled $unit 2>&1)" = disabled ] || fail "the package enabled the unit"
[ "$(prop ActiveState)" = inactive ] || fail "the package started the service"
[ "$(systemctl cat $unit | sed -n 's/^ExecStart=\([^ ]*\) .*/\1/p')" = /usr/bin/evrouterd ] || fail "ExecStart is not /usr/bin/evrouterd"
[ -f "$config" ] || fail "no $config"
cp "$config" /root/evrouter.yaml.orig

step "systemctl enable --now evrouterd"
systemctl enable --now "$unit" 2>&1 | sed 's/^/  /'
[ "$(prop ActiveState)" = active ] || fail "not active after enable --now: $(prop ActiveState)/$(prop SubState)"
pid=$(prop MainPID)
step "  active, main pid $pid, running as $(owner "$pid"), enabled: $(systemctl is-enabled $unit)"
[ "$(owner "$pid" | cut -d: -f2)" = evrouter ] || fail "the daemon does not run with group evrouter"

step "evrctl status (root), then send -> recv as alice, a member of group evrouter"
evrctl status --timeout 5 | sed 's/^/  /' || fail "evrctl status"
useradd --no-create-home --groups evrouter alice
roundtrip data strategy 100 || fail "events did not arrive"

check_reloads "$config"

step "apt-get remove evrouter: the service stops, the conffile (edited: the reload's route) stays"
apt-get remove -y -q evrouter >/tmp/apt.log 2>&1 || { tail -n 20 /tmp/apt.log; fail "apt-get remove"; }
[ "$(prop ActiveState)" = inactive ] || fail "still $(prop ActiveState) after remove"
[ ! -e /usr/bin/evrouterd ] || fail "evrouterd is still installed"
[ -f "$config" ] || fail "remove deleted the conffile"
grep -q strategy_copies "$config" || fail "the conffile lost the operator's edit"
[ -e /var/lib/private/evrouter ] || fail "remove deleted the service's state"
step "  $(dpkg-query -W -f='${Package} ${db:Status-Abbrev}' evrouter); $config kept; state dir kept"

step "apt-get purge evrouter: conffile, state and the enable link go; the group stays"
apt-get purge -y -q evrouter >/tmp/apt.log 2>&1 || { tail -n 20 /tmp/apt.log; fail "apt-get purge"; }
[ ! -e "$config" ] || fail "purge left $config"
[ ! -e /etc/evrouter ] || fail "purge left /etc/evrouter: $(ls -A /etc/evrouter)"
[ ! -e /var/lib/private/evrouter ] && [ ! -L /var/lib/evrouter ] || fail "purge left the state directory"
links=$(find /etc/systemd/system -name "$unit" 2>/dev/null)
[ -z "$links" ] || fail "purge left $links"
dpkg-query -W -f='${db:Status-Status}' evrouter 2>/dev/null | grep -qx installed && fail "evrouter still installed"
getent group evrouter >/dev/null || fail "purge removed the group evrouter"
systemctl daemon-reload
[ "$(systemctl show -p LoadState --value $unit)" = not-found ] || fail "systemd still knows the unit"
step "all checks passed"
