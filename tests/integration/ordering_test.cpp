// Event-time ordering (docs/determinism.md) with evrouterd and real container processes: an
// ordered container sees its inputs' events in (event time, input, source seq) order whatever the
// processes' timing, a silent input holds nothing up once its watermark moves, a reload that adds
// an input makes the container wait for it, and a feedback edge does not deadlock.
#include <boost/test/unit_test.hpp>
#include <signal.h>

#include <sstream>
#include <string>
#include <vector>

#include "daemon_fixture.hpp"

using namespace evr::test;

namespace {

constexpr auto kTimeout = 120s;

// The `got TIME SOURCE SEQ TYPE` lines an evr_test_peer --print-order printed, as "TIME SOURCE
// SEQ TYPE".
std::vector<std::string> gotLines(const std::string& out) {
  std::vector<std::string> lines;
  std::istringstream in(out);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("got ", 0) == 0) lines.push_back(line.substr(4));
  }
  return lines;
}

// Everything the process printed on stdout: the lines read so far, then the rest.
std::string allStdout(Process& peer) {
  const std::string rest = peer.readAllStdout(5s);
  return peer.seen(Process::Stream::Stdout) + rest;
}

// Waits for the peer's exit (0) and returns its whole stdout.
std::string finishOk(Process& peer) {
  const auto code = peer.waitFor(kTimeout);
  const std::string out = allStdout(peer);
  BOOST_TEST_INFO(peer.commandLine() << " stderr: " << peer.readAllStderr(1s));
  BOOST_REQUIRE_MESSAGE(code.has_value(), "did not exit: " << peer.commandLine());
  BOOST_CHECK_EQUAL(*code, 0);
  return out;
}

std::string line(std::int64_t time, const std::string& source, std::uint64_t seq, const std::string& type) {
  return std::to_string(time) + " " + source + " " + std::to_string(seq) + " " + type;
}

const char* kTwoSources = R"(
router:
  heartbeat_ms: 200
event_communication:
  adapters:
    - {type: broadcast, name: from_a, source: a, targets: [sink]}
    - {type: broadcast, name: from_b, source: b, targets: [sink]}
)";

}  // namespace

BOOST_AUTO_TEST_SUITE(ordering)

BOOST_AUTO_TEST_CASE(two_sources_with_random_timing_give_one_sequence_over_20_runs) {
  // a: 3 events per event time, b: 2, times 1..40, then END_OF_DATA at 41; both publish with
  // random pauses in small batches, so what reaches the sink interleaves differently every run.
  std::vector<std::string> expected;
  for (std::int64_t t = 1; t <= 40; ++t) {
    for (std::uint64_t k = 1; k <= 3; ++k) expected.push_back(line(t, "a", (t - 1) * 3 + k, "BAR"));
    for (std::uint64_t k = 1; k <= 2; ++k) expected.push_back(line(t, "b", (t - 1) * 2 + k, "BAR"));
  }
  expected.push_back(line(41, "a", 121, "END_OF_DATA"));
  expected.push_back(line(41, "b", 81, "END_OF_DATA"));
  for (int run = 1; run <= 20; ++run) {
    BOOST_TEST_CONTEXT("run " << run) {
      RunningDaemon daemon(kTwoSources);
      auto sink = daemon.peer({"--as", "sink", "--ordered", "--print-order", "--until-inputs-end", "--timeout", "100"});
      BOOST_REQUIRE(sink->waitForLine("joined", kTimeout));
      auto a = daemon.peer({"--as", "a", "--publish", "120", "--per-time", "3", "--jitter-us", "400", "--batch", "4", "--end"});
      auto b = daemon.peer({"--as", "b", "--publish", "80", "--per-time", "2", "--jitter-us", "400", "--batch", "3", "--end"});
      finishOk(*a);
      finishOk(*b);
      const auto got = gotLines(finishOk(*sink));
      BOOST_TEST(got == expected, boost::test_tools::per_element());
    }
  }
}

BOOST_AUTO_TEST_CASE(sources_that_finish_before_the_ordered_consumer_joins_are_not_waited_for_forever) {
  // Start in any order: the sources publish everything and leave before the sink exists. Their
  // watermarks went out anyway (a target that never joined might be ordered), so the sink,
  // joining last, gets every step and the end.
  RunningDaemon daemon(kTwoSources);
  auto a = daemon.peer({"--as", "a", "--publish", "6", "--per-time", "2", "--end"});
  auto b = daemon.peer({"--as", "b", "--publish", "3", "--end"});
  finishOk(*a);
  finishOk(*b);
  auto sink = daemon.evrctl({"recv", "--as", "sink", "--ordered", "--count", "11", "--timeout", "60"});
  const auto out = finishOk(*sink);
  // evrctl recv's text line: "TYPE seq=N source=NAME ..."; the order is the point.
  std::vector<std::string> order;
  std::istringstream in(out);
  for (std::string text; std::getline(in, text);) {
    const auto at = text.find(" source=");
    BOOST_REQUIRE(at != std::string::npos);
    const auto name = text.substr(at + 8, text.find(' ', at + 8) - at - 8);
    order.push_back(text.substr(0, text.find(' ')) + " " + name);
  }
  BOOST_TEST_INFO(out);
  BOOST_REQUIRE_EQUAL(order.size(), 11u);
  const std::vector<std::string> expected{"BAR a", "BAR a", "BAR b", "BAR a", "BAR a", "BAR b", "BAR a",
                                          "BAR a", "BAR b", "END_OF_DATA a", "END_OF_DATA b"};
  BOOST_TEST(order == expected, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(a_silent_source_does_not_stall_the_consumer_once_its_watermark_moves) {
  RunningDaemon daemon(kTwoSources);
  auto sink = daemon.peer({"--as", "sink", "--ordered", "--print-order", "--until-inputs-end", "--timeout", "100"});
  BOOST_REQUIRE(sink->waitForLine("joined", kTimeout));
  // b publishes at time 1, then nothing, and says it is complete up to 20; it stays connected.
  auto b = daemon.peer({"--as", "b", "--publish", "1", "--advance-to", "20", "--hold"});
  BOOST_REQUIRE(b->waitForLine("advanced", kTimeout));
  auto a = daemon.peer({"--as", "a", "--publish", "30", "--end"});
  finishOk(*a);
  // Steps 1..20 go; 21 and later wait for b, which says nothing more.
  BOOST_REQUIRE(sink->waitForLine("got 20 a 20 BAR", kTimeout));
  b->signal(SIGTERM);
  finishOk(*b);
  sink->signal(SIGKILL);
  sink->waitFor(kTimeout);
  const auto got = gotLines(allStdout(*sink));
  std::vector<std::string> expected{line(1, "a", 1, "BAR"), line(1, "b", 1, "BAR")};
  for (std::uint64_t t = 2; t <= 20; ++t) expected.push_back(line(static_cast<std::int64_t>(t), "a", t, "BAR"));
  BOOST_TEST(got == expected, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(a_reload_that_adds_an_input_makes_the_consumer_wait_for_it) {
  RunningDaemon daemon(R"(
router:
  heartbeat_ms: 200
event_communication:
  adapters:
    - {type: broadcast, name: from_a, source: a, targets: [sink]}
)");
  auto sink = daemon.peer({"--as", "sink", "--ordered", "--print-order", "--until-inputs-end", "--timeout", "100"});
  BOOST_REQUIRE(sink->waitForLine("joined", kTimeout));
  auto first = daemon.peer({"--as", "a", "--publish", "10", "--advance-to", "10"});
  BOOST_REQUIRE(sink->waitForLine("got 10 a 10 BAR", kTimeout));
  finishOk(*first);
  // b becomes an input of the sink; it is not running yet.
  daemon.dir().write("evrouter.yaml", std::string(kTwoSources));
  auto reload = daemon.evrctlControl({"reload"});
  finishOk(*reload);
  // a goes on (a new process, times 11..20) and ends; the sink must wait for b now.
  auto second = daemon.peer({"--as", "a", "--publish", "10", "--time-offset", "10", "--end"});
  finishOk(*second);
  auto b = daemon.peer({"--as", "b", "--publish", "10", "--time-offset", "10", "--end"});
  finishOk(*b);
  // The sink's own stream check counts a's second process (seq from 1 again) as duplicates and
  // exits 1; what matters here is the order, and that it saw every input end.
  BOOST_REQUIRE(sink->waitFor(kTimeout).has_value());
  const std::string out = allStdout(*sink);
  BOOST_TEST(out.find("inputs-ended") != std::string::npos);
  const auto got = gotLines(out);
  std::vector<std::string> expected;
  for (std::uint64_t t = 1; t <= 10; ++t) expected.push_back(line(static_cast<std::int64_t>(t), "a", t, "BAR"));
  for (std::uint64_t k = 1; k <= 10; ++k) {
    expected.push_back(line(static_cast<std::int64_t>(10 + k), "a", k, "BAR"));
    expected.push_back(line(static_cast<std::int64_t>(10 + k), "b", k, "BAR"));
  }
  expected.push_back(line(21, "a", 11, "END_OF_DATA"));
  expected.push_back(line(21, "b", 11, "END_OF_DATA"));
  BOOST_TEST(got == expected, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(a_feedback_edge_does_not_deadlock_and_is_handed_on_one_step_late) {
  // data -> parent -> child is the data flow (it carries END_OF_DATA); the child reports PORTFOLIO
  // up to the parent that feeds it, which closes a cycle: a feedback edge. Both are ordered.
  RunningDaemon daemon(R"(
router:
  heartbeat_ms: 200
event_communication:
  adapters:
    - {type: pipeline, name: flow, containers: [data, parent, child]}
    - {type: broadcast, name: report, source: child, targets: [parent], events: [PORTFOLIO]}
)");
  auto parent = daemon.peer({"--as", "parent", "--ordered", "--print-order", "--until-inputs-end",
                             "--forward", "SIGNAL", "--forward-only", "BAR", "--timeout", "100"});
  auto child = daemon.peer({"--as", "child", "--ordered", "--until-inputs-end", "--forward", "PORTFOLIO",
                            "--forward-only", "SIGNAL", "--timeout", "100"});
  BOOST_REQUIRE(parent->waitForLine("joined", kTimeout));
  BOOST_REQUIRE(child->waitForLine("joined", kTimeout));
  auto data = daemon.peer({"--as", "data", "--publish", "10", "--end"});
  finishOk(*data);
  finishOk(*child);
  const auto got = gotLines(finishOk(*parent));
  // The child's report of day t reaches the parent at the start of day t + 1, on every run.
  std::vector<std::string> expected{line(1, "data", 1, "BAR")};
  for (std::uint64_t t = 2; t <= 10; ++t) {
    expected.push_back(line(static_cast<std::int64_t>(t - 1), "child", t - 1, "PORTFOLIO"));
    expected.push_back(line(static_cast<std::int64_t>(t), "data", t, "BAR"));
  }
  expected.push_back(line(10, "child", 10, "PORTFOLIO"));
  expected.push_back(line(11, "data", 11, "END_OF_DATA"));
  BOOST_TEST(got == expected, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_SUITE_END()
