#!/usr/bin/env bash
# ctest ops.completion: the bash completion the build generated (`evrctl completion bash`,
# <build>/client/evrctl.bash, installed as share/bash-completion/completions/evrctl) is loaded in
# bash and asked for completions as bash would (COMP_WORDS/COMP_CWORD, then _evrctl):
# subcommands, nested subcommands, options, an option's choices, a skipped option value; and
# every command `evrctl --help` lists must be offered.
#
#   tests/ops/completion.sh EVRCTL COMPLETION_FILE
set -euo pipefail
evrctl=${1:?EVRCTL}
script=${2:?COMPLETION_FILE}
[ -s "$script" ] || { echo "completion test: $script missing or empty" >&2; exit 1; }
# The build's file is what `evrctl completion bash` prints now.
diff <("$evrctl" completion bash) "$script" >/dev/null \
  || { echo "completion test: $script differs from \`evrctl completion bash\`" >&2; exit 1; }

# shellcheck source=/dev/null
source "$script"
failures=0
# expect "WORDS..." "EXPECTED" : completes the last word of WORDS (use "" for an empty one).
expect() {
  local expected=${*: -1}
  COMP_WORDS=("${@:1:$#-1}")
  COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))
  COMPREPLY=()
  _evrctl || true  # compgen with no match returns 1; bash ignores it, set -e would not
  local got
  got=$(printf '%s\n' "${COMPREPLY[@]}" | sort | tr '\n' ' ' | sed 's/ $//')
  if [ "$got" != "$expected" ]; then
    echo "FAIL: ${COMP_WORDS[*]}<TAB> gave [$got], expected [$expected]" >&2
    failures=$((failures + 1))
  else
    echo "ok: ${COMP_WORDS[*]}<TAB> -> $got"
  fi
}
expect evrctl st "stats status"
expect evrctl journal d "diff dump"
expect evrctl --log-level w "warn"
expect evrctl graph --format "" "dot json mermaid"
expect evrctl recv --as --json --j "--json"   # "--json" is the value of --as, then an option
expect evrctl recv --as tracker --co "--count"
expect evrctl keygen --out "" ""              # a path: left to bash's file names
expect evrctl journal dump "" ""              # DIR positional: file names

# Every command `evrctl --help` lists is offered after `evrctl `.
listed=$("$evrctl" --help | sed -n '/^Subcommands:/,/^$/p' | awk '/^  [a-z]/ {print $1}' | sort | tr '\n' ' ' | sed 's/ $//')
[ -n "$listed" ] || { echo "completion test: no commands in evrctl --help" >&2; exit 1; }
expect evrctl "" "$listed"

if [ "$failures" -ne 0 ]; then
  echo "completion test: $failures failed" >&2
  exit 1
fi
echo "completion test: OK"
