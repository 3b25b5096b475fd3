#!/usr/bin/env bash
# ctest ops.man: the man pages the build generated with help2man (man/CMakeLists.txt) render
# without groff warnings, carry the hand-written sections, name the program (not its build path),
# and list every long option the program's --help lists.
#
#   tests/ops/man.sh PAGE PROGRAM SECTION...
set -euo pipefail
page=${1:?PAGE}
program=${2:?PROGRAM}
shift 2
[ -s "$page" ] || { echo "man test: $page missing or empty" >&2; exit 1; }
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }

warnings=$(MANWIDTH=100 man --warnings -l "$page" 2>&1 >/dev/null || true)
[ -z "$warnings" ] || fail "groff warnings: $warnings"
text=$(MANWIDTH=100 man -l "$page" 2>/dev/null)
for section in "$@"; do
  grep -qx "$section" <<<"$text" || fail "no section $section"
done
! grep -q "$(dirname "$(realpath "$program")")" "$page" || fail "the page names the build path"
while read -r option; do
  grep -qF -- "$option" <<<"$text" || fail "$option (in --help) not in the page"
done < <("$program" --help | grep -o -- '--[a-z][a-z-]*' | sort -u)
if [ "$failures" -ne 0 ]; then exit 1; fi
echo "man test: $(basename "$page") OK"
