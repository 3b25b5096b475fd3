// evrctl send / recv against a live evrouterd.
#include <boost/test/unit_test.hpp>
#include <nlohmann/json.hpp>

#include <sstream>

#include "daemon_fixture.hpp"

using namespace evr::test;

BOOST_AUTO_TEST_SUITE(evrctl_cli)

BOOST_AUTO_TEST_CASE(send_then_recv_prints_each_routed_event_as_json) {
  RunningDaemon daemon(R"(
event_communication:
  adapters:
    - type: pipeline
      containers: [cli_source, cli_sink]
)");
  // The sink is declared, so the daemon queues for it until it joins: order of start is free.
  auto send = daemon.evrctl({"send", "--as", "cli_source", "--type", "BAR", "--set", "symbol=AAPL",
                             "--set", "close=101.5", "--count", "3"});
  BOOST_REQUIRE_EQUAL(send->waitFor(30s).value_or(-1), 0);
  auto recv = daemon.evrctl({"recv", "--as", "cli_sink", "--count", "3", "--json", "--timeout", "30"});
  BOOST_REQUIRE_EQUAL(recv->waitFor(30s).value_or(-1), 0);
  std::istringstream lines(recv->readAllStdout(2s));
  std::string line;
  std::uint64_t expected_seq = 1;
  while (std::getline(lines, line)) {
    const auto event = nlohmann::json::parse(line);
    BOOST_CHECK_EQUAL(event.at("type").get<std::string>(), "BAR");
    BOOST_CHECK_EQUAL(event.at("source").get<std::string>(), "cli_source");
    BOOST_CHECK_EQUAL(event.at("symbol").get<std::string>(), "AAPL");
    BOOST_CHECK_EQUAL(event.at("close").get<double>(), 101.5);
    BOOST_CHECK_EQUAL(event.at("seq").get<std::uint64_t>(), expected_seq++);
  }
  BOOST_CHECK_EQUAL(expected_seq, 4u);
  BOOST_CHECK_EQUAL(daemon.stop(), 0);
}

BOOST_AUTO_TEST_CASE(recv_exits_2_when_the_count_does_not_arrive_in_time) {
  RunningDaemon daemon("router:\n  heartbeat_ms: 200\n");
  auto recv = daemon.evrctl({"recv", "--as", "lonely", "--count", "1", "--timeout", "0.5"});
  BOOST_CHECK_EQUAL(recv->waitFor(30s).value_or(-1), 2);
  BOOST_CHECK_EQUAL(daemon.stop(), 0);
}

BOOST_AUTO_TEST_CASE(send_refuses_an_unknown_field_before_connecting) {
  RunningDaemon daemon("router:\n  heartbeat_ms: 200\n");
  auto send = daemon.evrctl({"send", "--as", "x", "--type", "BAR", "--set", "clsoe=1"});
  BOOST_CHECK_EQUAL(send->waitFor(30s).value_or(-1), 1);
  BOOST_CHECK(send->readAllStderr(2s).find("clsoe") != std::string::npos);
  BOOST_CHECK_EQUAL(daemon.stop(), 0);
}

BOOST_AUTO_TEST_SUITE_END()
