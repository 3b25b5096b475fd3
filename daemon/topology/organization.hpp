// Organizations: the default adapters of `organization:` when the config writes none.
//
// Part of stage 2 of YAML -> Config -> Topology -> RoutingTable -> relay loop. When
// `event_communication.adapters` is absent and `organization:` is set, compileTopology compiles
// the adapters generated here instead: the spec's "Default Communication Patterns" (Strategy-,
// Classifier- and Risk-First), and a Portfolio-First pattern designed in the same spirit (the spec
// has none). They are built from the containers the organization sections declare
// (config::Config::containers) plus fixed infrastructure containers. The patterns are documented
// in docs/config.md, "Generated default adapters".
//
//   strategy_first:   per strategy S: pipeline [data, S, execution];
//                     broadcast execution -> [performance_tracker]
//   classifier_first: per classifier C: pipeline [data, indicators, C];
//                     hierarchical C -> C's risk profiles (context REGIME);
//                     per risk profile R: pipeline [R, execution]
//   risk_first:       broadcast data -> every strategy;
//                     per strategy S: pipeline [S, R, execution], R = S's risk profile, else
//                     risk_manager
//   portfolio_first:  broadcast data -> every portfolio and strategy;
//                     per portfolio P: hierarchical P -> P's strategies (context PORTFOLIO and
//                     REGIME, results SIGNAL); pipeline [P, R, execution], R = P's risk profile,
//                     else risk_manager;
//                     broadcast execution -> every portfolio, FILL only
//
// Infrastructure containers are named data, indicators, execution, performance_tracker and
// risk_manager, unless a `containers:` entry takes that role (`{name: feed, role: data}`).
// Generated adapters are named `default:<organization>:<containers>` (e.g.
// `default:strategy_first:data->strategy_a->execution`), are marked `generated`, and every mark
// points at the declaration of the container it names, or at the `organization:` value.

#pragma once

#include <string_view>
#include <vector>

#include "config/config.hpp"
#include "config/diagnostics.hpp"

namespace evr::topology {

// Infrastructure role names (also the default container names).
inline constexpr std::string_view kDataRole = "data";
inline constexpr std::string_view kIndicatorsRole = "indicators";
inline constexpr std::string_view kExecutionRole = "execution";
inline constexpr std::string_view kPerformanceTrackerRole = "performance_tracker";
inline constexpr std::string_view kRiskManagerRole = "risk_manager";

// The default adapters of `config.organization` (none when it is unset), whether or not the
// config also has adapters: the caller decides when to use them. Never fails: what is missing
// for a useful pattern (no strategies, a classifier without risk profiles, ...) is a warning in
// `diagnostics`, and the adapters that can be built are returned.
std::vector<config::AdapterConfig> defaultAdapters(const config::Config& config,
                                                   config::Diagnostics& diagnostics);

}  // namespace evr::topology
