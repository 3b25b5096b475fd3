// YAML text -> Config -> RoutingTable for unit tests of the daemon's stages 1-3, with the
// diagnostics shown when a check fails. Header-only: only test binaries that link
// evr::daemon_core include it.
#pragma once

#include <boost/test/unit_test.hpp>

#include <memory>
#include <string_view>
#include <utility>

#include "config/config_loader.hpp"
#include "routing/routing_table.hpp"
#include "topology/topology.hpp"

namespace evr::test {

// Loads `yaml`, which must load: a failure fails the test, with the diagnostics.
inline config::Config loadOrFail(std::string_view yaml, config::Diagnostics& diagnostics) {
  auto config = config::loadConfigText(yaml, "test.yaml", diagnostics);
  BOOST_TEST_INFO("load diagnostics:\n" << diagnostics.toString());
  BOOST_TEST_REQUIRE(config.has_value());
  return std::move(*config);
}

struct CompiledYaml {
  std::shared_ptr<const routing::RoutingTable> table;  // null when compiling failed
  config::Diagnostics diagnostics;                     // of loading and compiling
};

// Loads `yaml` (which must load) and compiles it.
inline CompiledYaml compileYaml(std::string_view yaml) {
  CompiledYaml out;
  const auto config = loadOrFail(yaml, out.diagnostics);
  out.table = topology::compileTopology(config, out.diagnostics);
  return out;
}

}  // namespace evr::test
