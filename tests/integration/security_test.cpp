// router.security with real keys (made by `evrctl keygen`), a real evrouterd and real clients:
// only listed keys get in, a key joins only under its own names, a reload revokes, publish
// permissions drop and count, control roles hold.

#include <boost/test/unit_test.hpp>
#include <nlohmann/json.hpp>

#include <string>

#include "daemon_fixture.hpp"

using namespace evr::test;

namespace {

constexpr auto kTimeout = 60s;

// Key pairs made with the real tool, in a directory of their own (the daemon's config names
// them by absolute path).
struct KeySet {
  TempDir dir;
  std::string pub(const std::string& who) const { return (dir.path() / (who + ".pub")).string(); }
  std::string key(const std::string& who) const { return (dir.path() / (who + ".key")).string(); }
  KeySet() {
    for (const char* who : {"server", "strategy", "execution", "ops_read", "ops_admin", "intruder"}) {
      Process keygen({EVR_EVRCTL_PATH, "keygen", "--out", (dir.path() / who).string()});
      BOOST_REQUIRE_EQUAL(keygen.waitFor(kTimeout).value_or(-1), 0);
    }
  }
  // --server-key and --key for `who`, for any evrctl command that connects.
  std::vector<std::string> as(const std::string& who) const {
    return {"--server-key", pub("server"), "--key", key(who)};
  }
};

std::string configWith(const KeySet& keys, bool with_execution, const std::string& extra = "") {
  std::string yaml = "router:\n"
                     "  heartbeat_ms: 200\n"
                     "  security:\n"
                     "    secret_key_file: " + keys.key("server") + "\n"
                     "    clients:\n"
                     "      - key: " + keys.pub("strategy") + "\n"
                     "        names: [strategy_a]\n";
  if (with_execution) yaml += "      - key: " + keys.pub("execution") + "\n        names: [execution]\n";
  yaml += "      - key: " + keys.pub("ops_read") + "\n        names: []\n        control: read\n"
          "      - key: " + keys.pub("ops_admin") + "\n        names: []\n        control: admin\n" +
          extra +
          "event_communication:\n"
          "  adapters:\n"
          "    - type: pipeline\n"
          "      name: orders\n"
          "      containers: [strategy_a, execution]\n";
  return yaml;
}

std::vector<std::string> plus(std::vector<std::string> args, const std::vector<std::string>& more) {
  args.insert(args.end(), more.begin(), more.end());
  return args;
}

// `evrctl stats --json` with the admin key.
nlohmann::json statsOf(RunningDaemon& daemon, const KeySet& keys) {
  auto stats = daemon.evrctlControl(plus({"stats", "--json"}, keys.as("ops_admin")));
  BOOST_REQUIRE_EQUAL(stats->waitFor(kTimeout).value_or(-1), 0);
  return nlohmann::json::parse(stats->readAllStdout(2s));
}

std::uint64_t refused(const nlohmann::json& stats, const std::string& reason) {
  return stats.at("auth").at("refused").value(reason, std::uint64_t{0});
}

std::uint64_t dropsFrom(const nlohmann::json& stats, const std::string& container, const std::string& reason) {
  for (const auto& c : stats.at("containers")) {
    if (c.at("name") == container) return c.at("drops_from").value(reason, std::uint64_t{0});
  }
  return 0;
}

std::string stderrOf(Process& process) { return process.seen(Process::Stream::Stderr) + process.readAllStderr(2s); }

}  // namespace

BOOST_AUTO_TEST_SUITE(security)

BOOST_AUTO_TEST_CASE(an_unknown_key_or_no_key_cannot_connect) {
  KeySet keys;
  RunningDaemon daemon(configWith(keys, true));
  auto intruder = daemon.evrctl(plus({"send", "--as", "strategy_a", "--type", "ORDER", "--count", "1", "--timeout", "30"},
                                     keys.as("intruder")));
  BOOST_CHECK_EQUAL(intruder->waitFor(kTimeout).value_or(-1), 1);
  BOOST_CHECK(stderrOf(*intruder).find("refused this CURVE key") != std::string::npos);
  auto plain = daemon.evrctl({"send", "--as", "strategy_a", "--type", "ORDER", "--count", "1", "--timeout", "30"});
  BOOST_CHECK_EQUAL(plain->waitFor(kTimeout).value_or(-1), 1);
  BOOST_CHECK(stderrOf(*plain).find("evrouterd runs with router.security") != std::string::npos);
  // The control socket is CURVE too: a plain evrctl status is refused, not answered.
  auto plain_status = daemon.evrctlControl({"status", "--timeout", "30"});
  BOOST_CHECK_EQUAL(plain_status->waitFor(kTimeout).value_or(-1), 1);

  const auto stats = statsOf(daemon, keys);
  BOOST_CHECK_GE(refused(stats, "unknown_key"), 1u);
  BOOST_CHECK_EQUAL(stats.at("events_in").get<int>(), 0);
  BOOST_CHECK_EQUAL(daemon.stop(), 0);
  // Logged with the key's fingerprint (the start of its public key).
  std::string intruder_pub;
  {
    const std::string text = readFile(keys.pub("intruder"));
    const auto at = text.find("public-key = \"") + 14;
    intruder_pub = text.substr(at, 12);
  }
  BOOST_CHECK(daemon.log().find("with key " + intruder_pub) != std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_known_key_cannot_join_under_a_name_it_does_not_hold) {
  KeySet keys;
  RunningDaemon daemon(configWith(keys, true));
  // `execution`'s holder is not there; the strategy's key tries to take the name.
  auto thief = daemon.evrctl(plus({"recv", "--as", "execution", "--count", "1", "--timeout", "30"}, keys.as("strategy")));
  BOOST_CHECK_EQUAL(thief->waitFor(kTimeout).value_or(-1), 1);
  BOOST_CHECK(stderrOf(*thief).find("may not join as 'execution'") != std::string::npos);

  // The rightful holders get their events.
  auto execution = daemon.evrctl(plus({"recv", "--as", "execution", "--count", "3", "--timeout", "60"}, keys.as("execution")));
  auto strategy = daemon.evrctl(plus({"send", "--as", "strategy_a", "--type", "ORDER", "--count", "3"}, keys.as("strategy")));
  BOOST_CHECK_EQUAL(strategy->waitFor(kTimeout).value_or(-1), 0);
  BOOST_CHECK_EQUAL(execution->waitFor(kTimeout).value_or(-1), 0);
  const auto stats = statsOf(daemon, keys);
  BOOST_CHECK_GE(refused(stats, "name_not_held"), 1u);
  BOOST_CHECK_EQUAL(stats.at("deliveries").get<int>(), 3);
  BOOST_CHECK_EQUAL(daemon.stop(), 0);
}

BOOST_AUTO_TEST_CASE(revoking_a_key_by_reload_cuts_its_connection) {
  KeySet keys;
  RunningDaemon daemon(configWith(keys, true));
  auto execution = daemon.evrctl(plus({"recv", "--as", "execution", "--count", "1000", "--timeout", "60"},
                                      keys.as("execution")));
  BOOST_REQUIRE(daemon.process().waitForLine("container 'execution' joined", kTimeout, Process::Stream::Stderr));

  daemon.dir().write("evrouter.yaml", configWith(keys, false));
  auto reload = daemon.evrctlControl(plus({"reload"}, keys.as("ops_admin")));
  BOOST_REQUIRE_EQUAL(reload->waitFor(kTimeout).value_or(-1), 0);
  // Cut at once: the connected process hears notAuthorized and stops.
  BOOST_CHECK_EQUAL(execution->waitFor(kTimeout).value_or(-1), 1);
  BOOST_CHECK(stderrOf(*execution).find("may no longer join as 'execution'") != std::string::npos);
  // And the key cannot come back.
  auto again = daemon.evrctl(plus({"recv", "--as", "execution", "--count", "1", "--timeout", "30"}, keys.as("execution")));
  BOOST_CHECK_EQUAL(again->waitFor(kTimeout).value_or(-1), 1);
  BOOST_CHECK(stderrOf(*again).find("refused this CURVE key") != std::string::npos);

  const auto stats = statsOf(daemon, keys);
  BOOST_CHECK_GE(refused(stats, "revoked"), 1u);
  BOOST_CHECK_GE(refused(stats, "unknown_key"), 1u);
  auto status = daemon.evrctlControl(plus({"status", "--json"}, keys.as("ops_read")));
  BOOST_REQUIRE_EQUAL(status->waitFor(kTimeout).value_or(-1), 0);
  const auto connected = nlohmann::json::parse(status->readAllStdout(2s)).at("connected");
  BOOST_CHECK(std::find(connected.begin(), connected.end(), "execution") == connected.end());
  BOOST_CHECK_EQUAL(daemon.stop(), 0);
}

BOOST_AUTO_TEST_CASE(denied_publish_is_counted_and_never_delivered) {
  KeySet keys;
  RunningDaemon daemon(configWith(keys, true, "  permissions:\n    strategy_a: {publish: [ORDER]}\n"));
  auto execution = daemon.evrctl(plus({"recv", "--as", "execution", "--count", "3", "--json", "--timeout", "60"},
                                      keys.as("execution")));
  // Joined first: a loaded CI run where execution joined late counted 8 deliveries for its 3 ORDERs
  // (what else went to a target that had not joined yet, e.g. the sources' watermarks, is issue 13's
  // note); the test is about denied publishes, not about that.
  BOOST_REQUIRE(daemon.process().waitForLine("container 'execution' joined", kTimeout, Process::Stream::Stderr));
  // BARs first, then ORDERs, on one link: had a BAR been routed, it would arrive before them.
  auto bars = daemon.evrctl(plus({"send", "--as", "strategy_a", "--type", "BAR", "--count", "5"}, keys.as("strategy")));
  BOOST_REQUIRE_EQUAL(bars->waitFor(kTimeout).value_or(-1), 0);
  BOOST_CHECK(stderrOf(*bars).find("not routed: BAR is not in router.permissions.strategy_a.publish") != std::string::npos);
  auto orders = daemon.evrctl(plus({"send", "--as", "strategy_a", "--type", "ORDER", "--count", "3"}, keys.as("strategy")));
  BOOST_REQUIRE_EQUAL(orders->waitFor(kTimeout).value_or(-1), 0);
  BOOST_REQUIRE_EQUAL(execution->waitFor(kTimeout).value_or(-1), 0);
  std::istringstream lines(execution->readAllStdout(2s));
  int seen = 0;
  for (std::string line; std::getline(lines, line);) {
    ++seen;
    BOOST_CHECK_EQUAL(nlohmann::json::parse(line).at("type").get<std::string>(), "ORDER");
  }
  BOOST_CHECK_EQUAL(seen, 3);
  const auto stats = statsOf(daemon, keys);
  BOOST_CHECK_EQUAL(dropsFrom(stats, "strategy_a", "denied"), 5u);
  BOOST_CHECK_EQUAL(stats.at("deliveries").get<int>(), 3);
  BOOST_CHECK_EQUAL(daemon.stop(), 0);
}

BOOST_AUTO_TEST_CASE(a_read_only_control_key_cannot_reload) {
  KeySet keys;
  RunningDaemon daemon(configWith(keys, true));
  auto status = daemon.evrctlControl(plus({"status", "--json"}, keys.as("ops_read")));
  BOOST_CHECK_EQUAL(status->waitFor(kTimeout).value_or(-1), 0);
  auto graph = daemon.evrctlControl(plus({"graph"}, keys.as("ops_read")));
  BOOST_CHECK_EQUAL(graph->waitFor(kTimeout).value_or(-1), 0);

  auto reload = daemon.evrctlControl(plus({"reload"}, keys.as("ops_read")));
  BOOST_CHECK_EQUAL(reload->waitFor(kTimeout).value_or(-1), 1);
  BOOST_CHECK(stderrOf(*reload).find("not authorized: this key's control role is 'read'") != std::string::npos);
  // A container's key has no control role: refused at the handshake.
  auto container_key = daemon.evrctlControl(plus({"status", "--timeout", "30"}, keys.as("strategy")));
  BOOST_CHECK_EQUAL(container_key->waitFor(kTimeout).value_or(-1), 1);
  BOOST_CHECK(stderrOf(*container_key).find("refused this CURVE key") != std::string::npos);

  // The tap is the control plane too: a read key taps, a container's key cannot.
  Process tap(plus({EVR_EVRCTL_PATH, "tap", "--control", daemon.controlEndpoint(), "--count", "2", "--timeout", "60"},
                   keys.as("ops_read")));
  BOOST_REQUIRE(daemon.process().waitForLine("tap: 1 subscriber", kTimeout, Process::Stream::Stderr));
  auto orders = daemon.evrctl(plus({"send", "--as", "strategy_a", "--type", "ORDER", "--count", "2"}, keys.as("strategy")));
  BOOST_CHECK_EQUAL(orders->waitFor(kTimeout).value_or(-1), 0);
  BOOST_CHECK_EQUAL(tap.waitFor(kTimeout).value_or(-1), 0);
  Process container_tap(plus({EVR_EVRCTL_PATH, "tap", "--control", daemon.controlEndpoint(),
                              "--tap", "ipc://" + (daemon.dir().path() / "evrouterd.tap").string(), "--count", "1",
                              "--timeout", "30"},
                             keys.as("execution")));
  BOOST_CHECK_EQUAL(container_tap.waitFor(kTimeout).value_or(-1), 1);
  BOOST_CHECK(container_tap.readAllStderr(2s).find("refused this CURVE key") != std::string::npos);

  auto admin = daemon.evrctlControl(plus({"reload", "--json"}, keys.as("ops_admin")));
  BOOST_CHECK_EQUAL(admin->waitFor(kTimeout).value_or(-1), 0);
  const auto stats = statsOf(daemon, keys);
  BOOST_CHECK_EQUAL(refused(stats, "read_only"), 1u);
  BOOST_CHECK_GE(refused(stats, "no_control_role"), 2u);
  BOOST_CHECK_EQUAL(daemon.stop(), 0);
}

BOOST_AUTO_TEST_SUITE_END()
