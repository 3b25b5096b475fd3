// The spec's communication patterns with real processes: the full "flexible" example
// (pipeline, hierarchical, broadcast, selective in one config) and the Risk-First default.
#include <boost/test/unit_test.hpp>
#include <nlohmann/json.hpp>

#include <set>
#include <sstream>

#include "daemon_fixture.hpp"

using namespace evr::test;

namespace {

constexpr auto kTimeout = 60s;

// The spec's "YAML Configuration Example", verbatim but for the router section.
const char* kFlexible = R"(
router:
  heartbeat_ms: 200
event_communication:
  pattern: "flexible"  # Use multiple adapters

  adapters:
    - type: "pipeline"
      name: "main_data_flow"
      containers: ["data", "indicators", "strategies", "risk", "execution"]

    - type: "hierarchical"
      name: "classifier_hierarchy"
      parent: "hmm_classifier"
      children: ["conservative_risk", "balanced_risk", "aggressive_risk"]

    - type: "broadcast"
      name: "indicator_distribution"
      source: "indicator_hub"
      targets: ["strategy_a", "strategy_b", "strategy_c"]

    - type: "selective"
      name: "regime_routing"
      source: "classifier"
      rules:
        - condition: "event.regime == 'BULL'"
          target: "aggressive_portfolio"
        - condition: "event.regime == 'BEAR'"
          target: "defensive_portfolio"
        - condition: "event.regime == 'NEUTRAL'"
          target: "balanced_portfolio"

organization: "classifier_first"
classifiers:
  - name: "hmm_classifier"
)";

std::unique_ptr<Process> send(const RunningDaemon& daemon, const std::string& as, const std::string& type,
                              std::vector<std::string> sets, int count = 1) {
  std::vector<std::string> args{"send", "--as", as, "--type", type, "--count", std::to_string(count),
                                "--timeout", "30"};
  for (auto& set : sets) {
    args.push_back("--set");
    args.push_back(std::move(set));
  }
  return daemon.evrctl(std::move(args));
}

std::unique_ptr<Process> recv(const RunningDaemon& daemon, const std::string& as, int count) {
  return daemon.evrctl({"recv", "--as", as, "--count", std::to_string(count), "--json", "--timeout", "30"});
}

// The JSON events a finished `evrctl recv` printed.
std::vector<nlohmann::json> received(Process& recv) {
  BOOST_TEST_INFO(recv.commandLine());
  BOOST_REQUIRE_EQUAL(recv.waitFor(kTimeout).value_or(-1), 0);
  std::vector<nlohmann::json> events;
  std::istringstream lines(recv.readAllStdout(2s));
  std::string line;
  while (std::getline(lines, line)) events.push_back(nlohmann::json::parse(line));
  return events;
}

void sent(Process& send) {
  BOOST_TEST_INFO(send.commandLine() << ": " << send.readAllStderr(0s));
  BOOST_REQUIRE_EQUAL(send.waitFor(kTimeout).value_or(-1), 0);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(patterns)

BOOST_AUTO_TEST_CASE(selective_regime_routing_sends_each_regime_to_its_portfolio_only) {
  RunningDaemon daemon(kFlexible);
  // Declared targets queue until they join, so sending first is fine.
  for (const auto& [regime, count] : std::vector<std::pair<std::string, int>>{{"BULL", 3}, {"BEAR", 2}, {"NEUTRAL", 1}}) {
    auto s = send(daemon, "classifier", "REGIME", {"regime=" + regime, "confidence=0.9"}, count);
    sent(*s);
  }
  const std::vector<std::tuple<std::string, int, std::string>> expected{
      {"aggressive_portfolio", 3, "BULL"}, {"defensive_portfolio", 2, "BEAR"}, {"balanced_portfolio", 1, "NEUTRAL"}};
  for (const auto& [portfolio, count, regime] : expected) {
    auto r = recv(daemon, portfolio, count);
    const auto events = received(*r);
    BOOST_CHECK_EQUAL(events.size(), static_cast<std::size_t>(count));
    for (const auto& event : events) {
      BOOST_CHECK_EQUAL(event.at("type").get<std::string>(), "REGIME");
      BOOST_CHECK_EQUAL(event.at("regime").get<std::string>(), regime);
      BOOST_CHECK_EQUAL(event.at("source").get<std::string>(), "classifier");
    }
  }
  const auto stats = statsOf(daemon.controlEndpoint());
  BOOST_CHECK_EQUAL(stats.events_in, 6u);
  BOOST_CHECK_EQUAL(stats.deliveries, 6u);  // each REGIME to exactly one portfolio
  BOOST_CHECK_EQUAL(stats.unmatched, 0u);
  BOOST_CHECK_EQUAL(daemon.stop(), 0);
}

BOOST_AUTO_TEST_CASE(a_regime_no_rule_matches_is_counted_as_unmatched) {
  RunningDaemon daemon(kFlexible);
  auto s = send(daemon, "classifier", "REGIME", {"regime=SIDEWAYS"}, 2);
  sent(*s);
  const auto stats = statsOf(daemon.controlEndpoint());
  BOOST_CHECK_EQUAL(stats.events_in, 2u);
  BOOST_CHECK_EQUAL(stats.deliveries, 0u);
  BOOST_CHECK_EQUAL(stats.unmatched, 2u);
  BOOST_CHECK_EQUAL(daemon.stop(), 0);
}

BOOST_AUTO_TEST_CASE(hierarchy_sends_context_to_every_child_and_results_to_the_parent) {
  RunningDaemon daemon(kFlexible);
  auto context = send(daemon, "hmm_classifier", "REGIME", {"regime=BEAR"});
  sent(*context);
  for (const char* child : {"conservative_risk", "balanced_risk", "aggressive_risk"}) {
    auto r = recv(daemon, child, 1);
    const auto events = received(*r);
    BOOST_REQUIRE_EQUAL(events.size(), 1u);
    BOOST_CHECK_EQUAL(events[0].at("regime").get<std::string>(), "BEAR");
    auto result = send(daemon, child, "ORDER", {"symbol=SPY", "side=sell", "quantity=10", std::string("portfolio=") + child});
    sent(*result);
  }
  auto parent = recv(daemon, "hmm_classifier", 3);
  const auto results = received(*parent);
  BOOST_REQUIRE_EQUAL(results.size(), 3u);
  std::set<std::string> sources;
  for (const auto& event : results) {
    BOOST_CHECK_EQUAL(event.at("type").get<std::string>(), "ORDER");
    sources.insert(event.at("source").get<std::string>());
  }
  BOOST_CHECK((sources == std::set<std::string>{"conservative_risk", "balanced_risk", "aggressive_risk"}));
  BOOST_CHECK_EQUAL(daemon.stop(), 0);
}

BOOST_AUTO_TEST_CASE(indicator_hub_broadcast_reaches_three_strategies) {
  RunningDaemon daemon(kFlexible);
  auto s = send(daemon, "indicator_hub", "INDICATOR", {"symbol=AAPL", "name=rsi_14", "value=71.5"}, 2);
  sent(*s);
  for (const char* strategy : {"strategy_a", "strategy_b", "strategy_c"}) {
    auto r = recv(daemon, strategy, 2);
    const auto events = received(*r);
    BOOST_REQUIRE_EQUAL(events.size(), 2u);
    BOOST_CHECK_EQUAL(events[1].at("name").get<std::string>(), "rsi_14");
    BOOST_CHECK_EQUAL(events[1].at("value").get<double>(), 71.5);
  }
  BOOST_CHECK_EQUAL(daemon.stop(), 0);
}

BOOST_AUTO_TEST_CASE(main_pipeline_carries_a_bar_through_every_stage_to_execution) {
  RunningDaemon daemon(kFlexible);
  // Each stage turns what it gets into its own output, as real containers would.
  auto execution = daemon.peer({"--as", "execution", "--expect", "100"});
  auto risk = daemon.peer({"--as", "risk", "--expect", "100", "--forward", "ORDER"});
  auto strategies = daemon.peer({"--as", "strategies", "--expect", "100", "--forward", "SIGNAL"});
  auto indicators = daemon.peer({"--as", "indicators", "--expect", "100", "--forward", "INDICATOR"});
  auto data = daemon.peer({"--as", "data", "--publish", "100"});
  BOOST_REQUIRE_EQUAL(data->waitFor(kTimeout).value_or(-1), 0);
  for (auto* stage : {indicators.get(), strategies.get(), risk.get(), execution.get()}) {
    const auto summary = stage->waitForLine("summary", kTimeout);
    BOOST_REQUIRE(summary);
    auto fields = parseFields(*summary);
    BOOST_CHECK_EQUAL(fields["received"], "100");
    BOOST_CHECK_EQUAL(fields["ok"], "1");
    BOOST_CHECK_EQUAL(stage->waitFor(kTimeout).value_or(-1), 0);
  }
  BOOST_CHECK_EQUAL(daemon.stop(), 0);
}

BOOST_AUTO_TEST_CASE(risk_first_default_delivers_each_risk_manager_event_to_execution_once) {
  RunningDaemon daemon(R"(
router:
  heartbeat_ms: 200
event_communication:
  adapters:
    - type: "broadcast"
      source: "data"
      targets: ["strategy_a", "strategy_b"]
    - type: "pipeline"
      containers: ["strategy_a", "risk_manager", "execution"]
    - type: "pipeline"
      containers: ["strategy_b", "risk_manager", "execution"]
)");
  auto execution = daemon.peer({"--as", "execution", "--expect", "50"});
  BOOST_REQUIRE(execution->waitForLine("joined", kTimeout));
  auto risk = daemon.peer({"--as", "risk_manager", "--type", "ORDER", "--publish", "50"});
  BOOST_REQUIRE_EQUAL(risk->waitFor(kTimeout).value_or(-1), 0);
  const auto summary = execution->waitForLine("summary", kTimeout);
  BOOST_REQUIRE(summary);
  auto fields = parseFields(*summary);
  BOOST_CHECK_EQUAL(fields["received"], "50");
  BOOST_CHECK_EQUAL(fields["duplicates"], "0");
  BOOST_CHECK_EQUAL(execution->waitFor(kTimeout).value_or(-1), 0);
  BOOST_CHECK_EQUAL(statsOf(daemon.controlEndpoint()).deliveries, 50u);  // not 100: two adapters, one delivery each
  BOOST_CHECK_EQUAL(daemon.stop(), 0);
}

BOOST_AUTO_TEST_CASE(a_pipeline_transform_retypes_and_tags_what_the_next_stage_sees) {
  RunningDaemon daemon(R"(
router:
  heartbeat_ms: 200
event_communication:
  adapters:
    - type: pipeline
      containers: [feature_builder, signal_consumer]
      transform:
        retype: {INDICATOR: SIGNAL}
        tags: {stage: enriched}
)");
  auto s = send(daemon, "feature_builder", "INDICATOR", {"symbol=AAPL", "name=momentum", "value=1.5", "tag.origin=test"}, 2);
  sent(*s);
  auto r = recv(daemon, "signal_consumer", 2);
  const auto events = received(*r);
  BOOST_REQUIRE_EQUAL(events.size(), 2u);
  for (const auto& event : events) {
    BOOST_CHECK_EQUAL(event.at("type").get<std::string>(), "SIGNAL");
    BOOST_CHECK_EQUAL(event.at("tags").at("stage").get<std::string>(), "enriched");
    BOOST_CHECK_EQUAL(event.at("tags").at("origin").get<std::string>(), "test");
    BOOST_CHECK_EQUAL(event.at("symbol").get<std::string>(), "AAPL");
  }
  BOOST_CHECK_EQUAL(daemon.stop(), 0);
}

BOOST_AUTO_TEST_SUITE_END()
