#include "routing/hierarchical_adapter.hpp"

#include <optional>
#include <string>

namespace evr::routing {

AdapterKind hierarchicalAdapterKind() {
  return AdapterKind{
      .type = "hierarchical",
      .keys = {AdapterKey{.name = "parent", .required = true},
               AdapterKey{.name = "children", .required = true, .min_items = 1},
               AdapterKey{.name = "context_events"},
               AdapterKey{.name = "result_events"}},
      .compile = &compileHierarchicalAdapter,
  };
}

std::vector<Edge> compileHierarchicalAdapter(const config::AdapterConfig& adapter,
                                             const ResolveContainer& resolve,
                                             config::Diagnostics& diagnostics) {
  if (!adapter.parent) {
    diagnostics.error(adapter.mark, "hierarchical '" + adapter.name + "' needs a 'parent'");
  }
  if (adapter.children.empty()) {
    diagnostics.error(adapter.mark, "hierarchical '" + adapter.name + "' needs at least 1 child");
  }
  std::optional<ContainerId> parent;
  if (adapter.parent) parent = resolve(*adapter.parent);

  const EventTypeSet filter = adapterEventTypes(adapter);
  const EventTypeSet context = EventTypeSet::fromBits(
      (adapter.context_events ? adapter.context_events->value : EventTypeSet::of(EventType::REGIME)).bits() &
      filter.bits());
  const EventTypeSet results = EventTypeSet::fromBits(
      (adapter.result_events ? adapter.result_events->value : EventTypeSet::all()).bits() & filter.bits());

  std::vector<Edge> edges;
  for (std::size_t i = 0; i < adapter.children.size(); ++i) {
    const auto& child = adapter.children[i];
    const auto child_id = resolve(child);
    if (adapter.parent && child.value == adapter.parent->value) {
      diagnostics.error(child.mark, "hierarchical '" + adapter.name + "' lists its parent '" +
                                        child.value + "' among its children");
      continue;
    }
    bool repeated = false;
    for (std::size_t j = 0; j < i && !repeated; ++j) repeated = adapter.children[j].value == child.value;
    if (repeated) {
      diagnostics.error(child.mark, "child '" + child.value + "' is listed twice in hierarchical '" +
                                        adapter.name + "'");
      continue;
    }
    if (!parent || !child_id) continue;
    if (!context.empty()) edges.push_back(Edge{*parent, *child_id, context, nullptr, nullptr});
    if (!results.empty()) edges.push_back(Edge{*child_id, *parent, results, nullptr, nullptr});
  }
  return edges;
}

}  // namespace evr::routing
