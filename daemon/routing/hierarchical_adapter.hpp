// The hierarchical adapter: a parent and its children (the spec's
// HierarchicalCommunicationAdapter, the classifier-first shape).
//
// One of the adapter types of routing/adapter_registry (stage 2 of YAML -> Config -> Topology ->
// RoutingTable -> relay loop). Compiles to edges: parent -> each child for the parent's context
// events (`context_events:`, default [REGIME]); each child -> parent for the children's result
// events (`result_events:`, default every type). An `events:` filter further limits both.

#pragma once

#include <vector>

#include "routing/adapter_registry.hpp"

namespace evr::routing {

AdapterKind hierarchicalAdapterKind();

std::vector<Edge> compileHierarchicalAdapter(const config::AdapterConfig& adapter,
                                             const ResolveContainer& resolve,
                                             config::Diagnostics& diagnostics);

}  // namespace evr::routing
