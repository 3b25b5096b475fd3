#include "routing/routing_table.hpp"

#include <algorithm>
#include <cassert>
#include <utility>

namespace evr::routing {

RoutingTable::RoutingTable(std::vector<std::string> containers,
                           std::vector<CompiledAdapter> adapters)
    : containers_(std::move(containers)),
      adapters_(std::move(adapters)),
      entries_(containers_.size() * kEventTypeCount),
      is_source_(containers_.size(), false) {
  assert(containers_.size() <= kMaxContainers);
  assert(adapters_.size() <= kMaxAdapters);

  by_name_.resize(containers_.size());
  for (std::size_t id = 0; id < containers_.size(); ++id) {
    by_name_[id] = static_cast<ContainerId>(id);
  }
  std::sort(by_name_.begin(), by_name_.end(),
            [this](ContainerId a, ContainerId b) { return containers_[a] < containers_[b]; });

  for (std::size_t index = 0; index < adapters_.size(); ++index) {
    for (const auto& edge : adapters_[index].edges) {
      assert(edge.source < containers_.size() && edge.target < containers_.size());
      for (unsigned type = 1; type < kEventTypeCount; ++type) {
        if (!edge.types.containsOrdinal(static_cast<std::uint8_t>(type))) continue;
        auto& entry = entries_[static_cast<std::size_t>(edge.source) * kEventTypeCount + type];
        entry.targets.push_back(edge.target);
        entry.adapters.push_back(static_cast<AdapterIndex>(index));
        is_source_[edge.source] = true;
      }
    }
  }

  // An event reaches each target once, however many adapters route it there.
  for (auto& entry : entries_) {
    std::sort(entry.targets.begin(), entry.targets.end());
    entry.targets.erase(std::unique(entry.targets.begin(), entry.targets.end()),
                        entry.targets.end());
    std::sort(entry.adapters.begin(), entry.adapters.end());
    entry.adapters.erase(std::unique(entry.adapters.begin(), entry.adapters.end()),
                         entry.adapters.end());
    entry.targets.shrink_to_fit();
    entry.adapters.shrink_to_fit();
  }
}

std::optional<ContainerId> RoutingTable::find(std::string_view name) const {
  const auto it = std::lower_bound(
      by_name_.begin(), by_name_.end(), name,
      [this](ContainerId id, std::string_view wanted) { return containers_[id] < wanted; });
  if (it == by_name_.end() || containers_[*it] != name) return std::nullopt;
  return *it;
}

namespace {

std::string joinContainers(const RoutingTable& table, const std::vector<ContainerId>& ids) {
  std::string out;
  for (const auto id : ids) {
    if (!out.empty()) out += ", ";
    out += table.name(id);
  }
  return out;
}

}  // namespace

std::string RoutingTable::describe() const {
  std::string out;
  out += "containers (" + std::to_string(containers_.size()) + "):";
  for (std::size_t id = 0; id < containers_.size(); ++id) {
    out += id == 0 ? " " : ", ";
    out += containers_[id];
  }
  out += '\n';

  for (const auto& adapter : adapters_) {
    out += "adapter " + adapter.name + " (" + adapter.type + ") at " +
           config::toString(adapter.mark) + '\n';
    for (const auto& edge : adapter.edges) {
      out += "  " + name(edge.source) + " -> " + name(edge.target) + " [" +
             edge.types.toString() + "]\n";
    }
  }

  // Per source, the types that share one route, in type order: "data: BAR|TICK -> strategy".
  out += "routes:\n";
  for (std::size_t source = 0; source < containers_.size(); ++source) {
    struct Group {
      EventTypeSet types;
      const RouteEntry* entry;
    };
    std::vector<Group> groups;
    for (unsigned type = 1; type < kEventTypeCount; ++type) {
      const auto& entry = entries_[source * kEventTypeCount + type];
      if (entry.targets.empty()) continue;
      auto group = std::find_if(groups.begin(), groups.end(), [&entry](const Group& g) {
        return g.entry->targets == entry.targets && g.entry->adapters == entry.adapters;
      });
      if (group == groups.end()) {
        groups.push_back(Group{EventTypeSet{}, &entry});
        group = groups.end() - 1;
      }
      group->types.add(static_cast<EventType>(type));
    }
    const std::string& source_name = containers_[source];
    if (groups.empty()) {
      out += "  " + source_name + ": (no routes)\n";
      continue;
    }
    for (const auto& group : groups) {
      out += "  " + source_name + ": " + group.types.toString() + " -> " +
             joinContainers(*this, group.entry->targets) + "  via ";
      for (std::size_t i = 0; i < group.entry->adapters.size(); ++i) {
        if (i > 0) out += ", ";
        out += adapters_[group.entry->adapters[i]].name;
      }
      out += '\n';
    }
  }
  return out;
}

}  // namespace evr::routing
