// The broadcast adapter: every (filtered) event of `source` goes to each of `targets`.
//
// One of the adapter types of routing/adapter_registry (stage 2 of YAML -> Config -> Topology ->
// RoutingTable -> relay loop): compiles one `type: broadcast` AdapterConfig into edges
// source -> target for each target, carrying the adapter's `events:` filter (every type when
// absent). The spec's BroadcastCommunicationAdapter: each target gets its own copy, which the
// relay loop does by sending the same bytes once per target.
//
// Keys: `source` (required), `targets` (required, at least 1; not the source, no repeats).

#pragma once

#include <vector>

#include "routing/adapter_registry.hpp"

namespace evr::routing {

AdapterKind broadcastAdapterKind();

std::vector<Edge> compileBroadcastAdapter(const config::AdapterConfig& adapter,
                                          const ResolveContainer& resolve,
                                          config::Diagnostics& diagnostics);

}  // namespace evr::routing
