// FakeClock: time that moves only when a test says so, for the ...ForTest clock hooks of
// RelayLoop and Connection (heartbeats, ack timers and silence detection without waiting).
// Single-threaded: read and advanced on the test's thread.

#pragma once

#include <chrono>
#include <functional>

namespace evr::test {

class FakeClock {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;

  // Starts at the real clock's present, so stamps taken before the hook was set stay sensible.
  FakeClock() : now_(std::chrono::steady_clock::now()) {}

  TimePoint now() const { return now_; }
  void advance(std::chrono::steady_clock::duration by) { now_ += by; }
  // A function reading this clock; the clock must outlive whoever holds it.
  std::function<TimePoint()> source() {
    return [this]() { return now_; };
  }

 private:
  TimePoint now_;
};

}  // namespace evr::test
