// The hierarchical adapter: a parent and its children (the spec's
// HierarchicalCommunicationAdapter, the classifier-first shape).
//
// One of the adapter types of routing/adapter_registry (stages 1 and 2 of YAML -> Config ->
// Topology -> RoutingTable -> relay loop): parses its keys into a HierarchicalConfig and compiles
// it to edges: parent -> each child for the parent's context events (`context_events:`, default
// [REGIME]); each child -> parent for the children's result events (`result_events:`, default
// every type). An `events:` filter further limits both.
//
// Keys: `parent` (required), `children` (required, at least 1; not the parent, no repeats),
// `context_events`, `result_events` (event types; not empty).

#pragma once

#include <optional>
#include <string>
#include <vector>

#include "routing/adapter_registry.hpp"

namespace evr::routing {

struct HierarchicalConfig {
  std::optional<config::Located<std::string>> parent;
  std::vector<config::Located<std::string>> children;
  std::optional<config::Located<EventTypeSet>> context_events;  // parent -> children; default {REGIME}
  std::optional<config::Located<EventTypeSet>> result_events;   // children -> parent; default all
};

AdapterKind hierarchicalAdapterKind();

}  // namespace evr::routing
