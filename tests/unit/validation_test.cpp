// validation: warnings (never errors) for configs that compile but look wrong: likely typos in
// container names, routing cycles across adapters, and types a container never produces. The
// spec's own examples must give none of them.

#include <boost/test/unit_test.hpp>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "compile_yaml.hpp"
#include "config/config_loader.hpp"
#include "routing/routing_table.hpp"
#include "topology/topology.hpp"
#include "topology/validation.hpp"

using evr::config::Diagnostics;
using evr::config::Severity;
using evr::routing::RoutingTable;
using evr::topology::compileTopology;
using evr::topology::differOnlyByNumbering;

namespace {

using Compiled = evr::test::CompiledYaml;

// Loads (which must succeed) and compiles (which must succeed too: validation only warns).
Compiled compile(std::string_view yaml) {
  Compiled out = evr::test::compileYaml(yaml);
  BOOST_TEST_INFO("diagnostics:\n" << out.diagnostics.toString());
  BOOST_TEST_REQUIRE(out.table != nullptr);
  BOOST_TEST(!out.diagnostics.hasErrors());
  return out;
}

// The diagnostics as text lines; every one must be a warning.
std::vector<std::string> warnings(std::string_view yaml) {
  const Compiled compiled = compile(yaml);
  std::vector<std::string> out;
  for (const auto& diagnostic : compiled.diagnostics.all()) {
    BOOST_TEST((diagnostic.severity == Severity::Warning));
    out.push_back(diagnostic.toString());
  }
  return out;
}

using Lines = std::vector<std::string>;

}  // namespace

BOOST_AUTO_TEST_SUITE(validation)

// ---- likely typos ---------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(a_name_used_once_that_looks_like_another_is_a_warning) {
  const Lines found = warnings(R"(strategies:
  - name: strategy_a
event_communication:
  adapters:
    - type: pipeline
      containers: [data, strategy_a, execution]
    - type: broadcast
      source: strateg_a
      targets: [tracker]
)");
  BOOST_TEST(found == Lines{"test.yaml:8:15: warning: 'strateg_a' is used only here and looks "
                            "like 'strategy_a'"});
}

BOOST_AUTO_TEST_CASE(of_two_lookalikes_used_once_only_the_later_is_reported) {
  const Lines found = warnings(R"(event_communication:
  adapters:
    - type: pipeline
      containers: [data, hmm_classifier]
    - type: pipeline
      containers: [hmm_clasifier, execution]
)");
  BOOST_TEST(found == Lines{"test.yaml:6:20: warning: 'hmm_clasifier' is used only here and "
                            "looks like 'hmm_classifier'"});
}

BOOST_AUTO_TEST_CASE(numbered_names_are_not_typos) {
  const Lines found = warnings(R"(event_communication:
  adapters:
    - type: broadcast
      source: data
      targets: [strategy_a, strategy_b, strategy_c, risk_1, risk_12, spy_5m, spy_1h, feed,
                feed_2, v1, v2, a, b]
)");
  BOOST_TEST(found.empty());
}

BOOST_AUTO_TEST_CASE(numbering_is_told_from_misspelling) {
  BOOST_TEST(differOnlyByNumbering("strategy_a", "strategy_b"));
  BOOST_TEST(differOnlyByNumbering("risk_1", "risk_12"));
  BOOST_TEST(differOnlyByNumbering("spy1", "spy2"));
  BOOST_TEST(differOnlyByNumbering("spy_5m", "spy_1h"));
  BOOST_TEST(differOnlyByNumbering("data", "data_2"));
  BOOST_TEST(differOnlyByNumbering("a_strategy", "b_strategy"));
  BOOST_TEST(!differOnlyByNumbering("strateg_a", "strategy_a"));
  BOOST_TEST(!differOnlyByNumbering("data", "date"));
  BOOST_TEST(!differOnlyByNumbering("execution", "executon"));
  BOOST_TEST(!differOnlyByNumbering("risk_managr", "risk_manager"));
  BOOST_TEST(!differOnlyByNumbering("strategy_a", "strateg_b"));
}

BOOST_AUTO_TEST_CASE(lookalike_names_each_used_more_than_once_are_not_typos) {
  // 'executor' and 'execution' are 2 edits apart, but each is used twice: both are meant.
  const Lines found = warnings(R"(event_communication:
  adapters:
    - type: pipeline
      containers: [data, executor, execution]
    - type: pipeline
      containers: [feed, execution]
    - type: pipeline
      containers: [feed, executor]
)");
  BOOST_TEST(found.empty());
  // Used once, 'execution' would be reported.
  const Lines once = warnings(R"(event_communication:
  adapters:
    - type: pipeline
      containers: [data, executor, execution]
    - type: pipeline
      containers: [feed, executor]
)");
  BOOST_TEST(once == Lines{"test.yaml:4:36: warning: 'execution' is used only here and looks "
                           "like 'executor'"});
}

// ---- routing cycles -------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(a_cycle_across_two_adapters_is_a_warning_naming_it) {
  const Lines found = warnings(R"(event_communication:
  adapters:
    - type: pipeline
      name: forward
      containers: [gateway, pricer]
    - type: pipeline
      name: back
      containers: [pricer, gateway]
)");
  BOOST_TEST(found == Lines{"test.yaml:6:7: warning: routing cycle: gateway -> pricer -> gateway "
                            "through adapters 'forward' and 'back' (max_hops guards it at run "
                            "time)"});
}

BOOST_AUTO_TEST_CASE(a_longer_cycle_is_named_step_by_step) {
  const Lines found = warnings(R"(event_communication:
  adapters:
    - type: pipeline
      containers: [data, strategy, execution]
    - type: broadcast
      source: tracker
      targets: [data]
    - type: broadcast
      source: execution
      targets: [tracker]
)");
  BOOST_TEST(found == Lines{"test.yaml:8:7: warning: routing cycle: data -> strategy -> execution "
                            "-> tracker -> data through adapters 'pipeline#1', 'broadcast#2' and "
                            "'broadcast#3' (max_hops guards it at run time)"});
}

BOOST_AUTO_TEST_CASE(a_loop_inside_one_adapter_is_deliberate) {
  const Lines found = warnings(R"(event_communication:
  adapters:
    - type: pipeline
      containers: [gateway, pricer, gateway]
    - type: hierarchical
      parent: classifier
      children: [risk_a, risk_b]
    - type: pipeline
      containers: [risk_a, execution]
)");
  BOOST_TEST(found.empty());
}

BOOST_AUTO_TEST_CASE(a_route_back_beside_a_hierarchy_is_a_cycle) {
  const Lines found = warnings(R"(event_communication:
  adapters:
    - type: hierarchical
      name: tree
      parent: classifier
      children: [risk]
    - type: pipeline
      name: shortcut
      containers: [risk, classifier]
)");
  BOOST_TEST(found == Lines{"test.yaml:7:7: warning: routing cycle: classifier -> risk -> "
                            "classifier through adapters 'tree' and 'shortcut' (max_hops guards "
                            "it at run time)"});
}

BOOST_AUTO_TEST_CASE(one_warning_per_group_of_entangled_cycles) {
  const Lines found = warnings(R"(event_communication:
  adapters:
    - {type: pipeline, containers: [a, b, c]}
    - {type: pipeline, containers: [c, a]}
    - {type: pipeline, containers: [b, a]}
    - {type: pipeline, containers: [x, y]}
    - {type: pipeline, containers: [y, x]}
)");
  BOOST_TEST_REQUIRE(found.size() == 2u);
  // The shortest loop of the first group: a -> b -> a.
  BOOST_TEST(found[0] == "test.yaml:5:7: warning: routing cycle: a -> b -> a through adapters "
                         "'pipeline#1' and 'pipeline#3' (max_hops guards it at run time)");
  BOOST_TEST(found[1].find("routing cycle: x -> y -> x") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(generated_defaults_are_not_reported_as_cycles) {
  // portfolio_first's fill loop (portfolio -> risk_manager -> execution -> portfolio) is designed.
  Diagnostics diagnostics;
  const auto config = evr::config::loadConfigFile(
      std::string(EVR_SOURCE_DIR) + "/configs/portfolio_first.yaml", diagnostics);
  BOOST_TEST_REQUIRE(config.has_value());
  BOOST_TEST(compileTopology(*config, diagnostics) != nullptr);
  BOOST_TEST_INFO(diagnostics.toString());
  BOOST_TEST(diagnostics.all().empty());

  // The same loop written out is reported.
  const Lines found = warnings(R"(event_communication:
  adapters:
    - {type: pipeline, containers: [growth, risk_manager, execution]}
    - {type: broadcast, source: execution, targets: [growth], events: FILL}
)");
  BOOST_TEST_REQUIRE(found.size() == 1u);
  BOOST_TEST(found[0].find("routing cycle: growth -> risk_manager -> execution -> growth") !=
             std::string::npos);
}

// ---- type flow ------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(an_adapter_taking_only_types_its_source_never_produces_is_a_warning) {
  const Lines found = warnings(R"(containers:
  - {name: strategy_a, produces: [SIGNAL]}
  - {name: tracker, produces: []}
event_communication:
  adapters:
    - type: pipeline
      containers: [data, strategy_a, execution]
      events: [BAR, ORDER]
    - type: pipeline
      name: logs
      containers: [tracker, archive]
)");
  BOOST_TEST(found ==
             (Lines{"test.yaml:6:7: warning: adapter 'pipeline#1' takes BAR|ORDER from "
                    "'strategy_a', which produces only SIGNAL: nothing flows through it from there",
                    "test.yaml:9:7: warning: adapter 'logs' takes ALL from 'tracker', which "
                    "produces no events: nothing flows through it from there"}));
}

BOOST_AUTO_TEST_CASE(an_adapter_taking_a_produced_type_is_fine) {
  const Lines found = warnings(R"(containers:
  - {name: strategy_a, produces: [SIGNAL, ORDER]}
  - {name: classifier, produces: [REGIME]}
event_communication:
  adapters:
    - type: pipeline
      containers: [data, strategy_a, execution]
      events: [BAR, ORDER]
    - type: hierarchical
      parent: classifier
      children: [strategy_a]
      result_events: [SIGNAL]
)");
  BOOST_TEST(found.empty());
}

BOOST_AUTO_TEST_CASE(a_hierarchy_whose_parent_never_sends_its_context_is_a_warning) {
  const Lines found = warnings(R"(containers:
  - {name: classifier, produces: [SIGNAL]}
event_communication:
  adapters:
    - type: hierarchical
      name: tree
      parent: classifier
      children: [risk]
)");
  BOOST_TEST(found == Lines{"test.yaml:5:7: warning: adapter 'tree' takes REGIME from "
                            "'classifier', which produces only SIGNAL: nothing flows through it "
                            "from there"});
}

BOOST_AUTO_TEST_CASE(a_rule_reading_fields_its_source_never_produces_is_a_warning) {
  const Lines found = warnings(R"(containers:
  - {name: classifier, produces: [SIGNAL, END_OF_DATA]}
event_communication:
  adapters:
    - type: selective
      source: classifier
      rules:
        - condition: "event.regime == 'BULL'"
          target: aggressive
        - condition: "event.strength > 0.5"
          target: balanced
        - condition: "event.symbol == 'SPY'"
          target: defensive
)");
  BOOST_TEST(found == Lines{"test.yaml:8:23: warning: condition 'event.regime == 'BULL'' reads "
                            "fields of REGIME events, which 'classifier' never sends here (it "
                            "produces SIGNAL|END_OF_DATA)"});
}

// ---- the spec's examples --------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(spec_examples_load_and_compile_without_any_warning) {
  // Every YAML block of the spec, as tests/fixtures/configs/spec/ keeps them. The ones with
  // hierarchical and selective adapters need those adapter types.
  for (const std::string name :
       {"yaml_configuration_example.yaml", "pattern_independence_strategy_first.yaml",
        "pattern_independence_classifier_first.yaml", "strategy_first_default.yaml",
        "classifier_first_default.yaml", "risk_first_default.yaml"}) {
    const std::string path = std::string(EVR_FIXTURES_DIR) + "/configs/spec/" + name;
    Diagnostics diagnostics;
    const auto config = evr::config::loadConfigFile(path, diagnostics);
    BOOST_TEST_CONTEXT(name << ":\n" << diagnostics.toString()) {
      BOOST_TEST_REQUIRE(config.has_value());
      BOOST_TEST(config->adapters_present);
      BOOST_TEST(compileTopology(*config, diagnostics) != nullptr);
      BOOST_TEST(diagnostics.all().empty());
    }
  }
}

BOOST_AUTO_TEST_CASE(spec_example_routes_as_it_describes) {
  Diagnostics diagnostics;
  const auto config = evr::config::loadConfigFile(
      std::string(EVR_FIXTURES_DIR) + "/configs/spec/yaml_configuration_example.yaml", diagnostics);
  BOOST_TEST_REQUIRE(config.has_value());
  const auto table = compileTopology(*config, diagnostics);
  BOOST_TEST_REQUIRE(table != nullptr);
  const auto route = [&](std::string_view source, evr::EventType type) {
    return table->route(*table->find(source), static_cast<std::uint8_t>(type));
  };
  BOOST_TEST(route("data", evr::EventType::BAR).targets ==
             std::vector<evr::routing::ContainerId>{*table->find("indicators")});
  BOOST_TEST(route("hmm_classifier", evr::EventType::REGIME).targets.size() == 3u);
  BOOST_TEST(route("indicator_hub", evr::EventType::INDICATOR).targets.size() == 3u);
  // The classifier's routing is decided per event by the selective rules.
  BOOST_TEST(route("classifier", evr::EventType::REGIME).selective.size() == 1u);
  BOOST_TEST(route("classifier", evr::EventType::REGIME).targets.empty());
}

BOOST_AUTO_TEST_SUITE_END()
