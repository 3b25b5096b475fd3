// Prometheus /metrics, /healthz and /ready of a live evrouterd (router.metrics).
#include <arpa/inet.h>
#include <boost/test/unit_test.hpp>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <optional>
#include <regex>

#include "daemon_fixture.hpp"

using namespace evr::test;

namespace {

constexpr auto kTimeout = 60s;

struct HttpReply {
  int status = 0;
  std::string body;
};

// GET http://127.0.0.1:<port><path> with Connection: close, every step bounded by `timeout`.
// nullopt on any socket error or timeout.
std::optional<HttpReply> httpGet(int port, const std::string& path,
                                 std::chrono::milliseconds timeout = 5s) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return std::nullopt;
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  // Blocking connect on loopback: refused or accepted at once.
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) != 0) return std::nullopt;
  const std::string request = "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
  if (::send(fd, request.data(), request.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(request.size())) {
    return std::nullopt;
  }
  const auto deadline = std::chrono::steady_clock::now() + bound(timeout);
  std::string raw;
  char buffer[4096];
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return std::nullopt;
    pollfd item{fd, POLLIN, 0};
    if (::poll(&item, 1, static_cast<int>(left.count())) <= 0) return std::nullopt;
    const ssize_t n = ::recv(fd, buffer, sizeof(buffer), 0);
    if (n < 0) return std::nullopt;
    if (n == 0) break;
    raw.append(buffer, static_cast<std::size_t>(n));
  }
  // "HTTP/1.1 200 OK\r\n...\r\n\r\nbody"
  const auto header_end = raw.find("\r\n\r\n");
  if (raw.rfind("HTTP/1.1 ", 0) != 0 || header_end == std::string::npos) return std::nullopt;
  return HttpReply{std::stoi(raw.substr(9, 3)), raw.substr(header_end + 4)};
}

// The port from "metrics on http://127.0.0.1:PORT" in the daemon's log (logged before the loop
// starts, so RunningDaemon has read past it).
int metricsPort(RunningDaemon& daemon) {
  const std::string& log = daemon.process().seen(Process::Stream::Stderr);
  std::smatch match;
  BOOST_REQUIRE_MESSAGE(std::regex_search(log, match, std::regex(R"(metrics on http://127\.0\.0\.1:(\d+))")),
                        "no 'metrics on' line in:\n" << log);
  return std::stoi(match[1]);
}

const std::string kConfig = R"(
router:
  metrics: "127.0.0.1:0"
  heartbeat_ms: 200
event_communication:
  adapters:
    - type: pipeline
      name: feed
      containers: [source, sink]
)";

}  // namespace

BOOST_AUTO_TEST_SUITE(metrics)

BOOST_AUTO_TEST_CASE(metrics_parse_as_prometheus_and_count_published_events) {
  RunningDaemon daemon(kConfig);
  const int port = metricsPort(daemon);

  const auto health = httpGet(port, "/healthz");
  BOOST_REQUIRE(health);
  BOOST_CHECK_EQUAL(health->status, 200);
  BOOST_CHECK_EQUAL(health->body, "ok\n");
  const auto ready = httpGet(port, "/ready");
  BOOST_REQUIRE(ready);
  BOOST_CHECK_EQUAL(ready->status, 200);
  const auto missing = httpGet(port, "/nothing");
  BOOST_REQUIRE(missing);
  BOOST_CHECK_EQUAL(missing->status, 404);

  constexpr int kEvents = 7;
  auto sink = daemon.peer({"--as", "sink", "--expect", std::to_string(kEvents), "--timeout", "60"});
  BOOST_REQUIRE(sink->waitForLine("joined", 30s));
  auto source = daemon.peer({"--as", "source", "--publish", std::to_string(kEvents)});
  BOOST_REQUIRE_EQUAL(source->waitFor(kTimeout).value_or(-1), 0);
  BOOST_REQUIRE_EQUAL(sink->waitFor(kTimeout).value_or(-1), 0);

  // Snapshots are published every 250 ms: each try is a fresh GET, after a short poll() wait.
  const std::string expected = "evrouter_events_in_total " + std::to_string(kEvents) + "\n";
  std::string body;
  const auto deadline = std::chrono::steady_clock::now() + bound(10s);
  while (std::chrono::steady_clock::now() < deadline) {
    const auto reply = httpGet(port, "/metrics");
    BOOST_REQUIRE(reply);
    BOOST_REQUIRE_EQUAL(reply->status, 200);
    body = reply->body;
    if (body.find(expected) != std::string::npos) break;
    ::poll(nullptr, 0, 50);
  }
  BOOST_TEST_INFO("last /metrics:\n" << body);
  BOOST_REQUIRE(body.find(expected) != std::string::npos);
  BOOST_CHECK(body.find("evrouter_route_seconds_count " + std::to_string(kEvents) + "\n") != std::string::npos);
  BOOST_CHECK(body.find("evrouter_container_events_out_total{container=\"sink\"} " +
                        std::to_string(kEvents) + "\n") != std::string::npos);
  BOOST_CHECK(body.find("evrouter_config_generation 1\n") != std::string::npos);

  // The reference parser (Debian python3-prometheus-client) must accept the whole exposition.
  const std::string path = daemon.dir().write("metrics.txt", body);
  Process parser({"/usr/bin/python3", "-c", R"(
import sys
from prometheus_client.parser import text_string_to_metric_families
families = list(text_string_to_metric_families(open(sys.argv[1]).read()))
values = {s.name: s.value for f in families for s in f.samples if not s.labels}
print("families=%d events_in=%d route_count=%d" % (len(families), values["evrouter_events_in_total"],
      values["evrouter_route_seconds_count"]))
)", path});
  const auto line = parser.waitForLine("families=", kTimeout);
  BOOST_TEST_INFO("parser stderr: " << parser.readAllStderr(2s));
  BOOST_REQUIRE(line);
  BOOST_CHECK_EQUAL(parser.waitFor(kTimeout).value_or(-1), 0);
  auto fields = parseFields(*line);
  BOOST_CHECK_EQUAL(fields["events_in"], std::to_string(kEvents));
  BOOST_CHECK_EQUAL(fields["route_count"], std::to_string(kEvents));
  BOOST_CHECK_EQUAL(fields["families"], "32");

  BOOST_CHECK_EQUAL(daemon.stop(), 0);
}

// The metrics thread (and httplib's workers) read snapshots while the loop thread publishes them
// and reloads swap the routing table: scrapes interleaved with a stream and SIGHUP reloads, so
// make test-tsan sees both threads busy at once (docs/sanitizers.md).
BOOST_AUTO_TEST_CASE(scrapes_while_events_flow_and_reloads_happen_stay_whole) {
  const std::string with_idle = kConfig + "    - {type: pipeline, name: idle, containers: [nobody, sink]}\n";
  RunningDaemon daemon(kConfig);
  const int port = metricsPort(daemon);
  constexpr int kEvents = 3000;
  auto sink = daemon.peer({"--as", "sink", "--expect", std::to_string(kEvents), "--timeout", "120"});
  BOOST_REQUIRE(sink->waitForLine("joined", 30s));
  auto source = daemon.evrctl({"send", "--as", "source", "--type", "BAR", "--set", "symbol=X", "--count",
                               std::to_string(kEvents), "--rate", "1500", "--timeout", "120"});

  constexpr int kReloads = 6;
  int scrapes = 0;
  for (int reload = 0; reload < kReloads; ++reload) {
    daemon.dir().write("evrouter.yaml", reload % 2 == 0 ? with_idle : kConfig);
    daemon.process().signal(SIGHUP);
    // Scrape while this reload is under way, until its outcome is logged.
    BOOST_REQUIRE(daemon.process().waitForLine("SIGHUP: reloading", kTimeout, Process::Stream::Stderr));
    for (int i = 0; i < 5; ++i, ++scrapes) {
      const auto reply = httpGet(port, "/metrics");
      BOOST_REQUIRE(reply);
      BOOST_REQUIRE_EQUAL(reply->status, 200);
      BOOST_REQUIRE(reply->body.find("evrouter_events_in_total ") != std::string::npos);
    }
    BOOST_REQUIRE(daemon.process().waitForLine("reload applied", kTimeout, Process::Stream::Stderr));
  }
  BOOST_REQUIRE_EQUAL(source->waitFor(kTimeout * 2).value_or(-1), 0);
  BOOST_REQUIRE_EQUAL(sink->waitFor(kTimeout * 2).value_or(-1), 0);

  // Every event and every reload shows in a later snapshot (published every 250 ms).
  const std::string events = "evrouter_events_in_total " + std::to_string(kEvents) + "\n";
  const std::string generation = "evrouter_config_generation " + std::to_string(1 + kReloads) + "\n";
  std::string body;
  const auto deadline = std::chrono::steady_clock::now() + bound(20s);
  while (std::chrono::steady_clock::now() < deadline) {
    const auto reply = httpGet(port, "/metrics");
    BOOST_REQUIRE(reply);
    ++scrapes;
    body = reply->body;
    if (body.find(events) != std::string::npos && body.find(generation) != std::string::npos) break;
    ::poll(nullptr, 0, 50);
  }
  BOOST_TEST_INFO("last /metrics:\n" << body);
  BOOST_CHECK(body.find(events) != std::string::npos);
  BOOST_CHECK(body.find(generation) != std::string::npos);
  BOOST_TEST_MESSAGE(scrapes << " scrapes");
  BOOST_CHECK_EQUAL(daemon.stop(), 0);
}

BOOST_AUTO_TEST_CASE(malformed_metrics_address_is_a_config_error_with_its_place) {
  TempDir dir;
  const std::string path = dir.write("bad.yaml", "router:\n  metrics: \"127.0.0.1:99999\"\n"
                                                 "event_communication:\n  adapters: []\n");
  Process check({EVR_EVROUTERD_PATH, "--check", "-c", path});
  BOOST_CHECK_EQUAL(check.waitFor(kTimeout).value_or(-1), 1);
  const std::string errors = check.readAllStderr(2s);
  BOOST_TEST_INFO(errors);
  BOOST_CHECK(errors.find("bad.yaml:2:12: error: metrics must be \"host:port\"") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(metrics_off_serves_nothing) {
  RunningDaemon daemon(R"(
router:
  metrics: "off"
event_communication:
  adapters:
    - type: pipeline
      containers: [a, b]
)");
  BOOST_CHECK(daemon.process().seen(Process::Stream::Stderr).find("metrics on") == std::string::npos);
  BOOST_CHECK_EQUAL(daemon.stop(), 0);
}

BOOST_AUTO_TEST_SUITE_END()
