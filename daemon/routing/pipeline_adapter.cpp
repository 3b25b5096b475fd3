#include "routing/pipeline_adapter.hpp"

#include <algorithm>
#include <memory>

#include "config/adapter_yaml.hpp"

namespace evr::routing {
namespace {

using config::Located;
using config::YamlEntry;
using config::YamlReader;

constexpr std::string_view kTransformKeys[] = {"retype", "tags"};

bool loadRetype(YamlReader& reader, const YamlEntry& entry, TransformConfig& transform) {
  if (!entry.value.IsMap()) {
    reader.diagnostics().error(entry.value_mark, "expected a map FROM: TO of event types for "
                                                 "'retype' (e.g. {INDICATOR: SIGNAL}), got " +
                                                     config::describe(entry.value));
    return false;
  }
  bool ok = true;
  for (const auto& pair : reader.entries(entry.value)) {
    const auto from = reader.readEventType(YAML::Node(pair.key), pair.key_mark);
    const auto to = reader.readEventType(pair.value, pair.value_mark);
    if (!from || !to) {
      ok = false;
      continue;
    }
    const auto same = std::find_if(transform.retype.begin(), transform.retype.end(),
                                   [&](const auto& other) { return other.first.value == *from; });
    if (same != transform.retype.end()) {
      reader.diagnostics().error(pair.key_mark, "transform retypes " +
                                                    std::string(eventTypeName(*from)) +
                                                    " twice (first at " +
                                                    config::lineColumn(same->first.mark) + ")");
      ok = false;
      continue;
    }
    transform.retype.emplace_back(Located<EventType>{*from, pair.key_mark},
                                  Located<EventType>{*to, pair.value_mark});
  }
  return ok;
}

bool loadTags(YamlReader& reader, const YamlEntry& entry, TransformConfig& transform) {
  if (!entry.value.IsMap()) {
    reader.diagnostics().error(entry.value_mark, "expected a map key: value for 'tags' (e.g. "
                                                 "{stage: enriched}), got " +
                                                     config::describe(entry.value));
    return false;
  }
  bool ok = true;
  for (const auto& pair : reader.entries(entry.value)) {
    if (pair.key.empty()) {
      reader.diagnostics().error(pair.key_mark, "empty tag name");
      ok = false;
      continue;
    }
    if (!pair.value.IsScalar()) {
      reader.diagnostics().error(pair.value_mark, "expected a tag value (a string) for '" +
                                                      pair.key + "', got " +
                                                      config::describe(pair.value));
      ok = false;
      continue;
    }
    transform.tags.emplace_back(Located<std::string>{pair.key, pair.key_mark},
                                Located<std::string>{pair.value.Scalar(), pair.value_mark});
  }
  return ok;
}

std::optional<TransformConfig> loadTransform(YamlReader& reader, const YamlEntry& entry) {
  if (!entry.value.IsMap()) {
    reader.diagnostics().error(entry.value_mark, "expected a map with 'retype' and/or 'tags' for "
                                                 "'transform', got " +
                                                     config::describe(entry.value));
    return std::nullopt;
  }
  TransformConfig transform;
  transform.mark = entry.value_mark;
  bool ok = true;
  for (const auto& part : reader.entries(entry.value)) {
    if (part.key == "retype") {
      ok = loadRetype(reader, part, transform) && ok;
    } else if (part.key == "tags") {
      ok = loadTags(reader, part, transform) && ok;
    } else {
      reader.unknownKey(part, "key", "transform", kTransformKeys);
      ok = false;
    }
  }
  if (!ok) return std::nullopt;
  return transform;
}

std::any parsePipeline(config::AdapterYaml& yaml) {
  PipelineConfig out;
  out.containers = yaml.containerNames("containers");
  out.transform = yaml.read("transform", [&](const YamlEntry& entry) {
    return loadTransform(yaml.reader(), entry);
  });
  return out;
}

std::shared_ptr<const Transform> compileTransform(const TransformConfig& config,
                                                  config::Diagnostics& diagnostics) {
  auto compiled = std::make_shared<Transform>();
  for (const auto& [from, to] : config.retype) {
    if (from.value == to.value) {
      diagnostics.error(to.mark, "transform retypes " + std::string(eventTypeName(from.value)) +
                                     " to itself");
      continue;
    }
    compiled->retype.emplace_back(from.value, to.value);
  }
  for (const auto& [key, value] : config.tags) compiled->tags.emplace_back(key.value, value.value);
  if (compiled->retype.empty() && compiled->tags.empty()) return nullptr;
  return compiled;
}

std::vector<Edge> compilePipeline(const config::AdapterConfig& adapter,
                                  const ResolveContainer& resolve,
                                  config::Diagnostics& diagnostics) {
  const auto& names = adapter.as<PipelineConfig>().containers;
  // A loaded pipeline has 2 names at least (the key's min_items); one built in code is held to
  // the same rule, since fewer would route nothing.
  if (names.size() < 2) {
    diagnostics.error(adapter.mark, tooFewItemsMessage(adapter, "containers", 2, names.size()));
  }

  // Resolve every name first and in order, so ids follow the order of the list.
  std::vector<std::optional<ContainerId>> ids;
  ids.reserve(names.size());
  for (const auto& name : names) ids.push_back(resolve(name));

  const EventTypeSet types = adapterEventTypes(adapter);
  const auto& transform_config = adapter.as<PipelineConfig>().transform;
  const std::shared_ptr<const Transform> transform =
      transform_config ? compileTransform(*transform_config, diagnostics) : nullptr;
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

}  // namespace

AdapterKind pipelineAdapterKind() {
  return AdapterKind{
      .type = "pipeline",
      .keys = {AdapterKey{.name = "containers", .required = true, .min_items = 2},
               AdapterKey{.name = "transform"}},
      .parse = &parsePipeline,
      .compile = &compilePipeline,
  };
}

}  // namespace evr::routing
