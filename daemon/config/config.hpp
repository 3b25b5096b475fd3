// The config model: plain values parsed from YAML by config_loader, before names are resolved.
//
// Stage 1 of the daemon's chain: YAML -> Config (here) -> Topology -> RoutingTable -> relay loop.
// Every value remembers where it came from (Mark) so that later stages can report errors at the
// right file:line:col. Nothing here knows about sockets or routing.

#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "config/diagnostics.hpp"
#include "evr/event_types.hpp"

namespace evr::config {

template <typename T>
struct Located {
  T value{};
  Mark mark;
};

// The `router:` section: how the daemon runs. Defaults are the documented ones
// (configs/default.yaml).
struct RouterSettings {
  // Endpoints the data ROUTER binds. An ipc endpoint with a relative path is placed in the
  // runtime directory; empty means the default `ipc://evrouterd.sock` (in the runtime directory).
  std::vector<Located<std::string>> listen;
  std::uint32_t queue_limit = 100000;        // events queued per target container
  std::uint32_t max_hops = 16;               // forwarded more often than this: dropped
  std::uint32_t max_message_size = 1 << 20;  // bytes of one event frame
  std::uint32_t heartbeat_ms = 1000;         // link liveness interval
  std::uint32_t shutdown_grace_ms = 2000;    // SIGTERM: time allowed to flush queues
  // The control endpoint (evrctl). ipc with a relative path lives in the runtime directory;
  // absent: `ipc://evrouterd.ctl`. A tcp endpoint must be on loopback unless
  // `control_allow_remote: true`.
  std::optional<Located<std::string>> control;
  bool control_allow_remote = false;
  // Prometheus /metrics, /healthz and /ready over HTTP: "host:port" ("[::1]:9464" for IPv6;
  // port 0 picks a free one), or "off". A host off loopback is allowed, with a startup warning.
  std::string metrics = "127.0.0.1:9464";
  Mark mark;                                 // of the `router:` key, or of the document
};

// Condition text as written in the file. `mark` is the place of the text's first character
// (after an opening quote), so an error at offset N inside the text is at column mark.column + N
// when the text is on one line.
struct ConditionText {
  std::string text;
  Mark mark;
};

// One `rules:` entry of a selective adapter. The structured form the original Python project
// used ({field, operator, value}) is turned into `condition` by the loader (with
// `structured = true`, and marks pointing at the structured entry).
struct SelectiveRuleConfig {
  ConditionText condition;
  bool structured = false;
  Located<std::string> target;
  Mark mark;  // of the rule's mapping
};

// A pipeline's `transform:` (the spec's event_transformer), applied to what a stage passes to
// the next one: `retype: {INDICATOR: SIGNAL}` changes the event type the next stage sees;
// `tags: {stage: enriched}` adds tags.
struct TransformConfig {
  std::vector<std::pair<Located<EventType>, Located<EventType>>> retype;  // from -> to
  std::vector<std::pair<Located<std::string>, Located<std::string>>> tags;  // key -> value
  Mark mark;
};

struct AdapterConfig {
  std::string type;                       // "pipeline", "broadcast", ... (registry key)
  std::string name;                       // `name:`, or "<type>#<index>" when absent
  Mark mark;                              // of the adapter's mapping
  Mark type_mark;                         // of the `type:` value (the mapping when absent)
  Mark name_mark;                         // of the `name:` value (the mapping when absent)
  // pipeline
  std::vector<Located<std::string>> containers;
  std::optional<TransformConfig> transform;
  // broadcast (and selective: `source`)
  std::optional<Located<std::string>> source;
  std::vector<Located<std::string>> targets;
  // hierarchical
  std::optional<Located<std::string>> parent;
  std::vector<Located<std::string>> children;
  std::optional<Located<EventTypeSet>> context_events;  // parent -> children; default {REGIME}
  std::optional<Located<EventTypeSet>> result_events;   // children -> parent; default all types
  // selective
  std::vector<SelectiveRuleConfig> rules;
  std::optional<Located<std::string>> default_target;   // `default:`
  bool mode_all = false;                                // `mode: all` (default `first`)
  // `events:` type filter; absent means every type
  std::optional<Located<EventTypeSet>> events;
  // Generated from `organization:` (topology/organization.hpp), not written in the file; its
  // marks point at the organization.
  bool generated = false;
};

// A container the config declares (organization sections, or the `containers:` section).
struct ContainerDecl {
  Located<std::string> name;
  std::string role;  // "data", "strategy", "classifier", "risk", "portfolio", "execution", ... or ""
  std::optional<Located<EventTypeSet>> produces;  // `produces:`, for the type-flow check
  // The nearest named organization entry this one is nested in (a risk profile's classifier, a
  // strategy's portfolio), "" at the top level and in `containers:`.
  std::string parent;
};

struct Config {
  std::string file;  // path as given, for messages
  RouterSettings router;
  std::string pattern = "flexible";
  std::vector<AdapterConfig> adapters;
  bool adapters_present = false;  // `adapters:` key was given (even if empty)
  Mark adapters_mark;             // of the `adapters:` key; of the document when absent
  std::optional<Located<std::string>> organization;
  // Every container the config declares, in file order (adapters may still name others: the
  // spec's implicit declaration).
  std::vector<ContainerDecl> containers;
};

}  // namespace evr::config
