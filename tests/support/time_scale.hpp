// How long a test may wait, in a build that runs its processes slower than the plain one.
//
// Every bound a test sets (a line to wait for, a process to exit, a stats query to settle) is a
// limit, never a wait: it ends as soon as the awaited thing happens. The sanitizer builds
// (make test-asan / test-tsan, docs/sanitizers.md) run every process several times slower, so the
// build sets EVR_TEST_TIME_SCALE (tests/CMakeLists.txt: 1 plain, 4 ASan, 10 TSan) and the test
// support multiplies each bound by it in one place: Process, statsOf/waitForStats,
// RunningDaemon::stop, evr_test_peer's --timeout, and the `--timeout N` (seconds) of an evrctl
// started by RunningDaemon::evrctl/evrctlControl. A test's own deadline loop uses bound().
#pragma once

#include <chrono>
#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

#ifndef EVR_TEST_TIME_SCALE
#define EVR_TEST_TIME_SCALE 1
#endif

namespace evr::test {

inline constexpr int kTimeScale = EVR_TEST_TIME_SCALE;

template <typename Rep, typename Period>
constexpr std::chrono::duration<Rep, Period> bound(std::chrono::duration<Rep, Period> limit) {
  return limit * kTimeScale;
}

// Multiplies the value after each "--timeout" (seconds) in a command line.
inline void scaleTimeoutOptions(std::vector<std::string>& args) {
  if constexpr (kTimeScale == 1) return;
  for (std::size_t i = 0; i + 1 < args.size(); ++i) {
    if (args[i] != "--timeout") continue;
    try {
      const double scaled = std::stod(args[i + 1]) * kTimeScale;
      args[i + 1] = scaled == std::floor(scaled) ? std::to_string(static_cast<long long>(scaled))
                                                 : std::to_string(scaled);
    } catch (const std::exception&) {
      // not a number: left for the program to reject, as the test meant
    }
  }
}

}  // namespace evr::test
