#include "routing/broadcast_adapter.hpp"

#include <optional>
#include <string>

namespace evr::routing {

AdapterKind broadcastAdapterKind() {
  return AdapterKind{
      .type = "broadcast",
      .keys = {AdapterKey{.name = "source", .required = true},
               AdapterKey{.name = "targets", .required = true, .min_items = 1}},
      .compile = &compileBroadcastAdapter,
  };
}

std::vector<Edge> compileBroadcastAdapter(const config::AdapterConfig& adapter,
                                          const ResolveContainer& resolve,
                                          config::Diagnostics& diagnostics) {
  if (!adapter.source) {
    diagnostics.error(adapter.mark, "broadcast '" + adapter.name + "' needs a 'source'");
  }
  if (adapter.targets.empty()) {
    diagnostics.error(adapter.mark, "broadcast '" + adapter.name + "' needs at least 1 target");
  }

  std::optional<ContainerId> source;
  if (adapter.source) source = resolve(*adapter.source);

  const EventTypeSet types = adapterEventTypes(adapter);
  std::vector<Edge> edges;
  for (std::size_t i = 0; i < adapter.targets.size(); ++i) {
    const auto& target = adapter.targets[i];
    const auto target_id = resolve(target);
    if (adapter.source && target.value == adapter.source->value) {
      diagnostics.error(target.mark, "broadcast '" + adapter.name + "' lists its source '" +
                                         target.value + "' among its targets");
      continue;
    }
    bool repeated = false;
    for (std::size_t j = 0; j < i && !repeated; ++j) {
      repeated = adapter.targets[j].value == target.value;
    }
    if (repeated) {
      diagnostics.error(target.mark, "target '" + target.value + "' is listed twice in broadcast '" +
                                         adapter.name + "'");
      continue;
    }
    if (source && target_id) edges.push_back(Edge{*source, *target_id, types});
  }
  return edges;
}

}  // namespace evr::routing
