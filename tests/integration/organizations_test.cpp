// Each organization's generated default adapters carry an event from `data` to `execution`
// through real container processes. Every container between them turns what it receives into an
// event of its own (as a real container would) — as REGIME, the one type every default adapter
// passes (hierarchical defaults carry REGIME down) — and the event reaching execution must
// belong to the chain the BAR from data started (its correlation id).
#include <boost/test/unit_test.hpp>
#include <nlohmann/json.hpp>

#include <fstream>
#include <sstream>

#include "daemon_fixture.hpp"
#include "evr/event.hpp"

using namespace evr::test;

namespace {

// The container names `evrouterd --check` lists for a config.
std::vector<std::string> containersOf(const std::string& config_path) {
  Process check({EVR_EVROUTERD_PATH, "--check", "-c", config_path});
  const auto line = check.waitForLine("containers (", 30s);
  BOOST_REQUIRE(line);
  BOOST_REQUIRE_EQUAL(check.waitFor(30s).value_or(-1), 0);
  std::vector<std::string> names;
  std::string list = line->substr(line->find("): ") + 3);
  std::istringstream items(list);
  std::string name;
  while (std::getline(items, name, ',')) {
    name.erase(0, name.find_first_not_of(' '));
    names.push_back(name);
  }
  return names;
}

void dataReachesExecution(const std::string& organization_yaml) {
  // A low hop limit keeps the classifier <-> risk loop of classifier_first short.
  RunningDaemon daemon("router:\n  heartbeat_ms: 200\n  max_hops: 6\n" + organization_yaml);
  const auto containers = containersOf(daemon.configPath());
  BOOST_TEST_MESSAGE("containers: " << containers.size());
  BOOST_REQUIRE(std::find(containers.begin(), containers.end(), "data") != containers.end());
  BOOST_REQUIRE(std::find(containers.begin(), containers.end(), "execution") != containers.end());

  std::vector<std::unique_ptr<Process>> stages;
  for (const auto& name : containers) {
    if (name == "data" || name == "execution") continue;
    stages.push_back(daemon.peer({"--as", name, "--forward", "REGIME", "--expect", "1000000", "--timeout", "60"}));
  }
  auto execution = daemon.evrctl({"recv", "--as", "execution", "--count", "1", "--json", "--timeout", "60"});
  auto data = daemon.evrctl({"send", "--as", "data", "--type", "BAR", "--set", "symbol=SPY", "--set", "close=100"});
  BOOST_REQUIRE_EQUAL(data->waitFor(60s).value_or(-1), 0);
  BOOST_REQUIRE_EQUAL(execution->waitFor(60s).value_or(-1), 0);
  const auto event = nlohmann::json::parse(execution->readAllStdout(2s));
  BOOST_TEST_MESSAGE("execution got " << event.at("type") << " from " << event.at("source")
                                      << " after " << event.at("hops") << " hops");
  BOOST_CHECK_EQUAL(event.at("correlation_id").get<std::uint64_t>(), evr::makeEventId("data", 1));
  BOOST_CHECK_NE(event.at("source").get<std::string>(), "data");
  BOOST_CHECK_EQUAL(daemon.stop(), 0);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(organizations)

BOOST_AUTO_TEST_CASE(strategy_first_defaults_carry_data_to_execution) {
  dataReachesExecution(R"(
organization: strategy_first
strategies:
  - name: strategy_a
  - name: strategy_b
)");
}

BOOST_AUTO_TEST_CASE(risk_first_defaults_carry_data_to_execution) {
  dataReachesExecution(R"(
organization: risk_first
strategies:
  - name: strategy_a
  - name: strategy_b
)");
}

BOOST_AUTO_TEST_CASE(classifier_first_defaults_carry_data_to_execution) {
  dataReachesExecution(readFile(std::string(EVR_SOURCE_DIR) + "/configs/classifier_first.yaml"));
}

BOOST_AUTO_TEST_CASE(portfolio_first_defaults_carry_data_to_execution) {
  dataReachesExecution(readFile(std::string(EVR_SOURCE_DIR) + "/configs/portfolio_first.yaml"));
}

BOOST_AUTO_TEST_SUITE_END()
