// config_loader: YAML text -> Config. Every invalid input names its exact place (file:line:col)
// and what is wrong; every problem is reported, not only the first; nothing throws.

#include <boost/test/unit_test.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config_loader.hpp"
#include "routing/broadcast_adapter.hpp"
#include "routing/hierarchical_adapter.hpp"
#include "routing/pipeline_adapter.hpp"
#include "routing/selective_adapter.hpp"
#include "topology/topology.hpp"

using evr::EventType;
using evr::EventTypeSet;
using evr::config::Config;
using evr::config::Diagnostics;
using evr::config::loadConfigFile;
using evr::config::loadConfigText;
using evr::config::Severity;
using evr::routing::BroadcastConfig;
using evr::routing::HierarchicalConfig;
using evr::routing::PipelineConfig;
using evr::routing::SelectiveConfig;

namespace {

struct Loaded {
  std::optional<Config> config;
  Diagnostics diagnostics;
};

Loaded load(std::string_view yaml) {
  Loaded out;
  out.config = loadConfigText(yaml, "test.yaml", out.diagnostics);
  return out;
}

struct Expected {
  std::uint32_t line;
  std::uint32_t column;
  std::string fragment;
};

// Loading `yaml` fails with exactly `expected` errors, in this order, each at its line:column and
// with its message fragment.
void expectErrors(std::string_view yaml, const std::vector<Expected>& expected) {
  const Loaded loaded = load(yaml);
  BOOST_TEST_CONTEXT("diagnostics:\n" << loaded.diagnostics.toString()) {
    BOOST_TEST(!loaded.config.has_value());
    BOOST_TEST_REQUIRE(loaded.diagnostics.errorCount() == expected.size());
    BOOST_TEST_REQUIRE(loaded.diagnostics.all().size() == expected.size());
    for (std::size_t i = 0; i < expected.size(); ++i) {
      const auto& diagnostic = loaded.diagnostics.all()[i];
      BOOST_TEST((diagnostic.severity == Severity::Error));
      BOOST_TEST(diagnostic.mark.file == "test.yaml");
      BOOST_TEST(diagnostic.mark.line == expected[i].line);
      BOOST_TEST(diagnostic.mark.column == expected[i].column);
      BOOST_TEST(diagnostic.message.find(expected[i].fragment) != std::string::npos,
                 "message '" << diagnostic.message << "' lacks '" << expected[i].fragment << "'");
    }
  }
}

void expectError(std::string_view yaml, std::uint32_t line, std::uint32_t column,
                 const std::string& fragment) {
  expectErrors(yaml, {Expected{line, column, fragment}});
}

// No diagnostic but the warning every tcp endpoint without router.security gets.
bool onlyTcpWarnings(const Diagnostics& diagnostics) {
  for (const auto& diagnostic : diagnostics.all()) {
    if (diagnostic.severity != Severity::Warning ||
        diagnostic.message.find("is tcp without router.security") == std::string::npos) {
      return false;
    }
  }
  return true;
}

Config expectValid(std::string_view yaml) {
  Loaded loaded = load(yaml);
  BOOST_TEST_INFO("diagnostics:\n" << loaded.diagnostics.toString());
  BOOST_TEST_REQUIRE(loaded.config.has_value());
  BOOST_TEST(onlyTcpWarnings(loaded.diagnostics));
  return std::move(*loaded.config);
}

std::string fixture(const std::string& name) {
  return std::string(EVR_FIXTURES_DIR) + "/configs/" + name;
}

std::string shipped(const std::string& name) {
  return std::string(EVR_SOURCE_DIR) + "/configs/" + name;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(config_loader)

// ---- invalid inputs: place and message --------------------------------------------------------

BOOST_AUTO_TEST_CASE(unknown_top_level_key_is_an_error_with_line_and_column) {
  expectError(R"(router:
  max_hops: 8
evnt_communication:
  pattern: flexible
)",
              3, 1,
              "unknown top-level key 'evnt_communication'; expected one of: classifiers, "
              "containers, event_communication, organization, portfolios, risk_profiles, router, "
              "strategies (did you mean 'event_communication'?)");
}

BOOST_AUTO_TEST_CASE(unknown_adapter_key_lists_the_keys_of_that_adapter_type) {
  expectErrors(R"(event_communication:
  adapters:
    - type: pipeline
      containrs: [a, b]
)",
               {{4, 7,
                 "unknown key 'containrs' in pipeline adapter; expected one of: containers, "
                 "events, name, transform, type (did you mean 'containers'?)"},
                {3, 7, "pipeline adapter 'pipeline#1' needs 'containers'"}});
}

BOOST_AUTO_TEST_CASE(unknown_router_key_is_an_error) {
  expectError("router:\n  queue_limt: 5\n", 2, 3,
              "unknown key 'queue_limt' in router; expected one of: control, control_allow_remote, "
              "heartbeat_ms, journal, limits, listen, max_connections, max_hops, max_message_size, "
              "metrics, permissions, queue_bytes_limit, queue_limit, replay_bytes_limit, replay_limit, security, "
              "shutdown_grace_ms, stall_timeout_ms (did you mean 'queue_limit'?)");
}

BOOST_AUTO_TEST_CASE(duplicate_key_is_an_error_at_the_second_occurrence) {
  expectError(R"(router:
  max_hops: 8
  queue_limit: 10
  max_hops: 9
)",
              4, 3, "duplicate key 'max_hops' (first at 2:3)");
}

BOOST_AUTO_TEST_CASE(duplicate_key_inside_an_adapter_is_an_error) {
  expectError(R"(event_communication:
  adapters:
    - type: broadcast
      source: a
      targets: [b]
      source: c
)",
              6, 7, "duplicate key 'source' (first at 4:7)");
}

BOOST_AUTO_TEST_CASE(duplicate_top_level_section_is_an_error) {
  expectError("organization: risk_first\nrouter: {}\norganization: strategy_first\n", 3, 1,
              "duplicate key 'organization' (first at 1:1)");
}

BOOST_AUTO_TEST_CASE(containers_of_the_wrong_type_name_what_was_found) {
  expectError(R"(event_communication:
  adapters:
    - type: pipeline
      containers: {data: strategy}
)",
              4, 19, "expected a list of container names for 'containers', got a map");
}

BOOST_AUTO_TEST_CASE(container_given_as_a_map_inside_the_list_is_an_error) {
  expectError(R"(event_communication:
  adapters:
    - type: pipeline
      containers: [data, {name: strategy}]
)",
              4, 26, "expected a container name, got a map");
}

BOOST_AUTO_TEST_CASE(pipeline_with_one_container_is_an_error) {
  expectError(R"(event_communication:
  adapters:
    - type: pipeline
      name: lonely
      containers: [data]
)",
              5, 19, "pipeline adapter 'lonely' needs at least 2 containers, got 1");
}

BOOST_AUTO_TEST_CASE(broadcast_without_targets_is_an_error) {
  expectErrors(R"(event_communication:
  adapters:
    - type: broadcast
      source: data
    - type: broadcast
      source: data
      targets: []
)",
               {{3, 7, "broadcast adapter 'broadcast#1' needs 'targets'"},
                {7, 16, "broadcast adapter 'broadcast#2' needs at least 1 targets, got 0"}});
}

BOOST_AUTO_TEST_CASE(empty_container_name_is_an_error) {
  expectError(R"(event_communication:
  adapters:
    - type: pipeline
      containers: ["data", ""]
)",
              4, 28, "empty container name");
}

BOOST_AUTO_TEST_CASE(unknown_event_type_name_in_events_is_an_error_at_the_name) {
  expectError(R"(event_communication:
  adapters:
    - type: pipeline
      containers: [data, strategy]
      events: [BAR, SIGNL]
)",
              5, 21, "unknown event type 'SIGNL'; expected one of: BAR, TICK, INDICATOR, SIGNAL");
  expectError(R"(event_communication:
  adapters:
    - type: pipeline
      containers: [data, strategy]
      events: [BAR, SIGNL]
)",
              5, 21, "(did you mean 'SIGNAL'?)");
}

BOOST_AUTO_TEST_CASE(empty_events_filter_is_an_error) {
  expectError(R"(event_communication:
  adapters:
    - type: pipeline
      containers: [data, strategy]
      events: []
)",
              5, 15, "an empty 'events' filter would route nothing");
}

BOOST_AUTO_TEST_CASE(negative_queue_limit_is_an_error) {
  expectError("router:\n  queue_limit: -5\n", 2, 16,
              "queue_limit must be an integer in 1..4294967295, got -5");
}

BOOST_AUTO_TEST_CASE(queue_limit_that_is_not_a_number_is_an_error) {
  expectError("router:\n  queue_limit: lots\n", 2, 16,
              "queue_limit must be an integer in 1..4294967295, got lots");
  expectError("router:\n  queue_limit: 1.5\n", 2, 16, "got 1.5");
  expectError("router:\n  queue_limit: [1]\n", 2, 16, "got a list");
  expectError("router:\n  queue_limit:\n", 2, 3, "got nothing");
}

BOOST_AUTO_TEST_CASE(max_hops_out_of_range_is_an_error) {
  expectError("router:\n  max_hops: 300\n", 2, 13, "max_hops must be an integer in 1..255, got 300");
  expectError("router:\n  max_hops: 0\n", 2, 13, "max_hops must be an integer in 1..255, got 0");
}

BOOST_AUTO_TEST_CASE(router_ranges_are_checked_for_every_setting) {
  expectErrors(R"(router:
  max_message_size: 63
  heartbeat_ms: 600001
  shutdown_grace_ms: -1
  queue_limit: 4294967296
)",
               {{2, 21, "max_message_size must be an integer in 64..268435456, got 63"},
                {3, 17, "heartbeat_ms must be an integer in 10..600000, got 600001"},
                {4, 22, "shutdown_grace_ms must be an integer in 0..600000, got -1"},
                {5, 16, "queue_limit must be an integer in 1..4294967295, got 4294967296"}});
}

BOOST_AUTO_TEST_CASE(router_limits_are_read_with_their_defaults) {
  const Config defaults = expectValid("router: {}\n");
  BOOST_TEST(defaults.router.max_connections == 1024u);
  BOOST_TEST(defaults.router.queue_bytes_limit == 268435456u);
  BOOST_TEST(defaults.router.limits.default_limit.events_per_s == 0u);
  BOOST_TEST(defaults.router.limits.containers.empty());

  const Config config = expectValid(R"(router:
  max_connections: 2
  queue_bytes_limit: 65536
  limits:
    default: {events_per_s: 100}
    strategy_a: {events_per_s: 50000, burst: 5000}
    slow: {events_per_s: 0}
)");
  BOOST_TEST(config.router.max_connections == 2u);
  BOOST_TEST(config.router.queue_bytes_limit == 65536u);
  const auto& limits = config.router.limits;
  BOOST_TEST(limits.default_limit.events_per_s == 100u);
  BOOST_TEST(limits.default_limit.burst == 100u);  // burst defaults to events_per_s
  BOOST_TEST(limits.of("strategy_a").events_per_s == 50000u);
  BOOST_TEST(limits.of("strategy_a").burst == 5000u);
  BOOST_TEST(limits.of("slow").events_per_s == 0u);  // unlimited, whatever the default
  BOOST_TEST(limits.of("anyone").events_per_s == 100u);
  BOOST_TEST(limits.containers.at(0).first.mark.line == 6u);
}

BOOST_AUTO_TEST_CASE(router_limits_errors_name_their_place) {
  expectErrors(R"(router:
  max_connections: 0
  queue_bytes_limit: 1023
  limits:
    a: {events_per_s: -1}
    b: {burst: 5}
    c: {events_per_s: 10, burst: 0, rate: 3}
    d: {events_per_s: 0, burst: 4}
    "bad name!": {events_per_s: 1}
    e: 7
)",
               {{2, 20, "max_connections must be an integer in 1..4294967295, got 0"},
                {3, 22, "queue_bytes_limit must be an integer in 1024..1099511627776, got 1023"},
                {5, 23, "events_per_s must be an integer in 0..4294967295, got -1"},
                {6, 5, "limits 'b' needs 'events_per_s' (0 for unlimited)"},
                {7, 34, "burst must be an integer in 1..4294967295, got 0"},
                {7, 37, "unknown key 'rate' in limits 'c'"},
                {8, 26, "limits 'd': burst applies only with events_per_s above 0"},
                {9, 5, "limits: "},
                {10, 8, "expected a map such as {events_per_s: 1000, burst: 100} for limits 'e'"}});
}

BOOST_AUTO_TEST_CASE(a_limits_entry_for_an_undeclared_container_is_a_warning) {
  Diagnostics diagnostics;
  const auto config = loadConfigText(R"(router:
  limits:
    strategy: {events_per_s: 10}
    stratgy: {events_per_s: 10}
event_communication:
  adapters:
    - type: pipeline
      containers: [data, strategy]
)", "test.yaml", diagnostics);
  BOOST_TEST_REQUIRE(config.has_value());
  const auto table = evr::topology::compileTopology(*config, diagnostics);
  BOOST_TEST_INFO("diagnostics:\n" << diagnostics.toString());
  BOOST_TEST(table != nullptr);
  BOOST_TEST(diagnostics.errorCount() == 0u);
  BOOST_TEST_REQUIRE(diagnostics.all().size() == 1u);
  const auto& warning = diagnostics.all()[0];
  BOOST_TEST((warning.severity == Severity::Warning));
  BOOST_TEST(warning.mark.line == 4u);
  BOOST_TEST(warning.message.find("limits entry 'stratgy' is not a container") != std::string::npos);
  BOOST_TEST(warning.message.find("did you mean 'strategy'") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(router_section_must_be_a_map) {
  expectError("router: [max_hops, 3]\n", 1, 9, "expected a map of router settings, got a list");
}

BOOST_AUTO_TEST_CASE(unknown_pattern_names_the_accepted_values) {
  expectError(R"(event_communication:
  pattern: "rigid"
  adapters: []
)",
              2, 12, "unknown pattern 'rigid'; accepted: flexible");
}

BOOST_AUTO_TEST_CASE(unknown_organization_names_the_accepted_values) {
  expectError("organization: strategy-first\n", 1, 15,
              "unknown organization 'strategy-first'; expected one of: strategy_first, "
              "classifier_first, risk_first, portfolio_first (did you mean 'strategy_first'?)");
}

BOOST_AUTO_TEST_CASE(yaml_syntax_error_is_one_diagnostic_at_its_mark) {
  expectError(R"(router:
  max_hops: 8
   queue_limit: 5
)",
              3, 15, "illegal map value");
}

BOOST_AUTO_TEST_CASE(unclosed_flow_sequence_is_a_syntax_error) {
  expectError("router:\n  listen: [ipc://a\n  max_hops: 3\n", 3, 11,
              "end of sequence flow not found");
}

BOOST_AUTO_TEST_CASE(adapter_without_type_is_an_error_at_the_adapter) {
  expectError(R"(event_communication:
  adapters:
    - type: pipeline
      containers: [a, b]
    - name: "untyped"
      containers: [b, c]
)",
              5, 7,
              "adapter #2 has no 'type'; known types: broadcast, hierarchical, pipeline, "
              "selective, shard");
}

// An adapter's own keys are read by its type after the common ones; their errors still come
// out in file order, between those of the keys around them, and before the missing keys.
BOOST_AUTO_TEST_CASE(an_adapters_errors_come_in_file_order_whoever_reads_the_key) {
  expectErrors(R"(event_communication:
  adapters:
    - type: selective
      mode: sometimes
      events: [BRA]
      rules: {a: b}
      nme: x
)",
               {{4, 13, "unknown mode 'sometimes'"},
                {5, 16, "unknown event type 'BRA'"},
                {6, 14, "expected a list of rules for 'rules', got a map"},
                {7, 7, "unknown key 'nme' in selective adapter"},
                {3, 7, "selective adapter 'selective#1' needs 'source'"}});
}

BOOST_AUTO_TEST_CASE(unknown_adapter_type_lists_the_known_types) {
  expectError(R"(event_communication:
  adapters:
    - type: "pipline"
      containers: [a, b]
)",
              3, 13,
              "unknown adapter type 'pipline'; known types: broadcast, hierarchical, pipeline, "
              "selective, shard (did you mean 'pipeline'?)");
}

BOOST_AUTO_TEST_CASE(adapter_that_is_not_a_map_is_an_error) {
  expectError(R"(event_communication:
  adapters:
    - pipeline
)",
              3, 7, "expected an adapter (a map with 'type:'), got 'pipeline'");
}

BOOST_AUTO_TEST_CASE(adapters_that_are_not_a_list_are_an_error) {
  expectError("event_communication:\n  adapters:\n", 2, 3, "expected a list of adapters, got nothing");
}

BOOST_AUTO_TEST_CASE(bad_listen_scheme_is_an_error) {
  expectError(R"(router:
  listen: ["ipc://evrouterd.sock", "udp://127.0.0.1:5560"]
)",
              2, 36,
              "listen endpoint 'udp://127.0.0.1:5560' has an unsupported scheme; expected ipc://, "
              "tcp://, inproc://");
}

BOOST_AUTO_TEST_CASE(listen_endpoint_without_address_or_port_is_an_error) {
  expectErrors(R"(router:
  listen:
    - "ipc://"
    - "tcp://127.0.0.1"
    - ""
    - "ipc://evrouterd.sock"
    - "ipc://evrouterd.sock"
)",
               {{3, 7, "listen endpoint 'ipc://' has no address"},
                {4, 7, "listen endpoint 'tcp://127.0.0.1' needs host:port"},
                {5, 7, "empty listen endpoint"},
                {7, 7, "listen endpoint 'ipc://evrouterd.sock' is given twice (first at 6:7)"}});
}

BOOST_AUTO_TEST_CASE(several_documents_are_an_error) {
  // Reported at the '---' that starts the second document.
  expectError("router: {}\n---\norganization: risk_first\n", 2, 1,
              "a config is one YAML document; found more than one");
}

BOOST_AUTO_TEST_CASE(top_level_that_is_not_a_map_is_an_error) {
  expectError("- router\n- adapters\n", 1, 1,
              "expected a map of config sections at the top level, got a list");
}

BOOST_AUTO_TEST_CASE(all_errors_are_reported_not_only_the_first) {
  expectErrors(R"(router:
  max_hops: 0
event_communication:
  adapters:
    - type: pipeline
      containers: [data, strategy]
      events: [BAR, TRADE]
organisation: risk_first
)",
               {{2, 13, "max_hops must be an integer in 1..255"},
                {7, 21, "unknown event type 'TRADE'"},
                {8, 1, "unknown top-level key 'organisation'"}});
}

BOOST_AUTO_TEST_CASE(keys_of_an_adapter_of_unknown_type_are_not_judged) {
  // Only the type is wrong; reporting its other keys as unknown would be noise.
  expectError(R"(event_communication:
  adapters:
    - type: brodcast
      sorce: a
)",
              3, 13, "unknown adapter type 'brodcast'");
}

// ---- invalid fixture files ---------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(invalid_fixture_files_report_file_line_and_column) {
  struct Case {
    std::string file;
    std::vector<std::string> lines;  // Diagnostic::toString() after the path
  };
  const std::vector<Case> cases = {
      {"invalid/unknown_adapter_key.yaml",
       {":9:7: error: unknown key 'sources' in broadcast adapter; expected one of: events, name, "
        "source, targets, type (did you mean 'source'?)",
        ":7:7: error: broadcast adapter 'fanout' needs 'source'"}},
      {"invalid/duplicate_keys.yaml",
       {":6:1: error: duplicate key 'router' (first at 3:1)",
        ":14:7: error: duplicate key 'name' (first at 12:7)"}},
      {"invalid/bad_router_values.yaml",
       {":4:11: error: expected an endpoint or a list of endpoints for 'listen', got a map",
        ":5:16: error: queue_limit must be an integer in 1..4294967295, got 0",
        ":6:13: error: max_hops must be an integer in 1..255, got 256",
        ":7:21: error: max_message_size must be an integer in 64..268435456, got 1GB"}},
      {"invalid/syntax_error.yaml", {":8:11: error: end of sequence flow not found"}},
      {"invalid/wrong_types.yaml",
       {":6:19: error: expected a list of container names for 'containers', got 'data'",
        ":7:15: error: expected an event type or a list of event types for 'events', got a map",
        ":8:12: error: expected a pattern name for 'pattern', got a list",
        ":9:15: error: expected an organization name for 'organization', got a map"}},
  };
  for (const auto& c : cases) {
    const std::string file = fixture(c.file);
    Diagnostics diagnostics;
    const auto config = loadConfigFile(file, diagnostics);
    BOOST_TEST_CONTEXT(c.file << ":\n" << diagnostics.toString()) {
      BOOST_TEST(!config.has_value());
      BOOST_TEST_REQUIRE(diagnostics.all().size() == c.lines.size());
      for (std::size_t i = 0; i < c.lines.size(); ++i) {
        BOOST_TEST(diagnostics.all()[i].toString() == file + c.lines[i]);
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(unreadable_file_names_the_path_and_the_reason) {
  const std::string path = fixture("does_not_exist.yaml");
  Diagnostics diagnostics;
  BOOST_TEST(!loadConfigFile(path, diagnostics).has_value());
  BOOST_TEST_REQUIRE(diagnostics.all().size() == 1u);
  const auto& diagnostic = diagnostics.all().front();
  BOOST_TEST(diagnostic.mark.file == path);
  BOOST_TEST(diagnostic.toString() ==
             path + ": error: cannot open config file '" + path + "': No such file or directory");
}

BOOST_AUTO_TEST_CASE(directory_instead_of_file_is_a_diagnostic) {
  const std::string path = std::string(EVR_FIXTURES_DIR);
  Diagnostics diagnostics;
  BOOST_TEST(!loadConfigFile(path, diagnostics).has_value());
  BOOST_TEST_REQUIRE(diagnostics.errorCount() == 1u);
  BOOST_TEST(diagnostics.all().front().message.find("Is a directory") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(malformed_input_never_throws) {
  const std::vector<std::string> inputs = {
      "[",
      "{a: [}",
      "\t- x",
      "router: !!binary ~~~",
      "&a [*a]",
      "? [a, b]\n: c\n",
      std::string(2000, '[') + std::string(2000, ']'),
      [] {
        static const char kBytes[] = "router:\0\xff\xfe max_hops: 3";
        return std::string(kBytes, sizeof kBytes - 1);  // keeps the NUL inside, drops the last
      }(),
      "event_communication:\n  adapters:\n    - ~\n    - []\n    - type: [pipeline]\n",
      "event_communication:\n  adapters:\n    - type: pipeline\n      containers: [[a], ~, b]\n",
  };
  for (const auto& input : inputs) {
    Diagnostics diagnostics;
    std::optional<Config> config;
    BOOST_CHECK_NO_THROW(config = loadConfigText(input, "fuzz.yaml", diagnostics));
    BOOST_TEST_INFO("input: " << input);
    BOOST_TEST((config.has_value() || diagnostics.hasErrors()));
  }
}

// ---- valid inputs -----------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(empty_file_gives_every_default) {
  const Config config = expectValid("# nothing configured\n");
  BOOST_TEST(config.router.listen.empty());
  BOOST_TEST(config.router.queue_limit == 100000u);
  BOOST_TEST(config.router.max_hops == 16u);
  BOOST_TEST(config.router.max_message_size == 1048576u);
  BOOST_TEST(config.router.heartbeat_ms == 1000u);
  BOOST_TEST(config.router.shutdown_grace_ms == 2000u);
  BOOST_TEST(config.pattern == "flexible");
  BOOST_TEST(config.adapters.empty());
  BOOST_TEST(!config.adapters_present);
  BOOST_TEST(!config.organization.has_value());
}

BOOST_AUTO_TEST_CASE(every_router_setting_is_read) {
  const Config config = expectValid(R"(router:
  listen: ["ipc://evrouterd.sock", "tcp://*:5560", "inproc://test"]
  queue_limit: 5
  max_hops: "255"
  max_message_size: 64
  heartbeat_ms: 10
  shutdown_grace_ms: 0
)");
  BOOST_TEST_REQUIRE(config.router.listen.size() == 3u);
  BOOST_TEST(config.router.listen[1].value == "tcp://*:5560");
  BOOST_TEST(config.router.listen[1].mark.line == 2u);
  BOOST_TEST(config.router.listen[1].mark.column == 36u);
  BOOST_TEST(config.router.queue_limit == 5u);
  BOOST_TEST(config.router.max_hops == 255u);
  BOOST_TEST(config.router.max_message_size == 64u);
  BOOST_TEST(config.router.heartbeat_ms == 10u);
  BOOST_TEST(config.router.shutdown_grace_ms == 0u);
  BOOST_TEST(config.router.mark.line == 1u);
}

BOOST_AUTO_TEST_CASE(listen_may_be_a_single_string) {
  const Config config = expectValid("router:\n  listen: tcp://127.0.0.1:5560\n");
  BOOST_TEST_REQUIRE(config.router.listen.size() == 1u);
  BOOST_TEST(config.router.listen[0].value == "tcp://127.0.0.1:5560");
}

BOOST_AUTO_TEST_CASE(adapters_are_read_with_their_places_and_default_names) {
  const Config config = expectValid(R"(event_communication:
  pattern: flexible
  adapters:
    - type: pipeline
      containers: [data, strategy, execution]
    - name: fanout
      type: broadcast
      source: execution
      targets: [tracker, logger]
      events: [fill, Classification]
)");
  BOOST_TEST(config.adapters_present);
  BOOST_TEST(config.adapters_mark.line == 3u);
  BOOST_TEST_REQUIRE(config.adapters.size() == 2u);

  const auto& pipeline = config.adapters[0];
  BOOST_TEST(pipeline.type == "pipeline");
  BOOST_TEST(pipeline.name == "pipeline#1");
  BOOST_TEST(pipeline.mark.line == 4u);
  BOOST_TEST(pipeline.mark.column == 7u);
  BOOST_TEST_REQUIRE(pipeline.as<PipelineConfig>().containers.size() == 3u);
  BOOST_TEST(pipeline.as<PipelineConfig>().containers[2].value == "execution");
  BOOST_TEST(pipeline.as<PipelineConfig>().containers[2].mark.line == 5u);
  BOOST_TEST(pipeline.as<PipelineConfig>().containers[2].mark.column == 36u);
  BOOST_TEST(!pipeline.events.has_value());

  const auto& broadcast = config.adapters[1];
  BOOST_TEST(broadcast.type == "broadcast");
  BOOST_TEST(broadcast.name == "fanout");
  BOOST_TEST(broadcast.name_mark.line == 6u);
  BOOST_TEST(broadcast.type_mark.line == 7u);
  BOOST_TEST(broadcast.type_mark.column == 13u);
  BOOST_TEST_REQUIRE(broadcast.as<BroadcastConfig>().source.has_value());
  BOOST_TEST(broadcast.as<BroadcastConfig>().source->value == "execution");
  BOOST_TEST(broadcast.as<BroadcastConfig>().targets.size() == 2u);
  BOOST_TEST_REQUIRE(broadcast.events.has_value());
  EventTypeSet expected;
  expected.add(EventType::FILL);
  expected.add(EventType::REGIME);  // CLASSIFICATION is another name of REGIME
  BOOST_TEST((broadcast.events->value == expected));
}

BOOST_AUTO_TEST_CASE(events_may_be_a_single_name) {
  const Config config = expectValid(R"(event_communication:
  adapters:
    - {type: pipeline, containers: [a, b], events: END_OF_DATA}
)");
  BOOST_TEST_REQUIRE(config.adapters.front().events.has_value());
  BOOST_TEST((config.adapters.front().events->value == EventTypeSet::of(EventType::END_OF_DATA)));
}

BOOST_AUTO_TEST_CASE(diagnostic_text_is_file_line_column_severity_message) {
  Diagnostics diagnostics;
  diagnostics.error({"a.yaml", 3, 7}, "bad");
  diagnostics.warning({"a.yaml", 4, 0}, "odd");
  diagnostics.error({"a.yaml", 0, 0}, "unreadable");
  BOOST_TEST(diagnostics.errorCount() == 2u);
  BOOST_TEST(diagnostics.warningCount() == 1u);
  BOOST_TEST(diagnostics.toString() ==
             "a.yaml:3:7: error: bad\na.yaml:4: warning: odd\na.yaml: error: unreadable\n");
}

BOOST_AUTO_TEST_CASE(warnings_alone_do_not_fail_loading) {
  Diagnostics diagnostics;
  diagnostics.warning({"earlier.yaml", 1, 1}, "something odd");
  const auto config = loadConfigText("organization: risk_first\n", "test.yaml", diagnostics);
  BOOST_TEST(config.has_value());
  BOOST_TEST(!diagnostics.hasErrors());
}

BOOST_AUTO_TEST_CASE(shipped_configs_load_without_diagnostics) {
  for (const std::string name : {"default.yaml", "strategy_first.yaml", "risk_first.yaml"}) {
    Diagnostics diagnostics;
    const auto config = loadConfigFile(shipped(name), diagnostics);
    BOOST_TEST_CONTEXT(name << ":\n" << diagnostics.toString()) {
      BOOST_TEST_REQUIRE(config.has_value());
      BOOST_TEST(diagnostics.all().empty());
      BOOST_TEST(config->file == shipped(name));
      BOOST_TEST(config->adapters_present);
    }
  }
}

BOOST_AUTO_TEST_CASE(default_config_is_the_demo_topology_with_default_router_settings) {
  Diagnostics diagnostics;
  const auto config = loadConfigFile(shipped("default.yaml"), diagnostics);
  BOOST_TEST_REQUIRE(config.has_value());
  BOOST_TEST_REQUIRE(config->router.listen.size() == 1u);
  BOOST_TEST(config->router.listen[0].value == "ipc://evrouterd.sock");
  BOOST_TEST(config->router.queue_limit == 100000u);
  BOOST_TEST(config->router.max_hops == 16u);
  BOOST_TEST(config->router.max_message_size == 1048576u);
  BOOST_TEST(config->router.heartbeat_ms == 1000u);
  BOOST_TEST(config->router.shutdown_grace_ms == 2000u);
  BOOST_TEST(config->router.replay_limit == 100000u);
  BOOST_TEST(config->router.stall_timeout_ms == 5000u);
  BOOST_TEST(!config->router.journal.has_value());
  BOOST_TEST(!config->delivery.present);
  BOOST_TEST_REQUIRE(config->adapters.size() == 2u);
  BOOST_TEST(config->adapters[0].type == "pipeline");
  BOOST_TEST_REQUIRE(config->adapters[0].as<PipelineConfig>().containers.size() == 3u);
  BOOST_TEST(config->adapters[0].as<PipelineConfig>().containers[0].value == "data");
  BOOST_TEST(config->adapters[0].as<PipelineConfig>().containers[1].value == "strategy");
  BOOST_TEST(config->adapters[0].as<PipelineConfig>().containers[2].value == "execution");
  BOOST_TEST(config->adapters[1].type == "broadcast");
  BOOST_TEST_REQUIRE(config->adapters[1].as<BroadcastConfig>().source.has_value());
  BOOST_TEST(config->adapters[1].as<BroadcastConfig>().source->value == "execution");
  BOOST_TEST_REQUIRE(config->adapters[1].as<BroadcastConfig>().targets.size() == 1u);
  BOOST_TEST(config->adapters[1].as<BroadcastConfig>().targets[0].value == "tracker");
}

BOOST_AUTO_TEST_CASE(spec_default_configs_record_their_organization) {
  Diagnostics diagnostics;
  const auto strategy_first = loadConfigFile(shipped("strategy_first.yaml"), diagnostics);
  const auto risk_first = loadConfigFile(shipped("risk_first.yaml"), diagnostics);
  BOOST_TEST_REQUIRE(strategy_first.has_value());
  BOOST_TEST_REQUIRE(risk_first.has_value());
  BOOST_TEST(strategy_first->organization->value == "strategy_first");
  BOOST_TEST(risk_first->organization->value == "risk_first");
  BOOST_TEST(strategy_first->adapters.size() == 3u);
  BOOST_TEST(risk_first->adapters.size() == 3u);
  BOOST_TEST(risk_first->adapters[2].name == "pipeline#3");
}

BOOST_AUTO_TEST_CASE(valid_fixture_with_every_key_loads) {
  Diagnostics diagnostics;
  const auto config = loadConfigFile(fixture("all_keys.yaml"), diagnostics);
  BOOST_TEST_INFO(diagnostics.toString());
  BOOST_TEST_REQUIRE(config.has_value());
  BOOST_TEST(onlyTcpWarnings(diagnostics));
  BOOST_TEST(config->router.listen.size() == 2u);
  BOOST_TEST(config->router.queue_limit == 500u);
  BOOST_TEST(config->router.max_hops == 4u);
  BOOST_TEST(config->router.max_message_size == 65536u);
  BOOST_TEST(config->router.heartbeat_ms == 250u);
  BOOST_TEST(config->router.shutdown_grace_ms == 0u);
  BOOST_TEST(config->router.replay_limit == 2000u);
  BOOST_TEST(config->router.replay_bytes_limit == 4194304u);
  BOOST_TEST(config->router.stall_timeout_ms == 1500u);
  BOOST_TEST_REQUIRE(config->router.journal.has_value());
  // Relative to the fixture's directory.
  BOOST_TEST(config->router.journal->path == fixture("journal"));
  BOOST_TEST(config->router.journal->interval_ms == 50u);
  BOOST_TEST(config->router.journal->all_types);
  BOOST_TEST(config->delivery.present);
  BOOST_TEST(config->delivery.limit == 300u);
  BOOST_TEST(config->delivery.targets.size() == 1u);
  BOOST_TEST(config->adapters.size() == 2u);
  BOOST_TEST(config->organization->value == "portfolio_first");
}

// ---- hierarchical and selective adapters ------------------------------------------------------

BOOST_AUTO_TEST_CASE(spec_adapter_types_load_with_their_keys) {
  const Config config = expectValid(R"(event_communication:
  adapters:
    - type: "hierarchical"
      name: "classifier_hierarchy"
      parent: "hmm_classifier"
      children: ["conservative_risk", "balanced_risk"]
      context_events: [REGIME, portfolio]
      result_events: SIGNAL
    - type: "selective"
      name: "regime_routing"
      source: "classifier"
      rules:
        - condition: "event.regime == 'BULL'"
          target: "aggressive_portfolio"
      default: "balanced_portfolio"
      mode: all
)");
  BOOST_TEST_REQUIRE(config.adapters.size() == 2u);
  const auto& hierarchical = config.adapters[0];
  BOOST_TEST(hierarchical.type == "hierarchical");
  BOOST_TEST_REQUIRE(hierarchical.as<HierarchicalConfig>().parent.has_value());
  BOOST_TEST(hierarchical.as<HierarchicalConfig>().parent->value == "hmm_classifier");
  BOOST_TEST(hierarchical.as<HierarchicalConfig>().parent->mark.line == 5u);
  BOOST_TEST(hierarchical.as<HierarchicalConfig>().parent->mark.column == 15u);
  BOOST_TEST_REQUIRE(hierarchical.as<HierarchicalConfig>().children.size() == 2u);
  BOOST_TEST(hierarchical.as<HierarchicalConfig>().children[1].value == "balanced_risk");
  BOOST_TEST(hierarchical.as<HierarchicalConfig>().children[1].mark.column == 39u);  // at the quote, like every name
  BOOST_TEST_REQUIRE(hierarchical.as<HierarchicalConfig>().context_events.has_value());
  EventTypeSet context = EventTypeSet::of(EventType::REGIME);
  context.add(EventType::PORTFOLIO);
  BOOST_TEST((hierarchical.as<HierarchicalConfig>().context_events->value == context));
  BOOST_TEST(hierarchical.as<HierarchicalConfig>().context_events->mark.line == 7u);
  BOOST_TEST_REQUIRE(hierarchical.as<HierarchicalConfig>().result_events.has_value());
  BOOST_TEST((hierarchical.as<HierarchicalConfig>().result_events->value == EventTypeSet::of(EventType::SIGNAL)));
  BOOST_TEST(!hierarchical.events.has_value());

  const auto& selective = config.adapters[1];
  BOOST_TEST(selective.type == "selective");
  BOOST_TEST_REQUIRE(selective.as<SelectiveConfig>().source.has_value());
  BOOST_TEST(selective.as<SelectiveConfig>().source->value == "classifier");
  BOOST_TEST_REQUIRE(selective.as<SelectiveConfig>().rules.size() == 1u);
  BOOST_TEST(selective.as<SelectiveConfig>().rules[0].condition.text == "event.regime == 'BULL'");
  BOOST_TEST(!selective.as<SelectiveConfig>().rules[0].structured);
  BOOST_TEST(selective.as<SelectiveConfig>().rules[0].target.value == "aggressive_portfolio");
  BOOST_TEST(selective.as<SelectiveConfig>().rules[0].target.mark.line == 14u);
  BOOST_TEST(selective.as<SelectiveConfig>().rules[0].mark.line == 13u);
  BOOST_TEST(selective.as<SelectiveConfig>().rules[0].mark.column == 11u);
  BOOST_TEST_REQUIRE(selective.as<SelectiveConfig>().default_target.has_value());
  BOOST_TEST(selective.as<SelectiveConfig>().default_target->value == "balanced_portfolio");
  BOOST_TEST(selective.as<SelectiveConfig>().default_target->mark.line == 15u);
  BOOST_TEST(selective.as<SelectiveConfig>().mode_all);
}

BOOST_AUTO_TEST_CASE(hierarchical_context_events_are_absent_unless_given) {
  const Config config = expectValid(R"(event_communication:
  adapters:
    - {type: hierarchical, parent: p, children: [c]}
)");
  BOOST_TEST(!config.adapters[0].as<HierarchicalConfig>().context_events.has_value());  // the adapter uses {REGIME}
  BOOST_TEST(!config.adapters[0].as<HierarchicalConfig>().result_events.has_value());   // every type
}

BOOST_AUTO_TEST_CASE(hierarchical_needs_a_parent_and_a_child) {
  expectErrors(R"(event_communication:
  adapters:
    - type: hierarchical
      name: h
      children: []
)",
               {{3, 7, "hierarchical adapter 'h' needs 'parent'"},
                {5, 17, "hierarchical adapter 'h' needs at least 1 children, got 0"}});
}

BOOST_AUTO_TEST_CASE(empty_context_or_result_events_are_an_error) {
  expectErrors(R"(event_communication:
  adapters:
    - type: hierarchical
      parent: p
      children: [c]
      context_events: []
      result_events: [BAR, BRA]
)",
               {{6, 23, "an empty 'context_events' filter would route nothing"},
                {7, 28, "unknown event type 'BRA'"}});
}

BOOST_AUTO_TEST_CASE(condition_mark_is_the_first_character_of_the_text) {
  // yaml-cpp marks a quoted scalar at its quote, a block scalar at its indicator: the mark must
  // be where the condition text itself starts, since errors are reported at offsets from it.
  const Config config = expectValid(R"(event_communication:
  adapters:
    - type: selective
      source: classifier
      rules:
        - condition: "event.regime == 'BULL'"
          target: a
        - condition: 'event.regime == "BEAR"'
          target: b
        - condition: event.confidence > 0.5
          target: c
        - {target: d, condition: "event.regime == 'X'"}
        - condition: |
            event.regime == 'Y'
          target: e
        - condition: !!str "event.regime == 'Z'"
          target: f
)");
  const auto& rules = config.adapters.at(0).as<SelectiveConfig>().rules;
  BOOST_TEST_REQUIRE(rules.size() == 6u);
  struct Place {
    std::uint32_t line, column;
  };
  const Place expected[] = {{6, 23}, {8, 23}, {10, 22}, {12, 35}, {14, 13}, {16, 29}};
  for (std::size_t i = 0; i < rules.size(); ++i) {
    BOOST_TEST_CONTEXT("rule " << i) {
      BOOST_TEST(rules[i].condition.text.rfind("event.", 0) == 0u);
      BOOST_TEST(rules[i].condition.mark.line == expected[i].line);
      BOOST_TEST(rules[i].condition.mark.column == expected[i].column);
    }
  }
  BOOST_TEST(rules[1].condition.text == "event.regime == \"BEAR\"");
  BOOST_TEST(rules[4].condition.text == "event.regime == 'Y'\n");
}

BOOST_AUTO_TEST_CASE(condition_errors_point_into_the_quoted_text) {
  // Loading succeeds; compiling the condition reports the unknown field at its own column.
  Diagnostics diagnostics;
  const auto config = loadConfigText(R"(event_communication:
  adapters:
    - type: selective
      source: classifier
      rules:
        - condition: "event.regime == 'BULL' and event.confidnce > 0.5"
          target: a
)",
                                     "test.yaml", diagnostics);
  BOOST_TEST_REQUIRE(config.has_value());
  const auto& condition = config->adapters[0].as<SelectiveConfig>().rules[0].condition;
  // "event.confidnce" starts 27 characters into the text, which starts after the quote at 22.
  BOOST_TEST(condition.mark.column + condition.text.find("event.confidnce") == 50u);
  BOOST_TEST(evr::topology::compileTopology(*config, diagnostics) == nullptr);
  BOOST_TEST_INFO(diagnostics.toString());
  BOOST_TEST_REQUIRE(diagnostics.errorCount() == 1u);
  BOOST_TEST(diagnostics.all()[0].mark.line == 6u);
  BOOST_TEST(diagnostics.all()[0].mark.column == 50u);
  BOOST_TEST(diagnostics.all()[0].message.find("event.confidnce") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(structured_rules_become_condition_text) {
  const Config config = expectValid(R"(event_communication:
  adapters:
    - type: selective
      source: classifier
      rules:
        - {field: regime, operator: equals, value: BULL, target: a}
        - {field: confidence, operator: gte, value: 0.75, target: b}
        - {field: regime, operator: in, value: [BEAR, "NEUTRAL"], target: c}
        - {field: event.quantity, operator: not_in, value: [1, 2.5, -3], target: d}
        - {field: name, operator: matches, value: 20, target: e}
        - {field: strategy, operator: contains, value: 'it''s \ok', target: f}
        - {field: symbol, operator: not_equals, value: "42", target: g}
        - {field: confidence, operator: lt, value: 1e3, target: h}
        - {field: flag, operator: equals, value: True, target: i}
        - {field: period_seconds, operator: gt, value: +60, target: j}
        - {field: confidence, operator: lte, value: .5, target: k}
)");
  const auto& rules = config.adapters.at(0).as<SelectiveConfig>().rules;
  const std::vector<std::string> expected = {
      "event.regime == 'BULL'",
      "event.confidence >= 0.75",
      "event.regime in ['BEAR', 'NEUTRAL']",
      "event.quantity not in [1, 2.5, -3]",
      "event.name matches '20'",
      "event.strategy contains 'it\\'s \\\\ok'",
      "event.symbol != '42'",
      "event.confidence < 1000.0",
      "event.flag == true",
      "event.period_seconds > 60",
      "event.confidence <= 0.5",
  };
  BOOST_TEST_REQUIRE(rules.size() == expected.size());
  for (std::size_t i = 0; i < rules.size(); ++i) {
    BOOST_TEST(rules[i].condition.text == expected[i]);
    BOOST_TEST(rules[i].structured);
    BOOST_TEST(rules[i].mark.line == 6u + i);
  }
  // Marked at the rule's `field` value.
  BOOST_TEST(rules[0].condition.mark.line == 6u);
  BOOST_TEST(rules[0].condition.mark.column == 19u);
  BOOST_TEST(rules[0].target.value == "a");
}

BOOST_AUTO_TEST_CASE(structured_rules_compile_like_written_ones) {
  // The generated text is valid condition language (checked by the condition compiler).
  Diagnostics diagnostics;
  const auto config = loadConfigText(R"(event_communication:
  adapters:
    - type: selective
      source: classifier
      rules:
        - {field: regime, operator: in, value: [BULL, "it's"], target: a}
        - {field: confidence, operator: gt, value: 0.5, target: b}
)",
                                     "test.yaml", diagnostics);
  BOOST_TEST_REQUIRE(config.has_value());
  const auto table = evr::topology::compileTopology(*config, diagnostics);
  BOOST_TEST_INFO(diagnostics.toString());
  BOOST_TEST(table != nullptr);
  BOOST_TEST(!diagnostics.hasErrors());
}

BOOST_AUTO_TEST_CASE(structured_rule_mistakes_are_errors_at_their_place) {
  expectErrors(R"(event_communication:
  adapters:
    - type: selective
      source: classifier
      rules:
        - {field: regime, operator: equal, value: BULL, target: a}
        - {field: regime, operator: in, value: BULL, target: b}
        - {field: regime, operator: equals, value: [BULL], target: c}
        - {field: regime, operator: equals, value: BULL}
        - {field: regime, condition: "event.regime == 'BULL'", target: e}
        - {field: regime, operator: equals, target: f}
        - {field: "1st", operator: equals, value: x, target: g}
        - {condition: "event.regime == 'BULL'", traget: h}
        - {condition: "  ", target: i}
        - target: j
        - [condition, target]
)",
               {{6, 37,
                 "unknown operator 'equal'; expected one of: equals, not_equals, gt, gte, lt, lte, "
                 "in, not_in, contains, matches (did you mean 'equals'?)"},
                {7, 48, "operator 'in' needs a non-empty list value, e.g. [BULL, BEAR], got 'BULL'"},
                {8, 52, "operator 'equals' needs a single value, got a list (use 'in'"},
                {9, 11, "a selective rule needs a 'target'"},
                {10, 12, "a rule has either 'condition' or 'field', 'operator' and 'value', not both"},
                {11, 11, "a structured rule needs 'value'"},
                {12, 19, "'1st' is not a field name"},
                {13, 49, "unknown key 'traget' in selective rule; expected one of: condition, field, "
                         "operator, target, value (did you mean 'target'?)"},
                {13, 11, "a selective rule needs a 'target'"},
                {14, 23, "empty condition"},
                {15, 11, "a selective rule needs a 'condition' (or 'field', 'operator' and 'value')"},
                {16, 11, "expected a rule (a map with 'condition' and 'target'), got a list"}});
}

BOOST_AUTO_TEST_CASE(selective_mode_is_first_or_all) {
  const Config first = expectValid(R"(event_communication:
  adapters:
    - {type: selective, source: s, default: d, mode: first}
)");
  BOOST_TEST(!first.adapters[0].as<SelectiveConfig>().mode_all);
  BOOST_TEST(first.adapters[0].as<SelectiveConfig>().rules.empty());
  expectError(R"(event_communication:
  adapters:
    - type: selective
      source: s
      default: d
      mode: "al"
)",
              6, 13, "unknown mode 'al'; accepted: first, all (did you mean 'all'?)");
  expectError(R"(event_communication:
  adapters:
    - {type: selective, source: s, default: d, mode: [all]}
)",
              3, 54, "expected a mode for 'mode', got a list");
}

BOOST_AUTO_TEST_CASE(selective_needs_a_rule_or_a_default) {
  expectErrors(R"(event_communication:
  adapters:
    - type: selective
      name: nowhere
      source: s
    - type: selective
      name: empty
      source: s
      rules: []
    - type: selective
      name: fallback
      source: s
      rules: []
      default: d
)",
               {{3, 7, "selective adapter 'nowhere' needs 'rules' (or a 'default' target)"},
                {9, 14, "selective adapter 'empty' needs at least 1 rule (or a 'default' target)"}});
}

BOOST_AUTO_TEST_CASE(rules_of_the_wrong_type_are_an_error) {
  expectError(R"(event_communication:
  adapters:
    - type: selective
      source: s
      rules: {condition: "event.regime == 'BULL'", target: a}
)",
              5, 14, "expected a list of rules for 'rules', got a map");
}

// ---- pipeline transform -----------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(pipeline_transform_is_read) {
  const Config config = expectValid(R"(event_communication:
  adapters:
    - type: pipeline
      containers: [indicators, strategy]
      transform:
        retype: {INDICATOR: SIGNAL, classification: portfolio}
        tags: {stage: enriched, version: 2}
)");
  const auto& adapter = config.adapters.at(0);
  BOOST_TEST_REQUIRE(adapter.as<PipelineConfig>().transform.has_value());
  const auto& transform = *adapter.as<PipelineConfig>().transform;
  BOOST_TEST(transform.mark.line == 6u);
  BOOST_TEST(transform.mark.column == 9u);
  BOOST_TEST_REQUIRE(transform.retype.size() == 2u);
  BOOST_TEST((transform.retype[0].first.value == EventType::INDICATOR));
  BOOST_TEST((transform.retype[0].second.value == EventType::SIGNAL));
  BOOST_TEST(transform.retype[0].first.mark.column == 18u);
  BOOST_TEST(transform.retype[0].second.mark.column == 29u);
  BOOST_TEST((transform.retype[1].first.value == EventType::REGIME));
  BOOST_TEST((transform.retype[1].second.value == EventType::PORTFOLIO));
  BOOST_TEST_REQUIRE(transform.tags.size() == 2u);
  BOOST_TEST(transform.tags[0].first.value == "stage");
  BOOST_TEST(transform.tags[0].second.value == "enriched");
  BOOST_TEST(transform.tags[1].first.value == "version");
  BOOST_TEST(transform.tags[1].second.value == "2");
  BOOST_TEST(transform.tags[1].second.mark.column == 42u);
}

BOOST_AUTO_TEST_CASE(transform_mistakes_are_errors_at_their_place) {
  expectErrors(R"(event_communication:
  adapters:
    - type: pipeline
      containers: [a, b]
      transform:
        retype: {INDICATR: SIGNAL, BAR: [TICK], REGIME: BAR, CLASSIFICATION: TICK}
        tag: {x: y}
        tags: {k: [v]}
    - type: pipeline
      containers: [b, c]
      transform: [retype]
    - type: broadcast
      source: c
      targets: [d]
      transform: {tags: {k: v}}
)",
               {{6, 18, "unknown event type 'INDICATR'"},
                {6, 41, "expected an event type name, got a list"},
                {6, 62, "transform retypes REGIME twice (first at 6:49)"},
                {7, 9, "unknown key 'tag' in transform; expected one of: retype, tags (did you "
                       "mean 'tags'?)"},
                {8, 19, "expected a tag value (a string) for 'k', got a list"},
                {11, 18, "expected a map with 'retype' and/or 'tags' for 'transform', got a list"},
                {15, 7, "unknown key 'transform' in broadcast adapter"}});
}

// ---- organization sections --------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(organization_sections_declare_containers_with_roles_and_parents) {
  const Config config = expectValid(R"(organization: "classifier_first"
classifiers:
  - name: "regime_detector"
    model: hmm          # a free-form parameter
    risk_profiles:
      - name: conservative
        portfolios:
          - strategies:
              - name: "momentum_strategy"
                lookback: 20
      - portfolios:
          - name: balanced
strategies:
  - name: mean_reversion
  - breakout
risk_profiles: ~
portfolios: []
containers:
  - {name: feed, role: data, produces: [BAR, END_OF_DATA]}
  - name: sink
    produces: []
)");
  BOOST_TEST_REQUIRE(config.organization.has_value());
  BOOST_TEST(config.organization->value == "classifier_first");
  BOOST_TEST(config.organization->mark.line == 1u);
  BOOST_TEST(config.organization->mark.column == 15u);
  struct Expected {
    std::string name, role, parent;
    std::uint32_t line;
  };
  const std::vector<Expected> expected = {
      {"regime_detector", "classifier", "", 3},
      {"conservative", "risk", "regime_detector", 6},
      {"momentum_strategy", "strategy", "conservative", 9},
      {"balanced", "portfolio", "regime_detector", 12},
      {"mean_reversion", "strategy", "", 14},
      {"breakout", "strategy", "", 15},
      {"feed", "data", "", 19},
      {"sink", "", "", 20},
  };
  BOOST_TEST_REQUIRE(config.containers.size() == expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    BOOST_TEST_CONTEXT(expected[i].name) {
      BOOST_TEST(config.containers[i].name.value == expected[i].name);
      BOOST_TEST(config.containers[i].role == expected[i].role);
      BOOST_TEST(config.containers[i].parent == expected[i].parent);
      BOOST_TEST(config.containers[i].name.mark.line == expected[i].line);
    }
  }
  BOOST_TEST(config.containers[4].name.mark.column == 11u);
  BOOST_TEST(config.containers[5].name.mark.column == 5u);
  BOOST_TEST_REQUIRE(config.containers[6].produces.has_value());
  EventTypeSet feed = EventTypeSet::of(EventType::BAR);
  feed.add(EventType::END_OF_DATA);
  BOOST_TEST((config.containers[6].produces->value == feed));
  BOOST_TEST_REQUIRE(config.containers[7].produces.has_value());
  BOOST_TEST(config.containers[7].produces->value.empty());
  BOOST_TEST(!config.containers[0].produces.has_value());
}

BOOST_AUTO_TEST_CASE(organization_section_mistakes_are_errors_at_their_place) {
  expectErrors(R"(strategies:
  - name: strategy_a
  - lookback: 20
  - name: strategy_a
  - name: "my strategy"
  - [x]
classifiers:
  - name: c
    risk_profiles:
      - portfolios:
          - strategies:
              - lookback: 5
risk_profiles: {a: b}
containers:
  - {name: feed, role: feeder}
  - {name: sink, kind: tracker}
  - {role: execution}
)",
               {{3, 5, "an entry of 'strategies' needs a 'name'"},
                {4, 11, "container 'strategy_a' is declared twice (first at 2:11)"},
                {5, 11, "'my strategy': container name may use only letters, digits"},
                {6, 5, "expected a name or a map with 'name' in 'strategies', got a list"},
                {12, 17, "an entry of 'strategies' needs a 'name'"},
                {13, 16, "expected a list of risk profiles for 'risk_profiles', got a map"},
                {15, 24, "unknown role 'feeder'; expected one of: classifier, data, execution"},
                {16, 18, "unknown key 'kind' in containers; expected one of: name, produces, role"},
                {17, 5, "an entry of 'containers' needs a 'name'"}});
}

BOOST_AUTO_TEST_CASE(spec_organization_shapes_load) {
  // The spec's two organizations of "Organizational Pattern Independence".
  const Config strategy_first = expectValid(R"(organization: "strategy_first"
strategies:
  - name: "momentum_strategy"
    # ...
)");
  BOOST_TEST_REQUIRE(strategy_first.containers.size() == 1u);
  BOOST_TEST(strategy_first.containers[0].role == "strategy");
  const Config classifier_first = expectValid(R"(organization: "classifier_first"
classifiers:
  - name: "regime_detector"
    risk_profiles:
      - portfolios:
          - strategies:
              - name: "momentum_strategy"
                # ...
)");
  BOOST_TEST_REQUIRE(classifier_first.containers.size() == 2u);
  BOOST_TEST(classifier_first.containers[1].name.value == "momentum_strategy");
  // The unnamed risk profile and portfolio are grouping only: the strategy's nearest named
  // enclosing entry is the classifier.
  BOOST_TEST(classifier_first.containers[1].parent == "regime_detector");
}

BOOST_AUTO_TEST_CASE(unknown_top_level_keys_stay_errors_beside_organization_sections) {
  expectError("strategies: [a]\nstrategie: [b]\n", 2, 1,
              "unknown top-level key 'strategie'; expected one of: classifiers, containers, "
              "event_communication, organization, portfolios, risk_profiles, router, strategies "
              "(did you mean 'strategies'?)");
}

BOOST_AUTO_TEST_CASE(organization_examples_without_adapters_load) {
  for (const std::string name : {"classifier_first.yaml", "portfolio_first.yaml"}) {
    Diagnostics diagnostics;
    const auto config = loadConfigFile(shipped(name), diagnostics);
    BOOST_TEST_CONTEXT(name << ":\n" << diagnostics.toString()) {
      BOOST_TEST_REQUIRE(config.has_value());
      BOOST_TEST(diagnostics.all().empty());
      BOOST_TEST(!config->adapters_present);
      BOOST_TEST(config->organization.has_value());
      BOOST_TEST(!config->containers.empty());
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()
