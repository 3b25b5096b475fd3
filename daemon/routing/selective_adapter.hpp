// The selective adapter: content-based routing (the spec's SelectiveCommunicationAdapter).
//
// One of the adapter types of routing/adapter_registry (stage 2 of YAML -> Config -> Topology ->
// RoutingTable -> relay loop). `source` and ordered `rules`, each a `condition` (compiled once
// here by routing/condition) and a `target`. The first rule whose condition holds decides (the
// spec's `break`); `mode: all` sends to every matching rule's target; `default:` takes what no
// rule matches (without it, such events are counted as unmatched, never dropped silently).
// Compiles to one edge per distinct target, all sharing one SelectiveGroup that the relay loop
// evaluates per event.

#pragma once

#include <vector>

#include "routing/adapter_registry.hpp"

namespace evr::routing {

AdapterKind selectiveAdapterKind();

std::vector<Edge> compileSelectiveAdapter(const config::AdapterConfig& adapter,
                                          const ResolveContainer& resolve,
                                          config::Diagnostics& diagnostics);

}  // namespace evr::routing
