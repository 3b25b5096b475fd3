// Reloader: load -> compile -> diff -> refuse, and its counters, without a daemon.
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <string>

#include "config/diagnostics.hpp"
#include "control/reloader.hpp"
#include "temp_dir.hpp"
#include "topology/compile_config.hpp"

using evr::control::Reloader;
using evr::test::TempDir;

namespace {

const char* kFirst = R"(
event_communication:
  adapters:
    - type: pipeline
      name: main
      containers: [data, strategy]
)";

const char* kSecond = R"(
event_communication:
  adapters:
    - type: pipeline
      name: main
      containers: [data, strategy]
    - type: broadcast
      name: fanout
      source: strategy
      targets: [risk, audit]
)";

// A Reloader on `yaml`, written to <dir>/evrouter.yaml and compiled as evrouterd does at start.
Reloader startOn(const TempDir& dir, const std::string& yaml) {
  const auto path = dir.write("evrouter.yaml", yaml);
  auto compiled = evr::topology::compileConfigFile(
      path, [](const evr::config::Diagnostic& d) { BOOST_TEST_MESSAGE(d.toString()); });
  BOOST_TEST_REQUIRE(compiled.ok());
  return Reloader(path, std::move(*compiled.config), compiled.table);
}

bool anyContains(const std::vector<std::string>& lines, const std::string& part) {
  return std::any_of(lines.begin(), lines.end(),
                     [&](const std::string& line) { return line.find(part) != std::string::npos; });
}

}  // namespace

BOOST_AUTO_TEST_SUITE(reloader)

BOOST_AUTO_TEST_CASE(rejected_reload_keeps_the_table_and_is_counted_once) {
  TempDir dir;
  Reloader reloader = startOn(dir, kFirst);
  const std::string before = reloader.table().describe();
  const std::string digest = reloader.digest();
  dir.write("evrouter.yaml",
            "event_communication:\n  adapters:\n    - type: pipeline\n      containers: [data]\n");

  const auto outcome = reloader.reload();
  BOOST_TEST(!outcome.ok);
  BOOST_TEST(!outcome.changed);
  BOOST_TEST(outcome.table == nullptr);
  BOOST_TEST_INFO("errors: " << outcome.errors.size());
  BOOST_TEST_REQUIRE(!outcome.errors.empty());
  BOOST_TEST(outcome.errors[0].find(reloader.configPath() + ":4:") == 0u);  // file:line:col
  BOOST_TEST(reloader.table().describe() == before);
  BOOST_TEST(reloader.generation() == 1u);
  BOOST_TEST(outcome.generation == 1u);
  BOOST_TEST(reloader.digest() == digest);
  BOOST_TEST(reloader.counts().rejected == 1u);
  BOOST_TEST(reloader.failures() == 1u);
  BOOST_TEST(reloader.counts().applied == 0u);
  BOOST_TEST(reloader.counts().unchanged == 0u);
}

BOOST_AUTO_TEST_CASE(an_unreadable_file_is_rejected_by_name) {
  TempDir dir;
  Reloader reloader = startOn(dir, kFirst);
  const std::string missing = (dir.path() / "missing.yaml").string();
  const auto outcome = reloader.reload(missing);
  BOOST_TEST(!outcome.ok);
  BOOST_TEST_REQUIRE(outcome.errors.size() == 1u);
  BOOST_TEST(outcome.errors[0] == missing + ": cannot read the config file");
  BOOST_TEST(reloader.configPath() != missing);
  BOOST_TEST(reloader.counts().rejected == 1u);
}

BOOST_AUTO_TEST_CASE(the_same_digest_is_a_no_op) {
  TempDir dir;
  Reloader reloader = startOn(dir, kFirst);
  const auto outcome = reloader.reload();
  BOOST_TEST(outcome.ok);
  BOOST_TEST(!outcome.changed);
  BOOST_TEST(outcome.table == nullptr);  // nothing to install
  BOOST_TEST(outcome.routes_added.empty());
  BOOST_TEST(outcome.routes_removed.empty());
  BOOST_TEST(outcome.generation == 1u);
  BOOST_TEST(outcome.digest == reloader.digest());
  BOOST_TEST(reloader.counts().unchanged == 1u);
  BOOST_TEST(reloader.counts().applied == 0u);
  BOOST_TEST(reloader.counts().rejected == 0u);
}

BOOST_AUTO_TEST_CASE(a_listen_change_is_refused_and_the_table_stays) {
  TempDir dir;
  Reloader reloader = startOn(dir, kFirst);
  const std::string before = reloader.table().describe();
  dir.write("evrouter.yaml",
            std::string("router:\n  listen: [\"ipc://elsewhere.sock\"]\n") + kSecond);
  const auto outcome = reloader.reload();
  BOOST_TEST(!outcome.ok);
  BOOST_TEST(anyContains(outcome.errors, "router.listen cannot change by a reload"));
  BOOST_TEST(reloader.table().describe() == before);
  BOOST_TEST(reloader.generation() == 1u);
  BOOST_TEST(reloader.counts().rejected == 1u);
}

BOOST_AUTO_TEST_CASE(a_journal_change_is_refused_and_a_delivery_policy_change_applies) {
  TempDir dir;
  Reloader reloader = startOn(dir, kFirst);
  dir.write("evrouter.yaml", std::string("router:\n  journal: {path: ") + dir.path().string() +
                                 "/journal}\n" + kFirst);
  const auto refused = reloader.reload();
  BOOST_TEST(!refused.ok);
  BOOST_TEST(anyContains(refused.errors, "router.journal cannot change by a reload"));
  // Delivery policies are part of the routing table: a reload changes them.
  const std::string with_policy = std::string(kFirst) + "  delivery:\n    default: conflate\n";
  dir.write("evrouter.yaml", with_policy);
  const auto applied = reloader.reload();
  BOOST_TEST_INFO((applied.errors.empty() ? std::string() : applied.errors.front()));
  BOOST_TEST(applied.ok);
  BOOST_TEST(applied.changed);
  BOOST_REQUIRE(applied.table != nullptr);
  BOOST_TEST(!applied.table->allLossless());
}

BOOST_AUTO_TEST_CASE(a_limit_change_is_refused_by_name) {
  TempDir dir;
  Reloader reloader = startOn(dir, kFirst);
  dir.write("evrouter.yaml", std::string("router:\n  queue_limit: 7\n") + kFirst);
  const auto outcome = reloader.reload();
  BOOST_TEST(!outcome.ok);
  BOOST_TEST(anyContains(outcome.errors, "router limits"));
  BOOST_TEST(!anyContains(outcome.errors, "router.listen"));
}

BOOST_AUTO_TEST_CASE(max_connections_queue_bytes_limit_and_rate_limits_change_by_a_reload) {
  TempDir dir;
  Reloader reloader = startOn(dir, kFirst);
  dir.write("evrouter.yaml", std::string("router:\n  max_connections: 3\n"
                                         "  queue_bytes_limit: 65536\n"
                                         "  limits: {default: {events_per_s: 10}}\n") + kFirst);
  const auto outcome = reloader.reload();
  BOOST_TEST_INFO((outcome.errors.empty() ? std::string() : outcome.errors.front()));
  BOOST_TEST(outcome.ok);
  BOOST_TEST(outcome.changed);
  BOOST_TEST(reloader.config().router.max_connections == 3u);
  BOOST_TEST(reloader.config().router.queue_bytes_limit == 65536u);
  BOOST_TEST(reloader.config().router.limits.of("anyone").events_per_s == 10u);
}

BOOST_AUTO_TEST_CASE(an_accepted_change_moves_the_generation_and_lists_the_route_diff) {
  TempDir dir;
  Reloader reloader = startOn(dir, kFirst);
  const std::string first_digest = reloader.digest();
  dir.write("evrouter.yaml", kSecond);
  const auto outcome = reloader.reload();
  BOOST_TEST_REQUIRE(outcome.ok);
  BOOST_TEST(outcome.changed);
  BOOST_TEST_REQUIRE(outcome.table != nullptr);
  BOOST_TEST(outcome.generation == 2u);
  BOOST_TEST(reloader.generation() == 2u);
  BOOST_TEST(outcome.digest != first_digest);
  BOOST_TEST(&reloader.table() == outcome.table.get());
  // The new route, as the table's own summary line; nothing of the old ones went away.
  BOOST_TEST_REQUIRE(outcome.routes_added.size() == 1u);
  BOOST_TEST(outcome.routes_added[0] == "strategy: ALL -> risk, audit  via fanout");
  BOOST_TEST(outcome.routes_removed.empty());
  BOOST_TEST(reloader.counts().applied == 1u);

  // And back: the broadcast route is removed, the pipeline's stays.
  dir.write("evrouter.yaml", kFirst);
  const auto back = reloader.reload();
  BOOST_TEST_REQUIRE(back.ok);
  BOOST_TEST(back.routes_added.empty());
  BOOST_TEST_REQUIRE(back.routes_removed.size() == 1u);
  BOOST_TEST(back.routes_removed[0] == "strategy: ALL -> risk, audit  via fanout");
  BOOST_TEST(reloader.counts().applied == 2u);
  BOOST_TEST(reloader.generation() == 3u);
}

BOOST_AUTO_TEST_CASE(route_summaries_compare_by_value_across_tables) {
  TempDir dir;
  Reloader reloader = startOn(dir, kSecond);
  const auto once = reloader.table().routes();
  // The same config compiled again is another table with equal routes.
  dir.write("other.yaml", kSecond);
  const auto again = evr::topology::compileConfigFile((dir.path() / "other.yaml").string(),
                                                      [](const evr::config::Diagnostic&) {});
  BOOST_TEST_REQUIRE(again.ok());
  BOOST_TEST((again.table->routes() == once));
  BOOST_TEST_REQUIRE(once.size() == 2u);
  BOOST_TEST(once[0].source == "data");
  BOOST_TEST(once[0].targets.size() == 1u);
  BOOST_TEST(once[0].targets[0].container == "strategy");
  BOOST_TEST(!once[0].targets[0].transform.has_value());
  BOOST_TEST(once[0].adapters == std::vector<std::string>{"main"});
}

BOOST_AUTO_TEST_SUITE_END()
