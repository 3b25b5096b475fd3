#include "topology/topology.hpp"

#include "evr/link_messages.hpp"
#include "topology/organization.hpp"
#include "topology/validation.hpp"

#include <algorithm>
#include <cstdio>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace evr::topology {
namespace {

using config::Diagnostics;
using config::Mark;
using routing::ContainerId;

// Container names -> dense ids in first-seen order, remembering where each was first named.
class Interner {
 public:
  explicit Interner(Diagnostics& diagnostics) : diagnostics_(diagnostics) {}

  std::optional<ContainerId> resolve(const config::Located<std::string>& name) {
    if (name.value.empty()) {
      diagnostics_.error(name.mark, "empty container name");
      return std::nullopt;
    }
    if (const auto it = ids_.find(name.value); it != ids_.end()) return it->second;
    // A name no container could join under (the link protocol's rule) is a config error.
    if (const std::string why = checkContainerName(name.value); !why.empty()) {
      diagnostics_.error(name.mark, "'" + name.value + "': " + why);
      return std::nullopt;
    }
    if (names_.size() >= routing::kMaxContainers) {
      if (!overflow_reported_) {
        diagnostics_.error(name.mark, "too many containers (at most " +
                                          std::to_string(routing::kMaxContainers) + ")");
        overflow_reported_ = true;
      }
      return std::nullopt;
    }
    const auto id = static_cast<ContainerId>(names_.size());
    names_.push_back(name.value);
    first_marks_.push_back(name.mark);
    ids_.emplace(name.value, id);
    return id;
  }

  const std::vector<std::string>& names() const { return names_; }
  const Mark& firstMark(ContainerId id) const { return first_marks_[id]; }
  std::vector<std::string> takeNames() { return std::move(names_); }

 private:
  Diagnostics& diagnostics_;
  std::vector<std::string> names_;
  std::vector<Mark> first_marks_;
  std::unordered_map<std::string, ContainerId> ids_;
  bool overflow_reported_ = false;
};

std::string hex32(std::uint32_t value) {
  char buffer[16];
  std::snprintf(buffer, sizeof buffer, "0x%08x", value);
  return buffer;
}

void warnOnHashCollisions(const Interner& interner, Diagnostics& diagnostics) {
  std::unordered_map<std::uint32_t, ContainerId> by_hash;
  const auto& names = interner.names();
  for (std::size_t id = 0; id < names.size(); ++id) {
    const std::uint32_t hash = routing::fnv1a32(names[id]);
    const auto [it, inserted] = by_hash.emplace(hash, static_cast<ContainerId>(id));
    if (inserted) continue;
    diagnostics.warning(interner.firstMark(static_cast<ContainerId>(id)),
                        "containers '" + names[it->second] + "' and '" + names[id] +
                            "' have the same fnv1a32 hash " + hex32(hash) +
                            ": their event ids can collide (rename one of them)");
  }
}

// `router.limits:` entries naming no container of the table nor a declared one: a warning, like
// a delivery target's (their limits apply to nothing unless such a container joins anyway).
void warnOnUnknownLimitNames(const config::Config& config, const std::vector<std::string>& names,
                             Diagnostics& diagnostics) {
  for (const auto& named : config.router.limits.containers) {
    const config::Located<std::string>& entry = named.first;
    const bool known =
        std::find(names.begin(), names.end(), entry.value) != names.end() ||
        std::any_of(config.containers.begin(), config.containers.end(),
                    [&](const config::ContainerDecl& decl) { return decl.name.value == entry.value; });
    if (known) continue;
    std::vector<std::string_view> candidates(names.begin(), names.end());
    diagnostics.warning(entry.mark, "limits entry '" + entry.value +
                                        "' is not a container any adapter names or the file "
                                        "declares" +
                                        config::didYouMean(entry.value, candidates));
  }
}

// `event_communication.delivery` -> a policy per (target, type): the target's type, else the
// target's default, else the type's, else the default (docs/delivery.md, section 2). A target
// entry naming no container of the table (nor a declared one) is a warning, like the other naming findings: its
// policies apply to nothing, and a container the file only declares (no adapter routes to it)
// is not reported, since it receives nothing either way.
routing::CompiledDelivery compileDelivery(const config::Config& config,
                                          const std::vector<std::string>& names,
                                          Diagnostics& diagnostics) {
  const config::DeliveryConfig& delivery = config.delivery;
  routing::CompiledDelivery out;
  if (!delivery.present) return out;
  std::unordered_map<std::string_view, ContainerId> ids;
  for (std::size_t id = 0; id < names.size(); ++id) ids.emplace(names[id], static_cast<ContainerId>(id));

  std::vector<const config::TargetDelivery*> of_target(names.size(), nullptr);
  for (const auto& target : delivery.targets) {
    if (const auto it = ids.find(target.name); it != ids.end()) {
      of_target[it->second] = &target;
      continue;
    }
    const bool declared = std::any_of(config.containers.begin(), config.containers.end(),
                                      [&](const config::ContainerDecl& decl) {
                                        return decl.name.value == target.name;
                                      });
    if (declared) continue;
    std::vector<std::string_view> candidates(names.begin(), names.end());
    diagnostics.warning(target.name_mark,
                        "delivery target '" + target.name +
                            "' is not a container any adapter names or the file declares; "
                            "its policies apply to nothing" +
                            config::didYouMean(target.name, candidates));
  }

  out.policies.resize(names.size() * kEventTypeCount);
  out.limits.assign(names.size(), delivery.limit);
  for (std::size_t id = 0; id < names.size(); ++id) {
    const config::TargetDelivery* target = of_target[id];
    const auto resolve = [&](std::size_t type) {
      if (target != nullptr && type != 0 && target->types[type]) return target->types[type]->policy;
      if (target != nullptr && target->default_policy) return target->default_policy->policy;
      if (type != 0 && delivery.types[type]) return delivery.types[type]->policy;
      return delivery.default_policy.policy;
    };
    for (std::size_t type = 0; type < kEventTypeCount; ++type) {
      out.policies[id * kEventTypeCount + type] = resolve(type);
    }
    if (target != nullptr && target->limit) out.limits[id] = *target->limit;
  }
  return out;
}

}  // namespace

std::shared_ptr<const routing::RoutingTable> compileTopology(const config::Config& config,
                                                             Diagnostics& diagnostics) {
  return compileTopology(config, routing::builtinAdapterRegistry(), diagnostics);
}

std::shared_ptr<const routing::RoutingTable> compileTopology(
    const config::Config& config, const routing::AdapterRegistry& registry,
    Diagnostics& diagnostics) {
  const std::size_t errors_before = diagnostics.errorCount();

  // No `adapters:` but an organization: its default adapters (topology/organization.hpp).
  std::vector<config::AdapterConfig> generated;
  const bool use_defaults = !config.adapters_present && config.organization.has_value();
  if (use_defaults) generated = defaultAdapters(config, diagnostics);
  const std::vector<config::AdapterConfig>& adapters = use_defaults ? generated : config.adapters;
  const Mark& adapters_mark = use_defaults ? config.organization->mark : config.adapters_mark;

  if (adapters.size() > routing::kMaxAdapters) {
    diagnostics.error(adapters_mark,
                      "too many adapters (at most " + std::to_string(routing::kMaxAdapters) + ")");
    return nullptr;
  }
  if (adapters.empty()) {
    diagnostics.warning(adapters_mark, "no adapters are configured: evrouterd will route nothing");
  }

  Interner interner(diagnostics);
  // Every name a written adapter's compiler resolves is a use of that name in the file (for the
  // typo warning); generated adapters' names are the declarations'.
  std::vector<config::Located<std::string>> written_names;
  bool recording = false;
  const routing::ResolveContainer resolve = [&](const config::Located<std::string>& name) {
    if (recording) written_names.push_back(name);
    return interner.resolve(name);
  };

  std::map<std::string, const config::AdapterConfig*> by_name;
  std::vector<routing::CompiledAdapter> compiled;
  compiled.reserve(adapters.size());
  for (const auto& adapter : adapters) {
    if (adapter.name.empty()) {
      diagnostics.error(adapter.name_mark, "empty adapter name");
    } else if (const auto [it, inserted] = by_name.emplace(adapter.name, &adapter); !inserted) {
      diagnostics.error(adapter.name_mark, "duplicate adapter name '" + adapter.name +
                                               "' (first used at " +
                                               config::toString(it->second->name_mark) + ")");
    }

    const routing::AdapterKind* kind = registry.find(adapter.type);
    if (kind == nullptr || kind->compile == nullptr) {
      diagnostics.error(adapter.type_mark, registry.unknownTypeMessage(adapter.type));
      continue;
    }

    recording = !adapter.generated;
    std::vector<routing::Edge> edges = kind->compile(adapter, resolve, diagnostics);
    recording = false;
    // Adapters reject their own self-routes with a precise message; this catches any that
    // slip through, since a container must never receive its own events back.
    std::erase_if(edges, [&](const routing::Edge& edge) {
      if (edge.source != edge.target) return false;
      diagnostics.error(adapter.mark, "adapter '" + adapter.name + "' routes container '" +
                                          interner.names()[edge.source] + "' to itself");
      return true;
    });
    std::erase_if(edges, [](const routing::Edge& edge) { return edge.types.empty(); });
    compiled.push_back(routing::CompiledAdapter{adapter.name, adapter.type, adapter.mark,
                                                std::move(edges)});
  }

  warnOnHashCollisions(interner, diagnostics);
  warnOnUnknownLimitNames(config, interner.names(), diagnostics);

  std::shared_ptr<const routing::RoutingTable> table;
  routing::CompiledDelivery delivery = compileDelivery(config, interner.names(), diagnostics);
  if (diagnostics.errorCount() == errors_before) {
    table = std::make_shared<const routing::RoutingTable>(interner.takeNames(), std::move(compiled),
                                                          std::move(delivery));
  }
  validateTopology(config, adapters, written_names, table.get(), diagnostics);
  return table;
}

}  // namespace evr::topology
