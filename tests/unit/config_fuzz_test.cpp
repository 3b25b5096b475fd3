// The config stages take outside input: mutated configs must give diagnostics, never a throw or
// a crash. Deterministic (seeded) mutations of the shipped configs.
#include <boost/test/unit_test.hpp>

#include <fstream>
#include <random>
#include <sstream>

#include "config/config_loader.hpp"
#include "temp_dir.hpp"
#include "topology/topology.hpp"

BOOST_AUTO_TEST_SUITE(config_fuzz)

BOOST_AUTO_TEST_CASE(mutated_configs_give_diagnostics_and_never_throw) {
  const std::string source = std::string(EVR_SOURCE_DIR) + "/configs/";
  const std::string alphabet = " :-[]{}\"'#,\n\t&*!|>%@`0123456789abcXYZ";
  std::mt19937 random(20261127);
  std::size_t loaded = 0, rejected = 0;
  for (const char* name : {"default.yaml", "risk_first.yaml", "strategy_first.yaml"}) {
    const std::string original = evr::test::readFile(source + name);
    BOOST_REQUIRE(!original.empty());
    for (int round = 0; round < 700; ++round) {
      std::string text = original;
      const int edits = 1 + static_cast<int>(random() % 4);
      for (int e = 0; e < edits; ++e) {
        const std::size_t at = random() % text.size();
        switch (random() % 3) {
          case 0: text[at] = alphabet[random() % alphabet.size()]; break;
          case 1: text.erase(at, 1 + random() % 8); break;
          default: text.insert(at, 1, alphabet[random() % alphabet.size()]); break;
        }
        if (text.empty()) text = "x";
      }
      evr::config::Diagnostics diagnostics;
      std::optional<evr::config::Config> config;
      BOOST_REQUIRE_NO_THROW(config = evr::config::loadConfigText(text, name, diagnostics));
      std::shared_ptr<const evr::routing::RoutingTable> table;
      if (config) BOOST_REQUIRE_NO_THROW(table = evr::topology::compileTopology(*config, diagnostics));
      if (table) {
        ++loaded;
        BOOST_CHECK(!diagnostics.hasErrors());
      } else {
        ++rejected;
        // A rejection always says why, with a place.
        BOOST_REQUIRE(diagnostics.hasErrors());
        for (const auto& d : diagnostics.all()) BOOST_CHECK(d.toString().find(name) == 0);
      }
    }
  }
  BOOST_TEST_MESSAGE("mutated configs: " << loaded << " loaded, " << rejected << " rejected");
  BOOST_CHECK(rejected > 0);
}

BOOST_AUTO_TEST_CASE(text_that_sends_yaml_cpp_load_all_into_an_endless_loop_is_an_error) {
  // Found by the test above: yaml-cpp 0.7's LoadAll allocates without end on this text.
  evr::config::Diagnostics diagnostics;
  const auto config = evr::config::loadConfigText(",#\nrouter: {}\n", "loop.yaml", diagnostics);
  BOOST_CHECK(!config.has_value());
  BOOST_REQUIRE(diagnostics.hasErrors());
  BOOST_CHECK(diagnostics.all()[0].toString().starts_with("loop.yaml:1:1: error:"));
}

BOOST_AUTO_TEST_SUITE_END()
