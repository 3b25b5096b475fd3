// The pipeline adapter: `containers: [a, b, c]` routes a's events to b and b's events to c.
//
// One of the adapter types of routing/adapter_registry (stage 2 of YAML -> Config -> Topology ->
// RoutingTable -> relay loop): compiles one `type: pipeline` AdapterConfig into edges
// a -> b, b -> c, each carrying the adapter's `events:` filter (every type when absent). The
// spec's PipelineCommunicationAdapter; its event transformer is the optional `transform:`
// (retype and added tags), applied by the relay to every edge of the pipeline.
//
// Keys: `containers` (required, at least 2 names; a name may appear again later in the list, but
// not twice in a row, which would route a container to itself).

#pragma once

#include <vector>

#include "routing/adapter_registry.hpp"

namespace evr::routing {

AdapterKind pipelineAdapterKind();

std::vector<Edge> compilePipelineAdapter(const config::AdapterConfig& adapter,
                                         const ResolveContainer& resolve,
                                         config::Diagnostics& diagnostics);

}  // namespace evr::routing
