#!/usr/bin/env bash
# `make test-systemd` (and ctest's systemd.unit): installs this build into a temporary tree
# (`cmake --install` with DESTDIR, as `make install` lays it out) and runs tests/systemd/check.sh
# as root inside Debian 12 booted with a real systemd (../shared/tools/systemd-check.sh).
# Exit code: check.sh's; 77 (skipped) when no container can be booted here: not root, no
# systemd-check.sh, or the tool's own 77.
#
#   tests/systemd/run.sh BUILD_DIR          (TOOLS=dir of systemd-check.sh, default ../shared/tools)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(realpath "${1:?BUILD_DIR}")
tools=${TOOLS:-$here/../../../shared/tools}
if [ "$(id -u)" != 0 ]; then echo "systemd test: needs root (systemd-nspawn); skipped" >&2; exit 77; fi
if [ ! -x "$tools/systemd-check.sh" ]; then echo "systemd test: no $tools/systemd-check.sh; skipped" >&2; exit 77; fi
tree=$(mktemp -d -t evr-systemd-tree.XXXX)
trap 'rm -rf "$tree"' EXIT
DESTDIR=$tree cmake --install "$build" >/dev/null
mkdir -p "$tree/root" && cp "$here/lib.sh" "$tree/root/evr-systemd-lib.sh"
exec "$tools/systemd-check.sh" "$tree" "$here/check.sh"
