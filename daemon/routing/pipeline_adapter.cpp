#include "routing/pipeline_adapter.hpp"

#include <memory>
#include <optional>
#include <string>

namespace evr::routing {

AdapterKind pipelineAdapterKind() {
  return AdapterKind{
      .type = "pipeline",
      .keys = {AdapterKey{.name = "containers", .required = true, .min_items = 2},
               AdapterKey{.name = "transform"}},
      .compile = &compilePipelineAdapter,
  };
}

std::vector<Edge> compilePipelineAdapter(const config::AdapterConfig& adapter,
                                         const ResolveContainer& resolve,
                                         config::Diagnostics& diagnostics) {
  const auto& names = adapter.containers;
  if (names.size() < 2) {
    diagnostics.error(adapter.mark, "pipeline '" + adapter.name +
                                        "' needs at least 2 containers, got " +
                                        std::to_string(names.size()));
  }

  // Resolve every name first and in order, so ids follow the order of the list.
  std::vector<std::optional<ContainerId>> ids;
  ids.reserve(names.size());
  for (const auto& name : names) ids.push_back(resolve(name));

  const EventTypeSet types = adapterEventTypes(adapter);
  std::shared_ptr<const Transform> transform;
  if (adapter.transform) {
    auto compiled = std::make_shared<Transform>();
    for (const auto& [from, to] : adapter.transform->retype) {
      if (from.value == to.value) {
        diagnostics.error(to.mark, "transform retypes " + std::string(eventTypeName(from.value)) +
                                       " to itself");
        continue;
      }
      compiled->retype.emplace_back(from.value, to.value);
    }
    for (const auto& [key, value] : adapter.transform->tags) {
      compiled->tags.emplace_back(key.value, value.value);
    }
    if (!compiled->retype.empty() || !compiled->tags.empty()) transform = std::move(compiled);
  }
  std::vector<Edge> edges;
  for (std::size_t i = 1; i < names.size(); ++i) {
    if (names[i].value == names[i - 1].value) {
      diagnostics.error(names[i].mark, "container '" + names[i].value +
                                           "' is listed twice in a row in pipeline '" +
                                           adapter.name + "': it would route to itself");
      continue;
    }
    if (ids[i - 1] && ids[i]) edges.push_back(Edge{*ids[i - 1], *ids[i], types, transform, nullptr});
  }
  return edges;
}

}  // namespace evr::routing
