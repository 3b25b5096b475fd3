// Topology compilation: Config -> RoutingTable. Stage 2 of YAML -> Config -> Topology -> table.
//
// Resolves container names, runs each adapter's compiler (routing/*_adapter, found through the
// adapter registry), and checks what only the whole picture shows. Compiling *is* validating:
// every problem goes to `diagnostics` with the place in the file.

#pragma once

#include <memory>

#include "config/config.hpp"
#include "config/diagnostics.hpp"
#include "routing/adapter_registry.hpp"
#include "routing/routing_table.hpp"

namespace evr::topology {

// nullptr when there were errors (all of them are in `diagnostics`). Only errors found by this
// call count: `diagnostics` may already hold the loader's warnings.
//
// Containers are interned in first-seen order: adapters in file order, and within an adapter in
// the order its compiler resolves names (pipeline: the list; broadcast: source, then targets).
// Warnings (never failures): no adapters at all; two container names whose fnv1a32 hashes
// collide (their event ids could collide).
std::shared_ptr<const routing::RoutingTable> compileTopology(const config::Config& config,
                                                             config::Diagnostics& diagnostics);

// The same with an explicit set of adapter types (compileTopology uses
// routing::builtinAdapterRegistry()).
std::shared_ptr<const routing::RoutingTable> compileTopology(
    const config::Config& config, const routing::AdapterRegistry& registry,
    config::Diagnostics& diagnostics);

}  // namespace evr::topology
