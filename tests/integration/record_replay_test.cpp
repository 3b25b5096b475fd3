// evrctl record / replay and evr::testing::Harness on one recording: record what a container
// receives from a real evrouterd, replay it, and feed the same file to the container's code under
// the harness; the container's outputs are the same all three ways.
#include <boost/test/unit_test.hpp>
#include <nlohmann/json.hpp>

#include <csignal>
#include <sstream>
#include <string>
#include <vector>

#include "daemon_fixture.hpp"
#include "evr/event_json.hpp"
#include "evr/testing/harness.hpp"
#include "quickstart/up_strategy.hpp"

using namespace evr::test;
using nlohmann::json;

namespace {

// data -> strategy (the README's container, examples/quickstart) -> sink.
constexpr const char* kConfig = R"(
router:
  heartbeat_ms: 200
event_communication:
  adapters:
    - {type: pipeline, name: feed, containers: [data, strategy, sink]}
)";

// Six bars, three of them rising: three signals.
std::string barsFile() {
  const std::pair<double, double> open_close[] = {{100, 101}, {101, 99}, {99, 103}, {103, 102}, {102, 110}, {110, 109}};
  std::string out;
  for (int i = 0; i < 6; ++i) {
    out += json{{"type", "BAR"}, {"symbol", i % 2 == 0 ? "AAPL" : "MSFT"},
                {"event_time", 1'000'000'000LL * (i + 1)}, {"open", open_close[i].first},
                {"close", open_close[i].second}, {"period_seconds", 86400}}.dump() + "\n";
  }
  return out;
}

std::vector<json> jsonLines(const std::string& text) {
  std::vector<json> out;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    if (!line.empty()) out.push_back(json::parse(line));
  }
  return out;
}

// What a container decides, without what only one run has (its instance, wall-clock publish
// time, the hop count the link adds).
json decided(json event) {
  for (const char* key : {"publish_time", "source_instance", "hops"}) event.erase(key);
  return event;
}

// The same, also without the ids of this run: type, symbol, time, payload.
json payloadOf(json event) {
  for (const char* key : {"seq", "id", "causation_id", "correlation_id"}) event.erase(key);
  return decided(std::move(event));
}

// What `evrctl recv --as sink --json --count N` printed, once it has them all.
std::vector<json> sinkReceives(Process& sink, std::size_t count) {
  BOOST_REQUIRE_EQUAL(sink.waitFor(60s).value_or(-1), 0);
  auto lines = jsonLines(sink.readAllStdout(2s));
  BOOST_REQUIRE_EQUAL(lines.size(), count);
  return lines;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(record_replay)

BOOST_AUTO_TEST_CASE(a_recording_replays_live_and_under_the_harness_with_the_same_outputs) {
  RunningDaemon daemon(kConfig);
  const auto recording = (daemon.dir().path() / "strategy.jsonl").string();
  const auto bars = daemon.dir().write("bars.jsonl", barsFile());

  // The container, live: the README's example binary, pointed at this daemon.
  Process strategy({std::string(EVR_EXAMPLES_DIR) + "/up_strategy"},
                   Process::Options{.env = {{"EVR_ENDPOINT", daemon.endpoint()}}});
  BOOST_REQUIRE(daemon.process().waitForLine("container 'strategy' joined", 60s, Process::Stream::Stderr));
  auto sink = daemon.evrctl({"recv", "--as", "sink", "--json", "--count", "3", "--timeout", "60"});
  BOOST_REQUIRE(daemon.process().waitForLine("container 'sink' joined", 60s, Process::Stream::Stderr));

  auto record = daemon.evrctlControl({"record", "--container", "strategy", "--out", recording, "--count", "6",
                                      "--seconds", "60"});
  BOOST_REQUIRE(daemon.process().waitForLine("tap: 1 subscriber", 60s, Process::Stream::Stderr));

  // The live run: the bars come from `data` (a replay of a hand-written file).
  auto feed = daemon.evrctl({"replay", bars, "--as", "data"});
  BOOST_REQUIRE_EQUAL(feed->waitFor(60s).value_or(-1), 0);
  BOOST_REQUIRE_EQUAL(record->waitFor(60s).value_or(-1), 0);
  const auto live = sinkReceives(*sink, 3);

  // The recording: every bar strategy received, whole.
  const auto recorded = jsonLines(readFile(recording));
  BOOST_REQUIRE_EQUAL(recorded.size(), 6u);
  for (const auto& bar : recorded) {
    BOOST_TEST(bar.at("type") == "BAR");
    BOOST_TEST(bar.at("source") == "data");
    BOOST_TEST(bar.at("id").get<std::uint64_t>() != 0u);
  }
  BOOST_TEST(recorded[2].at("close") == 103.0);

  // Under the harness, from the same file: the same outputs as the live container, ids and
  // causation included (the recording kept the ids the live run saw).
  evr::testing::Harness harness("strategy");
  setup(harness.bus());
  BOOST_TEST(harness.feedFile(recording) == 6u);
  const auto tested = harness.published();
  BOOST_REQUIRE_EQUAL(tested.size(), live.size());
  for (std::size_t i = 0; i < live.size(); ++i) {
    BOOST_TEST(decided(evr::toJson(tested[i])) == decided(live[i]),
               evr::toJson(tested[i]).dump() << "\nlive:\n" << live[i].dump());
  }
  BOOST_TEST(live[0].at("causation_id") == recorded[0].at("id"));

  // Replayed through evrouterd: strategy receives the recording again and decides the same.
  auto sink_again = daemon.evrctl({"recv", "--as", "sink", "--json", "--count", "3", "--timeout", "60"});
  BOOST_REQUIRE(daemon.process().waitForLine("container 'sink' joined", 60s, Process::Stream::Stderr));
  auto replay = daemon.evrctl({"replay", recording, "--as", "data", "--rate", "1000"});
  BOOST_REQUIRE_EQUAL(replay->waitFor(60s).value_or(-1), 0);
  const auto again = sinkReceives(*sink_again, 3);
  for (std::size_t i = 0; i < again.size(); ++i) {
    BOOST_TEST(payloadOf(again[i]) == payloadOf(live[i]), again[i].dump() << "\nfirst run:\n" << live[i].dump());
    BOOST_TEST(again[i].at("seq") == 4 + i);  // the same strategy process, going on
    // It answers the replayed bar, which has the recorded bar's id: a new `data` connection's
    // seq starts again at 1, and ids are (source, seq).
    BOOST_TEST(again[i].at("causation_id") == live[i].at("causation_id"));
  }

  strategy.signal(SIGTERM);
  BOOST_CHECK(strategy.waitFor(30s).has_value());
  BOOST_CHECK_EQUAL(daemon.stop(), 0);
}

BOOST_AUTO_TEST_CASE(replay_refuses_a_bad_file_before_joining) {
  TempDir dir;
  const auto bad = dir.write("bad.jsonl", "{\"type\":\"BAR\",\"close\":1}\n{\"type\":\"BAR\",\"close\":\"x\"}\n");
  // No daemon: the file is checked first, so the error is about the file, at once.
  Process replay({EVR_EVRCTL_PATH, "replay", bad, "--as", "data", "--endpoint", dir.ipc(), "--timeout", "30"});
  BOOST_CHECK_EQUAL(replay.waitFor(30s).value_or(-1), 1);
  const auto err = replay.readAllStderr(2s);
  BOOST_CHECK_MESSAGE(err.find(bad + ":2: field 'close': ") != std::string::npos, err);
}

BOOST_AUTO_TEST_SUITE_END()
