// The selective adapter's decision (SelectiveGroup::choose) as compiled from YAML: first match
// vs mode: all, default targets, unmatched events, and the type filter.
#include <boost/test/unit_test.hpp>
#include <capnp/message.h>

#include <string>
#include <vector>

#include "compile_yaml.hpp"
#include "config/config_loader.hpp"
#include "routing/routing_table.hpp"
#include "topology/topology.hpp"

namespace {

using evr::routing::ContainerId;
using evr::routing::RoutingTable;

std::shared_ptr<const RoutingTable> compile(const std::string& yaml) {
  auto compiled = evr::test::compileYaml(yaml);
  BOOST_TEST_INFO(compiled.diagnostics.toString());
  BOOST_TEST_REQUIRE(compiled.table != nullptr);
  return compiled.table;
}

std::string adapters(const std::string& mode, const std::string& fallback) {
  return R"(
event_communication:
  adapters:
    - type: selective
      name: pick
      source: classifier
      events: [REGIME]
)" + mode + fallback + R"(
      rules:
        - condition: "event.regime == 'BULL'"
          target: aggressive
        - condition: "event.confidence > 0.5"
          target: confident
        - condition: "event.regime in ['BULL', 'BEAR']"
          target: directional
)";
}

// The targets `choose` picks for a REGIME event, by name; "unmatched" when it returns false.
std::vector<std::string> decide(const RoutingTable& table, const char* regime, double confidence) {
  capnp::MallocMessageBuilder builder;
  auto event = builder.initRoot<evr::schema::Event>();
  event.setType(evr::EventType::REGIME);
  auto payload = event.initPayload().initRegime();
  payload.setRegime(regime);
  payload.setConfidence(confidence);
  const auto& entry = table.route(*table.find("classifier"), static_cast<std::uint8_t>(evr::EventType::REGIME));
  BOOST_TEST_REQUIRE(entry.selective.size() == 1u);
  std::vector<std::string> out;
  const evr::routing::EventView view{event.asReader(), 0};
  if (!entry.selective[0].group->choose(view, [&](ContainerId id) { out.push_back(table.name(id)); })) {
    out.push_back("unmatched");
  }
  return out;
}

using Names = std::vector<std::string>;

}  // namespace

BOOST_AUTO_TEST_SUITE(selective)

BOOST_AUTO_TEST_CASE(the_first_matching_rule_decides_by_default) {
  const auto table = compile(adapters("", ""));
  BOOST_TEST(decide(*table, "BULL", 0.9) == (Names{"aggressive"}), boost::test_tools::per_element());
  BOOST_TEST(decide(*table, "BEAR", 0.9) == (Names{"confident"}), boost::test_tools::per_element());
  BOOST_TEST(decide(*table, "BEAR", 0.1) == (Names{"directional"}), boost::test_tools::per_element());
  BOOST_TEST(decide(*table, "NEUTRAL", 0.1) == (Names{"unmatched"}), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(mode_all_sends_to_every_matching_rule_in_rule_order) {
  const auto table = compile(adapters("      mode: all\n", ""));
  BOOST_TEST(decide(*table, "BULL", 0.9) == (Names{"aggressive", "confident", "directional"}),
             boost::test_tools::per_element());
  BOOST_TEST(decide(*table, "BEAR", 0.1) == (Names{"directional"}), boost::test_tools::per_element());
  BOOST_TEST(decide(*table, "NEUTRAL", 0.1) == (Names{"unmatched"}), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(the_default_target_takes_what_no_rule_matches_and_only_that) {
  const auto table = compile(adapters("", "      default: balanced\n"));
  BOOST_TEST(decide(*table, "NEUTRAL", 0.1) == (Names{"balanced"}), boost::test_tools::per_element());
  BOOST_TEST(decide(*table, "BULL", 0.1) == (Names{"aggressive"}), boost::test_tools::per_element());
  const auto all = compile(adapters("      mode: all\n", "      default: balanced\n"));
  BOOST_TEST(decide(*all, "BEAR", 0.9) == (Names{"confident", "directional"}), boost::test_tools::per_element());
  BOOST_TEST(decide(*all, "SIDEWAYS", 0.2) == (Names{"balanced"}), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(types_outside_the_events_filter_are_not_routed_by_the_adapter) {
  const auto table = compile(adapters("", ""));
  const auto& bar = table->route(*table->find("classifier"), static_cast<std::uint8_t>(evr::EventType::BAR));
  BOOST_TEST(bar.empty());
}

// What routing one event may read whole, which sizes its traversal budget in the relay loop:
// each field operand of every rule (all may be evaluated), two per transform.
BOOST_AUTO_TEST_CASE(a_route_counts_the_field_reads_of_its_rules_and_two_per_transform) {
  const auto table = compile(adapters("", "") + R"yaml(
    - type: pipeline
      containers: [classifier, logger]
      transform:
        tags: {seen: "yes"}
    - type: selective
      source: classifier
      rules:
        - condition: "event.regime == 'BULL' and (event.confidence > 0.5 or not event.symbol == 'X')"
          target: aggressive
)yaml");
  const auto& entry = table->route(*table->find("classifier"), static_cast<std::uint8_t>(evr::EventType::REGIME));
  BOOST_TEST(entry.selective.size() == 2u);
  BOOST_TEST(entry.transformed.size() == 1u);
  BOOST_TEST(entry.content_reads == 3u + 3u + 2u);
}

BOOST_AUTO_TEST_CASE(a_bad_condition_is_a_config_error_at_its_column) {
  evr::config::Diagnostics diagnostics;
  auto config = evr::config::loadConfigText(R"(event_communication:
  adapters:
    - type: selective
      source: classifier
      rules:
        - condition: "event.regime == 'BULL' and event.confidance > 0.5"
          target: aggressive
)", "sel.yaml", diagnostics);
  BOOST_TEST_REQUIRE(config.has_value());
  BOOST_TEST(evr::topology::compileTopology(*config, diagnostics) == nullptr);
  BOOST_TEST_REQUIRE(diagnostics.errorCount() == 1u);
  // The condition text starts at column 23 (after the quote); `event.confidance` at offset 27.
  BOOST_TEST(diagnostics.all()[0].toString().rfind("sel.yaml:6:50: error: unknown field 'event.confidance'", 0) == 0,
             diagnostics.all()[0].toString());
}

BOOST_AUTO_TEST_SUITE_END()
