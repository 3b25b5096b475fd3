#include "topology/validation.hpp"

#include <algorithm>
#include <cctype>
#include <deque>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <unordered_map>
#include <vector>

namespace evr::topology {
namespace {

using config::AdapterConfig;
using config::Diagnostics;
using config::Located;
using config::Mark;
using routing::ContainerId;
using routing::RoutingTable;

// ---- likely typos ---------------------------------------------------------------------------

bool allDigits(std::string_view text) {
  return std::all_of(text.begin(), text.end(),
                     [](unsigned char c) { return std::isdigit(c) != 0; });
}

bool isSeparator(char c) { return c == '_' || c == '-' || c == '.'; }

std::vector<std::string_view> tokens(std::string_view name) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= name.size(); ++i) {
    if (i == name.size() || isSeparator(name[i])) {
      out.push_back(name.substr(start, i - start));
      start = i + 1;
    }
  }
  return out;
}

// A token that reads as an index or a short label: "a", "b2", "5m", "12".
bool isNumberingToken(std::string_view token) { return token.size() <= 3 || allDigits(token); }

struct Use {
  std::string name;
  Mark mark;
};

bool before(const Mark& a, const Mark& b) {
  return std::tie(a.line, a.column) < std::tie(b.line, b.column);
}

// Every place the file names a container: declarations, then the adapters it writes.
std::vector<Use> containerUses(const config::Config& config,
                               std::span<const Located<std::string>> adapter_names) {
  std::vector<Use> uses;
  const auto add = [&](const Located<std::string>& name) {
    uses.push_back(Use{name.value, name.mark});
  };
  for (const auto& decl : config.containers) add(decl.name);
  for (const auto& name : adapter_names) add(name);
  return uses;
}

void warnOnLikelyTypos(const config::Config& config,
                       std::span<const Located<std::string>> adapter_names,
                       Diagnostics& diagnostics) {
  const std::vector<Use> uses = containerUses(config, adapter_names);
  struct Seen {
    std::size_t count = 0;
    Mark first;
  };
  std::map<std::string, Seen, std::less<>> names;
  for (const auto& use : uses) {
    auto& seen = names[use.name];
    if (seen.count++ == 0) seen.first = use.mark;
  }
  for (const auto& [name, seen] : names) {
    if (seen.count != 1) continue;
    const std::string* best = nullptr;
    std::size_t best_distance = 3;
    std::size_t best_count = 0;
    for (const auto& [other, other_seen] : names) {
      if (other == name) continue;
      const std::size_t longer = std::max(name.size(), other.size());
      if (longer - std::min(name.size(), other.size()) > 2) continue;  // more than 2 edits
      const std::size_t distance = config::editDistance(name, other);
      // As for "did you mean": at most 2 edits, and less than half of the longer name.
      if (distance > 2 || distance * 2 >= longer) continue;
      if (differOnlyByNumbering(name, other)) continue;
      if (distance < best_distance ||
          (distance == best_distance && other_seen.count > best_count)) {
        best = &other;
        best_distance = distance;
        best_count = other_seen.count;
      }
    }
    if (best == nullptr) continue;
    // Two names used once each: report the later one only, naming the earlier.
    const Seen& other_seen = names.find(*best)->second;
    if (other_seen.count == 1 && before(seen.first, other_seen.first)) continue;
    diagnostics.warning(seen.first,
                        "'" + name + "' is used only here and looks like '" + *best + "'");
  }
}

// ---- routing cycles -------------------------------------------------------------------------

struct GraphEdge {
  ContainerId target;
  std::size_t adapter;
};

// Strongly connected components (Tarjan, iterative: a long pipeline must not exhaust the stack).
std::vector<std::vector<ContainerId>> components(const std::vector<std::vector<GraphEdge>>& out) {
  const std::size_t n = out.size();
  constexpr std::size_t kUnvisited = std::numeric_limits<std::size_t>::max();
  std::vector<std::size_t> index(n, kUnvisited), low(n, 0);
  std::vector<bool> on_stack(n, false);
  std::vector<ContainerId> stack;
  std::vector<std::vector<ContainerId>> result;
  std::size_t next = 0;
  struct Frame {
    ContainerId node;
    std::size_t edge;
  };
  for (std::size_t root = 0; root < n; ++root) {
    if (index[root] != kUnvisited) continue;
    std::vector<Frame> frames{{static_cast<ContainerId>(root), 0}};
    index[root] = low[root] = next++;
    stack.push_back(static_cast<ContainerId>(root));
    on_stack[root] = true;
    while (!frames.empty()) {
      Frame& frame = frames.back();
      const ContainerId v = frame.node;
      if (frame.edge < out[v].size()) {
        const ContainerId w = out[v][frame.edge++].target;
        if (index[w] == kUnvisited) {
          index[w] = low[w] = next++;
          stack.push_back(w);
          on_stack[w] = true;
          frames.push_back({w, 0});
        } else if (on_stack[w]) {
          low[v] = std::min(low[v], index[w]);
        }
        continue;
      }
      if (low[v] == index[v]) {
        std::vector<ContainerId> component;
        ContainerId w = 0;
        do {
          w = stack.back();
          stack.pop_back();
          on_stack[w] = false;
          component.push_back(w);
        } while (w != v);
        result.push_back(std::move(component));
      }
      frames.pop_back();
      if (!frames.empty()) {
        const ContainerId parent = frames.back().node;
        low[parent] = std::min(low[parent], low[v]);
      }
    }
  }
  return result;
}

struct Cycle {
  std::vector<ContainerId> nodes;   // first node repeated at the end
  std::vector<std::size_t> adapters;  // of each step
};

// The shortest cycle inside `component` that goes through the edge (from -> first.target) and
// uses an edge of another adapter than first.adapter; nullopt when there is none.
std::optional<Cycle> shortestMixedCycle(const std::vector<std::vector<GraphEdge>>& out,
                                        const std::vector<bool>& in_component, ContainerId from,
                                        const GraphEdge& first) {
  // BFS over (node, crossed) where crossed = an edge of another adapter has been used.
  const std::size_t n = out.size();
  struct Back {
    bool seen = false;
    ContainerId node = 0;
    bool crossed = false;
    std::size_t adapter = 0;
  };
  std::vector<Back> back(2 * n);
  const auto slot = [n](ContainerId node, bool crossed) { return node + (crossed ? n : 0); };
  std::deque<std::pair<ContainerId, bool>> queue;
  back[slot(first.target, false)].seen = true;
  queue.emplace_back(first.target, false);
  while (!queue.empty()) {
    const auto [node, crossed] = queue.front();
    queue.pop_front();
    if (node == from && crossed) {
      Cycle cycle;
      std::vector<ContainerId> nodes{node};
      std::vector<std::size_t> adapters;
      ContainerId at = node;
      bool at_crossed = crossed;
      while (!(at == first.target && !at_crossed)) {
        const Back& step = back[slot(at, at_crossed)];
        adapters.push_back(step.adapter);
        at = step.node;
        at_crossed = step.crossed;
        nodes.push_back(at);
      }
      nodes.push_back(from);
      adapters.push_back(first.adapter);
      std::reverse(nodes.begin(), nodes.end());
      std::reverse(adapters.begin(), adapters.end());
      cycle.nodes = std::move(nodes);
      cycle.adapters = std::move(adapters);
      return cycle;
    }
    if (node == from) continue;  // reached the start too early (no other adapter used yet)
    for (const auto& edge : out[node]) {
      if (!in_component[edge.target]) continue;
      const bool next_crossed = crossed || edge.adapter != first.adapter;
      Back& seen = back[slot(edge.target, next_crossed)];
      if (seen.seen) continue;
      seen = Back{true, node, crossed, edge.adapter};
      queue.emplace_back(edge.target, next_crossed);
    }
  }
  return std::nullopt;
}

bool isSimple(const Cycle& cycle) {
  std::vector<ContainerId> nodes(cycle.nodes.begin(), cycle.nodes.end() - 1);
  std::sort(nodes.begin(), nodes.end());
  return std::adjacent_find(nodes.begin(), nodes.end()) == nodes.end();
}

void warnOnCycles(std::span<const AdapterConfig> adapters, const RoutingTable& table,
                  Diagnostics& diagnostics) {
  const std::size_t n = table.containers().size();
  std::vector<std::vector<GraphEdge>> out(n);
  for (std::size_t index = 0; index < table.adapters().size(); ++index) {
    // The organization defaults are designed (portfolio_first's fill loop included).
    if (index < adapters.size() && adapters[index].generated) continue;
    for (const auto& edge : table.adapters()[index].edges) {
      if (edge.source == edge.target || edge.types.empty()) continue;
      out[edge.source].push_back(GraphEdge{edge.target, index});
    }
  }
  std::vector<std::vector<ContainerId>> found = components(out);
  // Report in the order of the containers' ids (first seen in the file).
  for (auto& component : found) std::sort(component.begin(), component.end());
  std::sort(found.begin(), found.end());
  for (const auto& component : found) {
    if (component.size() < 2) continue;
    std::vector<bool> in_component(n, false);
    for (const auto node : component) in_component[node] = true;
    // TODO(perf): one search per edge of the component; fine for configs of hundreds of edges.
    std::optional<Cycle> best;
    for (const auto source : component) {
      for (const auto& edge : out[source]) {
        if (!in_component[edge.target]) continue;
        auto cycle = shortestMixedCycle(out, in_component, source, edge);
        if (!cycle || !isSimple(*cycle)) continue;
        if (!best || cycle->nodes.size() < best->nodes.size()) best = std::move(cycle);
        if (best->nodes.size() == 3) break;  // a -> b -> a: none is shorter
      }
      if (best && best->nodes.size() == 3) break;
    }
    // No loop needs two adapters: every loop here is one adapter's own (deliberate) shape.
    if (!best) continue;
    std::vector<std::size_t> involved = best->adapters;
    std::sort(involved.begin(), involved.end());
    involved.erase(std::unique(involved.begin(), involved.end()), involved.end());
    std::string path;
    for (const auto node : best->nodes) {
      if (!path.empty()) path += " -> ";
      path += table.name(node);
    }
    std::string through;
    for (std::size_t i = 0; i < involved.size(); ++i) {
      if (i > 0) through += i + 1 == involved.size() ? " and " : ", ";
      through += "'" + table.adapters()[involved[i]].name + "'";
    }
    // At the adapter that closes the loop: the last one in the file.
    diagnostics.warning(table.adapters()[involved.back()].mark,
                        "routing cycle: " + path + " through adapters " + through +
                            " (max_hops guards it at run time)");
  }
}

// ---- type flow ------------------------------------------------------------------------------

void warnOnTypeFlow(const config::Config& config, const RoutingTable& table,
                    Diagnostics& diagnostics) {
  std::unordered_map<std::string, EventTypeSet> produces;
  for (const auto& decl : config.containers) {
    if (decl.produces) produces.emplace(decl.name.value, decl.produces->value);
  }
  if (produces.empty()) return;

  for (std::size_t index = 0; index < table.adapters().size(); ++index) {
    const auto& compiled = table.adapters()[index];
    // Per source: every type the adapter takes from it.
    std::vector<std::pair<ContainerId, EventTypeSet>> taken;
    const routing::SelectiveGroup* group = nullptr;
    for (const auto& edge : compiled.edges) {
      if (edge.selective) group = edge.selective.get();
      auto it = std::find_if(taken.begin(), taken.end(),
                             [&](const auto& entry) { return entry.first == edge.source; });
      if (it == taken.end()) {
        taken.emplace_back(edge.source, edge.types);
      } else {
        it->second = EventTypeSet::fromBits(it->second.bits() | edge.types.bits());
      }
    }
    for (const auto& [source, types] : taken) {
      const auto declared = produces.find(table.name(source));
      if (declared == produces.end()) continue;
      const EventTypeSet made = declared->second;
      const EventTypeSet flows = EventTypeSet::fromBits(types.bits() & made.bits());
      if (flows.empty()) {
        diagnostics.warning(compiled.mark,
                            "adapter '" + compiled.name + "' takes " + types.toString() +
                                " from '" + table.name(source) + "', which produces " +
                                (made.empty() ? std::string("no events") : "only " + made.toString()) +
                                ": nothing flows through it from there");
        continue;
      }
      if (group == nullptr) continue;
      for (std::size_t r = 0; r < group->rules.size(); ++r) {
        const EventTypeSet read = group->rules[r].condition.payloadTypes();
        if (read.empty()) continue;  // header fields only: every event has them
        if (!EventTypeSet::fromBits(read.bits() & flows.bits()).empty()) continue;
        diagnostics.warning(group->rules[r].mark, "condition '" + group->rules[r].condition.text() +
                                      "' reads fields of " + read.toString() + " events, which '" +
                                      table.name(source) + "' never sends here (it produces " +
                                      made.toString() + ")");
      }
    }
  }
}

}  // namespace

bool differOnlyByNumbering(std::string_view a, std::string_view b) {
  if (a == b) return true;
  // The differing middle, once the common prefix and suffix are removed: digits on both sides
  // (spy1 / spy2, risk_1 / risk_12).
  std::size_t prefix = 0;
  while (prefix < a.size() && prefix < b.size() && a[prefix] == b[prefix]) ++prefix;
  std::size_t suffix = 0;
  while (suffix < a.size() - prefix && suffix < b.size() - prefix &&
         a[a.size() - 1 - suffix] == b[b.size() - 1 - suffix]) {
    ++suffix;
  }
  const std::string_view middle_a = a.substr(prefix, a.size() - prefix - suffix);
  const std::string_view middle_b = b.substr(prefix, b.size() - prefix - suffix);
  if (allDigits(middle_a) && allDigits(middle_b)) return true;

  // Names made of the same words but one short label (strategy_a / strategy_b, x_5m / x_1h).
  const auto ta = tokens(a);
  const auto tb = tokens(b);
  if (ta.size() == tb.size()) {
    std::size_t differing = 0;
    bool numbering = true;
    for (std::size_t i = 0; i < ta.size(); ++i) {
      if (ta[i] == tb[i]) continue;
      ++differing;
      numbering = numbering && isNumberingToken(ta[i]) && isNumberingToken(tb[i]);
    }
    return differing == 1 && numbering;
  }
  // One name is the other plus a label at either end (data / data_2, a / a_b).
  const auto& shorter = ta.size() < tb.size() ? ta : tb;
  const auto& longer = ta.size() < tb.size() ? tb : ta;
  if (longer.size() != shorter.size() + 1) return false;
  const bool extra_last = std::equal(shorter.begin(), shorter.end(), longer.begin()) &&
                          isNumberingToken(longer.back());
  const bool extra_first = std::equal(shorter.begin(), shorter.end(), longer.begin() + 1) &&
                           isNumberingToken(longer.front());
  return extra_last || extra_first;
}

void validateTopology(const config::Config& config, std::span<const AdapterConfig> adapters,
                      std::span<const Located<std::string>> adapter_names,
                      const RoutingTable* table, Diagnostics& diagnostics) {
  warnOnLikelyTypos(config, adapter_names, diagnostics);
  if (table == nullptr) return;
  warnOnCycles(adapters, *table, diagnostics);
  warnOnTypeFlow(config, *table, diagnostics);
}

}  // namespace evr::topology
