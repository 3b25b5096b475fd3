// The pipeline adapter: `containers: [a, b, c]` routes a's events to b and b's events to c.
//
// One of the adapter types of routing/adapter_registry (stages 1 and 2 of YAML -> Config ->
// Topology -> RoutingTable -> relay loop): parses its keys into a PipelineConfig and compiles it
// into edges a -> b, b -> c, each carrying the adapter's `events:` filter (every type when
// absent). The spec's PipelineCommunicationAdapter; its event transformer is the optional
// `transform:` (retype and added tags), applied by the relay to every edge of the pipeline.
//
// Keys: `containers` (required, at least 2 names; a name may appear again later in the list, but
// not twice in a row, which would route a container to itself), `transform` (a map: `retype`,
// `tags`).

#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "routing/adapter_registry.hpp"

namespace evr::routing {

// A pipeline's `transform:` (the spec's event_transformer), applied to what a stage passes to
// the next one: `retype: {INDICATOR: SIGNAL}` changes the event type the next stage sees;
// `tags: {stage: enriched}` adds tags.
struct TransformConfig {
  std::vector<std::pair<config::Located<EventType>, config::Located<EventType>>> retype;  // from -> to
  std::vector<std::pair<config::Located<std::string>, config::Located<std::string>>> tags;  // key -> value
  config::Mark mark;
};

struct PipelineConfig {
  std::vector<config::Located<std::string>> containers;
  std::optional<TransformConfig> transform;
};

AdapterKind pipelineAdapterKind();

}  // namespace evr::routing
