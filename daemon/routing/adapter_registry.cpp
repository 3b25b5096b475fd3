#include "routing/adapter_registry.hpp"

#include <algorithm>
#include <utility>

#include "routing/broadcast_adapter.hpp"
#include "routing/hierarchical_adapter.hpp"
#include "routing/pipeline_adapter.hpp"
#include "routing/selective_adapter.hpp"

namespace evr::routing {

AdapterRegistry builtinAdapterRegistry() {
  AdapterRegistry registry;
  registry.add(pipelineAdapterKind());
  registry.add(broadcastAdapterKind());
  registry.add(hierarchicalAdapterKind());
  registry.add(selectiveAdapterKind());
  return registry;
}

EventTypeSet adapterEventTypes(const config::AdapterConfig& adapter) {
  return adapter.events ? adapter.events->value : EventTypeSet::all();
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
