// The shard adapter as compiled from YAML: each key value reaches exactly one target, the same
// one every time and in every build (FNV-1a 64 + jump consistent hash, pinned here), spread
// evenly; broadcast types reach every target; `events:` filters; its keys are checked with
// their place; `--check` shows it.
#include <boost/test/unit_test.hpp>
#include <capnp/message.h>

#include <cstdio>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "compile_yaml.hpp"
#include "config/config_loader.hpp"
#include "routing/routing_table.hpp"
#include "routing/shard_adapter.hpp"
#include "topology/check_config.hpp"
#include "topology/topology.hpp"

namespace {

using evr::EventType;
using evr::routing::ContainerId;
using evr::routing::RoutingTable;
using evr::routing::shardIndex;
using Names = std::vector<std::string>;

std::shared_ptr<const RoutingTable> compile(const std::string& yaml) {
  auto compiled = evr::test::compileYaml(yaml);
  BOOST_TEST_INFO(compiled.diagnostics.toString());
  BOOST_TEST_REQUIRE(compiled.table != nullptr);
  BOOST_TEST(!compiled.diagnostics.hasErrors());
  return compiled.table;
}

std::string shardYaml(int workers, const std::string& extra = "") {
  std::string yaml = R"(
event_communication:
  adapters:
    - type: shard
      name: by_symbol
      source: feed
      targets: [)";
  for (int i = 0; i < workers; ++i) yaml += (i == 0 ? "w" : ", w") + std::to_string(i);
  return yaml + "]\n" + extra;
}

// The targets an event of `type` from `source` reaches, by name: plain routes, then what the
// shard's chooser picks ("unmatched" when it picks none).
Names decide(const RoutingTable& table, EventType type, const std::string& symbol,
             const std::string& source = "feed") {
  capnp::MallocMessageBuilder builder;
  auto event = builder.initRoot<evr::schema::Event>();
  event.setType(type);
  event.setSource(source);
  event.setSymbol(symbol);
  if (type == EventType::SIGNAL) event.initPayload().initSignal().setStrategy(symbol);
  const auto& entry = table.route(*table.find(source), static_cast<std::uint8_t>(type));
  Names out;
  for (const auto target : entry.targets) out.push_back(table.name(target));
  const evr::routing::EventView view{event.asReader(), 0};
  for (const auto& step : entry.selective) {
    if (!step.group->choose(view, [&](ContainerId id) { out.push_back(table.name(id)); })) {
      out.push_back("unmatched");
    }
  }
  return out;
}

std::string symbol(int i) {
  char buffer[16];
  std::snprintf(buffer, sizeof buffer, "SYM%04d", i);
  return buffer;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(shard)

BOOST_AUTO_TEST_CASE(the_hash_is_fnv1a_64_and_jump_consistent_hash_pinned_across_builds) {
  // FNV-1a 64 reference values.
  BOOST_TEST(evr::routing::fnv1a64("") == 0xcbf29ce484222325u);
  BOOST_TEST(evr::routing::fnv1a64("a") == 0xaf63dc4c8601ec8cu);
  BOOST_TEST(evr::routing::fnv1a64("foobar") == 0x85944171f73967e8u);
  // Where symbols go over 4 targets: any change here moves symbols between running workers.
  BOOST_TEST(shardIndex("AAPL", 4) == 0u);
  BOOST_TEST(shardIndex("GOOG", 4) == 2u);
  BOOST_TEST(shardIndex("SPY", 4) == 1u);
  BOOST_TEST(shardIndex("TSLA", 4) == 3u);
  BOOST_TEST(shardIndex("", 4) == 1u);
  for (std::size_t n = 1; n <= 64; ++n) BOOST_TEST(shardIndex("AAPL", n) < n);
}

BOOST_AUTO_TEST_CASE(a_thousand_symbols_spread_evenly_over_four_workers_each_to_one) {
  const auto table = compile(shardYaml(4));
  std::map<std::string, int> per_worker;
  for (int i = 0; i < 1000; ++i) {
    const Names targets = decide(*table, EventType::BAR, symbol(i));
    BOOST_TEST_REQUIRE(targets.size() == 1u, symbol(i) << " reached " << targets.size());
    ++per_worker[targets[0]];
    // The same symbol again, as a TICK: the same worker.
    BOOST_TEST(decide(*table, EventType::TICK, symbol(i)) == targets);
  }
  BOOST_TEST_REQUIRE(per_worker.size() == 4u);
  std::string spread;
  for (const auto& [worker, count] : per_worker) {
    spread += worker + "=" + std::to_string(count) + " ";
    // Even is 250; a fair hash's standard deviation here is 13.7 (5.5%).
    BOOST_TEST(count >= 225);
    BOOST_TEST(count <= 275);
  }
  BOOST_TEST_MESSAGE("1000 symbols over 4 workers: " << spread);
}

BOOST_AUTO_TEST_CASE(the_same_config_compiled_again_routes_every_symbol_the_same_way) {
  const auto before = compile(shardYaml(4));
  const auto after = compile(shardYaml(4));  // a restart or a reload
  for (int i = 0; i < 200; ++i) {
    BOOST_TEST(decide(*before, EventType::BAR, symbol(i)) == decide(*after, EventType::BAR, symbol(i)));
  }
}

BOOST_AUTO_TEST_CASE(appending_a_worker_moves_only_the_symbols_the_new_one_takes) {
  const auto four = compile(shardYaml(4));
  const auto five = compile(shardYaml(5));
  int moved = 0;
  for (int i = 0; i < 1000; ++i) {
    const Names from = decide(*four, EventType::BAR, symbol(i));
    const Names to = decide(*five, EventType::BAR, symbol(i));
    if (from == to) continue;
    ++moved;
    BOOST_TEST(to == Names{"w4"});
  }
  BOOST_TEST(moved > 150);  // about a fifth
  BOOST_TEST(moved < 250);
}

BOOST_AUTO_TEST_CASE(end_of_data_reaches_every_worker_and_broadcast_types_can_be_set) {
  const auto table = compile(shardYaml(3));
  BOOST_TEST(decide(*table, EventType::END_OF_DATA, "AAPL") == (Names{"w0", "w1", "w2"}));
  const auto custom = compile(shardYaml(3, "      broadcast_types: [PORTFOLIO, END_OF_DATA]\n"));
  BOOST_TEST(decide(*custom, EventType::PORTFOLIO, "AAPL") == (Names{"w0", "w1", "w2"}));
  BOOST_TEST(decide(*custom, EventType::BAR, "AAPL").size() == 1u);
  const auto none = compile(shardYaml(3, "      broadcast_types: []\n"));
  BOOST_TEST(decide(*none, EventType::END_OF_DATA, "AAPL").size() == 1u);
}

BOOST_AUTO_TEST_CASE(events_filters_what_the_shard_takes) {
  const auto table = compile(shardYaml(2, "      events: [BAR, END_OF_DATA]\n"));
  BOOST_TEST(decide(*table, EventType::BAR, "AAPL").size() == 1u);
  BOOST_TEST(decide(*table, EventType::TICK, "AAPL").empty());
  BOOST_TEST(decide(*table, EventType::END_OF_DATA, "").size() == 2u);
}

BOOST_AUTO_TEST_CASE(an_event_without_its_key_goes_to_one_fixed_worker) {
  const auto table = compile(shardYaml(4));
  const Names expected{"w" + std::to_string(shardIndex("", 4))};
  BOOST_TEST(decide(*table, EventType::BAR, "") == expected);
  // key: event.strategy is absent from a BAR: hashed as the empty string too.
  const auto by_strategy = compile(shardYaml(4, "      key: event.strategy\n"));
  BOOST_TEST(decide(*by_strategy, EventType::BAR, "AAPL") == expected);
  BOOST_TEST(decide(*by_strategy, EventType::SIGNAL, "momentum") ==
             (Names{"w" + std::to_string(shardIndex("momentum", 4))}));
}

BOOST_AUTO_TEST_CASE(its_keys_are_checked_with_their_place) {
  evr::config::Diagnostics diagnostics;
  const auto config = evr::config::loadConfigText(R"(event_communication:
  adapters:
    - type: shard
      source: feed
      targets: [w0, w1]
      key: event.symbl
    - type: shard
      targets: []
      broadcast_types: [EOD]
    - type: shard
      source: feed
      targets: [w0]
      keys: symbol
)",
                                                  "test.yaml", diagnostics);
  BOOST_TEST(!config.has_value());
  BOOST_TEST_INFO(diagnostics.toString());
  BOOST_TEST_REQUIRE(diagnostics.all().size() == 5u);
  const auto& d = diagnostics.all();
  BOOST_TEST(d[0].toString().starts_with("test.yaml:6:12: error: unknown field 'event.symbl' for 'key'"));
  BOOST_TEST(d[0].toString().find("(did you mean 'symbol'?)") != std::string::npos);
  BOOST_TEST(d[1].toString().starts_with("test.yaml:9:25: error: unknown event type 'EOD'"));
  BOOST_TEST(d[2].toString() == "test.yaml:7:7: error: shard adapter 'shard#2' needs 'source'");
  BOOST_TEST(d[3].toString() ==
             "test.yaml:8:16: error: shard adapter 'shard#2' needs at least 1 targets, got 0");
  BOOST_TEST(d[4].toString() ==
             "test.yaml:13:7: error: unknown key 'keys' in shard adapter; expected one of: "
             "broadcast_types, events, key, name, source, targets, type (did you mean 'key'?)");

  auto self = evr::test::compileYaml(shardYaml(2) + "    - {type: shard, source: a, targets: [b, a, b]}\n");
  BOOST_TEST(self.table == nullptr);
  BOOST_TEST_INFO(self.diagnostics.toString());
  BOOST_TEST_REQUIRE(self.diagnostics.errorCount() == 2u);
  BOOST_TEST(self.diagnostics.all()[0].toString() ==
             "test.yaml:8:45: error: shard 'shard#2' lists its source 'a' among its targets");
  BOOST_TEST(self.diagnostics.all()[1].toString() ==
             "test.yaml:8:48: error: target 'b' is listed twice in shard 'shard#2'");
}

BOOST_AUTO_TEST_CASE(check_prints_the_shard_and_its_targets) {
  std::ostringstream out;
  std::ostringstream err;
  const std::string path = std::string(EVR_SOURCE_DIR) + "/configs/shard.yaml";
  BOOST_TEST_REQUIRE(evr::topology::checkConfigFile(path, out, err) == 0);
  BOOST_TEST_INFO(out.str() << err.str());
  BOOST_TEST(err.str().empty());
  BOOST_TEST(out.str().find(" (shard) at ") != std::string::npos);
  BOOST_TEST(out.str().find("  data [ALL] -> one target by hash of event.symbol: strategy_0, "
                            "strategy_1, strategy_2, strategy_3\n"
                            "    END_OF_DATA -> every target\n") != std::string::npos);
  BOOST_TEST(out.str().find("  data: ALL -> <by_symbol decides>") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
