#include "topology/check_config.hpp"

#include <ostream>

#include "config/config_loader.hpp"
#include "topology/topology.hpp"

namespace evr::topology {

int checkConfigFile(const std::string& path, std::ostream& out, std::ostream& err) {
  config::Diagnostics diagnostics;
  auto config = config::loadConfigFile(path, diagnostics);
  std::shared_ptr<const routing::RoutingTable> table;
  if (config) table = compileTopology(*config, diagnostics);
  for (const auto& diagnostic : diagnostics.all()) err << diagnostic.toString() << '\n';
  if (diagnostics.hasErrors() || !table) {
    err << path << ": " << diagnostics.errorCount() << " error(s)\n";
    return 1;
  }
  out << "config OK: " << path << '\n' << table->describe();
  return 0;
}

}  // namespace evr::topology
