#include "routing/routing_table.hpp"

#include <algorithm>
#include <cassert>
#include <utility>

namespace evr::routing {

RoutingTable::RoutingTable(std::vector<std::string> containers,
                           std::vector<CompiledAdapter> adapters, CompiledDelivery delivery)
    : containers_(std::move(containers)),
      adapters_(std::move(adapters)),
      entries_(containers_.size() * kEventTypeCount),
      is_source_(containers_.size(), false),
      policies_(std::move(delivery.policies)),
      limits_(std::move(delivery.limits)) {
  assert(containers_.size() <= kMaxContainers);
  assert(adapters_.size() <= kMaxAdapters);
  assert(policies_.empty() || policies_.size() == containers_.size() * kEventTypeCount);
  assert(limits_.empty() || limits_.size() == containers_.size());
  all_lossless_ = std::all_of(policies_.begin(), policies_.end(),
                              [](DeliveryPolicy p) { return p == DeliveryPolicy::Lossless; });
  if (limits_.empty()) limits_.assign(containers_.size(), config::kDefaultLossyLimit);

  by_name_.resize(containers_.size());
  for (std::size_t id = 0; id < containers_.size(); ++id) {
    by_name_[id] = static_cast<ContainerId>(id);
  }
  std::sort(by_name_.begin(), by_name_.end(),
            [this](ContainerId a, ContainerId b) { return containers_[a] < containers_[b]; });

  // Per (source, type), in adapter order: the first adapter that reaches a target decides how.
  struct Reach {
    ContainerId target;
    const Transform* transform;
  };
  std::vector<std::vector<Reach>> reaches(entries_.size());
  for (std::size_t index = 0; index < adapters_.size(); ++index) {
    for (const auto& edge : adapters_[index].edges) {
      assert(edge.source < containers_.size() && edge.target < containers_.size());
      is_source_[edge.source] = true;
      for (unsigned type = 1; type < kEventTypeCount; ++type) {
        if (!edge.types.containsOrdinal(static_cast<std::uint8_t>(type))) continue;
        const std::size_t slot = static_cast<std::size_t>(edge.source) * kEventTypeCount + type;
        auto& entry = entries_[slot];
        const auto adapter = static_cast<AdapterIndex>(index);
        if (edge.selective) {
          // Conditional: consulted at run time, once per adapter.
          const bool listed = std::any_of(entry.selective.begin(), entry.selective.end(),
                                          [&](const SelectiveStep& step) { return step.group == edge.selective.get(); });
          if (!listed) entry.selective.push_back(SelectiveStep{edge.selective.get(), adapter});
          continue;
        }
        entry.adapters.push_back(adapter);
        auto& seen = reaches[slot];
        const bool reached = std::any_of(seen.begin(), seen.end(),
                                         [&](const Reach& r) { return r.target == edge.target; });
        if (!reached) seen.push_back(Reach{edge.target, edge.transform.get()});
      }
    }
  }

  for (std::size_t slot = 0; slot < entries_.size(); ++slot) {
    auto& entry = entries_[slot];
    for (const auto& reach : reaches[slot]) {
      if (reach.transform != nullptr) {
        entry.transformed.push_back(TransformedTarget{reach.target, reach.transform});
      } else {
        entry.targets.push_back(reach.target);
      }
    }
    std::sort(entry.targets.begin(), entry.targets.end());
    std::sort(entry.adapters.begin(), entry.adapters.end());
    entry.adapters.erase(std::unique(entry.adapters.begin(), entry.adapters.end()),
                         entry.adapters.end());
    entry.content_reads = 2 * entry.transformed.size();
    for (const auto& step : entry.selective) entry.content_reads += step.group->fieldReads();
    entry.targets.shrink_to_fit();
    entry.transformed.shrink_to_fit();
    entry.selective.shrink_to_fit();
    entry.adapters.shrink_to_fit();
  }
  buildOrderingGraph();
}

void RoutingTable::buildOrderingGraph() {
  const std::size_t count = containers_.size();
  outputs_.assign(count, {});
  inputs_.assign(count, {});
  // One entry per (source, target), whatever the adapters and types. `flow`: some edge between
  // them carries END_OF_DATA, so the target cannot be done before the source: the data flow.
  struct Link {
    ContainerId source;
    ContainerId target;
    bool flow;
    bool feedback = false;
  };
  std::vector<Link> links;
  for (const auto& adapter : adapters_) {
    for (const auto& edge : adapter.edges) {
      const bool flow = edge.types.contains(EventType::END_OF_DATA);
      auto known = std::find_if(links.begin(), links.end(), [&](const Link& l) {
        return l.source == edge.source && l.target == edge.target;
      });
      if (known == links.end()) {
        links.push_back(Link{edge.source, edge.target, flow});
      } else {
        known->flow = known->flow || flow;
      }
    }
  }
  // Links are taken as forward one by one, the data flow first, then the rest, each in adapter
  // order; one that would close a cycle of forward links is feedback. The forward links so form
  // no cycle, so no ordered container ever waits, through others, for itself.
  std::vector<std::vector<ContainerId>> forward(count);
  std::vector<std::uint8_t> seen(count);
  const auto reaches = [&](ContainerId from, ContainerId to) {
    std::fill(seen.begin(), seen.end(), 0);
    std::vector<ContainerId> stack{from};
    seen[from] = 1;
    while (!stack.empty()) {
      const ContainerId node = stack.back();
      stack.pop_back();
      if (node == to) return true;
      for (const auto next : forward[node]) {
        if (!seen[next]) {
          seen[next] = 1;
          stack.push_back(next);
        }
      }
    }
    return false;
  };
  for (const bool flow : {true, false}) {
    for (auto& link : links) {
      if (link.flow != flow) continue;
      if (reaches(link.target, link.source)) {
        link.feedback = true;
      } else {
        forward[link.source].push_back(link.target);
      }
    }
  }
  for (const auto& link : links) {
    outputs_[link.source].push_back(link.target);
    inputs_[link.target].push_back(OrderedInput{link.source, link.feedback});
  }
  for (auto& targets : outputs_) std::sort(targets.begin(), targets.end());
  for (auto& inputs : inputs_) {
    std::sort(inputs.begin(), inputs.end(), [this](const OrderedInput& a, const OrderedInput& b) {
      return containers_[a.source] < containers_[b.source];
    });
  }
}

EventType Transform::apply(EventType type) const {
  for (const auto& [from, to] : retype) {
    if (from == type) return to;
  }
  return type;
}

std::string Transform::describe() const {
  std::string out;
  for (const auto& [from, to] : retype) {
    out += (out.empty() ? "" : ", ") + std::string("retype ") + std::string(eventTypeName(from)) +
           "->" + std::string(eventTypeName(to));
  }
  for (const auto& [key, value] : tags) {
    out += (out.empty() ? "" : ", ") + std::string("tag ") + key + "=" + value;
  }
  return out;
}

std::optional<ContainerId> RoutingTable::find(std::string_view name) const {
  const auto it = std::lower_bound(
      by_name_.begin(), by_name_.end(), name,
      [this](ContainerId id, std::string_view wanted) { return containers_[id] < wanted; });
  if (it == by_name_.end() || containers_[*it] != name) return std::nullopt;
  return *it;
}

namespace {

bool sameTransformed(const std::vector<TransformedTarget>& a, const std::vector<TransformedTarget>& b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](const auto& x, const auto& y) {
    return x.target == y.target && x.transform == y.transform;
  });
}

bool sameSelective(const std::vector<SelectiveStep>& a, const std::vector<SelectiveStep>& b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(),
                    [](const auto& x, const auto& y) { return x.group == y.group; });
}

}  // namespace

std::string RouteSummary::toString() const {
  std::string targets_text;
  for (const auto& target : targets) {
    targets_text += (targets_text.empty() ? "" : ", ") + target.container;
    if (target.transform) targets_text += " (" + *target.transform + ")";
  }
  for (const auto& decider : deciders) {
    targets_text += (targets_text.empty() ? "" : ", ") + std::string("<") + decider + " decides>";
  }
  std::string out = source + ": " + types.toString() + " -> " + targets_text;
  for (std::size_t i = 0; i < adapters.size(); ++i) out += (i == 0 ? "  via " : ", ") + adapters[i];
  return out;
}

std::vector<RouteSummary> RoutingTable::routes() const {
  std::vector<RouteSummary> out;
  for (std::size_t source = 0; source < containers_.size(); ++source) {
    struct Group {
      EventTypeSet types;
      const RouteEntry* entry;
    };
    std::vector<Group> groups;
    for (unsigned type = 1; type < kEventTypeCount; ++type) {
      const auto& entry = entries_[source * kEventTypeCount + type];
      if (entry.empty()) continue;
      auto group = std::find_if(groups.begin(), groups.end(), [&entry](const Group& g) {
        return g.entry->targets == entry.targets && g.entry->adapters == entry.adapters &&
               sameTransformed(g.entry->transformed, entry.transformed) &&
               sameSelective(g.entry->selective, entry.selective);
      });
      if (group == groups.end()) {
        groups.push_back(Group{EventTypeSet{}, &entry});
        group = groups.end() - 1;
      }
      group->types.add(static_cast<EventType>(type));
    }
    for (const auto& group : groups) {
      RouteSummary summary;
      summary.source = containers_[source];
      summary.types = group.types;
      for (const auto target : group.entry->targets) summary.targets.push_back({name(target), std::nullopt});
      for (const auto& t : group.entry->transformed) {
        summary.targets.push_back({name(t.target), t.transform->describe()});
      }
      for (const auto& step : group.entry->selective) summary.deciders.push_back(adapters_[step.adapter].name);
      for (const auto adapter : group.entry->adapters) summary.adapters.push_back(adapters_[adapter].name);
      out.push_back(std::move(summary));
    }
  }
  return out;
}

std::string RoutingTable::describeDelivery() const {
  if (all_lossless_) return "";
  // One line per distinct (policies, limit), naming every target that has it.
  struct Line {
    std::string text;
    std::vector<ContainerId> targets;
  };
  std::vector<Line> lines;
  // Only containers some adapter routes to: a policy of a pure source applies to nothing.
  std::vector<bool> is_target(containers_.size(), false);
  for (const auto& adapter : adapters_) {
    for (const auto& edge : adapter.edges) is_target[edge.target] = true;
  }
  for (std::size_t target = 0; target < containers_.size(); ++target) {
    if (!is_target[target]) continue;
    const auto* row = &policies_[target * kEventTypeCount];
    const DeliveryPolicy fallback = row[0];
    std::string text;
    bool lossy = isLossy(fallback);
    // Types that differ from the target's default, grouped by policy in enum order.
    for (std::size_t p = 0; p < kDeliveryPolicyCount; ++p) {
      const auto policy = static_cast<DeliveryPolicy>(p);
      if (policy == fallback) continue;
      EventTypeSet types;
      for (unsigned type = 1; type < kEventTypeCount; ++type) {
        if (row[type] == policy) types.add(static_cast<EventType>(type));
      }
      if (types.empty()) continue;
      lossy = lossy || isLossy(policy);
      text += (text.empty() ? "" : ", ") + types.toString() + " " + std::string(policyName(policy));
    }
    if (fallback != DeliveryPolicy::Lossless || text.empty()) {
      text += (text.empty() ? "" : ", ") + std::string("* ") + std::string(policyName(fallback));
    }
    if (lossy) text += " (limit " + std::to_string(limits_[target]) + ")";
    if (text == "* lossless") continue;
    const auto same = std::find_if(lines.begin(), lines.end(),
                                   [&](const Line& line) { return line.text == text; });
    if (same != lines.end()) {
      same->targets.push_back(static_cast<ContainerId>(target));
    } else {
      lines.push_back(Line{text, {static_cast<ContainerId>(target)}});
    }
  }
  std::string out = "delivery:\n";
  for (const auto& line : lines) {
    out += "  ";
    for (std::size_t i = 0; i < line.targets.size(); ++i) {
      out += (i == 0 ? "" : ", ") + name(line.targets[i]);
    }
    out += ": " + line.text + "\n";
  }
  return out;
}

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
    const SelectiveGroup* described = nullptr;
    for (const auto& edge : adapter.edges) {
      if (edge.selective) {
        if (edge.selective.get() == described) continue;
        described = edge.selective.get();
        out += "  " + name(edge.source) + " [" + edge.types.toString() + "] -> ";
        if (described->chooser) {
          out += described->chooser->describe(*this);
          continue;
        }
        out += described->mode_all ? "every matching rule" : "first matching rule";
        if (described->index) out += " (looked up by event." + std::string(described->index->field().name) + ")";
        out += ":\n";
        for (const auto& rule : described->rules) {
          out += "    if " + rule.condition.text() + " -> " + name(rule.target) + "\n";
        }
        out += described->default_target ? "    otherwise -> " + name(*described->default_target) + "\n"
                                         : "    otherwise: counted as unmatched\n";
        continue;
      }
      out += "  " + name(edge.source) + " -> " + name(edge.target) + " [" +
             edge.types.toString() + "]";
      if (edge.transform) out += " (" + edge.transform->describe() + ")";
      out += "\n";
    }
  }

  // Per source, the types that share one route, in type order: "data: BAR|TICK -> strategy".
  out += "routes:\n";
  const auto summaries = routes();
  auto summary = summaries.begin();
  for (const auto& source_name : containers_) {
    if (summary == summaries.end() || summary->source != source_name) {
      out += "  " + source_name + ": (no routes)\n";
      continue;
    }
    for (; summary != summaries.end() && summary->source == source_name; ++summary) {
      out += "  " + summary->toString() + '\n';
    }
  }
  // The links an ordered container does not wait for (docs/determinism.md): only when there are.
  std::string feedback;
  for (std::size_t target = 0; target < containers_.size(); ++target) {
    for (const auto& input : inputs_[target]) {
      if (input.feedback) feedback += "  " + name(input.source) + " -> " + containers_[target] + '\n';
    }
  }
  if (!feedback.empty()) out += "feedback (handed on one step late under event-time ordering):\n" + feedback;
  return out;
}

}  // namespace evr::routing
