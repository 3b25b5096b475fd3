// organization: `organization:` without `adapters:` generates the spec's default adapters (and
// evrouter's Portfolio-First pattern) from the declared containers; the generated topology routes
// market data all the way to execution.

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <deque>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "compile_yaml.hpp"
#include "config/config_loader.hpp"
#include "routing/pipeline_adapter.hpp"
#include "routing/routing_table.hpp"
#include "topology/organization.hpp"
#include "topology/topology.hpp"

using evr::EventType;
using evr::EventTypeSet;
using evr::kEventTypeCount;
using evr::config::AdapterConfig;
using evr::config::Config;
using evr::config::Diagnostics;
using evr::config::Severity;
using evr::routing::ContainerId;
using evr::routing::RoutingTable;
using evr::topology::compileTopology;
using evr::topology::defaultAdapters;

namespace {

using Names = std::vector<std::string>;

using evr::test::loadOrFail;

Config loadFileOrFail(const std::string& path) {
  Diagnostics diagnostics;
  auto config = evr::config::loadConfigFile(path, diagnostics);
  BOOST_TEST_INFO(path << ":\n" << diagnostics.toString());
  BOOST_TEST_REQUIRE(config.has_value());
  return std::move(*config);
}

using Compiled = evr::test::CompiledYaml;

Compiled compile(const Config& config) {
  Compiled out;
  out.table = compileTopology(config, out.diagnostics);
  BOOST_TEST_INFO("diagnostics:\n" << out.diagnostics.toString());
  BOOST_TEST_REQUIRE(out.table != nullptr);
  return out;
}

// Compiles and expects no diagnostics at all.
std::shared_ptr<const RoutingTable> expectClean(const Config& config) {
  Compiled compiled = compile(config);
  BOOST_TEST_INFO("diagnostics:\n" << compiled.diagnostics.toString());
  BOOST_TEST(compiled.diagnostics.all().empty());
  return compiled.table;
}

std::string fixture(const std::string& name) {
  return std::string(EVR_FIXTURES_DIR) + "/configs/" + name;
}

std::string shipped(const std::string& name) {
  return std::string(EVR_SOURCE_DIR) + "/configs/" + name;
}

Names adapterNames(const RoutingTable& table) {
  Names out;
  for (const auto& adapter : table.adapters()) out.push_back(adapter.name);
  return out;
}

Names targets(const RoutingTable& table, std::string_view source, EventType type) {
  const auto id = table.find(source);
  BOOST_TEST_REQUIRE(id.has_value(), "no container '" << source << "'");
  Names out;
  for (const auto target : table.route(*id, static_cast<std::uint8_t>(type)).targets) {
    out.push_back(table.name(target));
  }
  return out;
}

// Whether an event of `type` published by `from` can lead to an event at `to`: the first hop
// must carry `type`; after it, the receiving container publishes events of its own (any type),
// so any edge continues the chain. Walks the compiled edges, as the relay would route them.
bool reaches(const RoutingTable& table, std::string_view from, EventType type,
             std::string_view to) {
  const auto source = table.find(from);
  const auto target = table.find(to);
  if (!source || !target) return false;
  std::vector<bool> seen(table.containers().size(), false);
  std::deque<ContainerId> queue;
  for (const auto& adapter : table.adapters()) {
    for (const auto& edge : adapter.edges) {
      if (edge.source == *source && edge.types.contains(type) && !seen[edge.target]) {
        seen[edge.target] = true;
        queue.push_back(edge.target);
      }
    }
  }
  while (!queue.empty()) {
    const ContainerId at = queue.front();
    queue.pop_front();
    if (at == *target) return true;
    for (const auto& adapter : table.adapters()) {
      for (const auto& edge : adapter.edges) {
        if (edge.source == at && !edge.types.empty() && !seen[edge.target]) {
          seen[edge.target] = true;
          queue.push_back(edge.target);
        }
      }
    }
  }
  return false;
}

// Two tables route alike: the same containers, and for every (source, type) the same targets.
void expectSameRoutes(const RoutingTable& actual, const RoutingTable& expected) {
  const std::set<std::string> actual_names(actual.containers().begin(), actual.containers().end());
  const std::set<std::string> expected_names(expected.containers().begin(),
                                             expected.containers().end());
  BOOST_TEST_REQUIRE((actual_names == expected_names));
  for (const auto& name : expected.containers()) {
    for (unsigned type = 1; type < kEventTypeCount; ++type) {
      const auto event_type = static_cast<EventType>(type);
      Names a = targets(actual, name, event_type);
      Names e = targets(expected, name, event_type);
      std::sort(a.begin(), a.end());
      std::sort(e.begin(), e.end());
      BOOST_TEST(a == e, name << " " << evr::eventTypeName(event_type));
    }
  }
}

std::shared_ptr<const RoutingTable> specDefault(const std::string& file) {
  return expectClean(loadFileOrFail(fixture("spec/" + file)));
}

}  // namespace

BOOST_AUTO_TEST_SUITE(organization)

BOOST_AUTO_TEST_CASE(strategy_first_generates_the_spec_default) {
  Diagnostics diagnostics;
  const Config config = loadOrFail(R"(organization: strategy_first
strategies:
  - name: strategy_a
  - name: strategy_b
)",
                                   diagnostics);
  const auto table = expectClean(config);
  BOOST_TEST(adapterNames(*table) == (Names{"default:strategy_first:data->strategy_a->execution",
                                            "default:strategy_first:data->strategy_b->execution",
                                            "default:strategy_first:execution->performance_tracker"}));
  BOOST_TEST(table->adapters()[0].type == "pipeline");
  BOOST_TEST(table->adapters()[2].type == "broadcast");
  expectSameRoutes(*table, *specDefault("strategy_first_default.yaml"));
}

BOOST_AUTO_TEST_CASE(classifier_first_generates_the_spec_default) {
  Diagnostics diagnostics;
  const Config config = loadOrFail(R"(organization: classifier_first
classifiers:
  - name: classifier
    risk_profiles:
      - name: risk_conservative
      - name: risk_aggressive
)",
                                   diagnostics);
  const auto table = expectClean(config);
  BOOST_TEST(adapterNames(*table) ==
             (Names{"default:classifier_first:data->indicators->classifier",
                    "default:classifier_first:classifier->risk_conservative,risk_aggressive",
                    "default:classifier_first:risk_conservative->execution",
                    "default:classifier_first:risk_aggressive->execution"}));
  BOOST_TEST(table->adapters()[1].type == "hierarchical");
  BOOST_TEST(targets(*table, "classifier", EventType::REGIME) ==
             (Names{"risk_conservative", "risk_aggressive"}));
  BOOST_TEST(targets(*table, "classifier", EventType::BAR).empty());
  expectSameRoutes(*table, *specDefault("classifier_first_default.yaml"));
}

BOOST_AUTO_TEST_CASE(risk_first_generates_the_spec_default) {
  Diagnostics diagnostics;
  const Config config = loadOrFail(R"(organization: risk_first
strategies: [strategy_a, strategy_b]
)",
                                   diagnostics);
  const auto table = expectClean(config);
  BOOST_TEST(adapterNames(*table) ==
             (Names{"default:risk_first:data->strategy_a,strategy_b",
                    "default:risk_first:strategy_a->risk_manager->execution",
                    "default:risk_first:strategy_b->risk_manager->execution"}));
  expectSameRoutes(*table, *specDefault("risk_first_default.yaml"));
}

BOOST_AUTO_TEST_CASE(risk_first_sends_a_strategy_through_its_own_risk_profile) {
  Diagnostics diagnostics;
  const Config config = loadOrFail(R"(organization: risk_first
risk_profiles:
  - name: cautious
    strategies: [careful]
strategies: [bold]
)",
                                   diagnostics);
  const auto table = compile(config).table;
  BOOST_TEST(targets(*table, "careful", EventType::SIGNAL) == Names{"cautious"});
  BOOST_TEST(targets(*table, "cautious", EventType::ORDER) == Names{"execution"});
  BOOST_TEST(targets(*table, "bold", EventType::SIGNAL) == Names{"risk_manager"});
  BOOST_TEST(targets(*table, "data", EventType::BAR) == (Names{"careful", "bold"}));
}

BOOST_AUTO_TEST_CASE(portfolio_first_makes_each_portfolio_the_parent_of_its_strategies) {
  const auto table = expectClean(loadFileOrFail(shipped("portfolio_first.yaml")));
  BOOST_TEST(adapterNames(*table) ==
             (Names{"default:portfolio_first:data->growth,momentum,breakout,income,mean_reversion",
                    "default:portfolio_first:growth->momentum,breakout",
                    "default:portfolio_first:growth->risk_manager->execution",
                    "default:portfolio_first:income->mean_reversion",
                    "default:portfolio_first:income->risk_manager->execution",
                    "default:portfolio_first:execution->growth,income"}));
  // Market data to strategies and portfolios alike.
  BOOST_TEST(targets(*table, "data", EventType::BAR) ==
             (Names{"growth", "momentum", "breakout", "income", "mean_reversion"}));
  // Context down: the portfolio's state (and regime) to its own strategies, and on to risk.
  BOOST_TEST(targets(*table, "growth", EventType::PORTFOLIO) ==
             (Names{"momentum", "breakout", "risk_manager"}));
  BOOST_TEST(targets(*table, "income", EventType::REGIME) ==
             (Names{"mean_reversion", "risk_manager"}));
  // Results up: signals only, to the strategy's own portfolio.
  BOOST_TEST(targets(*table, "momentum", EventType::SIGNAL) == Names{"growth"});
  BOOST_TEST(targets(*table, "mean_reversion", EventType::SIGNAL) == Names{"income"});
  BOOST_TEST(targets(*table, "momentum", EventType::ORDER).empty());
  // Orders through risk to execution; fills back to every portfolio, nothing else.
  BOOST_TEST(targets(*table, "growth", EventType::ORDER) == Names{"risk_manager"});
  BOOST_TEST(targets(*table, "risk_manager", EventType::ORDER) == Names{"execution"});
  BOOST_TEST(targets(*table, "execution", EventType::FILL) == (Names{"growth", "income"}));
  BOOST_TEST(targets(*table, "execution", EventType::ORDER).empty());
}

BOOST_AUTO_TEST_CASE(every_organization_routes_a_bar_from_data_to_execution) {
  struct Case {
    std::string name;
    std::string yaml;
  };
  const std::vector<Case> cases = {
      {"strategy_first", "organization: strategy_first\nstrategies: [momentum]\n"},
      {"classifier_first",
       "organization: classifier_first\nclassifiers:\n  - name: hmm\n    risk_profiles: [low]\n"},
      {"risk_first", "organization: risk_first\nstrategies: [momentum]\n"},
      {"portfolio_first",
       "organization: portfolio_first\nportfolios:\n  - name: main\n    strategies: [momentum]\n"},
  };
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT(c.name) {
      Diagnostics diagnostics;
      const auto table = expectClean(loadOrFail(c.yaml, diagnostics));
      BOOST_TEST(reaches(*table, "data", EventType::BAR, "execution"));
      BOOST_TEST(!reaches(*table, "execution", EventType::BAR, "data"));
    }
  }
  // The shipped examples too.
  for (const std::string name : {"classifier_first.yaml", "portfolio_first.yaml"}) {
    BOOST_TEST_CONTEXT(name) {
      const auto table = expectClean(loadFileOrFail(shipped(name)));
      BOOST_TEST(reaches(*table, "data", EventType::BAR, "execution"));
    }
  }
}

BOOST_AUTO_TEST_CASE(a_classifier_without_risk_profiles_routes_nothing_past_it_and_says_so) {
  Diagnostics diagnostics;
  const Config config = loadOrFail("organization: classifier_first\nclassifiers: [lonely]\n",
                                   diagnostics);
  Compiled compiled = compile(config);
  BOOST_TEST(!reaches(*compiled.table, "data", EventType::BAR, "execution"));
  BOOST_TEST(!compiled.table->find("execution").has_value());
  BOOST_TEST_REQUIRE(compiled.diagnostics.all().size() == 1u);
  BOOST_TEST(compiled.diagnostics.all()[0].toString() ==
             "test.yaml:2:15: warning: classifier 'lonely' has no named risk profiles: the "
             "classifier_first default adapters route nothing past it");
}

BOOST_AUTO_TEST_CASE(generated_adapters_point_at_the_organization_and_the_declarations) {
  Diagnostics diagnostics;
  const Config config = loadOrFail(R"(strategies:
  - name: strategy_a
organization: "strategy_first"
)",
                                   diagnostics);
  const auto adapters = defaultAdapters(config, diagnostics);
  BOOST_TEST(diagnostics.all().empty());
  BOOST_TEST_REQUIRE(adapters.size() == 2u);
  for (const auto& adapter : adapters) {
    BOOST_TEST(adapter.generated);
    BOOST_TEST(adapter.mark.line == 3u);
    BOOST_TEST(adapter.mark.column == 15u);
    BOOST_TEST(adapter.name_mark.line == 3u);
  }
  const auto& pipeline = adapters[0];
  BOOST_TEST_REQUIRE(pipeline.as<evr::routing::PipelineConfig>().containers.size() == 3u);
  BOOST_TEST(pipeline.as<evr::routing::PipelineConfig>().containers[0].value == "data");
  BOOST_TEST(pipeline.as<evr::routing::PipelineConfig>().containers[0].mark.line == 3u);  // infrastructure: the organization
  BOOST_TEST(pipeline.as<evr::routing::PipelineConfig>().containers[1].value == "strategy_a");
  BOOST_TEST(pipeline.as<evr::routing::PipelineConfig>().containers[1].mark.line == 2u);  // declared: its declaration
  BOOST_TEST(pipeline.as<evr::routing::PipelineConfig>().containers[1].mark.column == 11u);
  BOOST_TEST(!pipeline.events.has_value());
}

BOOST_AUTO_TEST_CASE(a_containers_role_renames_an_infrastructure_container) {
  Diagnostics diagnostics;
  const Config config = loadOrFail(R"(organization: strategy_first
strategies: [alpha]
containers:
  - {name: feed, role: data}
  - {name: broker, role: execution}
  - {name: scoreboard, role: performance_tracker}
)",
                                   diagnostics);
  const auto table = expectClean(config);
  BOOST_TEST(adapterNames(*table) == (Names{"default:strategy_first:feed->alpha->broker",
                                            "default:strategy_first:broker->scoreboard"}));
  BOOST_TEST(!table->find("data").has_value());
  BOOST_TEST(reaches(*table, "feed", EventType::BAR, "broker"));
}

BOOST_AUTO_TEST_CASE(two_containers_with_one_infrastructure_role_warn_and_the_first_wins) {
  Diagnostics diagnostics;
  const Config config = loadOrFail(R"(organization: strategy_first
strategies: [alpha]
containers:
  - {name: feed, role: data}
  - {name: feed2, role: data}
)",
                                   diagnostics);
  Compiled compiled = compile(config);
  BOOST_TEST(targets(*compiled.table, "feed", EventType::BAR) == Names{"alpha"});
  BOOST_TEST_INFO(compiled.diagnostics.toString());
  BOOST_TEST_REQUIRE(compiled.diagnostics.all().size() == 2u);
  BOOST_TEST(compiled.diagnostics.all()[0].toString() ==
             "test.yaml:5:12: warning: containers 'feed' and 'feed2' both have role 'data'; the "
             "default adapters use 'feed'");
  BOOST_TEST(compiled.diagnostics.all()[1].toString() ==
             "test.yaml:5:12: warning: 'feed2' is declared but the strategy_first default "
             "adapters do not route it (write 'adapters:' to route it)");
}

BOOST_AUTO_TEST_CASE(declared_containers_the_defaults_leave_out_are_warnings) {
  Diagnostics diagnostics;
  const Config config = loadOrFail(R"(organization: strategy_first
strategies: [alpha]
classifiers: [hmm]
)",
                                   diagnostics);
  Compiled compiled = compile(config);
  BOOST_TEST_REQUIRE(compiled.diagnostics.all().size() == 1u);
  BOOST_TEST((compiled.diagnostics.all()[0].severity == Severity::Warning));
  BOOST_TEST(compiled.diagnostics.all()[0].toString() ==
             "test.yaml:3:15: warning: 'hmm' is declared but the strategy_first default adapters "
             "do not route it (write 'adapters:' to route it)");
}

BOOST_AUTO_TEST_CASE(an_organization_without_its_containers_warns) {
  Diagnostics diagnostics;
  const Config config = loadOrFail("organization: strategy_first\n", diagnostics);
  Compiled compiled = compile(config);
  BOOST_TEST(adapterNames(*compiled.table) ==
             Names{"default:strategy_first:execution->performance_tracker"});
  BOOST_TEST_REQUIRE(compiled.diagnostics.all().size() == 1u);
  BOOST_TEST(compiled.diagnostics.all()[0].toString() ==
             "test.yaml:1:15: warning: organization 'strategy_first' declares no strategies (a "
             "'strategies:' section): its default adapters have none to route");
}

BOOST_AUTO_TEST_CASE(portfolio_first_strategy_outside_any_portfolio_warns) {
  Diagnostics diagnostics;
  const Config config = loadOrFail(R"(organization: portfolio_first
portfolios:
  - name: main
    strategies: [inside]
strategies: [outside]
)",
                                   diagnostics);
  Compiled compiled = compile(config);
  BOOST_TEST(targets(*compiled.table, "outside", EventType::SIGNAL).empty());
  BOOST_TEST(targets(*compiled.table, "inside", EventType::SIGNAL) == Names{"main"});
  BOOST_TEST_REQUIRE(compiled.diagnostics.all().size() == 1u);
  BOOST_TEST(compiled.diagnostics.all()[0].toString() ==
             "test.yaml:5:14: warning: strategy 'outside' is in no portfolio: under "
             "portfolio_first its signals go nowhere (declare it under a portfolio's "
             "'strategies:')");
}

BOOST_AUTO_TEST_CASE(written_adapters_replace_the_defaults_even_when_empty) {
  Diagnostics diagnostics;
  const Config config = loadOrFail(R"(organization: strategy_first
strategies: [alpha]
event_communication:
  adapters: []
)",
                                   diagnostics);
  Compiled compiled = compile(config);
  BOOST_TEST(compiled.table->adapters().empty());
  BOOST_TEST_REQUIRE(compiled.diagnostics.all().size() == 1u);
  BOOST_TEST(compiled.diagnostics.all()[0].message ==
             "no adapters are configured: evrouterd will route nothing");

  // And with adapters written out, only they are compiled.
  const auto table = expectClean(loadFileOrFail(shipped("strategy_first.yaml")));
  BOOST_TEST(adapterNames(*table) == (Names{"pipeline#1", "pipeline#2", "broadcast#3"}));
}

BOOST_AUTO_TEST_CASE(no_organization_no_defaults) {
  Diagnostics diagnostics;
  const Config config = loadOrFail("strategies: [alpha]\n", diagnostics);
  BOOST_TEST(defaultAdapters(config, diagnostics).empty());
  BOOST_TEST(diagnostics.all().empty());
}

BOOST_AUTO_TEST_SUITE_END()
