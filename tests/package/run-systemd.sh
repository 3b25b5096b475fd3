#!/usr/bin/env bash
# ctest package.systemd (`make test-package`): the evrouter package under a real systemd. Puts only
# the .debs (and tests/systemd/lib.sh's helpers) into a tree and runs tests/package/systemd-check.sh
# as root inside Debian 12 booted by ../shared/tools/systemd-check.sh, which installs them with apt.
# Exit 77 (skipped): no .debs (make package), not root, no systemd-check.sh, or the tool's own 77.
#
#   tests/package/run-systemd.sh [DEBS_DIR]    (TOOLS=dir of systemd-check.sh, default ../shared/tools)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
debs=${1:-${EVR_PACKAGES:-$here/../../build-package/packages}}
tools=${TOOLS:-$here/../../../shared/tools}
shopt -s nullglob
found=("$debs"/evrouter_*_amd64.deb)
if [ ${#found[@]} != 1 ]; then echo "package systemd test: no evrouter .deb in $debs (make package); skipped" >&2; exit 77; fi
if [ "$(id -u)" != 0 ]; then echo "package systemd test: needs root (systemd-nspawn); skipped" >&2; exit 77; fi
if [ ! -x "$tools/systemd-check.sh" ]; then echo "package systemd test: no $tools/systemd-check.sh; skipped" >&2; exit 77; fi
tree=$(mktemp -d -t evr-package-tree.XXXX)
trap 'rm -rf "$tree"' EXIT
mkdir -p "$tree/root/debs"
cp "${found[0]}" "$tree/root/debs/"
cp "$here/../systemd/lib.sh" "$tree/root/evr-systemd-lib.sh"
exec "$tools/systemd-check.sh" "$tree" "$here/systemd-check.sh"
