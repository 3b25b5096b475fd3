// evrctl tap: live copies of routed events, filtered by type and a condition.
#include <boost/test/unit_test.hpp>
#include <nlohmann/json.hpp>

#include <sstream>

#include "daemon_fixture.hpp"

using namespace evr::test;

BOOST_AUTO_TEST_SUITE(tap)

BOOST_AUTO_TEST_CASE(tap_prints_routed_events_that_pass_its_filters) {
  RunningDaemon daemon(R"(
router:
  heartbeat_ms: 200
event_communication:
  adapters:
    - {type: pipeline, name: feed, containers: [source, sink]}
)");
  // Found through the control socket, as an operator would.
  Process tap({EVR_EVRCTL_PATH, "tap", "--control", daemon.dir().ipc("evrouterd.ctl"), "--type", "BAR",
               "--where", "event.close > 5", "--count", "2", "--timeout", "60"});
  // The daemon says when the subscription has reached it; only then is anything copied.
  BOOST_REQUIRE(daemon.process().waitForLine("tap: 1 subscriber", 60s, Process::Stream::Stderr));
  for (const auto& [type, close] : std::vector<std::pair<std::string, std::string>>{
           {"SIGNAL", "0"}, {"BAR", "1"}, {"BAR", "10"}, {"BAR", "12"}}) {
    std::vector<std::string> args{"send", "--as", "source", "--type", type};
    if (type == "BAR") args.insert(args.end(), {"--set", "close=" + close});
    auto send = daemon.evrctl(args);
    BOOST_REQUIRE_EQUAL(send->waitFor(60s).value_or(-1), 0);
  }
  BOOST_REQUIRE_EQUAL(tap.waitFor(60s).value_or(-1), 0);
  std::istringstream lines(tap.readAllStdout(2s));
  std::string line;
  std::vector<double> closes;
  while (std::getline(lines, line)) {
    const auto event = nlohmann::json::parse(line);
    BOOST_CHECK_EQUAL(event.at("from").get<std::string>(), "source");
    BOOST_CHECK_EQUAL(event.at("to").at(0).get<std::string>(), "sink");
    BOOST_CHECK_EQUAL(event.at("adapters").at(0).get<std::string>(), "feed");
    BOOST_CHECK_EQUAL(event.at("type").get<std::string>(), "BAR");
    closes.push_back(event.at("close").get<double>());
  }
  BOOST_CHECK((closes == std::vector<double>{10, 12}));
  // When the tapper leaves, the daemon stops copying.
  BOOST_CHECK(daemon.process().waitForLine("tap: 0 subscriber", 60s, Process::Stream::Stderr));
  BOOST_CHECK_EQUAL(daemon.stop(), 0);
}

BOOST_AUTO_TEST_CASE(a_bad_where_expression_fails_before_tapping) {
  Process tap({EVR_EVRCTL_PATH, "tap", "--where", "event.clsoe > 5", "--timeout", "5"});
  BOOST_CHECK_EQUAL(tap.waitFor(30s).value_or(-1), 1);
  BOOST_CHECK(tap.readAllStderr(2s).find("--where:1:1: error: unknown field 'event.clsoe'") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
