// topology: Config -> RoutingTable. Adapters become routes; an event reaches each target once;
// problems that only the compiled picture shows are errors with their place.

#include <boost/test/unit_test.hpp>

#include <any>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "compile_yaml.hpp"
#include "config/config_loader.hpp"
#include "routing/adapter_registry.hpp"
#include "routing/broadcast_adapter.hpp"
#include "routing/pipeline_adapter.hpp"
#include "routing/routing_table.hpp"
#include "topology/topology.hpp"

using evr::EventType;
using evr::EventTypeSet;
using evr::kEventTypeCount;
using evr::config::Config;
using evr::config::Diagnostics;
using evr::config::Severity;
using evr::routing::AdapterIndex;
using evr::routing::ContainerId;
using evr::routing::RoutingTable;
using evr::topology::compileTopology;

namespace {

using Compiled = evr::test::CompiledYaml;

// Loads (which must succeed) and compiles `yaml`.
Compiled compile(std::string_view yaml) { return evr::test::compileYaml(yaml); }

std::shared_ptr<const RoutingTable> expectTable(std::string_view yaml) {
  Compiled compiled = compile(yaml);
  BOOST_TEST_INFO("diagnostics:\n" << compiled.diagnostics.toString());
  BOOST_TEST_REQUIRE(compiled.table != nullptr);
  BOOST_TEST(!compiled.diagnostics.hasErrors());
  return compiled.table;
}

std::shared_ptr<const RoutingTable> expectShippedTable(const std::string& name) {
  const std::string path = std::string(EVR_SOURCE_DIR) + "/configs/" + name;
  Diagnostics diagnostics;
  const auto config = evr::config::loadConfigFile(path, diagnostics);
  BOOST_TEST_INFO(diagnostics.toString());
  BOOST_TEST_REQUIRE(config.has_value());
  auto table = compileTopology(*config, diagnostics);
  BOOST_TEST_INFO(diagnostics.toString());
  BOOST_TEST_REQUIRE(table != nullptr);
  BOOST_TEST(diagnostics.all().empty());
  return table;
}

ContainerId id(const RoutingTable& table, std::string_view name) {
  const auto found = table.find(name);
  BOOST_TEST_REQUIRE(found.has_value(), "no container '" << name << "'");
  return *found;
}

// Target names of the route (source, type), in the table's (id) order.
std::vector<std::string> targets(const RoutingTable& table, std::string_view source,
                                 EventType type) {
  std::vector<std::string> out;
  for (const auto target : table.route(id(table, source), static_cast<std::uint8_t>(type)).targets) {
    out.push_back(table.name(target));
  }
  return out;
}

std::vector<std::string> adapterNames(const RoutingTable& table, std::string_view source,
                                      EventType type) {
  std::vector<std::string> out;
  for (const auto index :
       table.route(id(table, source), static_cast<std::uint8_t>(type)).adapters) {
    out.push_back(table.adapters()[index].name);
  }
  return out;
}

using Names = std::vector<std::string>;

const EventType kEveryType[] = {
    EventType::BAR,   EventType::TICK,   EventType::INDICATOR, EventType::SIGNAL,
    EventType::ORDER, EventType::FILL,   EventType::REGIME,    EventType::PORTFOLIO,
    EventType::END_OF_DATA, EventType::USER};

}  // namespace

BOOST_AUTO_TEST_SUITE(topology)

BOOST_AUTO_TEST_CASE(pipeline_routes_each_container_to_the_next_one) {
  const auto table = expectTable(R"(event_communication:
  adapters:
    - type: pipeline
      name: main_data_flow
      containers: [data, indicators, strategy, execution]
)");
  for (const auto type : kEveryType) {
    BOOST_TEST(targets(*table, "data", type) == Names{"indicators"});
    BOOST_TEST(targets(*table, "indicators", type) == Names{"strategy"});
    BOOST_TEST(targets(*table, "strategy", type) == Names{"execution"});
    BOOST_TEST(targets(*table, "execution", type).empty());
  }
  BOOST_TEST(adapterNames(*table, "data", EventType::BAR) == Names{"main_data_flow"});
  BOOST_TEST_REQUIRE(table->adapters().size() == 1u);
  BOOST_TEST(table->adapters()[0].edges.size() == 3u);
  BOOST_TEST(table->adapters()[0].type == "pipeline");
}

BOOST_AUTO_TEST_CASE(pipeline_may_come_back_to_a_container_later_in_the_list) {
  const auto table = expectTable(R"(event_communication:
  adapters:
    - type: pipeline
      containers: [gateway, pricer, gateway]
)");
  BOOST_TEST(table->containers() == (Names{"gateway", "pricer"}));
  BOOST_TEST(targets(*table, "gateway", EventType::TICK) == Names{"pricer"});
  BOOST_TEST(targets(*table, "pricer", EventType::TICK) == Names{"gateway"});
}

BOOST_AUTO_TEST_CASE(broadcast_routes_the_source_to_every_target) {
  const auto table = expectTable(R"(event_communication:
  adapters:
    - type: broadcast
      name: indicator_distribution
      source: indicator_hub
      targets: [strategy_a, strategy_b, strategy_c]
)");
  for (const auto type : kEveryType) {
    BOOST_TEST(targets(*table, "indicator_hub", type) ==
               (Names{"strategy_a", "strategy_b", "strategy_c"}));
    BOOST_TEST(targets(*table, "strategy_a", type).empty());
  }
}

BOOST_AUTO_TEST_CASE(events_filter_limits_the_routed_types) {
  const auto table = expectTable(R"(event_communication:
  adapters:
    - type: pipeline
      containers: [data, strategy, execution]
      events: [BAR, SIGNAL]
    - type: broadcast
      source: execution
      targets: [tracker, logger]
      events: [FILL]
)");
  BOOST_TEST(targets(*table, "data", EventType::BAR) == Names{"strategy"});
  BOOST_TEST(targets(*table, "data", EventType::TICK).empty());
  BOOST_TEST(targets(*table, "strategy", EventType::SIGNAL) == Names{"execution"});
  BOOST_TEST(targets(*table, "strategy", EventType::ORDER).empty());
  BOOST_TEST(targets(*table, "execution", EventType::FILL) == (Names{"tracker", "logger"}));
  BOOST_TEST(targets(*table, "execution", EventType::ORDER).empty());
  BOOST_TEST(targets(*table, "execution", EventType::BAR).empty());
}

BOOST_AUTO_TEST_CASE(routes_for_an_unrelated_type_or_an_unknown_ordinal_are_empty) {
  const auto table = expectTable(R"(event_communication:
  adapters:
    - type: broadcast
      source: execution
      targets: [tracker]
      events: FILL
)");
  const ContainerId execution = id(*table, "execution");
  BOOST_TEST(table->route(execution, static_cast<std::uint8_t>(EventType::FILL)).targets.size() ==
             1u);
  const auto& unrelated = table->route(execution, static_cast<std::uint8_t>(EventType::REGIME));
  BOOST_TEST(unrelated.targets.empty());
  BOOST_TEST(unrelated.adapters.empty());
  BOOST_TEST(table->route(execution, 0).targets.empty());  // UNKNOWN is never routed
  BOOST_TEST(table->route(execution, kEventTypeCount).targets.empty());
  BOOST_TEST(table->route(execution, 255).targets.empty());
}

BOOST_AUTO_TEST_CASE(risk_first_default_reaches_execution_once_via_both_pipelines) {
  const auto table = expectShippedTable("risk_first.yaml");
  for (const auto type : kEveryType) {
    BOOST_TEST(targets(*table, "risk_manager", type) == Names{"execution"});
    BOOST_TEST(adapterNames(*table, "risk_manager", type) == (Names{"pipeline#2", "pipeline#3"}));
  }
  const auto& entry =
      table->route(id(*table, "risk_manager"), static_cast<std::uint8_t>(EventType::ORDER));
  BOOST_TEST(entry.targets == std::vector<ContainerId>{id(*table, "execution")});
  BOOST_TEST(entry.adapters == (std::vector<AdapterIndex>{1, 2}));
  BOOST_TEST(targets(*table, "data", EventType::BAR) == (Names{"strategy_a", "strategy_b"}));
  BOOST_TEST(targets(*table, "strategy_a", EventType::SIGNAL) == Names{"risk_manager"});
  BOOST_TEST(targets(*table, "strategy_b", EventType::SIGNAL) == Names{"risk_manager"});
}

BOOST_AUTO_TEST_CASE(strategy_first_default_feeds_both_strategies_and_the_tracker) {
  const auto table = expectShippedTable("strategy_first.yaml");
  BOOST_TEST(table->containers() ==
             (Names{"data", "strategy_a", "execution", "strategy_b", "performance_tracker"}));
  BOOST_TEST(targets(*table, "data", EventType::BAR) == (Names{"strategy_a", "strategy_b"}));
  BOOST_TEST(adapterNames(*table, "data", EventType::BAR) == (Names{"pipeline#1", "pipeline#2"}));
  BOOST_TEST(targets(*table, "strategy_b", EventType::SIGNAL) == Names{"execution"});
  BOOST_TEST(targets(*table, "execution", EventType::FILL) == Names{"performance_tracker"});
  BOOST_TEST(adapterNames(*table, "execution", EventType::FILL) == Names{"broadcast#3"});
}

BOOST_AUTO_TEST_CASE(default_config_compiles_to_the_demo_routes) {
  const auto table = expectShippedTable("default.yaml");
  BOOST_TEST(table->containers() == (Names{"data", "strategy", "execution", "tracker"}));
  BOOST_TEST(targets(*table, "data", EventType::BAR) == Names{"strategy"});
  BOOST_TEST(targets(*table, "strategy", EventType::SIGNAL) == Names{"execution"});
  BOOST_TEST(targets(*table, "execution", EventType::FILL) == Names{"tracker"});
  BOOST_TEST(targets(*table, "execution", EventType::END_OF_DATA) == Names{"tracker"});
  BOOST_TEST(!table->isSource(id(*table, "tracker")));
}

BOOST_AUTO_TEST_CASE(targets_are_sorted_by_container_id_and_deduplicated_across_adapters) {
  const auto table = expectTable(R"(event_communication:
  adapters:
    - type: broadcast
      name: first
      source: hub
      targets: [c, b]
    - type: broadcast
      name: second
      source: hub
      targets: [a, b]
      events: [BAR]
)");
  BOOST_TEST(table->containers() == (Names{"hub", "c", "b", "a"}));
  BOOST_TEST(targets(*table, "hub", EventType::BAR) == (Names{"c", "b", "a"}));
  BOOST_TEST(adapterNames(*table, "hub", EventType::BAR) == (Names{"first", "second"}));
  BOOST_TEST(targets(*table, "hub", EventType::TICK) == (Names{"c", "b"}));
  BOOST_TEST(adapterNames(*table, "hub", EventType::TICK) == Names{"first"});
}

BOOST_AUTO_TEST_CASE(containers_are_interned_in_first_seen_order) {
  const auto table = expectTable(R"(event_communication:
  adapters:
    - type: pipeline
      containers: [data, strategy]
    - type: broadcast
      targets: [logger, data]
      source: execution
    - type: pipeline
      containers: [strategy, execution, archive]
)");
  // Adapters in file order; a broadcast names its source before its targets.
  BOOST_TEST(table->containers() ==
             (Names{"data", "strategy", "execution", "logger", "archive"}));
  for (ContainerId i = 0; i < table->containers().size(); ++i) {
    BOOST_TEST((table->find(table->name(i)) == std::optional<ContainerId>(i)));
  }
  BOOST_TEST(!table->find("nobody").has_value());
  BOOST_TEST(!table->find("").has_value());
}

BOOST_AUTO_TEST_CASE(is_source_is_true_only_for_containers_something_routes_from) {
  const auto table = expectTable(R"(event_communication:
  adapters:
    - type: pipeline
      containers: [data, strategy, execution]
    - type: broadcast
      source: execution
      targets: [tracker]
)");
  BOOST_TEST(table->isSource(id(*table, "data")));
  BOOST_TEST(table->isSource(id(*table, "strategy")));
  BOOST_TEST(table->isSource(id(*table, "execution")));
  BOOST_TEST(!table->isSource(id(*table, "tracker")));
}

BOOST_AUTO_TEST_CASE(container_twice_in_a_row_in_a_pipeline_is_a_self_edge_error) {
  Compiled compiled = compile(R"(event_communication:
  adapters:
    - type: pipeline
      name: stutter
      containers: [data, strategy, strategy, execution]
)");
  BOOST_TEST(compiled.table == nullptr);
  BOOST_TEST_REQUIRE(compiled.diagnostics.errorCount() == 1u);
  BOOST_TEST(compiled.diagnostics.all()[0].toString() ==
             "test.yaml:5:36: error: container 'strategy' is listed twice in a row in pipeline "
             "'stutter': it would route to itself");
}

BOOST_AUTO_TEST_CASE(a_container_name_no_container_could_join_under_is_an_error) {
  Compiled compiled = compile(R"(event_communication:
  adapters:
    - type: pipeline
      containers: [data, "my strategy"]
)");
  BOOST_TEST(compiled.table == nullptr);
  BOOST_TEST_REQUIRE(compiled.diagnostics.errorCount() == 1u);
  BOOST_TEST(compiled.diagnostics.all()[0].toString() ==
             "test.yaml:4:26: error: 'my strategy': container name may use only letters, digits, "
             "'_', '-' and '.'");
}

BOOST_AUTO_TEST_CASE(broadcast_whose_targets_include_its_source_is_an_error) {
  Compiled compiled = compile(R"(event_communication:
  adapters:
    - type: broadcast
      name: echo
      source: hub
      targets: [a, hub]
)");
  BOOST_TEST(compiled.table == nullptr);
  BOOST_TEST_REQUIRE(compiled.diagnostics.errorCount() == 1u);
  BOOST_TEST(compiled.diagnostics.all()[0].toString() ==
             "test.yaml:6:20: error: broadcast 'echo' lists its source 'hub' among its targets");
}

BOOST_AUTO_TEST_CASE(broadcast_listing_a_target_twice_is_an_error) {
  Compiled compiled = compile(R"(event_communication:
  adapters:
    - type: broadcast
      source: hub
      targets: [a, b, a]
)");
  BOOST_TEST(compiled.table == nullptr);
  BOOST_TEST_REQUIRE(compiled.diagnostics.errorCount() == 1u);
  BOOST_TEST(compiled.diagnostics.all()[0].toString() ==
             "test.yaml:5:23: error: target 'a' is listed twice in broadcast 'broadcast#1'");
}

BOOST_AUTO_TEST_CASE(duplicate_adapter_names_are_an_error_at_the_second_name) {
  Compiled compiled = compile(R"(event_communication:
  adapters:
    - type: pipeline
      name: flow
      containers: [a, b]
    - type: pipeline
      name: flow
      containers: [b, c]
    - type: pipeline
      containers: [c, d]
    - type: broadcast
      name: "pipeline#3"
      source: d
      targets: [e]
)");
  BOOST_TEST(compiled.table == nullptr);
  BOOST_TEST_INFO(compiled.diagnostics.toString());
  BOOST_TEST_REQUIRE(compiled.diagnostics.errorCount() == 2u);
  BOOST_TEST(compiled.diagnostics.all()[0].toString() ==
             "test.yaml:7:13: error: duplicate adapter name 'flow' (first used at test.yaml:4:13)");
  BOOST_TEST(compiled.diagnostics.all()[1].toString() ==
             "test.yaml:12:13: error: duplicate adapter name 'pipeline#3' (first used at "
             "test.yaml:9:7)");
}

BOOST_AUTO_TEST_CASE(every_topology_error_is_reported) {
  Compiled compiled = compile(R"(event_communication:
  adapters:
    - type: pipeline
      containers: [a, a]
    - type: broadcast
      source: b
      targets: [b]
    - type: pipeline
      containers: [c, d, d]
)");
  BOOST_TEST(compiled.table == nullptr);
  BOOST_TEST_INFO(compiled.diagnostics.toString());
  BOOST_TEST_REQUIRE(compiled.diagnostics.errorCount() == 3u);
  BOOST_TEST(compiled.diagnostics.all()[0].mark.line == 4u);
  BOOST_TEST(compiled.diagnostics.all()[1].mark.line == 7u);
  BOOST_TEST(compiled.diagnostics.all()[2].mark.line == 9u);
}

BOOST_AUTO_TEST_CASE(colliding_container_hashes_are_a_warning_not_an_error) {
  // fnv1a32("c693596") == fnv1a32("c1170850") == 0x58e2a3f8.
  static_assert(evr::routing::fnv1a32("c693596") == evr::routing::fnv1a32("c1170850"));
  static_assert(evr::routing::fnv1a32("a") == 0xe40c292cu);  // the published FNV-1a test vector
  Compiled compiled = compile(R"(event_communication:
  adapters:
    - type: pipeline
      containers: [c693596, c1170850]
)");
  BOOST_TEST_INFO(compiled.diagnostics.toString());
  BOOST_TEST_REQUIRE(compiled.table != nullptr);
  BOOST_TEST(!compiled.diagnostics.hasErrors());
  BOOST_TEST_REQUIRE(compiled.diagnostics.all().size() == 1u);
  const auto& warning = compiled.diagnostics.all()[0];
  BOOST_TEST((warning.severity == Severity::Warning));
  BOOST_TEST(warning.toString() ==
             "test.yaml:4:29: warning: containers 'c693596' and 'c1170850' have the same fnv1a32 "
             "hash 0x58e2a3f8: their event ids can collide (rename one of them)");
}

BOOST_AUTO_TEST_CASE(no_adapters_is_a_warning_and_an_empty_table) {
  Compiled compiled = compile("event_communication:\n  adapters: []\n");
  BOOST_TEST_REQUIRE(compiled.table != nullptr);
  BOOST_TEST(compiled.table->containers().empty());
  BOOST_TEST(compiled.table->adapters().empty());
  BOOST_TEST_REQUIRE(compiled.diagnostics.all().size() == 1u);
  BOOST_TEST((compiled.diagnostics.all()[0].severity == Severity::Warning));
  BOOST_TEST(compiled.diagnostics.all()[0].toString() ==
             "test.yaml:2:3: warning: no adapters are configured: evrouterd will route nothing");
}

BOOST_AUTO_TEST_CASE(earlier_errors_in_the_diagnostics_do_not_fail_compilation) {
  Diagnostics diagnostics;
  diagnostics.error({"other.yaml", 1, 1}, "an unrelated earlier problem");
  const auto config = evr::config::loadConfigText(
      "event_communication:\n  adapters:\n    - {type: pipeline, containers: [a, b]}\n",
      "test.yaml", diagnostics);
  BOOST_TEST_REQUIRE(config.has_value());
  BOOST_TEST(compileTopology(*config, diagnostics) != nullptr);
  BOOST_TEST(diagnostics.errorCount() == 1u);
}

BOOST_AUTO_TEST_CASE(hand_built_config_is_checked_as_strictly_as_a_loaded_one) {
  Config config;
  config.file = "built";
  evr::config::AdapterConfig unknown;
  unknown.type = "fanout";
  unknown.name = "rules";
  unknown.type_mark = {"built", 2, 9};
  config.adapters.push_back(unknown);
  evr::config::AdapterConfig short_pipeline;
  short_pipeline.type = "pipeline";
  short_pipeline.name = "short";
  short_pipeline.mark = {"built", 5, 3};
  short_pipeline.settings = evr::routing::PipelineConfig{.containers = {{"", {"built", 6, 4}}},
                                                         .transform = std::nullopt};
  config.adapters.push_back(short_pipeline);

  Diagnostics diagnostics;
  BOOST_TEST(compileTopology(config, diagnostics) == nullptr);
  BOOST_TEST_INFO(diagnostics.toString());
  BOOST_TEST_REQUIRE(diagnostics.errorCount() == 3u);
  BOOST_TEST(diagnostics.all()[0].toString() ==
             "built:2:9: error: unknown adapter type 'fanout'; known types: broadcast, "
             "hierarchical, pipeline, selective, shard");
  BOOST_TEST(diagnostics.all()[1].toString() ==
             "built:5:3: error: pipeline adapter 'short' needs at least 2 containers, got 1");
  BOOST_TEST(diagnostics.all()[2].toString() == "built:6:4: error: empty container name");
}

namespace {

// A made-up adapter type: `source` sends only REGIME events back to itself... unless the topology
// stops it. Used to show a registered type is compiled by its own function and that self-routes
// are caught whatever the adapter.
std::vector<evr::routing::Edge> compileLoopback(const evr::config::AdapterConfig& adapter,
                                                const evr::routing::ResolveContainer& resolve,
                                                Diagnostics&) {
  std::vector<evr::routing::Edge> edges;
  const auto& config = adapter.as<evr::routing::BroadcastConfig>();
  const auto source = resolve(*config.source);
  for (const auto& target : config.targets) {
    if (const auto id = resolve(target); source && id) {
      edges.push_back({*source, *id, EventTypeSet::of(EventType::REGIME)});
    }
  }
  return edges;
}

}  // namespace

BOOST_AUTO_TEST_CASE(a_registered_adapter_type_is_compiled_by_its_own_function) {
  evr::routing::AdapterRegistry registry = evr::routing::builtinAdapterRegistry();
  registry.add({.type = "loopback", .keys = {{.name = "source", .required = true}},
                .compile = &compileLoopback});
  BOOST_TEST(registry.typeNames() ==
             (std::vector<std::string_view>{"broadcast", "hierarchical", "loopback", "pipeline", "selective",
                                            "shard"}));

  Config config;
  evr::config::AdapterConfig adapter;
  adapter.type = "loopback";
  adapter.name = "loop";
  adapter.mark = {"built", 3, 5};
  adapter.settings = evr::routing::BroadcastConfig{
      .source = evr::config::Located<std::string>{"x", {}}, .targets = {{"y", {}}}};
  config.adapters.push_back(adapter);
  Diagnostics diagnostics;
  const auto table = compileTopology(config, registry, diagnostics);
  BOOST_TEST_REQUIRE(table != nullptr);
  BOOST_TEST(targets(*table, "x", EventType::REGIME) == Names{"y"});
  BOOST_TEST(targets(*table, "x", EventType::BAR).empty());

  std::any_cast<evr::routing::BroadcastConfig&>(config.adapters[0].settings).targets = {{"x", {}}};
  Diagnostics self_diagnostics;
  BOOST_TEST(compileTopology(config, registry, self_diagnostics) == nullptr);
  BOOST_TEST_REQUIRE(self_diagnostics.errorCount() == 1u);
  BOOST_TEST(self_diagnostics.all()[0].toString() ==
             "built:3:5: error: adapter 'loop' routes container 'x' to itself");
}

BOOST_AUTO_TEST_CASE(describe_lists_containers_adapters_and_routes) {
  const auto table = expectTable(R"(event_communication:
  adapters:
    - type: pipeline
      name: main_data_flow
      containers: [data, strategy, execution]
    - type: broadcast
      name: fanout
      source: execution
      targets: [tracker]
      events: [FILL, END_OF_DATA]
)");
  BOOST_TEST(table->describe() ==
             "containers (4): data, strategy, execution, tracker\n"
             "adapter main_data_flow (pipeline) at test.yaml:3:7\n"
             "  data -> strategy [ALL]\n"
             "  strategy -> execution [ALL]\n"
             "adapter fanout (broadcast) at test.yaml:6:7\n"
             "  execution -> tracker [FILL|END_OF_DATA]\n"
             "routes:\n"
             "  data: ALL -> strategy  via main_data_flow\n"
             "  strategy: ALL -> execution  via main_data_flow\n"
             "  execution: FILL|END_OF_DATA -> tracker  via fanout\n"
             "  tracker: (no routes)\n");
}

BOOST_AUTO_TEST_CASE(describe_groups_types_that_share_a_route) {
  const auto table = expectShippedTable("risk_first.yaml");
  const std::string text = table->describe();
  BOOST_TEST_INFO(text);
  BOOST_TEST(text.find("  risk_manager: ALL -> execution  via pipeline#2, pipeline#3\n") !=
             std::string::npos);
  BOOST_TEST(text.find("  data: ALL -> strategy_a, strategy_b  via broadcast#1\n") !=
             std::string::npos);
}

BOOST_AUTO_TEST_CASE(empty_routing_table_routes_nothing) {
  const RoutingTable table;
  BOOST_TEST(table.containers().empty());
  BOOST_TEST(!table.find("data").has_value());
  BOOST_TEST(table.describe() == "containers (0):\nroutes:\n");
}

BOOST_AUTO_TEST_SUITE_END()

// Event-time ordering (docs/determinism.md): who a container waits for, and which links are
// feedback (the one link of each cycle that is never waited for).
namespace {

// "name:f" for a feedback input, "name" for a forward one, in the table's order.
std::vector<std::string> inputsOf(const RoutingTable& table, std::string_view target) {
  std::vector<std::string> out;
  for (const auto& input : table.inputs(*table.find(target))) {
    out.push_back(table.name(input.source) + (input.feedback ? ":f" : ""));
  }
  return out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(ordering_graph)

BOOST_AUTO_TEST_CASE(inputs_are_every_source_that_routes_to_a_container_by_name) {
  const auto compiled = evr::test::compileYaml(R"(
event_communication:
  adapters:
    - {type: pipeline, name: main, containers: [zdata, strategy, risk]}
    - {type: broadcast, name: fan, source: zdata, targets: [risk, audit]}
    - type: selective
      name: pick
      source: strategy
      rules:
        - {condition: "event.strength > 0.5", target: audit}
)");
  BOOST_TEST_REQUIRE(compiled.table);
  const auto& table = *compiled.table;
  BOOST_TEST(inputsOf(table, "risk") == (std::vector<std::string>{"strategy", "zdata"}),
             boost::test_tools::per_element());
  BOOST_TEST(inputsOf(table, "audit") == (std::vector<std::string>{"strategy", "zdata"}),
             boost::test_tools::per_element());
  BOOST_TEST(inputsOf(table, "zdata").empty());
  BOOST_TEST(table.outputs(*table.find("zdata")).size() == 3u);  // strategy, risk, audit
}

BOOST_AUTO_TEST_CASE(the_link_against_the_data_flow_is_the_feedback_of_a_cycle) {
  // The parent feeds its child BARs and END_OF_DATA (the data flow); the child reports PORTFOLIO
  // up. The report closes the cycle: it is feedback, whatever order the adapters come in.
  for (const bool report_first : {false, true}) {
    const std::string down = "    - {type: broadcast, name: down, source: parent, targets: [child], events: [BAR, END_OF_DATA]}\n";
    const std::string up = "    - {type: broadcast, name: up, source: child, targets: [parent], events: [PORTFOLIO]}\n";
    const auto compiled = evr::test::compileYaml(
        "event_communication:\n  adapters:\n"
        "    - {type: pipeline, name: feed, containers: [data, parent]}\n" +
        (report_first ? up + down : down + up));
    BOOST_TEST_REQUIRE(compiled.table);
    BOOST_TEST(inputsOf(*compiled.table, "parent") == (std::vector<std::string>{"child:f", "data"}),
               boost::test_tools::per_element());
    BOOST_TEST(inputsOf(*compiled.table, "child") == (std::vector<std::string>{"parent"}),
               boost::test_tools::per_element());
  }
}

BOOST_AUTO_TEST_CASE(without_end_of_data_the_first_link_of_a_cycle_in_adapter_order_is_forward) {
  const auto compiled = evr::test::compileYaml(R"(
event_communication:
  adapters:
    - {type: broadcast, name: ab, source: a, targets: [b], events: [SIGNAL]}
    - {type: broadcast, name: bc, source: b, targets: [c], events: [SIGNAL]}
    - {type: broadcast, name: ca, source: c, targets: [a], events: [FILL]}
)");
  BOOST_TEST_REQUIRE(compiled.table);
  const auto& table = *compiled.table;
  BOOST_TEST(inputsOf(table, "b") == (std::vector<std::string>{"a"}), boost::test_tools::per_element());
  BOOST_TEST(inputsOf(table, "c") == (std::vector<std::string>{"b"}), boost::test_tools::per_element());
  BOOST_TEST(table.describe().find("feedback (handed on one step late under event-time ordering):\n  c -> a\n") !=
             std::string::npos);
  BOOST_TEST(inputsOf(table, "a") == (std::vector<std::string>{"c:f"}), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_SUITE_END()
