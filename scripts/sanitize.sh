#!/usr/bin/env bash
# make test-asan / make test-tsan (docs/sanitizers.md): configure a sanitizer build of every target,
# build it, run the ctest suites under it, and fail on any sanitizer report.
#
#   scripts/sanitize.sh asan <build dir>   AddressSanitizer + UndefinedBehaviorSanitizer (LeakSanitizer
#                                          on): every suite except systemd.unit
#   scripts/sanitize.sh tsan <build dir>   ThreadSanitizer: the suites that run threads ($TSAN_TESTS)
#
# Every instrumented process (test binaries, and the evrouterd, evrctl, evr_test_peer and example
# processes the integration tests start) writes its report to <build>/sanitizer-logs/report.<pid>
# and exits non-zero. A child's report fails the test that started it (tests/support/process.cpp);
# any report left in that directory at the end fails the run, whoever wrote it, and is printed.
set -uo pipefail

mode=${1:?usage: sanitize.sh asan|tsan <build dir>}
build=${2:?usage: sanitize.sh asan|tsan <build dir>}
root=$(cd "$(dirname "$0")/.." && pwd)
supp=$root/tests/sanitizers
jobs=${JOBS:-$(nproc 2>/dev/null || echo 2)}

# The suites with threads: the client's publish from other threads while its loop runs
# (threaded_publish), the daemon's metrics thread (metrics: scrapes during a stream and reloads)
# and its control requests beside the relay loop (control). Integration suites only: the daemon,
# evrctl and evr_test_peer they start are instrumented too. relay and reload_soak add no thread
# and size their load for an uninstrumented build (docs/sanitizers.md); TSAN_TESTS can name them.
TSAN_TESTS=${TSAN_TESTS:-'^integration\.(threaded_publish|metrics|control)$'}
# systemd.unit boots the installed tree in systemd-nspawn: not a sanitizer build's job.
ASAN_EXCLUDE=${ASAN_EXCLUDE:-'^systemd\.'}

# What the suites run: for asan every target (examples, man pages, completion: the ops and sweep
# suites use them; the benchmarks only with SANITIZE_BENCH=1, bench_smoke says "not built"
# otherwise), for tsan the integration suites' programs.
asan_targets=(all)
tsan_targets=(evr_integration_tests)
bench=OFF
[[ ${SANITIZE_BENCH:-0} == 1 && $mode == asan ]] && bench=ON
case $mode in
  asan) sanitize=address,undefined; select=(-E "$ASAN_EXCLUDE"); targets=("${asan_targets[@]}") ;;
  tsan) sanitize=thread; select=(-R "$TSAN_TESTS"); targets=("${tsan_targets[@]}") ;;
  *) echo "sanitize.sh: unknown mode '$mode' (asan or tsan)" >&2; exit 2 ;;
esac

launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
start=$SECONDS
# SANITIZE_SKIP_BUILD=1: run the suites against what is built (a rerun, or tests while it builds).
if [[ ${SANITIZE_SKIP_BUILD:-0} != 1 ]]; then
  # -DEVR_PYTHON=OFF: the Python package's module would be loaded into Debian's python3, which is
  # not instrumented and cannot load a sanitizer's runtime after start; its suites are not run here.
  cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DEVR_SANITIZE="$sanitize" -DEVR_BUILD_BENCH=$bench -DEVR_PYTHON=OFF \
    "${launcher[@]}" ${EVR_WERROR:+-DEVR_WERROR=$EVR_WERROR} >/dev/null || exit 1
  cmake --build "$build" -j "$jobs" --target "${targets[@]}" || exit 1
fi
built=$SECONDS

logs=$(cd "$build" && pwd)/sanitizer-logs
rm -rf "$logs"
mkdir -p "$logs"
export EVR_SANITIZER_LOG_DIR=$logs
common="halt_on_error=1:print_stacktrace=1:log_path=$logs/report"
export ASAN_OPTIONS="$common:exitcode=86:detect_leaks=1:abort_on_error=0:check_initialization_order=1:strict_init_order=1:detect_stack_use_after_return=1"
export LSAN_OPTIONS="suppressions=$supp/lsan.supp:print_suppressions=0"
export UBSAN_OPTIONS="$common:exitcode=86"
export TSAN_OPTIONS="$common:exitcode=66:second_deadlock_stack=1:suppressions=$supp/tsan.supp:print_suppressions=0"

(cd "$build" && ctest --output-on-failure -j 1 "${select[@]}")
status=$?

reports=("$logs"/report.*)
if [[ -e ${reports[0]} ]]; then
  for report in "${reports[@]}"; do
    echo "=== sanitizer report ${report##*/} ==="
    cat "$report"
  done
  echo "sanitize.sh: ${#reports[@]} sanitizer report(s) in $logs" >&2
  status=1
fi
echo "sanitize.sh $mode: build $((built - start)) s, tests $((SECONDS - built)) s, exit $status"
exit $status
