#include "routing/adapter_registry.hpp"

#include <algorithm>
#include <utility>

#include "routing/broadcast_adapter.hpp"
#include "routing/hierarchical_adapter.hpp"
#include "routing/pipeline_adapter.hpp"
#include "routing/selective_adapter.hpp"
#include "routing/shard_adapter.hpp"

namespace evr::routing {

AdapterRegistry builtinAdapterRegistry() {
  AdapterRegistry registry;
  registry.add(pipelineAdapterKind());
  registry.add(broadcastAdapterKind());
  registry.add(hierarchicalAdapterKind());
  registry.add(selectiveAdapterKind());
  registry.add(shardAdapterKind());
  return registry;
}

EventTypeSet adapterEventTypes(const config::AdapterConfig& adapter) {
  return adapter.events ? adapter.events->value : EventTypeSet::all();
}

std::string missingKeyMessage(const config::AdapterConfig& adapter, std::string_view key) {
  return adapter.type + " adapter '" + adapter.name + "' needs '" + std::string(key) + "'";
}

std::string tooFewItemsMessage(const config::AdapterConfig& adapter, std::string_view key,
                               std::size_t min_items, std::size_t got) {
  return adapter.type + " adapter '" + adapter.name + "' needs at least " +
         std::to_string(min_items) + " " + std::string(key) + ", got " + std::to_string(got);
}

FanOut resolveFanOut(const config::AdapterConfig& adapter,
                     const std::optional<config::Located<std::string>>& from,
                     const std::vector<config::Located<std::string>>& targets,
                     const FanOutWords& words, const ResolveContainer& resolve,
                     config::Diagnostics& diagnostics) {
  FanOut out;
  if (from) out.from = resolve(*from);
  auto& ids = out.targets;
  ids.reserve(targets.size());
  for (std::size_t i = 0; i < targets.size(); ++i) {
    const auto& target = targets[i];
    ids.push_back(resolve(target));
    if (from && target.value == from->value) {
      diagnostics.error(target.mark, adapter.type + " '" + adapter.name + "' lists its " +
                                         std::string(words.from) + " '" + target.value +
                                         "' among its " + std::string(words.list));
      ids.back().reset();
      continue;
    }
    const bool repeated = std::any_of(targets.begin(), targets.begin() + static_cast<std::ptrdiff_t>(i),
                                      [&](const auto& earlier) { return earlier.value == target.value; });
    if (repeated) {
      diagnostics.error(target.mark, std::string(words.item) + " '" + target.value +
                                         "' is listed twice in " + adapter.type + " '" +
                                         adapter.name + "'");
      ids.back().reset();
    }
  }
  return out;
}

const AdapterKey* AdapterKind::findKey(std::string_view key) const {
  for (const auto& candidate : keys) {
    if (candidate.name == key) return &candidate;
  }
  return nullptr;
}

std::vector<std::string_view> AdapterKind::acceptedKeys() const {
  std::vector<std::string_view> out(std::begin(kCommonAdapterKeys), std::end(kCommonAdapterKeys));
  for (const auto& key : keys) out.push_back(key.name);
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

void AdapterRegistry::add(AdapterKind kind) {
  std::erase(planned_, kind.type);
  for (auto& existing : kinds_) {
    if (existing.type == kind.type) {
      existing = std::move(kind);
      return;
    }
  }
  kinds_.push_back(std::move(kind));
}

void AdapterRegistry::addPlanned(std::string_view type) {
  if (find(type) == nullptr &&
      std::find(planned_.begin(), planned_.end(), type) == planned_.end()) {
    planned_.push_back(type);
  }
}

const AdapterKind* AdapterRegistry::find(std::string_view type) const {
  for (const auto& kind : kinds_) {
    if (kind.type == type) return &kind;
  }
  return nullptr;
}

std::vector<std::string_view> AdapterRegistry::typeNames() const {
  std::vector<std::string_view> out;
  for (const auto& kind : kinds_) out.push_back(kind.type);
  std::sort(out.begin(), out.end());
  return out;
}

namespace {

std::string joinNames(const std::vector<std::string_view>& names) {
  std::string out;
  for (const auto name : names) {
    if (!out.empty()) out += ", ";
    out += name;
  }
  return out;
}

}  // namespace

std::string AdapterRegistry::unknownTypeMessage(std::string_view type) const {
  const auto implemented = typeNames();
  if (std::find(planned_.begin(), planned_.end(), type) != planned_.end()) {
    return "adapter type '" + std::string(type) + "' is not implemented yet (implemented: " +
           joinNames(implemented) + ")";
  }
  std::vector<std::string_view> candidates = implemented;
  candidates.insert(candidates.end(), planned_.begin(), planned_.end());
  return "unknown adapter type '" + std::string(type) + "'; known types: " +
         joinNames(implemented) + config::didYouMean(type, candidates);
}

}  // namespace evr::routing
