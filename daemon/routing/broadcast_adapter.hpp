// The broadcast adapter: every (filtered) event of `source` goes to each of `targets`.
//
// One of the adapter types of routing/adapter_registry (stages 1 and 2 of YAML -> Config ->
// Topology -> RoutingTable -> relay loop): parses its keys into a BroadcastConfig and compiles
// it into edges source -> target for each target, carrying the adapter's `events:` filter (every
// type when absent). The spec's BroadcastCommunicationAdapter: each target gets its own copy,
// which the relay loop does by sending the same bytes once per target.
//
// Keys: `source` (required), `targets` (required, at least 1; not the source, no repeats).

#pragma once

#include <optional>
#include <string>
#include <vector>

#include "routing/adapter_registry.hpp"

namespace evr::routing {

struct BroadcastConfig {
  std::optional<config::Located<std::string>> source;
  std::vector<config::Located<std::string>> targets;
};

AdapterKind broadcastAdapterKind();

}  // namespace evr::routing
