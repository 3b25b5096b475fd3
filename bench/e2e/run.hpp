// One measured run of one scenario: a fresh router, the consumers (each its own process, each
// "ready" before anything is published), then the publisher; every wait bounded, every process
// stopped or killed when the run ends, successfully or not.
//
// A throughput run publishes as fast as the client API allows; a latency run paces the publisher
// at a fixed rate and collects every consumer's latency samples (after the warm-up). Both count
// what each consumer received, so loss shows in every run.

#pragma once

#include <chrono>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <optional>
#include <vector>

#include "process.hpp"
#include "routers.hpp"
#include "scenarios.hpp"

namespace evr::bench {

struct RunSettings {
  std::uint64_t events = 0;
  double rate = 0;            // events/s; 0: as fast as possible (throughput run)
  std::uint64_t warmup = 0;   // latency run: the first events, left out of the samples
  bool latency = false;
  double timeout_s = 120;     // per process
  double idle_timeout_s = 10; // a consumer that has started receiving gives up after this long without an event
};

struct RunResult {
  std::uint64_t expected = 0;    // deliveries due: sum over consumers
  std::uint64_t delivered = 0;   // distinct events received, summed over consumers
  std::uint64_t lost = 0;        // expected - delivered
  std::uint64_t duplicates = 0;
  std::uint64_t unreadable = 0;  // payloads that did not parse (must be 0)
  double seconds = 0;            // first publish call to the last delivery, any consumer
  double events_per_s = 0;       // delivered / seconds
  double publisher_rate = 0;     // events/s the publisher's loop achieved
  std::optional<double> router_cpu_ns_per_event;        // router utime+stime / delivered
  // The other processes' CPU (utime+stime, every thread) over the run / delivered: the publisher's
  // from its first publish call to its last event taken, the consumers' summed from "ready" on.
  double publisher_cpu_ns_per_event = 0;
  double consumer_cpu_ns_per_event = 0;
  std::optional<std::uint64_t> router_peak_rss_bytes;   // router VmHWM at the end
  std::vector<std::int64_t> latency_ns;                 // latency run: all consumers' samples
  std::vector<std::string> router_says;                 // when events went missing: the router's log lines about drops
};

// A role's JSON report line ({"role":"<role>",...}), parsed; throws std::runtime_error, quoting
// the process's output, when it does not come within `timeout`.
nlohmann::json waitForReport(evr::test::Process& process, std::string_view role, std::chrono::milliseconds timeout);
// Waits (10 s) for the process to exit 0; throws, quoting its output, otherwise.
void expectExit(evr::test::Process& process, const std::string& role);

// Throws std::runtime_error, naming the process and quoting its output, when a process fails
// or does not answer in time.
RunResult runOnce(const Scenario& scenario, const RunSettings& settings, const RouterOptions& routers);

}  // namespace evr::bench
