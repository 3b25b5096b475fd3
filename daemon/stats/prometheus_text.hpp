// Prometheus text exposition (format 0.0.4) of a stats::Snapshot: a pure function, beside the
// relay loop in the chain. The loop owns the counters and hands out immutable snapshots; the
// metrics server (metrics_server.hpp) renders them here on its own thread. Nothing in this file
// touches loop state, sockets or clocks.
//
// Every family is `evrouter_`-prefixed and has # HELP and # TYPE lines; counters end in _total.
// The list with labels is in docs/metrics.md.

#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "stats/stats.hpp"

namespace evr::stats {

// What the loop's Snapshot does not know: reload outcomes and the config generation (counted by
// main's reload path), and uptime.
struct MetricsExtras {
  std::uint64_t generation = 0;
  std::uint64_t reloads_applied = 0;
  std::uint64_t reloads_unchanged = 0;
  std::uint64_t reloads_rejected = 0;
  double uptime_seconds = 0;
};

// The whole exposition, '\n'-terminated lines.
std::string renderPrometheus(const Snapshot& snapshot, const MetricsExtras& extras);

// A label value escaped for the text format: `\` -> `\\`, `"` -> `\"`, newline -> `\n`.
std::string escapeLabelValue(std::string_view value);

}  // namespace evr::stats
