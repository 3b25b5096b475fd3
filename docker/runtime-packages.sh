#!/bin/sh
# Prints the Debian packages that own the shared libraries the given ELF files link, one per line
# (the image's runtime stage installs exactly these, so its package list follows the binaries and
# cannot drift from them). Fails when a library has no owning package: a library built here and
# not installed, or one the runtime stage could not get from Debian's archive.
#
#   docker/runtime-packages.sh FILE...
set -eu
[ $# -gt 0 ] || { echo "usage: $0 ELF-FILE..." >&2; exit 2; }
for f in "$@"; do
  ldd "$f" >/dev/null || { echo "runtime-packages: cannot read the libraries of $f" >&2; exit 1; }
done
libs=$(for f in "$@"; do
  ldd "$f" | awk -v f="$f" '/=> not found/ { print "missing:" f ":" $1; next } / => \// { print $3 }'
done | sort -u)
status=0
owners=""
for lib in $libs; do
  case "$lib" in
    missing:*) echo "runtime-packages: ${lib#missing:} is not found" >&2; status=1; continue ;;
  esac
  # dpkg knows a library by the path its package installed (/lib vs /usr/lib on a merged /usr).
  owner=$(dpkg -S "$lib" 2>/dev/null || dpkg -S "$(realpath "$lib")" 2>/dev/null ||
          dpkg -S "$(echo "$lib" | sed 's|^/usr/lib/|/lib/|')" 2>/dev/null || true)
  if [ -z "$owner" ]; then echo "runtime-packages: no package owns $lib" >&2; status=1; continue; fi
  owners="$owners ${owner%%:*}"
done
printf '%s\n' $owners | sort -u
exit $status
