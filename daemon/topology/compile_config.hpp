// compileConfig: the one path from a config file (or its bytes) to a RoutingTable, shared by
// evrouterd's start, `evrouterd --check` / `evrctl check` and every reload.
//
// Stages 1 and 2 of YAML -> Config -> Topology -> RoutingTable: config_loader reads, then
// compileTopology resolves and checks. Both collect every problem; this hands each diagnostic,
// errors and warnings in the order found, to the caller's `report` (the log, a stream, a reload
// reply), so every caller reports the same diagnostics the same way.

#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "config/config.hpp"
#include "config/diagnostics.hpp"
#include "routing/routing_table.hpp"

namespace evr::topology {

using DiagnosticReport = std::function<void(const config::Diagnostic&)>;

struct CompiledConfig {
  std::optional<config::Config> config;                // set when ok()
  std::shared_ptr<const routing::RoutingTable> table;  // set when ok()
  std::size_t errors = 0;
  std::size_t warnings = 0;
  bool ok() const { return errors == 0 && table != nullptr; }
};

// Reads and compiles the file at `path`; an unreadable file is an error diagnostic too.
CompiledConfig compileConfigFile(const std::string& path, const DiagnosticReport& report);

// Compiles `yaml` (already read); `path` names it in diagnostics.
CompiledConfig compileConfigText(std::string_view yaml, const std::string& path,
                                 const DiagnosticReport& report);

}  // namespace evr::topology
