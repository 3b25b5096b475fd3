// Delivery policies from the config to the routing table: `router.replay_limit`,
// `router.stall_timeout_ms`, `router.journal` and `event_communication.delivery` load with every
// problem at its line:col; the table resolves one policy per (target, type) with the documented
// precedence; `--check` prints it compactly.

#include <boost/test/unit_test.hpp>

#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "compile_yaml.hpp"
#include "config/config_loader.hpp"
#include "config/delivery.hpp"
#include "routing/routing_table.hpp"
#include "temp_dir.hpp"
#include "topology/check_config.hpp"

using evr::DeliveryPolicy;
using evr::EventType;
using evr::config::Config;
using evr::config::Diagnostics;
using evr::config::JournalSettings;
using evr::config::Severity;
using evr::routing::RoutingTable;

namespace {

struct Expected {
  std::uint32_t line;
  std::uint32_t column;
  std::string fragment;
};

void expectErrors(std::string_view yaml, const std::vector<Expected>& expected) {
  Diagnostics diagnostics;
  const auto config = evr::config::loadConfigText(yaml, "test.yaml", diagnostics);
  BOOST_TEST_CONTEXT("diagnostics:\n" << diagnostics.toString()) {
    BOOST_TEST(!config.has_value());
    BOOST_TEST_REQUIRE(diagnostics.all().size() == expected.size());
    for (std::size_t i = 0; i < expected.size(); ++i) {
      const auto& d = diagnostics.all()[i];
      BOOST_TEST((d.severity == Severity::Error));
      BOOST_TEST(d.mark.line == expected[i].line);
      BOOST_TEST(d.mark.column == expected[i].column);
      BOOST_TEST(d.message.find(expected[i].fragment) != std::string::npos,
                 "message '" << d.message << "' lacks '" << expected[i].fragment << "'");
    }
  }
}

Config expectValid(std::string_view yaml, const std::string& file = "test.yaml") {
  Diagnostics diagnostics;
  auto config = evr::config::loadConfigText(yaml, file, diagnostics);
  BOOST_TEST_INFO("diagnostics:\n" << diagnostics.toString());
  BOOST_TEST_REQUIRE(config.has_value());
  BOOST_TEST(diagnostics.all().empty());
  return std::move(*config);
}

constexpr std::string_view kAdapters = R"(event_communication:
  adapters:
    - type: broadcast
      source: feed
      targets: [strategy, dashboard, recorder]
)";

std::uint8_t ordinal(EventType type) { return static_cast<std::uint8_t>(type); }

}  // namespace

BOOST_AUTO_TEST_SUITE(delivery_config)

// ---- router keys ---------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(router_delivery_keys_default_when_absent) {
  const Config config = expectValid("router:\n  max_hops: 8\n");
  BOOST_TEST(config.router.replay_limit == 100000u);
  BOOST_TEST(config.router.replay_bytes_limit == 67108864u);
  BOOST_TEST(config.router.stall_timeout_ms == 5000u);
  BOOST_TEST(!config.router.journal.has_value());
  BOOST_TEST(!config.delivery.present);
  BOOST_TEST((config.delivery.default_policy.policy == DeliveryPolicy::Lossless));
  BOOST_TEST(config.delivery.limit == 10000u);
}

BOOST_AUTO_TEST_CASE(every_router_delivery_key_is_read) {
  const Config config = expectValid(R"(router:
  replay_limit: 250
  replay_bytes_limit: 2048
  stall_timeout_ms: 750
  journal:
    path: /var/lib/evrouter/journal
    fsync: interval
    interval_ms: 20
    types: all
)");
  BOOST_TEST(config.router.replay_limit == 250u);
  BOOST_TEST(config.router.replay_bytes_limit == 2048u);
  BOOST_TEST(config.router.stall_timeout_ms == 750u);
  BOOST_TEST_REQUIRE(config.router.journal.has_value());
  const JournalSettings& journal = *config.router.journal;
  BOOST_TEST(journal.path == "/var/lib/evrouter/journal");
  BOOST_TEST((journal.fsync == JournalSettings::Fsync::Interval));
  BOOST_TEST(journal.interval_ms == 20u);
  BOOST_TEST(journal.all_types);
  BOOST_TEST(journal.mark.line == 5u);
  BOOST_TEST(journal.mark.column == 3u);
  BOOST_TEST(evr::config::fsyncName(journal.fsync) == "interval");
}

BOOST_AUTO_TEST_CASE(journal_defaults_are_batch_and_lossless_types) {
  const Config config = expectValid("router:\n  journal:\n    path: /j\n");
  BOOST_TEST_REQUIRE(config.router.journal.has_value());
  BOOST_TEST((config.router.journal->fsync == JournalSettings::Fsync::Batch));
  BOOST_TEST(config.router.journal->interval_ms == 100u);
  BOOST_TEST(!config.router.journal->all_types);
  const Config none = expectValid("router:\n  journal:\n    path: /j\n    fsync: none\n    types: lossless\n");
  BOOST_TEST((none.router.journal->fsync == JournalSettings::Fsync::None));
}

BOOST_AUTO_TEST_CASE(relative_journal_path_is_relative_to_the_config_file_directory) {
  const Config config =
      expectValid("router:\n  journal:\n    path: state/journal\n", "/etc/evrouter/evrouter.yaml");
  BOOST_TEST(config.router.journal->path == "/etc/evrouter/state/journal");
  const Config parent =
      expectValid("router:\n  journal:\n    path: ../lib/./j\n", "/etc/evrouter/evrouter.yaml");
  BOOST_TEST(parent.router.journal->path == "/etc/lib/j");
  // A config file named without a directory: relative to the working directory, as written.
  const Config bare = expectValid("router:\n  journal:\n    path: j\n", "evrouter.yaml");
  BOOST_TEST(bare.router.journal->path == "j");
}

BOOST_AUTO_TEST_CASE(bad_router_delivery_values_are_errors_at_their_place) {
  expectErrors(R"(router:
  replay_limit: 0
  stall_timeout_ms: soon
  replay_bytes_limit: 1000
)",
               {{2, 17, "replay_limit must be an integer in 1..4294967295, got 0"},
                {3, 21, "stall_timeout_ms must be an integer in 1..4294967295, got soon"},
                {4, 23, "replay_bytes_limit must be an integer in 1024..1099511627776, got 1000"}});
}

BOOST_AUTO_TEST_CASE(journal_errors_name_their_place) {
  expectErrors(R"(router:
  journal:
    fsync: always
    interval_ms: 0
    types: some
    pth: /x
)",
               {{3, 12, "unknown fsync mode 'always'; expected one of: batch, interval, none"},
                {4, 18, "interval_ms must be an integer in 1..600000, got 0"},
                {5, 12, "journal types must be one of: lossless, all, got 'some'"},
                {6, 5, "unknown key 'pth' in journal; expected one of: fsync, interval_ms, path, "
                       "types (did you mean 'path'?)"},
                {2, 3, "journal needs 'path'"}});
}

BOOST_AUTO_TEST_CASE(journal_interval_without_fsync_interval_is_an_error) {
  expectErrors("router:\n  journal:\n    path: /j\n    interval_ms: 50\n",
               {{4, 5, "interval_ms applies only with fsync: interval"}});
}

BOOST_AUTO_TEST_CASE(journal_must_be_a_map_with_a_non_empty_path) {
  expectErrors("router:\n  journal: /var/lib/j\n", {{2, 12, "expected a map with 'path' for 'journal'"}});
  expectErrors("router:\n  journal:\n    path: \"\"\n", {{3, 11, "journal path must not be empty"}});
  expectErrors("router:\n  journal:\n    path: [a]\n",
               {{3, 11, "expected a directory path for 'path', got a list"}});
}

// ---- event_communication.delivery -----------------------------------------------------------

BOOST_AUTO_TEST_CASE(every_delivery_key_is_read) {
  const Config config = expectValid(R"(event_communication:
  delivery:
    default: drop_newest
    limit: 500
    types: {TICK: conflate, classification: drop_oldest}
    targets:
      dashboard: {default: conflate, types: {FILL: lossless}, limit: 1000}
      recorder: {}
)");
  const auto& delivery = config.delivery;
  BOOST_TEST(delivery.present);
  BOOST_TEST(delivery.mark.line == 2u);
  BOOST_TEST((delivery.default_policy.policy == DeliveryPolicy::DropNewest));
  BOOST_TEST(delivery.default_policy.mark.line == 3u);
  BOOST_TEST(delivery.default_policy.mark.column == 14u);
  BOOST_TEST(delivery.limit == 500u);
  BOOST_TEST_REQUIRE(delivery.types[ordinal(EventType::TICK)].has_value());
  BOOST_TEST((delivery.types[ordinal(EventType::TICK)]->policy == DeliveryPolicy::Conflate));
  BOOST_TEST_REQUIRE(delivery.types[ordinal(EventType::REGIME)].has_value());
  BOOST_TEST((delivery.types[ordinal(EventType::REGIME)]->policy == DeliveryPolicy::DropOldest));
  BOOST_TEST(!delivery.types[ordinal(EventType::BAR)].has_value());
  BOOST_TEST_REQUIRE(delivery.targets.size() == 2u);
  const auto& dashboard = delivery.targets[0];
  BOOST_TEST(dashboard.name == "dashboard");
  BOOST_TEST(dashboard.name_mark.line == 7u);
  BOOST_TEST(dashboard.name_mark.column == 7u);
  BOOST_TEST_REQUIRE(dashboard.default_policy.has_value());
  BOOST_TEST((dashboard.default_policy->policy == DeliveryPolicy::Conflate));
  BOOST_TEST((dashboard.types[ordinal(EventType::FILL)]->policy == DeliveryPolicy::Lossless));
  BOOST_TEST_REQUIRE(dashboard.limit.has_value());
  BOOST_TEST(*dashboard.limit == 1000u);
  BOOST_TEST(delivery.targets[1].name == "recorder");
  BOOST_TEST(!delivery.targets[1].default_policy.has_value());
  BOOST_TEST(!delivery.targets[1].limit.has_value());
}

BOOST_AUTO_TEST_CASE(policy_names_round_trip_and_nothing_else_parses) {
  for (const auto name : evr::kPolicyNames) {
    const auto policy = evr::parsePolicy(name);
    BOOST_TEST_REQUIRE(policy.has_value());
    BOOST_TEST(evr::policyName(*policy) == name);
  }
  BOOST_TEST(!evr::parsePolicy("Lossless").has_value());
  BOOST_TEST(!evr::parsePolicy("drop").has_value());
  BOOST_TEST(!evr::parsePolicy("").has_value());
}

BOOST_AUTO_TEST_CASE(bad_delivery_values_are_errors_at_their_place) {
  expectErrors(R"(event_communication:
  delivery:
    default: conflat
    limit: 0
    types: {TICKS: conflate, BAR: sometimes}
    targets:
      dashboard: {default: lossy, types: {FILL: drop_latest}, limit: -1, prio: 1}
    retry: 3
)",
               {{3, 14, "unknown delivery policy 'conflat'; expected one of: lossless, conflate, "
                        "drop_oldest, drop_newest (did you mean 'conflate'?)"},
                {4, 12, "limit must be an integer in 1..4294967295, got 0"},
                {5, 13, "unknown event type 'TICKS'"},
                {5, 35, "unknown delivery policy 'sometimes'"},
                {7, 28, "unknown delivery policy 'lossy'"},
                {7, 49, "unknown delivery policy 'drop_latest'"},
                {7, 70, "limit must be an integer in 1..4294967295, got -1"},
                {7, 74, "unknown key 'prio' in delivery target 'dashboard'; expected one of: "
                        "default, limit, types"},
                {8, 5, "unknown key 'retry' in delivery; expected one of: default, limit, "
                       "targets, types"}});
}

BOOST_AUTO_TEST_CASE(wrong_shapes_in_delivery_are_errors) {
  expectErrors("event_communication:\n  delivery: lossless\n",
               {{2, 13, "expected a map with 'default', 'types', 'limit' or 'targets' for 'delivery'"}});
  expectErrors("event_communication:\n  delivery:\n    types: [TICK]\n",
               {{3, 12, "expected a map of event type -> policy for 'types', got a list"}});
  expectErrors("event_communication:\n  delivery:\n    targets: [dashboard]\n",
               {{3, 14, "expected a map of target container -> policies for 'targets'"}});
  expectErrors("event_communication:\n  delivery:\n    targets:\n      dashboard: conflate\n",
               {{4, 18, "expected a map with 'default', 'types' or 'limit' for target 'dashboard'"}});
  expectErrors("event_communication:\n  delivery:\n    default: [lossless]\n",
               {{3, 14, "expected a delivery policy for 'default', got a list"}});
}

BOOST_AUTO_TEST_CASE(one_type_under_two_names_is_an_error) {
  expectErrors("event_communication:\n  delivery:\n    types:\n      REGIME: conflate\n"
               "      CLASSIFICATION: lossless\n",
               {{5, 7, "event type REGIME is given twice (first at 4:15)"}});
}

BOOST_AUTO_TEST_CASE(a_target_named_twice_is_an_error) {
  expectErrors("event_communication:\n  delivery:\n    targets:\n      a: {default: conflate}\n"
               "      a: {default: lossless}\n",
               {{5, 7, "duplicate key 'a' (first at 4:7)"}});
}

// ---- compiled lookup -------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(no_delivery_section_is_lossless_everywhere) {
  const auto compiled = evr::test::compileYaml(kAdapters);
  BOOST_TEST_REQUIRE(compiled.table != nullptr);
  const RoutingTable& table = *compiled.table;
  BOOST_TEST(table.allLossless());
  for (const auto& name : table.containers()) {
    const auto id = *table.find(name);
    BOOST_TEST(table.lossyLimit(id) == 10000u);
    for (unsigned type = 0; type < evr::kEventTypeCount + 2; ++type) {
      BOOST_TEST((table.policy(id, static_cast<std::uint8_t>(type)) == DeliveryPolicy::Lossless));
    }
  }
  BOOST_TEST(table.describeDelivery().empty());
}

BOOST_AUTO_TEST_CASE(policy_precedence_is_target_type_then_target_default_then_type_then_default) {
  const auto compiled = evr::test::compileYaml(std::string(kAdapters) + R"(  delivery:
    default: drop_newest
    limit: 50
    types: {TICK: conflate, BAR: drop_oldest}
    targets:
      dashboard: {default: conflate, types: {FILL: lossless}, limit: 1000}
      recorder: {types: {TICK: lossless}}
)");
  BOOST_TEST_INFO("diagnostics:\n" << compiled.diagnostics.toString());
  BOOST_TEST_REQUIRE(compiled.table != nullptr);
  BOOST_TEST(compiled.diagnostics.all().empty());
  const RoutingTable& table = *compiled.table;
  BOOST_TEST(!table.allLossless());
  const auto dashboard = *table.find("dashboard");
  const auto recorder = *table.find("recorder");
  const auto strategy = *table.find("strategy");
  // The target's type.
  BOOST_TEST((table.policy(dashboard, ordinal(EventType::FILL)) == DeliveryPolicy::Lossless));
  BOOST_TEST((table.policy(recorder, ordinal(EventType::TICK)) == DeliveryPolicy::Lossless));
  // The target's default beats the type's policy.
  BOOST_TEST((table.policy(dashboard, ordinal(EventType::BAR)) == DeliveryPolicy::Conflate));
  BOOST_TEST((table.policy(dashboard, ordinal(EventType::ORDER)) == DeliveryPolicy::Conflate));
  // The type's policy beats the default.
  BOOST_TEST((table.policy(recorder, ordinal(EventType::BAR)) == DeliveryPolicy::DropOldest));
  BOOST_TEST((table.policy(strategy, ordinal(EventType::TICK)) == DeliveryPolicy::Conflate));
  // The default.
  BOOST_TEST((table.policy(strategy, ordinal(EventType::FILL)) == DeliveryPolicy::DropNewest));
  BOOST_TEST((table.policy(recorder, ordinal(EventType::SIGNAL)) == DeliveryPolicy::DropNewest));
  // Unknown ordinals get the target's resolved default.
  BOOST_TEST((table.policy(dashboard, 0) == DeliveryPolicy::Conflate));
  BOOST_TEST((table.policy(dashboard, 200) == DeliveryPolicy::Conflate));
  BOOST_TEST((table.policy(strategy, 200) == DeliveryPolicy::DropNewest));
  // Limits: the target's, else the section's.
  BOOST_TEST(table.lossyLimit(dashboard) == 1000u);
  BOOST_TEST(table.lossyLimit(recorder) == 50u);
}

BOOST_AUTO_TEST_CASE(a_delivery_section_that_changes_nothing_is_all_lossless) {
  const auto compiled = evr::test::compileYaml(std::string(kAdapters) + R"(  delivery:
    default: lossless
    types: {TICK: lossless}
    targets: {dashboard: {limit: 5}}
)");
  BOOST_TEST_REQUIRE(compiled.table != nullptr);
  BOOST_TEST(compiled.table->allLossless());
  BOOST_TEST(compiled.table->lossyLimit(*compiled.table->find("dashboard")) == 5u);
  BOOST_TEST(compiled.table->describeDelivery().empty());
}

BOOST_AUTO_TEST_CASE(an_unknown_delivery_target_is_a_warning_at_its_name) {
  const auto compiled = evr::test::compileYaml(std::string(kAdapters) + R"(  delivery:
    targets:
      dashbord: {default: conflate}
      declared_only: {default: conflate}
containers:
  - name: declared_only
)");
  BOOST_TEST_REQUIRE(compiled.table != nullptr);
  BOOST_TEST_INFO("diagnostics:\n" << compiled.diagnostics.toString());
  BOOST_TEST_REQUIRE(compiled.diagnostics.all().size() == 1u);
  const auto& warning = compiled.diagnostics.all()[0];
  BOOST_TEST((warning.severity == Severity::Warning));
  BOOST_TEST(warning.mark.line == 8u);
  BOOST_TEST(warning.mark.column == 7u);
  BOOST_TEST(warning.message.find("delivery target 'dashbord' is not a container") !=
             std::string::npos);
  BOOST_TEST(warning.message.find("(did you mean 'dashboard'?)") != std::string::npos);
  // Its policies apply to nothing.
  BOOST_TEST(compiled.table->allLossless());
}

BOOST_AUTO_TEST_CASE(check_prints_a_compact_delivery_section) {
  evr::test::TempDir dir;
  const std::string path = dir.write("evrouter.yaml", std::string(kAdapters) + R"(  delivery:
    types: {TICK: conflate}
    targets:
      dashboard: {default: drop_oldest, types: {TICK: conflate}, limit: 1000}
)");
  std::ostringstream out;
  std::ostringstream err;
  BOOST_TEST(evr::topology::checkConfigFile(path, out, err) == 0);
  const std::string text = out.str();
  BOOST_TEST_INFO("output:\n" << text);
  BOOST_TEST(text.find("\ndelivery:\n"
                       "  strategy, recorder: TICK conflate\n"
                       "  dashboard: TICK conflate, * drop_oldest (limit 1000)\n") !=
             std::string::npos);
  // The feed receives nothing, but its policies are those of every target.
  BOOST_TEST(text.find("  feed, strategy") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(check_prints_no_delivery_section_when_all_lossless) {
  evr::test::TempDir dir;
  const std::string path = dir.write("evrouter.yaml", std::string(kAdapters));
  std::ostringstream out;
  std::ostringstream err;
  BOOST_TEST(evr::topology::checkConfigFile(path, out, err) == 0);
  BOOST_TEST(out.str().find("delivery:") == std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
