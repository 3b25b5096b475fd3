// 20 reloads — changed, unchanged and invalid, by evrctl and by SIGHUP — while three sources
// stream: every event arrives exactly once and in order per source, and the routing switches.
#include <boost/test/unit_test.hpp>
#include <nlohmann/json.hpp>
#include <signal.h>

#include <map>
#include <set>

#include "daemon_fixture.hpp"

using namespace evr::test;

namespace {

std::string routesTo(const std::string& target) {
  return "router:\n  heartbeat_ms: 200\nevent_communication:\n  adapters:\n"
         "    - {type: pipeline, name: p1, containers: [s1, " + target + "]}\n"
         "    - {type: pipeline, name: p2, containers: [s2, " + target + "]}\n"
         "    - {type: pipeline, name: p3, containers: [s3, " + target + "]}\n";
}

}  // namespace

BOOST_AUTO_TEST_SUITE(reload_soak)

BOOST_AUTO_TEST_CASE(twenty_reloads_while_three_sources_stream_lose_and_duplicate_nothing) {
  // Both targets are declared in both configs (the other one through an idle pipeline), so
  // nothing is ever unrouted, whichever config is in force.
  const std::string to_t1 = routesTo("t1") + "    - {type: pipeline, name: idle, containers: [nobody, t2]}\n";
  const std::string to_t2 = routesTo("t2") + "    - {type: pipeline, name: idle, containers: [nobody, t1]}\n";
  RunningDaemon daemon(to_t1);
  constexpr int kPerSource = 5000;
  std::vector<std::unique_ptr<Process>> receivers;
  for (const char* name : {"t1", "t2"}) {
    receivers.push_back(daemon.evrctl({"recv", "--as", name, "--json", "--timeout", "120"}));
  }
  std::vector<std::unique_ptr<Process>> sources;
  for (const char* name : {"s1", "s2", "s3"}) {
    sources.push_back(daemon.evrctl({"send", "--as", name, "--type", "BAR", "--set", "symbol=X",
                                     "--count", std::to_string(kPerSource), "--rate", "2500", "--timeout", "60"}));
  }

  // Reload only once events flow, so the reloads interleave with the streams.
  const auto first_line = receivers[0]->readLine(60s);
  BOOST_REQUIRE(first_line);

  int applied = 0, unchanged = 0, rejected = 0;
  const auto viaEvrctl = [&](int expected_exit) {
    auto reload = daemon.evrctlControl({"reload", "--json", "--timeout", "30"});
    BOOST_REQUIRE_EQUAL(reload->waitFor(60s).value_or(-1), expected_exit);
    const auto reply = nlohmann::json::parse(reload->readAllStdout(2s));
    if (!reply.at("ok").get<bool>()) {
      ++rejected;
    } else if (reply.at("changed").get<bool>()) {
      ++applied;
    } else {
      ++unchanged;
    }
  };
  const auto viaSighup = [&](const std::string& expected_line) {
    daemon.process().signal(SIGHUP);
    // This SIGHUP's own log lines: its start, then its outcome (older outcome lines come before).
    BOOST_REQUIRE(daemon.process().waitForLine("SIGHUP: reloading", 60s, Process::Stream::Stderr));
    BOOST_REQUIRE(daemon.process().waitForLine(expected_line, 60s, Process::Stream::Stderr));
    if (expected_line == "reload applied") ++applied;
    if (expected_line == "is unchanged") ++unchanged;
    if (expected_line == "reload rejected") ++rejected;
  };
  bool towards_t2 = true;
  for (int i = 0; i < 20; ++i) {
    switch (i % 5) {
      case 0:  // changed, by evrctl
        daemon.dir().write("evrouter.yaml", towards_t2 ? to_t2 : to_t1);
        towards_t2 = !towards_t2;
        viaEvrctl(0);
        break;
      case 1:  // unchanged, by evrctl
        viaEvrctl(0);
        break;
      case 2:  // invalid, by evrctl: rejected, routes stay
        daemon.dir().write("evrouter.yaml", "event_communication:\n  adapters:\n    - type: pipelin\n");
        viaEvrctl(1);
        break;
      case 3:  // changed, by SIGHUP
        daemon.dir().write("evrouter.yaml", towards_t2 ? to_t2 : to_t1);
        towards_t2 = !towards_t2;
        viaSighup("reload applied");
        break;
      case 4:  // unchanged, by SIGHUP
        viaSighup("is unchanged");
        break;
    }
  }
  BOOST_CHECK_EQUAL(applied, 8);
  BOOST_CHECK_EQUAL(unchanged, 8);
  BOOST_CHECK_EQUAL(rejected, 4);
  bool still_streaming = false;
  for (auto& source : sources) still_streaming = still_streaming || source->running();
  BOOST_TEST_MESSAGE("sources still streaming after the 20th reload: " << (still_streaming ? "yes" : "no"));
  for (auto& source : sources) BOOST_REQUIRE_EQUAL(source->waitFor(120s).value_or(-1), 0);

  // Read until every event has arrived somewhere (bounded), then check per source.
  std::map<std::string, std::vector<std::uint64_t>> by_source;        // all arrivals
  std::map<std::string, std::map<std::string, std::uint64_t>> last;   // receiver -> source -> seq
  std::size_t total = 0, reordered = 0;
  std::set<std::string> receivers_used;
  const auto take = [&](const std::string& receiver, const std::string& line) {
    const auto event = nlohmann::json::parse(line);
    const auto source = event.at("source").get<std::string>();
    const auto seq = event.at("seq").get<std::uint64_t>();
    auto& previous = last[receiver][source];
    if (seq <= previous) ++reordered;
    previous = seq;
    by_source[source].push_back(seq);
    receivers_used.insert(receiver);
    ++total;
  };
  take("t1", *first_line);
  const auto deadline = std::chrono::steady_clock::now() + bound(120s);
  while (total < 3u * kPerSource && std::chrono::steady_clock::now() < deadline) {
    for (std::size_t r = 0; r < receivers.size(); ++r) {
      while (auto line = receivers[r]->readLine(20ms)) take(r == 0 ? "t1" : "t2", *line);
    }
  }
  BOOST_CHECK_EQUAL(total, 3u * kPerSource);
  BOOST_CHECK_EQUAL(reordered, 0u);
  for (const char* source : {"s1", "s2", "s3"}) {
    auto seqs = by_source[source];
    std::sort(seqs.begin(), seqs.end());
    const bool exact = seqs.size() == kPerSource && std::adjacent_find(seqs.begin(), seqs.end()) == seqs.end() &&
                       seqs.front() == 1 && seqs.back() == kPerSource;
    BOOST_CHECK_MESSAGE(exact, source << ": " << seqs.size() << " events, expected 1.." << kPerSource << " once each");
  }
  BOOST_CHECK_EQUAL(receivers_used.size(), 2u);  // the routing did switch
  const auto stats = statsOf(daemon.controlEndpoint());
  BOOST_CHECK_EQUAL(stats.dropped(), 0u);
  BOOST_CHECK_EQUAL(stats.unrouted, 0u);
  for (auto& receiver : receivers) receiver->signal(SIGINT);
  BOOST_CHECK_EQUAL(daemon.stop(), 0);
}

BOOST_AUTO_TEST_SUITE_END()
