// The selective adapter's decision (SelectiveGroup::choose) as compiled from YAML: first match
// vs mode: all, default targets, unmatched events, and the type filter.
#include <boost/test/unit_test.hpp>
#include <capnp/message.h>

#include <random>
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

// The targets `choose` picks for one event of `table`'s only selective route from `classifier`,
// by name, "unmatched" when it returns false; and beside it the same decision made the slow way,
// each rule's condition evaluated in turn (the adapter's definition: the first match, every match
// with mode: all, else the default).
struct Decisions {
  Names chosen;
  Names by_rules;
};

Decisions decideBoth(const RoutingTable& table, evr::schema::Event::Reader event) {
  const auto& entry = table.route(*table.find("classifier"), static_cast<std::uint8_t>(event.getType()));
  BOOST_TEST_REQUIRE(entry.selective.size() == 1u);
  const auto& group = *entry.selective[0].group;
  const evr::routing::EventView view{event, 0};
  Decisions out;
  if (!group.choose(view, [&](ContainerId id) { out.chosen.push_back(table.name(id)); })) {
    out.chosen.push_back("unmatched");
  }
  for (const auto& rule : group.rules) {
    if (!rule.condition.evaluate(view)) continue;
    out.by_rules.push_back(table.name(rule.target));
    if (!group.mode_all) break;
  }
  if (out.by_rules.empty()) out.by_rules.push_back(group.default_target ? table.name(*group.default_target) : "unmatched");
  return out;
}

const evr::routing::SelectiveGroup& onlyGroup(const RoutingTable& table, evr::EventType type) {
  const auto& entry = table.route(*table.find("classifier"), static_cast<std::uint8_t>(type));
  BOOST_TEST_REQUIRE(entry.selective.size() == 1u);
  return *entry.selective[0].group;
}

std::string selectiveWith(const std::string& rules, const std::string& extra = "") {
  return "event_communication:\n  adapters:\n    - type: selective\n      source: classifier\n" + extra +
         "      rules:\n" + rules;
}

std::string rule(const std::string& condition, const std::string& target) {
  return "        - condition: \"" + condition + "\"\n          target: " + target + "\n";
}

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

// Rules that all test event.regime for equality (`==` either way round, `in` with repeats) are
// looked up by its value (RuleIndex) instead of tried in turn: for 200 rule sets drawn at random,
// in both modes, with and without a default, every label picks what evaluating the rules one by
// one picks, in the same order.
BOOST_AUTO_TEST_CASE(equality_rules_on_one_field_are_looked_up_and_decide_as_the_rules_do) {
  // Twelve labels: a rule set names up to eight values (compared in turn) or more (hashed).
  const std::vector<std::string> labels{"A", "B", "C", "D", "E", "F", "G", "H", "I", "J", "K", "L"};
  const std::vector<std::string> targets{"t0", "t1", "t2", "t3"};
  std::mt19937 random(20261204);
  const auto pick = [&](const std::vector<std::string>& from) { return from[random() % from.size()]; };
  std::size_t decisions = 0, scanned = 0, hashed = 0;
  for (int set = 0; set < 200; ++set) {
    std::string rules;
    const int count = 1 + static_cast<int>(random() % 14);
    for (int r = 0; r < count; ++r) {
      std::string condition;
      switch (random() % 3) {
        case 0: condition = "event.regime == '" + pick(labels) + "'"; break;
        case 1: condition = "'" + pick(labels) + "' == event.regime"; break;
        default: {
          condition = "event.regime in ['" + pick(labels) + "'";
          for (int more = static_cast<int>(random() % 3); more > 0; --more) condition += ", '" + pick(labels) + "'";
          condition += "]";
        }
      }
      rules += rule(condition, pick(targets));
    }
    std::string extra = set % 2 == 0 ? "      mode: all\n" : "";
    if (set % 3 == 0) extra += "      default: fallback\n";
    const auto table = compile(selectiveWith(rules, extra));
    BOOST_TEST_REQUIRE(onlyGroup(*table, evr::EventType::REGIME).index != nullptr, rules);
    std::vector<std::string> asked = labels;
    asked.push_back("Z");  // a value no rule names
    for (const auto& label : asked) {
      capnp::MallocMessageBuilder builder;
      auto event = builder.initRoot<evr::schema::Event>();
      event.setType(evr::EventType::REGIME);
      event.initPayload().initRegime().setRegime(label);
      const Decisions both = decideBoth(*table, event.asReader());
      BOOST_TEST(both.chosen == both.by_rules, boost::test_tools::per_element());
      ++decisions;
    }
    (onlyGroup(*table, evr::EventType::REGIME).index->scanned() ? scanned : hashed) += 1;
  }
  BOOST_TEST(decisions == 2600u);
  BOOST_TEST(scanned > 20u);  // both ways of looking up were decided by
  BOOST_TEST(hashed > 20u);
}

// An enum field is looked up by its value's ordinal; an event whose payload has no such field
// (a BAR has no regime) matches no rule and goes to the default.
BOOST_AUTO_TEST_CASE(an_enum_field_is_looked_up_and_an_absent_field_matches_no_rule) {
  const auto signals = compile(selectiveWith(rule("event.direction == 'long'", "buyer") +
                                             rule("event.direction in ['short', 'long']", "anyone"),
                                             "      mode: all\n"));
  BOOST_TEST_REQUIRE(onlyGroup(*signals, evr::EventType::SIGNAL).index != nullptr);
  for (const auto& [direction, expected] :
       {std::pair{evr::schema::Direction::LONG, Names{"buyer", "anyone"}},
        std::pair{evr::schema::Direction::SHORT, Names{"anyone"}},
        std::pair{evr::schema::Direction::FLAT, Names{"unmatched"}}}) {
    capnp::MallocMessageBuilder builder;
    auto event = builder.initRoot<evr::schema::Event>();
    event.setType(evr::EventType::SIGNAL);
    event.initPayload().initSignal().setDirection(direction);
    const Decisions both = decideBoth(*signals, event.asReader());
    BOOST_TEST(both.chosen == expected, boost::test_tools::per_element());
    BOOST_TEST(both.by_rules == expected, boost::test_tools::per_element());
  }

  const auto regimes = compile(selectiveWith(rule("event.regime == 'BULL'", "bulls"), "      default: rest\n"));
  capnp::MallocMessageBuilder builder;
  auto bar = builder.initRoot<evr::schema::Event>();
  bar.setType(evr::EventType::BAR);
  bar.initPayload().initBar().setClose(1.0);
  BOOST_TEST_REQUIRE(onlyGroup(*regimes, evr::EventType::BAR).index != nullptr);
  const Decisions both = decideBoth(*regimes, bar.asReader());
  BOOST_TEST(both.chosen == (Names{"rest"}), boost::test_tools::per_element());
  BOOST_TEST(both.by_rules == (Names{"rest"}), boost::test_tools::per_element());
}

// Only rules that are all equality tests of one text or enum field are indexed: a comparison of
// another kind, a second field or a number leaves the rules to be tried in turn. An indexed group
// reads one field per event whatever its rule count, and --check says it is looked up.
BOOST_AUTO_TEST_CASE(only_equality_tests_of_one_text_or_enum_field_are_indexed) {
  const auto mixed = compile(adapters("", ""));  // a `confidence > 0.5` among them
  BOOST_TEST((onlyGroup(*mixed, evr::EventType::REGIME).index == nullptr));
  const auto two_fields = compile(selectiveWith(rule("event.regime == 'BULL'", "a") + rule("event.symbol == 'X'", "b")));
  BOOST_TEST((onlyGroup(*two_fields, evr::EventType::REGIME).index == nullptr));
  const auto number = compile(selectiveWith(rule("event.confidence == 0.5", "a")));
  BOOST_TEST((onlyGroup(*number, evr::EventType::REGIME).index == nullptr));
  const auto combined = compile(selectiveWith(rule("event.regime == 'BULL' and event.symbol == 'X'", "a")));
  BOOST_TEST((onlyGroup(*combined, evr::EventType::REGIME).index == nullptr));

  std::string many;
  for (int k = 0; k < 1024; ++k) many += rule("event.regime == 'R" + std::to_string(k) + "'", "t" + std::to_string(k % 4));
  const auto indexed = compile(selectiveWith(many));
  BOOST_TEST((onlyGroup(*indexed, evr::EventType::REGIME).index != nullptr));
  BOOST_TEST(indexed->route(*indexed->find("classifier"), static_cast<std::uint8_t>(evr::EventType::REGIME)).content_reads == 1u);
  BOOST_TEST(indexed->describe().find("first matching rule (looked up by event.regime):") != std::string::npos,
             indexed->describe());
  capnp::MallocMessageBuilder builder;
  auto event = builder.initRoot<evr::schema::Event>();
  event.setType(evr::EventType::REGIME);
  event.initPayload().initRegime().setRegime("R1023");
  const Decisions both = decideBoth(*indexed, event.asReader());
  BOOST_TEST(both.chosen == (Names{"t3"}), boost::test_tools::per_element());
  BOOST_TEST(both.by_rules == (Names{"t3"}), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_SUITE_END()
