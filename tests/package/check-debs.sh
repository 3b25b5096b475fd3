#!/usr/bin/env bash
# ctest package.debs: the three Debian packages `make package` wrote (docs/packaging.md).
#   1. dpkg-deb --info/--contents: every file each package must hold is in it (and in no other),
#      the config is a conffile, the maintainer scripts are there, Depends was computed;
#   2. lintian on the three: no error (E:); its warnings are printed;
#   3. installed for real in a copy of the Debian 12 root that ../shared/tools/systemd-check.sh keeps
#      (debootstrap minbase + systemd, /var/tmp/evr-systemd-base): `apt-get install` of the .debs
#      (their dependencies from Debian's archive, as an operator's apt gets them), then in that chroot
#      evrouterd --check of the installed config, the group evrouter, `import evrouter` with the
#      chroot's python3, pkg-config evr-client; then apt-get purge.
# Exit 77 (skipped) when the .debs are not built (make package) or step 3 cannot run (not root, no
# base root; then steps 1 and 2 still ran and a failure there is a failure).
#
#   tests/package/check-debs.sh [DEBS_DIR]     (default $EVR_PACKAGES, else build-package/packages)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
debs=${1:-${EVR_PACKAGES:-$here/../../build-package/packages}}
base=${EVR_SYSTEMD_BASE:-/var/tmp/evr-systemd-base}
shopt -s nullglob
runtime=("$debs"/evrouter_*_amd64.deb); dev=("$debs"/evrouter-dev_*_amd64.deb)
python=("$debs"/python3-evrouter_*_amd64.deb)
if [ ${#runtime[@]} != 1 ] || [ ${#dev[@]} != 1 ] || [ ${#python[@]} != 1 ]; then
  echo "package test: not one each of evrouter, evrouter-dev, python3-evrouter .deb in $debs (make package); skipped" >&2
  exit 77
fi
runtime=${runtime[0]}; dev=${dev[0]}; python=${python[0]}
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }

# has DEB PATH...: each PATH (a shell pattern, as dpkg-deb --contents names it: ./usr/...) is in DEB.
has() {
  local deb=$1; shift
  local list; list=$(dpkg-deb --contents "$deb" | awk '{print $6}')
  for path in "$@"; do
    # shellcheck disable=SC2053
    grep -qx -- "$path" <<<"$list" || fail "$(basename "$deb") lacks $path"
  done
}
field() { dpkg-deb --field "$1" "$2"; }

echo "== contents"
has "$runtime" ./usr/bin/evrouterd ./usr/bin/evrctl ./lib/systemd/system/evrouterd.service \
  ./etc/evrouter/evrouter.yaml ./usr/share/man/man8/evrouterd.8.gz ./usr/share/man/man1/evrctl.1.gz \
  ./usr/share/bash-completion/completions/evrctl ./usr/share/doc/evrouter/copyright \
  ./usr/share/doc/evrouter/changelog.gz ./usr/share/doc/evrouter/README.md \
  ./usr/share/doc/evrouter/operations.md ./usr/share/doc/evrouter/packaging.md \
  ./usr/share/doc/evrouter/examples/evrouterd-keys.conf
has "$dev" ./usr/include/evr/bus.hpp ./usr/include/evr/connection.hpp ./usr/include/evr/schemas/event.capnp.h \
  './usr/lib/x86_64-linux-gnu/libevr_client.a' './usr/lib/x86_64-linux-gnu/libevr_protocol.a' \
  './usr/lib/x86_64-linux-gnu/libevr_schemas.a' './usr/lib/x86_64-linux-gnu/pkgconfig/evr-client.pc' \
  ./usr/share/evrouter/schemas/event.capnp ./usr/share/doc/evrouter-dev/copyright
has "$python" ./usr/lib/python3/dist-packages/evrouter/__init__.py ./usr/share/doc/python3-evrouter/copyright
# (Listings are read whole before grep -q: an early exit would kill dpkg-deb with SIGPIPE.)
python_list=$(dpkg-deb --contents "$python")
grep -q '/usr/lib/python3/dist-packages/evrouter/_evrouter\.cpython-.*\.so$' <<<"$python_list" ||
  fail "python3-evrouter lacks the extension module _evrouter"
# No file in two packages (dpkg would refuse to install the second).
dups=$(for d in "$runtime" "$dev" "$python"; do dpkg-deb --contents "$d" | awk '$1 !~ /^d/ {print $6}'; done | sort | uniq -d)
[ -z "$dups" ] || fail "files in more than one package: $dups"
# Stripped programs: no .debug_info left (RelWithDebInfo builds them with -g).
tmp=$(mktemp -d -t evr-package.XXXX)
cleanup() { rm -rf "$tmp"; }
trap cleanup EXIT
dpkg-deb -x "$runtime" "$tmp/x"
for program in evrouterd evrctl; do
  [[ "$(file -b "$tmp/x/usr/bin/$program")" == *", stripped"* ]] || fail "$program is not stripped"
done
echo "== control"
conffiles=$(dpkg-deb --info "$runtime" conffiles 2>/dev/null || true)
grep -qx /etc/evrouter/evrouter.yaml <<<"$conffiles" ||
  fail "/etc/evrouter/evrouter.yaml is not a conffile"
for script in postinst prerm postrm; do
  text=$(dpkg-deb --info "$runtime" "$script" 2>/dev/null || true)
  [ "${text%%$'\n'*}" = '#!/bin/sh' ] || fail "evrouter has no $script"
done
for deb in "$runtime" "$dev" "$python"; do
  printf '  %-18s %s  Depends: %s\n' "$(field "$deb" Package)" "$(field "$deb" Version)" "$(field "$deb" Depends)"
done
field "$runtime" Depends | grep -q 'libzmq5' || fail "evrouter's Depends were not computed (no libzmq5)"
field "$python" Depends | grep -q 'python3 (<<' || fail "python3-evrouter does not depend on its python3"

echo "== lintian"
if command -v lintian >/dev/null; then
  lint=$(lintian --tag-display-limit 0 "$runtime" "$dev" "$python" 2>&1 || true)
  [ -z "$lint" ] || printf '%s\n' "$lint" | sed 's/^/  /'
  ! grep -q '^E: ' <<<"$lint" || fail "lintian reports errors"
  echo "  $(grep -c '^E: ' <<<"$lint" || true) error(s), $(grep -c '^W: ' <<<"$lint" || true) warning(s)"
else
  fail "no lintian (Debian package lintian, scripts/install-deps.sh)"
fi
if [ "$failures" -ne 0 ]; then echo "package test: $failures failure(s)" >&2; exit 1; fi

echo "== installed in a Debian 12 chroot"
if [ "$(id -u)" != 0 ] || [ ! -f "$base/.ok" ]; then
  echo "package test: the chroot needs root and the base root $base (make test-systemd makes it); skipped" >&2
  exit 77
fi
root=$tmp/root
cp -a "$base/." "$root/"
mkdir -p "$root/root/debs" && cp "$runtime" "$dev" "$python" "$root/root/debs/"
in_root() { chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 "$@"; }
in_root apt-get update -qq >/dev/null 2>&1 || true
if ! in_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
    /root/debs/"$(basename "$runtime")" /root/debs/"$(basename "$dev")" /root/debs/"$(basename "$python")" \
    >"$tmp/apt.log" 2>&1; then
  tail -n 20 "$tmp/apt.log" >&2; echo "FAIL: apt-get install of the three packages" >&2; exit 1
fi
echo "  apt-get install: $(grep -c '^Setting up' "$tmp/apt.log") package(s) set up"
in_root dpkg-query -W evrouter evrouter-dev python3-evrouter | sed 's/^/  /'
in_root evrouterd --check -c /etc/evrouter/evrouter.yaml | tail -n 3 | sed 's/^/  /' ||
  fail "evrouterd --check of the installed config"
in_root evrctl --version | sed 's/^/  /' || fail "evrctl --version"
in_root getent group evrouter | sed 's/^/  group: /' || fail "postinst made no group evrouter"
in_root python3 -c 'import evrouter, sys; print("  python3 imports evrouter from", evrouter.__file__)' ||
  fail "import evrouter with the chroot's python3"
if in_root sh -c 'command -v pkg-config' >/dev/null; then
  in_root pkg-config --cflags --libs evr-client | sed 's/^/  pkg-config: /' || fail "pkg-config evr-client"
else
  echo "  (no pkg-config in the chroot: evr-client.pc not tried)"
fi
in_root env DEBIAN_FRONTEND=noninteractive apt-get purge -y -q evrouter evrouter-dev python3-evrouter >"$tmp/apt.log" 2>&1 ||
  { tail -n 20 "$tmp/apt.log" >&2; fail "apt-get purge"; }
[ ! -e "$root/etc/evrouter/evrouter.yaml" ] || fail "the conffile survived the purge"
[ ! -e "$root/usr/bin/evrouterd" ] || fail "evrouterd survived the purge"
if [ "$failures" -ne 0 ]; then echo "package test: $failures failure(s)" >&2; exit 1; fi
echo "package test: OK"
