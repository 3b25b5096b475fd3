// Validation: warnings about configs that load and compile but probably do not do what their
// author meant.
//
// Part of stage 2 of YAML -> Config -> Topology -> RoutingTable -> relay loop; compileTopology
// calls it last. Every finding is a warning, never an error: the config is still valid.
//
// - Likely typos: a container name used exactly once in the file (declarations and adapters)
//   that is within edit distance 2 of another name, unless the two differ only by numbering
//   (strategy_a / strategy_b, risk_1 / risk_12, spy_5m / spy_1h, data / data_2).
// - Routing cycles: a loop in the container graph that runs through two or more adapters
//   (a -> b -> a). A loop inside one adapter is deliberate (a hierarchical parent and its
//   children, a pipeline that comes back to a container) and is not reported; neither are the
//   generated organization defaults. max_hops bounds every loop at run time.
// - Type flow: where a container declares `produces:`, an adapter that takes none of those
//   types from it, and a selective rule whose condition reads payload fields of types it never
//   produces.

#pragma once

#include <span>

#include "config/config.hpp"
#include "config/diagnostics.hpp"
#include "routing/routing_table.hpp"

namespace evr::topology {

// `adapters`: what was compiled (the config's, or the generated defaults), in the table's adapter
// order. `adapter_names`: every container name the written (not generated) adapters use, in the
// order their compilers resolved them. `table`: the compiled table, or nullptr when compilation
// failed (then only the typo check runs, since there are no routes to judge).
void validateTopology(const config::Config& config,
                      std::span<const config::AdapterConfig> adapters,
                      std::span<const config::Located<std::string>> adapter_names,
                      const routing::RoutingTable* table, config::Diagnostics& diagnostics);

// True when `a` and `b` differ only by a numbering part (strategy_a / strategy_b): such names are
// meant to be alike. Exposed for tests.
bool differOnlyByNumbering(std::string_view a, std::string_view b);

}  // namespace evr::topology
