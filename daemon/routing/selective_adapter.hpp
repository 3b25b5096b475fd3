// The selective adapter: content-based routing (the spec's SelectiveCommunicationAdapter).
//
// One of the adapter types of routing/adapter_registry (stages 1 and 2 of YAML -> Config ->
// Topology -> RoutingTable -> relay loop). `source` and ordered `rules`, each a `condition`
// (compiled once here by routing/condition) and a `target`. The first rule whose condition holds
// decides (the spec's `break`); `mode: all` sends to every matching rule's target; `default:`
// takes what no rule matches (without it, such events are counted as unmatched, never dropped
// silently). Parses its keys into a SelectiveConfig (a rule may also be written in the
// structured form {field, operator, value}, which becomes condition text) and compiles it to one
// edge per distinct target, all sharing one SelectiveGroup that the relay loop evaluates per
// event.
//
// Keys: `source` (required), `rules` (at least 1 unless `default`), `default`, `mode`.

#pragma once

#include <optional>
#include <string>
#include <vector>

#include "routing/adapter_registry.hpp"

namespace evr::routing {

// One `rules:` entry. The structured form the original Python project used ({field, operator,
// value}) is turned into `condition` by the parser (with `structured = true`, and marks pointing
// at the structured entry).
struct SelectiveRuleConfig {
  config::ConditionText condition;
  bool structured = false;
  config::Located<std::string> target;
  config::Mark mark;  // of the rule's mapping
};

struct SelectiveConfig {
  std::optional<config::Located<std::string>> source;
  std::vector<SelectiveRuleConfig> rules;
  std::optional<config::Located<std::string>> default_target;  // `default:`
  bool mode_all = false;                                       // `mode: all` (default `first`)
};

AdapterKind selectiveAdapterKind();

}  // namespace evr::routing
