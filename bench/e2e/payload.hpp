// The benchmark's event payload: 128 bytes, identical for every system under test.
//
// Every event carries exactly kPayloadSize bytes of ASCII, written by the publisher immediately
// before the publish call and read by the consumer's handler:
//
//   "i=<index, 16 hex digits> t=<send time, 16 hex digits> " + '.' padding up to 128 bytes
//
// `index` numbers the events of one run from 0 (the consumer uses it to find lost and duplicate
// events, and to leave the warm-up out of latency); `send time` is CLOCK_MONOTONIC in ns
// (std::chrono::steady_clock on Linux), which is one clock for every process on the host, so a
// consumer subtracts it from its own clock to get publish-call-to-handler latency.
//
// How the 128 bytes travel is each system's own business: one ZeroMQ message (direct), the NATS
// message body (nats-server), or a tag of an evr event (bare relay and evrouterd; the layout of
// that event is in evr_links.cpp). Each event also has a route key, index % kRouteKeys, which the
// selective patterns route on (an evr REGIME label, a NATS subject suffix).

#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace evr::bench {

inline constexpr std::size_t kPayloadSize = 128;
inline constexpr std::size_t kRouteKeys = 4;

// The REGIME label of each route key: the selective pattern's conditions compare against these.
inline constexpr std::array<std::string_view, kRouteKeys> kRouteLabels{"BULL", "BEAR", "NEUTRAL",
                                                                       "CRASH"};

// The label of route key `key` when events use more than kRouteKeys keys (the selective-rules
// curve, curves.hpp): kRouteLabels for the first four, then "R4", "R5", ...
inline std::string routeLabel(std::size_t key) {
  return key < kRouteKeys ? std::string(kRouteLabels[key]) : "R" + std::to_string(key);
}

// Event `index` has route key index % keys.
inline std::size_t routeKeyOf(std::uint64_t index, std::size_t keys = kRouteKeys) { return index % keys; }

// How many of the events 0..events-1 have route key `key` (of `keys`).
inline std::uint64_t eventsWithRouteKey(std::uint64_t events, std::size_t key, std::size_t keys = kRouteKeys) {
  return events / keys + (key < events % keys ? 1 : 0);
}

// steady_clock in ns: CLOCK_MONOTONIC, comparable between processes on one host.
inline std::int64_t nowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

using Payload = std::array<char, kPayloadSize>;

struct PayloadStamp {
  std::uint64_t index = 0;
  std::int64_t send_ns = 0;
};

void writePayload(Payload& out, std::uint64_t index, std::int64_t send_ns);

// nullopt unless `bytes` is a payload written by writePayload.
std::optional<PayloadStamp> readPayload(std::span<const char> bytes);

inline std::string_view asView(const Payload& payload) { return {payload.data(), payload.size()}; }

}  // namespace evr::bench
