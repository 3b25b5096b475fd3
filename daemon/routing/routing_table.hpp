// RoutingTable: the immutable lookup the relay loop consults for every event.
//
// Stage 3 of YAML -> Config -> Topology -> RoutingTable -> relay loop. Built once per config
// load by compileTopology (topology/topology.hpp) and shared as shared_ptr<const RoutingTable>;
// never changed after construction, so the relay loop can swap one for another between two
// messages. Containers are interned to dense ContainerIds; a route is looked up by
// (source id, event type ordinal) and yields a de-duplicated target list computed at build time:
// no allocation, no string compare, no YAML on the hot path.

#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "config/delivery.hpp"
#include "config/diagnostics.hpp"
#include "evr/event_types.hpp"
#include "routing/condition.hpp"

namespace evr::routing {

using ContainerId = std::uint16_t;
using AdapterIndex = std::uint16_t;

// Most containers / adapters one table can hold (the ids are 16-bit).
inline constexpr std::size_t kMaxContainers = 0xffff;
inline constexpr std::size_t kMaxAdapters = 0xffff;

// FNV-1a, 32-bit, over the bytes of `text`: the upper half of an event id is
// fnv1a32(source container name) (schemas/event.capnp, Event.id), so the topology warns when two
// container names hash alike.
constexpr std::uint32_t fnv1a32(std::string_view text) {
  std::uint32_t hash = 0x811c9dc5u;
  for (const char c : text) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 0x01000193u;
  }
  return hash;
}

// A pipeline stage's `transform:` (the spec's event_transformer), applied by the relay to the
// events that cross one edge: retype (the next stage sees another event type) and added tags.
// Immutable; shared by the edges of one adapter.
struct Transform {
  std::vector<std::pair<EventType, EventType>> retype;   // from -> to
  std::vector<std::pair<std::string, std::string>> tags;  // added to the event's tags
  // The type an event of `type` has after the transform.
  EventType apply(EventType type) const;
  // "retype INDICATOR->SIGNAL, tag stage=enriched"
  std::string describe() const;
};

class RoutingTable;

// A run-time decision an adapter type makes in code rather than by condition rules (the shard
// adapter's hash of a field): it picks the targets of each event. An interface with no data;
// implementations are immutable, final, and live with their adapter type
// (routing/<type>_adapter.cpp).
class Chooser {
 public:
  virtual ~Chooser() = default;
  // The targets of this event, a view into the chooser's own storage; empty when it picks none
  // (counted as unmatched). Must not allocate; may throw kj::Exception on a malformed event, as
  // reading any field does.
  virtual std::span<const ContainerId> choose(const EventView& view) const = 0;
  // For `--check`: what it decides and among whom, after "source [types] -> ", ending in '\n'
  // (more lines indented by 4 spaces).
  virtual std::string describe(const RoutingTable& table) const = 0;
  // For graphs, on each of its edges: what decides, e.g. "hash of event.symbol".
  virtual std::string edgeLabel() const = 0;
  // How many event fields one choose() reads at most (see Condition::fieldReads).
  virtual std::size_t fieldReads() const = 0;
};

class RuleIndex;  // below: a selective adapter's rules as a lookup

// A decision made per event, shared by the edges of one adapter. A selective adapter's: the first
// rule whose condition holds picks the target (every matching rule with `mode: all`);
// `default_target` takes events no rule matches; without it they are counted as unmatched. Or an
// adapter type's own `chooser` (then `rules` is empty).
struct SelectiveGroup {
  struct Rule {
    Condition condition;
    ContainerId target = 0;
    config::Mark mark;  // of the condition's text, for warnings about it
  };
  std::vector<Rule> rules;
  std::optional<ContainerId> default_target;
  bool mode_all = false;
  std::shared_ptr<const Chooser> chooser{};
  // The rules as a lookup, when they allow one (RuleIndex::build); they stay above for --check.
  std::shared_ptr<const RuleIndex> index{};

  // How many event fields one decision reads at most: the index's one, or every rule's (all may
  // be evaluated), or the chooser's. O(rules); the routing table sums it once per route
  // (RouteEntry::content_reads).
  std::size_t fieldReads() const {
    if (index) return 1;
    std::size_t reads = chooser ? chooser->fieldReads() : 0;
    for (const auto& rule : rules) reads += rule.condition.fieldReads();
    return reads;
  }

  // The decision for one event: calls take(target) for the first matching rule's target (every
  // matching rule's with mode_all), or for the default target when none matches; or for each
  // target the chooser picks. Returns false when the event matched nothing and there is no
  // default (an unmatched event). No allocation.
  template <typename Take>
  bool choose(const EventView& view, Take&& take) const;  // defined below RuleIndex
};

// A selective adapter's rules looked up instead of tried in turn, when every rule tests one and
// the same text or enum field F for equality (Condition::equality: `event.F == 'x'`, `event.F in
// [...]`): F is read once per event and its value finds, in a hash table built at load time, the
// targets of the rules it satisfies, in rule order (the first one only unless every matching rule
// takes the event). The same decision as evaluating the rules one by one, at the cost of one field
// read and one lookup whatever the number of rules.
class RuleIndex {
 public:
  // The index of a selective adapter's rules, or nullptr when they are not all equality tests on
  // one field, or there are none.
  static std::shared_ptr<const RuleIndex> build(std::span<const SelectiveGroup::Rule> rules, bool mode_all);

  // The matching rules' targets, a view into the index; empty when no rule matches (F absent, a
  // value no rule names, or an event that cannot be read). Does not allocate.
  std::span<const ContainerId> targets(const EventView& view) const;
  const fields::FieldInfo& field() const { return *field_; }
  // Whether its text values are few enough to be compared in turn rather than hashed.
  bool scanned() const { return by_text_.size() <= kScannedValues; }

 private:
  // Up to this many text values are compared in turn, a few instructions each: cheaper than
  // hashing the event's value (most selective adapters name a handful of labels).
  static constexpr std::size_t kScannedValues = 8;
  struct TextHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view text) const { return std::hash<std::string_view>{}(text); }
  };
  const fields::FieldInfo* field_ = nullptr;
  std::unordered_map<std::string, std::vector<ContainerId>, TextHash, std::equal_to<>> by_text_;
  std::unordered_map<std::uint16_t, std::vector<ContainerId>> by_enum_;  // by ordinal
  // by_text_'s entries, when there are at most kScannedValues (views into by_text_).
  std::vector<std::pair<std::string_view, std::span<const ContainerId>>> scanned_;
};

template <typename Take>
bool SelectiveGroup::choose(const EventView& view, Take&& take) const {
  if (chooser) {
    const std::span<const ContainerId> chosen = chooser->choose(view);
    for (const ContainerId target : chosen) take(target);
    return !chosen.empty();
  }
  bool matched = false;
  if (index) {
    const std::span<const ContainerId> found = index->targets(view);
    for (const ContainerId target : found) take(target);
    matched = !found.empty();
  } else {
    for (const auto& rule : rules) {
      if (!rule.condition.evaluate(view)) continue;
      matched = true;
      take(rule.target);
      if (!mode_all) break;
    }
  }
  if (matched) return true;
  if (!default_target) return false;
  take(*default_target);
  return true;
}

// One directed edge an adapter contributes: events of `types` from `source` go to `target`,
// unconditionally, or only when `selective` chooses `target`; through `transform` when set.
struct Edge {
  ContainerId source = 0;
  ContainerId target = 0;
  EventTypeSet types;
  std::shared_ptr<const Transform> transform{};
  std::shared_ptr<const SelectiveGroup> selective{};
};

// A compiled adapter, kept for stats, `--check` output and graphs.
struct CompiledAdapter {
  std::string name;
  std::string type;
  config::Mark mark;
  std::vector<Edge> edges;
};

// A delivery that changes the event on the way (a pipeline transform).
struct TransformedTarget {
  ContainerId target = 0;
  const Transform* transform = nullptr;  // owned by the table's adapters
};

// A selective adapter to consult for this (source, type).
struct SelectiveStep {
  const SelectiveGroup* group = nullptr;  // owned by the table's adapters
  AdapterIndex adapter = 0;
};

// What the router does with one (source, type). Each target gets the event once, however many
// adapters route it there; when several adapters reach one target, the first in the config
// decides how (plain or transformed). `targets`: plain deliveries, sorted. `transformed`:
// deliveries through a transform. `selective`: adapters whose conditions pick more targets at
// run time (skipping targets already served). `adapters`: the unconditional adapters that
// matched, for per-adapter counters.
struct RouteEntry {
  std::vector<ContainerId> targets;
  std::vector<TransformedTarget> transformed;
  std::vector<SelectiveStep> selective;
  std::vector<AdapterIndex> adapters;
  // How many times routing one event may read its content whole, at most: the field reads of its
  // selective steps, and two per transform (the copy, and the tags it extends). The relay loop
  // sizes the event's Cap'n Proto traversal budget by it.
  std::size_t content_reads = 0;
  bool empty() const { return targets.empty() && transformed.empty() && selective.empty(); }
};

// One line of the compiled routes: the event types from `source` that share one route, and where
// they go. A value built from names, so routes of two tables compare (the reload diff) without
// their ids or pointers agreeing.
struct RouteSummary {
  struct Target {
    std::string container;
    std::optional<std::string> transform;  // Transform::describe(); none for a plain delivery
    friend bool operator==(const Target&, const Target&) = default;
  };
  std::string source;
  EventTypeSet types;
  std::vector<Target> targets;        // plain deliveries (by id), then transformed ones
  std::vector<std::string> deciders;  // selective adapters that pick more targets at run time
  std::vector<std::string> adapters;  // the unconditional adapters that route it
  friend bool operator==(const RouteSummary&, const RouteSummary&) = default;
  // "data: BAR|TICK -> strategy, risk (retype ...), <regime_routing decides>  via main"
  std::string toString() const;
};

// Delivery policies resolved per (target, type) (docs/delivery.md, section 2), as the topology
// compiles them from config::DeliveryConfig. `policies` is [target * kEventTypeCount + type]; the
// slot of type 0 (UNKNOWN) holds the target's default, used for ordinals the table does not know.
// Empty vectors mean every type is lossless to every target with the default limit.
struct CompiledDelivery {
  std::vector<DeliveryPolicy> policies;
  std::vector<std::uint32_t> limits;  // per target: bound of its lossy (drop_*) events
};

// One input of a container for event-time ordering (docs/determinism.md): a container some edge
// routes from. `feedback`: the link closes a cycle, so the container never waits for it. Links
// are taken in turn, those carrying END_OF_DATA (the data flow) first, then the rest, each in
// adapter order; a link that would close a cycle of the links taken before it is feedback.
struct OrderedInput {
  ContainerId source = 0;
  bool feedback = false;
  friend bool operator==(const OrderedInput&, const OrderedInput&) = default;
};

class RoutingTable {
 public:
  RoutingTable() = default;
  RoutingTable(std::vector<std::string> containers, std::vector<CompiledAdapter> adapters,
               CompiledDelivery delivery = {});

  const std::vector<std::string>& containers() const { return containers_; }
  const std::vector<CompiledAdapter>& adapters() const { return adapters_; }
  std::optional<ContainerId> find(std::string_view name) const;
  const std::string& name(ContainerId id) const { return containers_[id]; }

  // The route for an event; an empty entry when nothing routes it. `event_type` is the envelope's
  // ordinal; unknown ordinals get the empty entry.
  const RouteEntry& route(ContainerId source, std::uint8_t event_type) const {
    if (event_type >= kEventTypeCount) return empty_;
    return entries_[static_cast<std::size_t>(source) * kEventTypeCount + event_type];
  }

  // The policy of an event of `event_type` (the envelope's ordinal) at `target`: the target's
  // type, else the target's default, else the type's, else the default. O(1), no allocation.
  // An unknown ordinal gets the target's resolved default.
  DeliveryPolicy policy(ContainerId target, std::uint8_t event_type) const {
    // Watermark records (docs/determinism.md) are never shed: a consumer waits for them.
    if (all_lossless_ || event_type == kWatermarkType) return DeliveryPolicy::Lossless;
    const std::size_t type = event_type < kEventTypeCount ? event_type : 0;
    return policies_[static_cast<std::size_t>(target) * kEventTypeCount + type];
  }
  // How many drop_oldest / drop_newest events `target`'s queue may hold (transport/target_queue.hpp).
  std::uint32_t lossyLimit(ContainerId target) const {
    return limits_.empty() ? config::kDefaultLossyLimit : limits_[target];
  }
  // True when every type is lossless to every target (no `delivery:`, or one that changes nothing).
  bool allLossless() const { return all_lossless_; }

  // For `--check`: "delivery:\n" and one line per group of targets whose policies are alike,
  // e.g. "  dashboard: TICK conflate, * drop_oldest (limit 1000)"; "" when allLossless().
  std::string describeDelivery() const;

  // The containers some edge routes to `target` from, ordered by name (the order the client hands
  // on the events of one event time in), and the containers `source` routes to, by id. What
  // evrouterd tells a container in INPUTS and where a source's watermarks go.
  const std::vector<OrderedInput>& inputs(ContainerId target) const { return inputs_[target]; }
  const std::vector<ContainerId>& outputs(ContainerId source) const { return outputs_[source]; }

  // True when some adapter takes events (of any type) from `source`.
  bool isSource(ContainerId source) const { return is_source_[source]; }

  // Every route, per source in id order, then by first event type; sources without routes have
  // none.
  std::vector<RouteSummary> routes() const;

  // Human-readable adapters and routes (one line per RouteSummary), for `evrouterd --check`.
  std::string describe() const;

 private:
  // inputs_ and outputs_, from the adapters' edges.
  void buildOrderingGraph();

  std::vector<std::string> containers_;
  std::vector<CompiledAdapter> adapters_;
  std::vector<ContainerId> by_name_;  // ids ordered by name, for find()
  std::vector<RouteEntry> entries_;  // [source * kEventTypeCount + type]
  std::vector<bool> is_source_;
  std::vector<std::vector<OrderedInput>> inputs_;  // per target
  std::vector<std::vector<ContainerId>> outputs_;  // per source
  RouteEntry empty_;
  std::vector<DeliveryPolicy> policies_;  // [target * kEventTypeCount + type]; empty: all lossless
  std::vector<std::uint32_t> limits_;     // per target; empty: the default
  bool all_lossless_ = true;
};

}  // namespace evr::routing
