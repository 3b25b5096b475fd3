// Limits with real processes (docs/delivery.md, "Limits"): router.max_connections refuses a
// container with ERROR overloaded and its client keeps trying until a slot frees; a rate-limited
// publisher is slowed, never dropped; router.queue_bytes_limit holds a lossless source and sheds
// (counted) for a lossy target. Bounded by timeouts; every wait is a real round trip or a line.
#include <boost/test/unit_test.hpp>
#include <signal.h>

#include <nlohmann/json.hpp>

#include "daemon_fixture.hpp"

using namespace evr::test;

namespace {

constexpr auto kPeerTimeout = 120s;

nlohmann::json evrctlJson(RunningDaemon& daemon, const std::string& command) {
  auto process = daemon.evrctlControl({command, "--json"});
  BOOST_REQUIRE_EQUAL(process->waitFor(30s).value_or(-1), 0);
  return nlohmann::json::parse(process->readAllStdout(2s));
}

std::map<std::string, std::string> finish(Process& peer) {
  const auto summary = peer.waitForLine("summary", kPeerTimeout);
  const auto code = peer.waitFor(kPeerTimeout);
  BOOST_TEST_INFO(peer.commandLine() << " stderr: " << peer.readAllStderr(1s));
  BOOST_REQUIRE_MESSAGE(code.has_value(), "peer did not exit: " << peer.commandLine());
  BOOST_CHECK_EQUAL(*code, 0);
  return summary ? parseFields(*summary) : std::map<std::string, std::string>{};
}

}  // namespace

BOOST_AUTO_TEST_SUITE(limits)

BOOST_AUTO_TEST_CASE(a_third_container_over_max_connections_is_refused_then_joins_when_one_leaves) {
  RunningDaemon daemon(R"(
router:
  heartbeat_ms: 200
  max_connections: 2
event_communication:
  adapters:
    - type: pipeline
      containers: [a, b, c]
)");
  auto a = daemon.peer({"--as", "a", "--expect", "1", "--timeout", "60"});
  auto b = daemon.peer({"--as", "b", "--expect", "1", "--timeout", "60"});
  BOOST_REQUIRE(a->waitForLine("joined", 30s));
  BOOST_REQUIRE(b->waitForLine("joined", 30s));
  auto c = daemon.peer({"--as", "c", "--timeout", "60"});
  // Refused (counted), and c keeps trying: it neither joins nor gives up.
  nlohmann::json status;
  const auto deadline = std::chrono::steady_clock::now() + bound(30s);
  do {
    status = evrctlJson(daemon, "status");
  } while (status.at("hellos_refused").get<std::uint64_t>() < 2 &&
           std::chrono::steady_clock::now() < deadline);
  BOOST_CHECK_GE(status.at("hellos_refused").get<std::uint64_t>(), 2u);
  BOOST_CHECK_EQUAL(status.at("connections").get<std::uint64_t>(), 2u);
  BOOST_CHECK_EQUAL(status.at("connections_limit").get<std::uint64_t>(), 2u);
  BOOST_CHECK(c->running());
  auto text = daemon.evrctlControl({"status"});
  BOOST_REQUIRE_EQUAL(text->waitFor(30s).value_or(-1), 0);
  const std::string shown = text->readAllStdout(2s);
  BOOST_CHECK(shown.find("connections 2 of 2") != std::string::npos);
  BOOST_CHECK(shown.find("OVERLOADED") != std::string::npos);

  a->signal(SIGTERM);  // gone without BYE: the daemon notices its silence and frees the slot
  BOOST_REQUIRE(c->waitForLine("joined", 30s));
  finish(*c);
  b->signal(SIGTERM);
  BOOST_CHECK_EQUAL(daemon.stop(), 0);
  BOOST_CHECK(daemon.log().find("router.max_connections 2") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_rate_limited_publisher_is_slowed_and_every_event_arrives) {
  RunningDaemon daemon(R"(
router:
  heartbeat_ms: 200
  limits:
    producer: {events_per_s: 2000, burst: 100}
event_communication:
  adapters:
    - type: pipeline
      containers: [producer, consumer]
)");
  auto consumer = daemon.peer({"--as", "consumer", "--expect", "3000"});
  BOOST_REQUIRE(consumer->waitForLine("joined", 30s));
  auto producer = daemon.peer({"--as", "producer", "--publish", "3000", "--max-unacked", "50"});
  const auto summary = finish(*consumer);
  BOOST_CHECK_EQUAL(summary.count("received") ? summary.at("received") : "?", "3000");
  BOOST_CHECK_EQUAL(summary.count("gaps") ? summary.at("gaps") : "?", "0");
  BOOST_CHECK_EQUAL(summary.count("duplicates") ? summary.at("duplicates") : "?", "0");
  BOOST_REQUIRE_EQUAL(producer->waitFor(kPeerTimeout).value_or(-1), 0);
  const auto stats = statsOf(daemon.controlEndpoint());
  BOOST_CHECK_EQUAL(stats.dropped(), 0u);
  BOOST_REQUIRE(stats.container("producer") != nullptr);
  BOOST_CHECK_GT(stats.container("producer")->rate_limited, 0u);
  BOOST_CHECK_EQUAL(stats.container("consumer")->rate_limited, 0u);
  // /metrics-like numbers are in evrctl stats too.
  const auto json = evrctlJson(daemon, "stats");
  bool found = false;
  for (const auto& c : json.at("containers")) {
    if (c.at("name") == "producer") {
      found = true;
      BOOST_CHECK_EQUAL(c.at("rate_limited").get<std::uint64_t>(), stats.container("producer")->rate_limited);
    }
  }
  BOOST_CHECK(found);
  BOOST_CHECK_EQUAL(daemon.stop(), 0);
}

BOOST_AUTO_TEST_CASE(queue_bytes_limit_holds_a_lossless_source_for_an_absent_target_and_loses_nothing) {
  RunningDaemon daemon(R"(
router:
  heartbeat_ms: 200
  queue_bytes_limit: 262144
event_communication:
  adapters:
    - type: pipeline
      containers: [producer, absent]
)");
  // ~2 KiB events: a quarter of the byte limit (64 KiB) is ~30 events, far below a quarter of
  // queue_limit (25000): the bytes decide.
  auto producer = daemon.peer({"--as", "producer", "--publish", "1000", "--payload-bytes", "2000",
                               "--max-unacked", "50"});
  const auto held = statsWhen(daemon.controlEndpoint(), [](const DaemonStats& s) {
    return s.backpressure_holds > 0 && s.container("absent") != nullptr &&
           s.container("absent")->queue_depth > 0;
  });
  BOOST_REQUIRE_GT(held.backpressure_holds, 0u);
  BOOST_CHECK_LE(held.container("absent")->queue_bytes, 262144u);
  BOOST_CHECK_LT(held.container("absent")->queue_depth, 1000u);
  BOOST_CHECK(producer->running());
  auto absent = daemon.peer({"--as", "absent", "--expect", "1000"});
  const auto summary = finish(*absent);
  BOOST_CHECK_EQUAL(summary.count("received") ? summary.at("received") : "?", "1000");
  BOOST_CHECK_EQUAL(summary.count("ok") ? summary.at("ok") : "?", "1");
  BOOST_REQUIRE_EQUAL(producer->waitFor(kPeerTimeout).value_or(-1), 0);
  BOOST_CHECK_EQUAL(statsOf(daemon.controlEndpoint()).dropped(), 0u);
  BOOST_CHECK_EQUAL(daemon.stop(), 0);
}

BOOST_AUTO_TEST_CASE(queue_bytes_limit_sheds_and_counts_for_a_drop_oldest_target) {
  RunningDaemon daemon(R"(
router:
  heartbeat_ms: 200
  queue_bytes_limit: 65536
event_communication:
  delivery:
    targets: {absent: {default: drop_oldest, limit: 100000}}
  adapters:
    - type: pipeline
      containers: [producer, absent]
)");
  auto producer = daemon.peer({"--as", "producer", "--publish", "500", "--payload-bytes", "2000"});
  BOOST_REQUIRE_EQUAL(producer->waitFor(kPeerTimeout).value_or(-1), 0);  // never held
  const auto stats = statsOf(daemon.controlEndpoint());
  const auto* absent = stats.container("absent");
  BOOST_REQUIRE(absent != nullptr);
  BOOST_CHECK_LT(absent->queue_depth, 500u);
  BOOST_CHECK_GT(absent->queue_bytes, 0u);
  BOOST_CHECK_LE(absent->queue_bytes, 65536u + 4096u);  // over by at most one event
  BOOST_CHECK_EQUAL(stats.drop("policy"), 500u - absent->queue_depth);
  BOOST_CHECK_EQUAL(stats.backpressure_holds, 0u);
  BOOST_CHECK_EQUAL(daemon.stop(), 0);
}

BOOST_AUTO_TEST_SUITE_END()
