#include "topology/check_config.hpp"

#include <ostream>

#include "topology/compile_config.hpp"

namespace evr::topology {

int checkConfigFile(const std::string& path, std::ostream& out, std::ostream& err) {
  const auto compiled =
      compileConfigFile(path, [&err](const config::Diagnostic& d) { err << d.toString() << '\n'; });
  if (!compiled.ok()) {
    err << path << ": " << compiled.errors << " error(s)\n";
    return 1;
  }
  out << "config OK: " << path << '\n' << compiled.table->describe()
      << compiled.table->describeDelivery();
  return 0;
}

}  // namespace evr::topology
