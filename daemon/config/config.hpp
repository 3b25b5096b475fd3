// The config model: plain values parsed from YAML by config_loader, before names are resolved.
//
// Stage 1 of the daemon's chain: YAML -> Config (here) -> Topology -> RoutingTable -> relay loop.
// Every value remembers where it came from (Mark) so that later stages can report errors at the
// right file:line:col. Nothing here knows about sockets or routing, nor about the keys of each
// adapter type: those belong to the type (routing/<type>_adapter.hpp).

#pragma once

#include <any>
#include <cassert>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config/delivery.hpp"
#include "config/diagnostics.hpp"
#include "evr/event_types.hpp"

namespace evr::config {

template <typename T>
struct Located {
  T value{};
  Mark mark;
};

// `router.journal:` (docs/delivery.md, section 3): where and how the daemon journals events.
struct JournalSettings {
  enum class Fsync : std::uint8_t { Batch, Interval, None };
  // Absolute, or as written when the config has no file; a relative path in the file is resolved
  // against the config file's directory (docs/config.md, "journal").
  std::string path;
  Fsync fsync = Fsync::Batch;
  std::uint32_t interval_ms = 100;  // with Fsync::Interval only
  bool all_types = false;           // `types: all`; false: lossless types only
  Mark mark;                        // of the `journal:` key
};

// "batch", "interval", "none".
std::string_view fsyncName(JournalSettings::Fsync fsync);

// What a client key may do on the control socket (docs/security.md): `read` is status, stats,
// graph, tap and top; `admin` is those and reload.
enum class ControlRole : std::uint8_t { None, Read, Admin };
std::string_view controlRoleName(ControlRole role);

// One entry of `router.security.clients`: a container process's (or an operator's) public key,
// the container names it may join as, and its control role.
struct ClientKeyConfig {
  std::string public_key;  // Z85, 40 characters
  Mark mark;               // of the `key:` value
  std::vector<Located<std::string>> names;
  ControlRole control = ControlRole::None;
};

// `router.security:` (docs/security.md): CURVE on every endpoint, and who may join as what.
struct SecuritySettings {
  // The path as written (a relative one resolved against the config file's directory), and the
  // file actually read: under systemd's LoadCredential= the one in $CREDENTIALS_DIRECTORY.
  Located<std::string> secret_key_file;
  std::string secret_key_read_from;
  std::string public_key;  // evrouterd's own, Z85
  std::string secret_key;  // Z85; never logged or reported
  std::vector<ClientKeyConfig> clients;
};

// `router.permissions:` one container's publish permission: events of other types from it are
// dropped (counted `denied`) and never routed.
struct PublishPermission {
  Located<std::string> container;
  Located<EventTypeSet> publish;
};

// One entry of `router.limits:` (docs/config.md, "limits"): the inbound rate of one container.
struct RateLimit {
  std::uint32_t events_per_s = 0;  // 0: unlimited
  std::uint32_t burst = 0;         // tokens the bucket holds; 0 when unlimited
  bool operator==(const RateLimit&) const = default;
};

// `router.limits:`, a map by container name; "default" applies to every name not listed.
// Read by config/limits_section.cpp; names the config does not declare are warned about by the
// topology (they limit nothing until such a container joins).
struct LimitsSettings {
  RateLimit default_limit;  // events_per_s 0 (unlimited) when `limits` or `default` is absent
  std::vector<std::pair<Located<std::string>, RateLimit>> containers;  // in file order
  // The limit for `name`: its own entry, else the default.
  const RateLimit& of(std::string_view name) const {
    for (const auto& [entry, limit] : containers) {
      if (entry.value == name) return limit;
    }
    return default_limit;
  }
  bool operator==(const LimitsSettings& other) const {
    if (!(default_limit == other.default_limit) || containers.size() != other.containers.size()) {
      return false;
    }
    for (std::size_t i = 0; i < containers.size(); ++i) {
      if (containers[i].first.value != other.containers[i].first.value ||
          !(containers[i].second == other.containers[i].second)) {
        return false;
      }
    }
    return true;
  }
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
  std::uint32_t replay_limit = 100000;       // per target: events sent and not yet acked
  std::uint64_t replay_bytes_limit = 67108864;  // per target: their bytes, beside replay_limit
  std::uint32_t stall_timeout_ms = 5000;     // a lossless target silent this long is stalled
  std::uint32_t max_connections = 1024;      // containers joined at once; more: ERROR overloaded
  std::uint64_t queue_bytes_limit = 268435456;  // event bytes queued per target, beside queue_limit
  LimitsSettings limits;                     // per-container inbound rate limits
  std::optional<JournalSettings> journal;    // absent: no journal
  // The control endpoint (evrctl). ipc with a relative path lives in the runtime directory;
  // absent: `ipc://evrouterd.ctl`. A tcp endpoint must be on loopback unless
  // `control_allow_remote: true`.
  std::optional<Located<std::string>> control;
  bool control_allow_remote = false;
  std::optional<SecuritySettings> security;   // absent: no CURVE, anyone who reaches a socket joins
  std::vector<PublishPermission> permissions;  // empty: every container may publish every type
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

// One adapter of `event_communication.adapters`: what every adapter has, and its type's own
// value. The keys of each type are read and checked by the type's parse function
// (routing/<type>_adapter.cpp, through config/adapter_yaml.hpp) into `settings`, a
// `routing::<Type>Config` value that only that type's compiler reads.
struct AdapterConfig {
  std::string type;                       // "pipeline", "broadcast", ... (registry key)
  std::string name;                       // `name:`, or "<type>#<index>" when absent
  Mark mark;                              // of the adapter's mapping
  Mark type_mark;                         // of the `type:` value (the mapping when absent)
  Mark name_mark;                         // of the `name:` value (the mapping when absent)
  // `events:` type filter; absent means every type
  std::optional<Located<EventTypeSet>> events;
  // Generated from `organization:` (topology/organization.hpp), not written in the file; its
  // marks point at the organization.
  bool generated = false;
  // The type's own value, e.g. routing::PipelineConfig. Copyable like the rest of the config.
  std::any settings;

  // The type's value; an empty T when `settings` holds none (a config built in code that left
  // it out). Asserts when it holds another type's value: that is a bug, not bad input.
  template <typename T>
  const T& as() const {
    static const T kEmpty{};
    const T* value = std::any_cast<T>(&settings);
    assert((value != nullptr || !settings.has_value()) &&
           "AdapterConfig::settings holds another adapter type's value");
    return value != nullptr ? *value : kEmpty;
  }
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
  DeliveryConfig delivery;        // `event_communication.delivery`
  bool adapters_present = false;  // `adapters:` key was given (even if empty)
  Mark adapters_mark;             // of the `adapters:` key; of the document when absent
  std::optional<Located<std::string>> organization;
  // Every container the config declares, in file order (adapters may still name others: the
  // spec's implicit declaration).
  std::vector<ContainerDecl> containers;
};

}  // namespace evr::config
