#include "topology/compile_config.hpp"

#include "config/config_loader.hpp"
#include "topology/topology.hpp"

namespace evr::topology {
namespace {

CompiledConfig compileLoaded(std::optional<config::Config> loaded, config::Diagnostics& diagnostics,
                             const DiagnosticReport& report) {
  CompiledConfig out;
  if (loaded) out.table = compileTopology(*loaded, diagnostics);
  for (const auto& diagnostic : diagnostics.all()) report(diagnostic);
  out.errors = diagnostics.errorCount();
  out.warnings = diagnostics.warningCount();
  if (out.ok())
    out.config = std::move(loaded);
  else
    out.table.reset();
  return out;
}

}  // namespace

CompiledConfig compileConfigFile(const std::string& path, const DiagnosticReport& report) {
  config::Diagnostics diagnostics;
  auto loaded = config::loadConfigFile(path, diagnostics);
  return compileLoaded(std::move(loaded), diagnostics, report);
}

CompiledConfig compileConfigText(std::string_view yaml, const std::string& path,
                                 const DiagnosticReport& report) {
  config::Diagnostics diagnostics;
  auto loaded = config::loadConfigText(yaml, path, diagnostics);
  return compileLoaded(std::move(loaded), diagnostics, report);
}

}  // namespace evr::topology
