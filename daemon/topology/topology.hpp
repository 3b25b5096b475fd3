// Topology compilation: Config -> RoutingTable. Stage 2 of YAML -> Config -> Topology -> table.
//
// Resolves container names, runs each adapter's compiler (routing/*_adapter, found through the
// adapter registry), and checks what only the whole picture shows. Compiling *is* validating:
// every problem goes to `diagnostics` with the place in the file.

#pragma once

#include <memory>

#include "config/config.hpp"
#include "config/diagnostics.hpp"
#include "routing/routing_table.hpp"

namespace evr::topology {

// nullptr when there were errors (all of them are in `diagnostics`).
std::shared_ptr<const routing::RoutingTable> compileTopology(const config::Config& config,
                                                             config::Diagnostics& diagnostics);

}  // namespace evr::topology
