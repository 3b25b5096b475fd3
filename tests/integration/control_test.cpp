// The control socket: evrctl status / stats / reload against a live daemon.
#include <boost/test/unit_test.hpp>
#include <nlohmann/json.hpp>
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <sstream>

#include "daemon_fixture.hpp"

using namespace evr::test;

namespace {

constexpr auto kTimeout = 60s;

nlohmann::json jsonOf(Process& evrctl, int expected_exit = 0) {
  BOOST_TEST_INFO(evrctl.commandLine());
  BOOST_REQUIRE_EQUAL(evrctl.waitFor(kTimeout).value_or(-1), expected_exit);
  return nlohmann::json::parse(evrctl.readAllStdout(2s));
}

const std::string kBefore = R"(
router:
  heartbeat_ms: 200
event_communication:
  adapters:
    - type: pipeline
      name: feed
      containers: [source, first_sink]
)";

const std::string kAfter = R"(
router:
  heartbeat_ms: 200
event_communication:
  adapters:
    - type: pipeline
      name: feed
      containers: [source, second_sink]
)";

}  // namespace

BOOST_AUTO_TEST_SUITE(control)

BOOST_AUTO_TEST_CASE(status_and_stats_report_the_running_daemon) {
  RunningDaemon daemon(kBefore);
  auto sink = daemon.peer({"--as", "first_sink", "--expect", "5", "--timeout", "60"});
  auto source = daemon.peer({"--as", "source", "--publish", "5"});
  BOOST_REQUIRE_EQUAL(source->waitFor(kTimeout).value_or(-1), 0);
  BOOST_REQUIRE_EQUAL(sink->waitFor(kTimeout).value_or(-1), 0);

  auto status = jsonOf(*daemon.evrctlControl({"status", "--json"}));
  BOOST_CHECK_EQUAL(status.at("ok").get<bool>(), true);
  BOOST_CHECK_EQUAL(status.at("generation").get<int>(), 1);
  BOOST_CHECK_EQUAL(status.at("config").get<std::string>(), daemon.configPath());
  BOOST_CHECK_EQUAL(status.at("digest").get<std::string>().size(), 16u);

  auto stats = jsonOf(*daemon.evrctlControl({"stats", "--json"}));
  BOOST_CHECK_EQUAL(stats.at("events_in").get<int>(), 5);
  BOOST_CHECK_EQUAL(stats.at("deliveries").get<int>(), 5);
  bool saw_sink = false;
  for (const auto& container : stats.at("containers")) {
    if (container.at("name") == "first_sink") {
      saw_sink = true;
      BOOST_CHECK_EQUAL(container.at("events_out").get<int>(), 5);
      BOOST_CHECK_EQUAL(container.at("queue_depth").get<int>(), 0);
    }
  }
  BOOST_CHECK(saw_sink);
  BOOST_REQUIRE_EQUAL(stats.at("routes").size(), 1u);
  BOOST_CHECK_EQUAL(stats.at("routes").at(0).at("source").get<std::string>(), "source");
  BOOST_CHECK_EQUAL(stats.at("routes").at(0).at("target").get<std::string>(), "first_sink");
  BOOST_CHECK_EQUAL(stats.at("routes").at(0).at("events").get<int>(), 5);
  for (const auto& container : stats.at("containers")) {
    if (container.at("name") == "source") BOOST_CHECK(container.at("last_seen_ms_ago").is_number());
  }
  BOOST_CHECK_EQUAL(stats.at("adapters").at(0).at("matched").get<int>(), 5);
  BOOST_CHECK_EQUAL(daemon.stop(), 0);
}

BOOST_AUTO_TEST_CASE(reload_switches_routes_is_a_no_op_when_unchanged_and_rejects_bad_configs) {
  RunningDaemon daemon(kBefore);
  // 1. Rejected: a broken file. Exit 1, every error with its place, routes unchanged.
  daemon.dir().write("evrouter.yaml", "event_communication:\n  adapters:\n    - type: pipline\n      containers: [a, b]\n");
  auto bad = daemon.evrctlControl({"reload", "--json"});
  const auto rejected = jsonOf(*bad, 1);
  BOOST_CHECK_EQUAL(rejected.at("ok").get<bool>(), false);
  BOOST_REQUIRE_EQUAL(rejected.at("errors").size(), 1u);
  BOOST_CHECK(rejected.at("errors").at(0).get<std::string>().find(daemon.configPath() + ":3:13: error: unknown adapter type 'pipline'") == 0);
  BOOST_CHECK_EQUAL(rejected.at("generation").get<int>(), 1);
  auto first = daemon.peer({"--as", "source", "--publish", "3"});
  BOOST_REQUIRE_EQUAL(first->waitFor(kTimeout).value_or(-1), 0);
  auto old_sink = daemon.peer({"--as", "first_sink", "--expect", "3", "--timeout", "60"});
  BOOST_CHECK_EQUAL(old_sink->waitFor(kTimeout).value_or(-1), 0);

  // 2. Applied: the new routes are in force from the next event; the reply says what changed.
  daemon.dir().write("evrouter.yaml", kAfter);
  const auto applied = jsonOf(*daemon.evrctlControl({"reload", "--json"}));
  BOOST_CHECK_EQUAL(applied.at("changed").get<bool>(), true);
  BOOST_CHECK_EQUAL(applied.at("generation").get<int>(), 2);
  BOOST_REQUIRE_EQUAL(applied.at("routes_added").size(), 1u);
  BOOST_CHECK(applied.at("routes_added").at(0).get<std::string>().find("second_sink") != std::string::npos);
  BOOST_REQUIRE_EQUAL(applied.at("routes_removed").size(), 1u);
  auto second = daemon.peer({"--as", "source", "--publish", "4"});
  BOOST_REQUIRE_EQUAL(second->waitFor(kTimeout).value_or(-1), 0);
  auto new_sink = daemon.peer({"--as", "second_sink", "--expect", "4", "--timeout", "60"});
  BOOST_CHECK_EQUAL(new_sink->waitFor(kTimeout).value_or(-1), 0);

  // 3. Unchanged: a no-op, same generation.
  const auto same = jsonOf(*daemon.evrctlControl({"reload", "--json"}));
  BOOST_CHECK_EQUAL(same.at("changed").get<bool>(), false);
  BOOST_CHECK_EQUAL(same.at("generation").get<int>(), 2);

  // 4. A change to what cannot change live is refused by name.
  daemon.dir().write("evrouter.yaml", kAfter + "  \n");  // keep routes...
  daemon.dir().write("evrouter.yaml", std::string("router:\n  heartbeat_ms: 200\n  listen: [\"ipc://other.sock\"]\n") +
                                          kAfter.substr(kAfter.find("event_communication")));
  const auto refused = jsonOf(*daemon.evrctlControl({"reload", "--json"}), 1);
  BOOST_CHECK(refused.at("errors").at(0).get<std::string>().find("router.listen cannot change by a reload") != std::string::npos);

  auto status = jsonOf(*daemon.evrctlControl({"status", "--json"}));
  BOOST_CHECK_EQUAL(status.at("failed_reloads").get<int>(), 2);
  BOOST_CHECK_EQUAL(status.at("generation").get<int>(), 2);
  BOOST_CHECK_EQUAL(daemon.stop(), 0);
}

BOOST_AUTO_TEST_CASE(the_control_socket_is_owner_and_group_only) {
  RunningDaemon daemon(kBefore);
  struct stat info{};
  BOOST_REQUIRE_EQUAL(::stat((daemon.dir().path() / "evrouterd.ctl").c_str(), &info), 0);
  BOOST_CHECK(S_ISSOCK(info.st_mode));
  BOOST_CHECK_EQUAL(info.st_mode & 0777, 0660u);
  BOOST_CHECK_EQUAL(daemon.stop(), 0);
}

BOOST_AUTO_TEST_CASE(a_tcp_control_endpoint_off_loopback_is_refused_unless_allowed) {
  TempDir dir;
  const auto refused = dir.write("remote.yaml", "router:\n  control: \"tcp://0.0.0.0:7777\"\n");
  Process check({EVR_EVROUTERD_PATH, "--check", "-c", refused});
  BOOST_CHECK_EQUAL(check.waitFor(30s).value_or(-1), 1);
  BOOST_CHECK(check.readAllStderr(2s).find(refused + ":2:12: error: control endpoint 'tcp://0.0.0.0:7777' is not on loopback") != std::string::npos);
  const auto allowed = dir.write("allowed.yaml", "router:\n  control: \"tcp://0.0.0.0:7777\"\n  control_allow_remote: true\n");
  Process ok({EVR_EVROUTERD_PATH, "--check", "-c", allowed});
  BOOST_CHECK_EQUAL(ok.waitFor(30s).value_or(-1), 0);
  const auto loopback = dir.write("loopback.yaml", "router:\n  control: \"tcp://127.0.0.1:7777\"\n");
  Process local({EVR_EVROUTERD_PATH, "--check", "-c", loopback});
  BOOST_CHECK_EQUAL(local.waitFor(30s).value_or(-1), 0);
}

BOOST_AUTO_TEST_CASE(graph_prints_the_topology_as_dot_mermaid_and_json) {
  RunningDaemon daemon(readFile(std::string(EVR_FIXTURES_DIR) + "/configs/spec/yaml_configuration_example.yaml"));
  const auto graph = jsonOf(*daemon.evrctlControl({"graph", "--format", "json"}));
  BOOST_CHECK_EQUAL(graph.at("containers").size(), 17u);
  std::size_t conditional = 0;
  for (const auto& edge : graph.at("edges")) {
    if (!edge.at("condition").get<std::string>().empty()) ++conditional;
  }
  BOOST_CHECK_EQUAL(conditional, 3u);  // the three regime rules

  auto dot_text = daemon.evrctlControl({"graph", "--format", "dot"});
  BOOST_REQUIRE_EQUAL(dot_text->waitFor(kTimeout).value_or(-1), 0);
  const std::string dot = dot_text->readAllStdout(2s);
  BOOST_CHECK(dot.find("\"classifier\" -> \"aggressive_portfolio\"") != std::string::npos);
  // Graphviz itself must accept it.
  const auto file = daemon.dir().write("graph.dot", dot);
  Process render({"/usr/bin/dot", "-Tsvg", "-o", (daemon.dir().path() / "graph.svg").string(), file});
  BOOST_CHECK_EQUAL(render.waitFor(kTimeout).value_or(-1), 0);
  BOOST_CHECK(std::filesystem::file_size(daemon.dir().path() / "graph.svg") > 1000);

  auto mermaid = daemon.evrctlControl({"graph", "--format", "mermaid"});
  BOOST_REQUIRE_EQUAL(mermaid->waitFor(kTimeout).value_or(-1), 0);
  const std::string chart = mermaid->readAllStdout(2s);
  BOOST_CHECK(chart.rfind("flowchart LR\n", 0) == 0);
  BOOST_CHECK(chart.find("-.->") != std::string::npos);
  BOOST_CHECK_EQUAL(daemon.stop(), 0);
}

BOOST_AUTO_TEST_CASE(top_prints_rates_and_queue_depths_per_container) {
  RunningDaemon daemon(kBefore);
  // 7 events for a sink that never connects: they wait in its queue, and top shows them.
  auto source = daemon.peer({"--as", "source", "--publish", "7"});
  BOOST_REQUIRE_EQUAL(source->waitFor(kTimeout).value_or(-1), 0);
  auto top = daemon.evrctlControl({"top", "--iterations", "2", "--interval", "0.1"});
  BOOST_REQUIRE_EQUAL(top->waitFor(kTimeout).value_or(-1), 0);
  const std::string screen = top->readAllStdout(2s);
  BOOST_CHECK_EQUAL(std::count(screen.begin(), screen.end(), '\n'), 2 * (2 + 2));  // 2 refreshes of header + 2 containers
  std::istringstream lines(screen);
  std::string line;
  bool queued_row = false;
  while (std::getline(lines, line)) {
    std::istringstream words(line);
    std::string name, connected, in, out, queued;
    words >> name >> connected >> in >> out >> queued;
    if (name == "first_sink" && queued == "7") queued_row = true;
  }
  BOOST_CHECK_MESSAGE(queued_row, screen);
  BOOST_CHECK_EQUAL(daemon.stop(), 0);
}

BOOST_AUTO_TEST_CASE(evrctl_check_validates_offline) {
  TempDir dir;
  const auto good = dir.write("good.yaml", kBefore);
  Process ok({EVR_EVRCTL_PATH, "check", good});
  BOOST_CHECK_EQUAL(ok.waitFor(30s).value_or(-1), 0);
  BOOST_CHECK(ok.readAllStdout(2s).find("source: ALL -> first_sink") != std::string::npos);
  const auto bad = dir.write("bad.yaml", "router:\n  max_hops: 0\n");
  Process rejected({EVR_EVRCTL_PATH, "check", bad});
  BOOST_CHECK_EQUAL(rejected.waitFor(30s).value_or(-1), 1);
  BOOST_CHECK(rejected.readAllStderr(2s).find(bad + ":2:13: error: max_hops") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(evrctl_says_when_no_daemon_answers) {
  TempDir dir;
  Process status({EVR_EVRCTL_PATH, "status", "--control", dir.ipc("nobody.ctl"), "--timeout", "0.3"});
  BOOST_CHECK_EQUAL(status.waitFor(30s).value_or(-1), 2);
  BOOST_CHECK(status.readAllStderr(2s).find("no answer from evrouterd") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
