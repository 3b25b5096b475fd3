#include "routing/hierarchical_adapter.hpp"

#include "config/adapter_yaml.hpp"

namespace evr::routing {
namespace {

std::any parseHierarchical(config::AdapterYaml& yaml) {
  HierarchicalConfig out;
  out.parent = yaml.containerName("parent");
  out.children = yaml.containerNames("children");
  out.context_events = yaml.eventTypes("context_events");
  out.result_events = yaml.eventTypes("result_events");
  return out;
}

std::vector<Edge> compileHierarchical(const config::AdapterConfig& adapter,
                                      const ResolveContainer& resolve,
                                      config::Diagnostics& diagnostics) {
  const auto& hierarchy = adapter.as<HierarchicalConfig>();
  const FanOut fan = resolveFanOut(adapter, hierarchy.parent, hierarchy.children,
                                   {"parent", "children", "child"}, resolve, diagnostics);

  const EventTypeSet filter = adapterEventTypes(adapter);
  const EventTypeSet context = EventTypeSet::fromBits(
      (hierarchy.context_events ? hierarchy.context_events->value
                                : EventTypeSet::of(EventType::REGIME)).bits() &
      filter.bits());
  const EventTypeSet results = EventTypeSet::fromBits(
      (hierarchy.result_events ? hierarchy.result_events->value : EventTypeSet::all()).bits() &
      filter.bits());

  std::vector<Edge> edges;
  for (const auto& child : fan.targets) {
    if (!fan.from || !child) continue;
    if (!context.empty()) edges.push_back(Edge{*fan.from, *child, context, nullptr, nullptr});
    if (!results.empty()) edges.push_back(Edge{*child, *fan.from, results, nullptr, nullptr});
  }
  return edges;
}

}  // namespace

AdapterKind hierarchicalAdapterKind() {
  return AdapterKind{
      .type = "hierarchical",
      .keys = {AdapterKey{.name = "parent", .required = true},
               AdapterKey{.name = "children", .required = true, .min_items = 1},
               AdapterKey{.name = "context_events"},
               AdapterKey{.name = "result_events"}},
      .parse = &parseHierarchical,
      .compile = &compileHierarchical,
  };
}

}  // namespace evr::routing
