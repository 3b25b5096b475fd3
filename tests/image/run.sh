#!/usr/bin/env bash
# `make test-image`: builds docker/Dockerfile with ../shared/tools/container-build.sh (buildah, no
# Docker engine needed) and runs, inside the built image, what its users run:
#   1. evrouterd --check on the shipped config (/etc/evrouter/evrouter.yaml);
#   2. the daemon on that config, `evrctl status`, `evrctl send` -> `evrctl recv` through it, and a
#      clean SIGTERM stop;
#   3. the Strategy-First backtest exactly as docker/docker-compose.yml starts it: the config it
#      mounts, every service's entrypoint and environment, until the tracker has written its
#      results; then every process must have exited 0 and evrouterd counted no drop.
# The compose file is read here (python3-yaml) and turned into one script run in the image, so the
# commands tried are the compose file's own. Exit code: 0 all passed, else the failing step's.
#
#   tests/image/run.sh [--no-build] [TAG]   (from the repository root; TOOLS=dir of container-build.sh)
#
# The checks run in a container of the image made with buildah directly, not through
# container-build.sh's own run: the debian:12 base that tool makes with debootstrap has its root
# directory at mode 0700 (Debian's published images have 0755), which locks the image's
# unprivileged user out of everything, and no layer of an image can change the mode of "/". So the
# container's "/" is set to 0755 as root first; every check then runs as the image's own user.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
build=true
if [ "${1:-}" = --no-build ]; then build=false; shift; fi
tag=${1:-evrouter:test}
tools=${TOOLS:-$root/../shared/tools}
[ -x "$tools/container-build.sh" ] || { echo "test-image: $tools/container-build.sh not found (set TOOLS=)" >&2; exit 1; }

script=$(mktemp -t evr-image-check.XXXX)
trap 'rm -f "$script"' EXIT
/usr/bin/python3 - "$root" >"$script" <<'PY'
import shlex, sys, yaml
root = sys.argv[1]
compose = yaml.safe_load(open(f"{root}/docker/docker-compose.yml"))
services = compose["services"]
daemon = services["evrouterd"]
# The config compose mounts over /etc/evrouter/evrouter.yaml.
mount = next(v for v in daemon["volumes"] if v.endswith(":/etc/evrouter/evrouter.yaml:ro"))
config = open(f"{root}/docker/{mount.split(':')[0]}").read()
containers = {name: s for name, s in services.items() if name != "evrouterd"}
print("set -euo pipefail")
print("demo_config=$(mktemp); cat >\"$demo_config\" <<'CONFIG'")
print(config.rstrip("\n"))
print("CONFIG")
print("declare -A cmds envs")
for name, s in containers.items():
    env = " ".join(f"{k}={shlex.quote(str(v))}" for k, v in (s.get("environment") or {}).items())
    print(f"cmds[{name}]={shlex.quote(shlex.join(s['entrypoint']))}")
    print(f"envs[{name}]={shlex.quote(env)}")
PY
cat >>"$script" <<'CHECK'
say() { echo "image-check: $*"; }
fail() { echo "image-check: FAIL: $*" >&2; exit 1; }
run=/run/evrouter
ctl=ipc://$run/evrouterd.ctl
export EVR_ENDPOINT=ipc://$run/evrouterd.sock
say "user $(id -un), $(du -sh /usr/local/bin | cut -f1) of programs"

say "1. evrouterd --check -c /etc/evrouter/evrouter.yaml"
evrouterd --check -c /etc/evrouter/evrouter.yaml >/tmp/check.out || { cat /tmp/check.out; fail "--check"; }

say "2. the daemon as the image's entrypoint starts it: status, send -> recv, stop"
"${entrypoint[@]}" 2>/tmp/daemon1.log &
daemon=$!
evrctl status --control "$ctl" --timeout 10 || { cat /tmp/daemon1.log; fail "status"; }
# The entrypoint's GLIBC_TUNABLES (docker/Dockerfile): glibc marks the heap for huge pages, which
# evrouterd reports at start; where the kernel has THP off, it cannot.
memory=$(grep -o 'memory: the heap is [a-z ]*' /tmp/daemon1.log || true)
say "   ${memory:-no memory line} (the kernel's THP mode: ${thp_mode:-unknown})"
case "$thp_mode" in
  *"[never]"*|"") ;;
  *) [ "$memory" = "memory: the heap is marked for transparent huge pages" ] || { cat /tmp/daemon1.log; fail "the heap is not in huge pages"; } ;;
esac
evrctl recv --as strategy --count 5 --timeout 20 --json >/tmp/recv.out &
recv=$!
evrctl send --as data --type BAR --count 5 --set symbol=ACME --set close=101.5 --timeout 20 || fail "send"
wait "$recv" || fail "recv exited $?"
[ "$(grep -c '"ACME"' /tmp/recv.out)" = 5 ] || { cat /tmp/recv.out; fail "recv did not print the 5 BARs"; }
kill -TERM "$daemon"; wait "$daemon" || fail "evrouterd exited $? on SIGTERM"
say "   5 of 5 BARs received; evrouterd stopped with 0"

say "3. the Strategy-First backtest as docker-compose.yml starts it"
evrouterd -c "$demo_config" --runtime-dir "$run" 2>/tmp/daemon2.log &
daemon=$!
declare -A pids
for name in "${!cmds[@]}"; do
  env ${envs[$name]} bash -c "exec ${cmds[$name]}" >"/tmp/$name.log" 2>&1 &
  pids[$name]=$!
done
status=0
for name in "${!pids[@]}"; do
  if wait "${pids[$name]}"; then say "   $name exited 0"; else status=1; say "   $name exited $?"; tail -5 "/tmp/$name.log"; fi
done
evrctl stats --control "$ctl" --json >/tmp/stats.json || fail "stats"
kill -TERM "$daemon"; wait "$daemon" || fail "evrouterd exited $? on SIGTERM"
[ $status = 0 ] || fail "a container failed"
fills=$(($(wc -l </results/fills.csv) - 1))
[ "$fills" -gt 0 ] || fail "no fills in /results/fills.csv"
grep -q '"drops":{}' /tmp/stats.json || { cat /tmp/stats.json; fail "evrouterd counted drops"; }
say "   $fills fills; summary.json: $(tr -d '\n ' </results/summary.json | cut -c1-160)"
say "all checks passed"
CHECK
if $build; then "$tools/container-build.sh" "$tag"; fi
B=(buildah --storage-driver vfs)
"${B[@]}" images --format '{{.Name}}:{{.Tag}} {{.Size}}' | awk -v t="$tag" '$1 ~ t"$" {print "image: " $0}'
# The entrypoint as the image records it, so step 2 runs exactly that.
entrypoint=$("${B[@]}" inspect --type image "$tag" |
  /usr/bin/python3 -c 'import json, shlex, sys; print(shlex.join(json.load(sys.stdin)["OCIv1"]["config"]["Entrypoint"]))')
thp_mode=$(cat /sys/kernel/mm/transparent_hugepage/enabled 2>/dev/null || true)
header="entrypoint=($entrypoint); thp_mode=$(printf %q "$thp_mode")"$'\n'
c=$("${B[@]}" from "$tag")
trap 'rm -f "$script"; "${B[@]}" rm "$c" >/dev/null 2>&1 || true' EXIT
"${B[@]}" run --isolation chroot --user root "$c" -- chmod 0755 /
"${B[@]}" run --isolation chroot "$c" -- bash -c "$header$(cat "$script")"
