// The shard adapter with real processes: a feed's symbols split over four workers, each symbol
// to exactly one worker (the one shardIndex names), END_OF_DATA to all; `evrouterd --check` and
// `evrctl graph` show it.
#include <boost/test/unit_test.hpp>
#include <nlohmann/json.hpp>

#include <map>
#include <set>
#include <sstream>

#include "daemon_fixture.hpp"
#include "routing/shard_adapter.hpp"

using namespace evr::test;

namespace {

constexpr auto kTimeout = 60s;
constexpr int kWorkers = 4;

const char* kShard = R"(
router:
  heartbeat_ms: 200
event_communication:
  adapters:
    - type: shard
      name: by_symbol
      source: feed
      targets: [w0, w1, w2, w3]
)";

void finished(Process& process) {
  BOOST_TEST_INFO(process.commandLine() << ": " << process.readAllStderr(0s));
  BOOST_REQUIRE_EQUAL(process.waitFor(kTimeout).value_or(-1), 0);
}

std::vector<nlohmann::json> received(Process& recv) {
  finished(recv);
  std::vector<nlohmann::json> events;
  std::istringstream lines(recv.readAllStdout(2s));
  std::string line;
  while (std::getline(lines, line)) events.push_back(nlohmann::json::parse(line));
  return events;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(shard_routing)

BOOST_AUTO_TEST_CASE(each_symbol_reaches_one_worker_and_end_of_data_reaches_all) {
  RunningDaemon daemon(kShard);
  const std::vector<std::string> symbols{"AAPL", "MSFT", "GOOG", "AMZN", "TSLA", "NVDA", "META", "SPY"};
  constexpr int kBarsPerSymbol = 3;
  // Declared targets queue until they join, so sending first is fine.
  std::map<std::string, int> expected;  // worker -> events
  for (const auto& symbol : symbols) {
    auto send = daemon.evrctl({"send", "--as", "feed", "--type", "BAR", "--set", "symbol=" + symbol,
                               "--count", std::to_string(kBarsPerSymbol), "--timeout", "30"});
    finished(*send);
    expected["w" + std::to_string(evr::routing::shardIndex(symbol, kWorkers))] += kBarsPerSymbol;
  }
  auto end = daemon.evrctl({"send", "--as", "feed", "--type", "END_OF_DATA", "--timeout", "30"});
  finished(*end);

  std::map<std::string, std::string> owner;  // symbol -> the worker that received it
  int delivered = 0;
  for (int w = 0; w < kWorkers; ++w) {
    const std::string worker = "w" + std::to_string(w);
    const int count = expected[worker] + 1;  // its symbols' bars, then END_OF_DATA
    auto recv = daemon.evrctl({"recv", "--as", worker, "--count", std::to_string(count), "--json",
                               "--timeout", "30"});
    const auto events = received(*recv);
    BOOST_TEST_REQUIRE(events.size() == static_cast<std::size_t>(count));
    delivered += count;
    for (std::size_t i = 0; i + 1 < events.size(); ++i) {
      BOOST_TEST(events[i].at("type").get<std::string>() == "BAR");
      const std::string symbol = events[i].at("symbol").get<std::string>();
      const auto [it, inserted] = owner.emplace(symbol, worker);
      BOOST_TEST(it->second == worker, symbol << " reached " << it->second << " and " << worker);
    }
    BOOST_TEST(events.back().at("type").get<std::string>() == "END_OF_DATA");
  }
  BOOST_TEST(owner.size() == symbols.size());
  BOOST_TEST(daemon.stop() == 0);
  // Nothing more was delivered than each worker's share: no symbol reached two workers.
  auto stopped = parseFields(daemon.log().substr(daemon.log().find("stopped: ")));
  BOOST_TEST(stopped["delivered"] == std::to_string(delivered));
  BOOST_TEST(stopped["unmatched"] == "0");
}

BOOST_AUTO_TEST_CASE(check_and_graph_show_the_shard) {
  const std::string path = std::string(EVR_SOURCE_DIR) + "/configs/shard.yaml";
  Process check({EVR_EVROUTERD_PATH, "--check", "-c", path});
  BOOST_TEST_REQUIRE(check.waitFor(kTimeout).value_or(-1) == 0);
  const std::string out = check.readAllStdout(2s);
  BOOST_TEST(out.find("adapter by_symbol (shard) at " + path + ":15:7") != std::string::npos, out);
  BOOST_TEST(out.find("-> one target by hash of event.symbol: strategy_0, strategy_1, strategy_2, "
                      "strategy_3") != std::string::npos, out);

  RunningDaemon daemon(kShard);
  auto graph = daemon.evrctlControl({"graph", "--format", "json"});
  finished(*graph);
  const auto json = nlohmann::json::parse(graph->readAllStdout(2s));
  std::set<std::string> targets;
  for (const auto& edge : json.at("edges")) {
    BOOST_TEST(edge.at("type").get<std::string>() == "shard");
    BOOST_TEST(edge.at("adapter").get<std::string>() == "by_symbol");
    BOOST_TEST(edge.at("source").get<std::string>() == "feed");
    // A conditional edge (dashed in dot and mermaid): each event takes one of them.
    BOOST_TEST(edge.at("condition").get<std::string>() == "hash of event.symbol");
    targets.insert(edge.at("target").get<std::string>());
  }
  BOOST_TEST(targets == (std::set<std::string>{"w0", "w1", "w2", "w3"}));
  BOOST_TEST(daemon.stop() == 0);
}

BOOST_AUTO_TEST_SUITE_END()
