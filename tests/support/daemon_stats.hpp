// statsOf: evrouterd's counters read through its control socket (a STATS request,
// schemas/control.capnp), for integration tests that check what the daemon counted. Numbers, not
// log lines: the test asks a running daemon, so it never parses the `stopped:` summary.

#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace evr::test {

// One container's delivery counters (schemas/control.capnp, ContainerStats).
struct ContainerStats {
  std::string name;
  bool connected = false;
  std::uint64_t queue_depth = 0;
  std::uint64_t events_out = 0;
  std::uint64_t unacked = 0;
  std::uint64_t redelivered = 0;
  std::uint64_t replayed = 0;
  bool stalled = false;
  std::uint64_t rate_limited = 0;  // its events whose ack waited for its rate limit
  std::uint64_t queue_bytes = 0;
  std::map<std::string, std::uint64_t> drops_to;  // by reason; non-zero only
};

struct DaemonStats {
  std::uint64_t events_in = 0;
  std::uint64_t deliveries = 0;
  std::uint64_t unrouted = 0;
  std::uint64_t unmatched = 0;
  std::uint64_t backpressure_holds = 0;
  std::map<std::string, std::uint64_t>
      drops;  // by reason name (stats::dropReasonName); non-zero only

  // Drops for one reason ("queue_full", "malformed", ...); 0 when none.
  std::uint64_t drop(const std::string& reason) const;
  // Drops of every reason.
  std::uint64_t dropped() const;

  std::vector<ContainerStats> containers;
  // The container named `name`; null when the daemon has not heard of it.
  const ContainerStats* container(const std::string& name) const;
};

// One STATS request to the daemon at `control_endpoint`. Throws std::runtime_error when no answer
// comes within `timeout` or the reply is not ok.
DaemonStats statsOf(const std::string& control_endpoint,
                    std::chrono::milliseconds timeout = std::chrono::seconds(10));

// Asks until `settled` holds for the answer or `timeout` passes (each ask a real round trip, never
// a sleep); returns the last answer either way, for the test to check.
DaemonStats statsWhen(const std::string& control_endpoint,
                      const std::function<bool(const DaemonStats&)>& settled,
                      std::chrono::milliseconds timeout = std::chrono::seconds(30));

}  // namespace evr::test
