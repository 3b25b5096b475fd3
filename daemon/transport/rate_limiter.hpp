// TokenBucket: one container's inbound rate limit (router.limits, docs/config.md "limits";
// docs/delivery.md "Rate limits").
//
// Beside the relay loop (transport/), which keeps one per Peer and reads it per event taken. The
// bucket holds up to `burst` tokens and gains `events_per_s` tokens a second; an event takes one.
// When none is left, the loop stops acking the source at its last event within budget and pays
// for the later ones as tokens come back (RelayLoop::releaseRateCaps): the source's resend window
// makes its publish wait; nothing is dropped. A value type: no clock of its own, the caller passes
// the time (the loop's clock, a fake one in tests). Loop thread only.

#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>

#include "config/config.hpp"

namespace evr::transport {

class TokenBucket {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;

  // Unlimited until configured.
  TokenBucket() = default;

  // Applies `limit` from `now` on. A new bucket starts full; a bucket that had a limit keeps its
  // tokens (up to the new burst), so a reload does not hand out a fresh burst.
  void configure(const config::RateLimit& limit, TimePoint now) {
    const bool was_limited = !unlimited();
    refill(now);
    rate_ = limit.events_per_s;
    burst_ = limit.events_per_s == 0 ? 0 : std::max<std::uint32_t>(limit.burst, 1);
    const std::uint64_t full = std::uint64_t{burst_} * kUnit;
    units_ = was_limited ? std::min(units_, full) : full;
    last_ = now;
  }

  bool unlimited() const { return rate_ == 0; }
  std::uint32_t rate() const { return rate_; }
  std::uint32_t burst() const { return burst_; }

  // Takes one token; false (taking nothing) when the bucket is empty. Always true when unlimited.
  bool take(TimePoint now) { return takeUpTo(1, now) == 1; }

  // Takes as many whole tokens as it has, up to `wanted`; returns how many. `wanted` when
  // unlimited.
  std::uint64_t takeUpTo(std::uint64_t wanted, TimePoint now) {
    if (unlimited()) return wanted;
    refill(now);
    const std::uint64_t taken = std::min(wanted, units_ / kUnit);
    units_ -= taken * kUnit;
    return taken;
  }

  // Whole tokens available at `now` (for tests and stats).
  std::uint64_t available(TimePoint now) {
    if (unlimited()) return ~std::uint64_t{0};
    refill(now);
    return units_ / kUnit;
  }

 private:
  // Exact integer arithmetic: a token is kUnit units and a nanosecond adds `rate_` units, so a
  // slow rate accumulates between reads without rounding. burst_ * kUnit < 2^63.
  static constexpr std::uint64_t kUnit = 1'000'000'000;

  void refill(TimePoint now) {
    if (now <= last_) return;  // a clock that did not move (or a fake one set back)
    if (!unlimited()) {
      const std::uint64_t full = std::uint64_t{burst_} * kUnit;
      // Past the time a bucket takes to fill from empty it is full: cap the product's size.
      const auto elapsed = static_cast<std::uint64_t>(
          std::chrono::duration_cast<std::chrono::nanoseconds>(now - last_).count());
      const std::uint64_t fill_ns = full / rate_ + 1;
      const std::uint64_t added = std::min(elapsed, fill_ns) * rate_;
      units_ = std::min(full, units_ + added);
    }
    last_ = now;
  }

  std::uint32_t rate_ = 0;   // events per second; 0: unlimited
  std::uint32_t burst_ = 0;  // most tokens held
  std::uint64_t units_ = 0;  // tokens * kUnit
  TimePoint last_{};
};

}  // namespace evr::transport
