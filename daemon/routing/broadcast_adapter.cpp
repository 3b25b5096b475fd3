#include "routing/broadcast_adapter.hpp"

#include "config/adapter_yaml.hpp"

namespace evr::routing {
namespace {

std::any parseBroadcast(config::AdapterYaml& yaml) {
  return BroadcastConfig{.source = yaml.containerName("source"),
                         .targets = yaml.containerNames("targets")};
}

std::vector<Edge> compileBroadcast(const config::AdapterConfig& adapter,
                                   const ResolveContainer& resolve,
                                   config::Diagnostics& diagnostics) {
  const auto& broadcast = adapter.as<BroadcastConfig>();
  const FanOut fan = resolveFanOut(adapter, broadcast.source, broadcast.targets,
                                   {"source", "targets", "target"}, resolve, diagnostics);
  std::vector<Edge> edges;
  for (const auto& target : fan.targets) {
    if (fan.from && target) edges.push_back(Edge{*fan.from, *target, adapterEventTypes(adapter)});
  }
  return edges;
}

}  // namespace

AdapterKind broadcastAdapterKind() {
  return AdapterKind{
      .type = "broadcast",
      .keys = {AdapterKey{.name = "source", .required = true},
               AdapterKey{.name = "targets", .required = true, .min_items = 1}},
      .parse = &parseBroadcast,
      .compile = &compileBroadcast,
  };
}

}  // namespace evr::routing
