// The `router:` section (docs/config.md, "router"): listen endpoints, limits, the control and
// metrics endpoints.

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <limits>
#include <optional>
#include <string>

#include "config/sections.hpp"
#include "config/host_port.hpp"

namespace evr::config {
namespace {

constexpr std::string_view kRouterKeys[] = {
    "control",          "control_allow_remote", "heartbeat_ms",       "journal",
    "limits",           "listen",               "max_connections",    "max_hops",
    "max_message_size", "metrics",              "permissions",        "queue_bytes_limit",
    "queue_limit",      "replay_bytes_limit",   "replay_limit",       "security",
    "shutdown_grace_ms", "stall_timeout_ms"};
constexpr std::string_view kJournalKeys[] = {"fsync", "interval_ms", "path", "types"};
constexpr std::string_view kFsyncNames[] = {"batch", "interval", "none"};
constexpr std::string_view kJournalTypes[] = {"lossless", "all"};
constexpr std::string_view kListenSchemes[] = {"ipc://", "tcp://", "inproc://"};

template <typename T>
void loadInteger(YamlReader& reader, const YamlEntry& entry, T& field, std::int64_t min,
                 std::int64_t max) {
  if (const auto value = reader.readInteger(entry, min, max)) field = static_cast<T>(*value);
}

// ipc and inproc endpoints, and tcp on a loopback address.
bool isLocalEndpoint(const std::string& endpoint) {
  if (endpoint.rfind("tcp://", 0) != 0) return true;
  const std::string rest = endpoint.substr(6);
  return rest.rfind("127.", 0) == 0 || rest.rfind("localhost:", 0) == 0 || rest.rfind("[::1]:", 0) == 0;
}

// Only what can be told without binding: the scheme, and an address after it.
std::optional<std::string> checkEndpoint(const std::string& endpoint) {
  if (endpoint.empty()) return "empty listen endpoint";
  const auto scheme =
      std::find_if(std::begin(kListenSchemes), std::end(kListenSchemes),
                   [&](std::string_view prefix) { return endpoint.starts_with(prefix); });
  if (scheme == std::end(kListenSchemes)) {
    return "listen endpoint '" + endpoint + "' has an unsupported scheme; expected " +
           join(kListenSchemes);
  }
  const std::string_view address = std::string_view(endpoint).substr(scheme->size());
  if (address.empty()) return "listen endpoint '" + endpoint + "' has no address";
  if (*scheme == "tcp://") {
    const auto colon = address.rfind(':');
    const std::string_view port =
        colon == std::string_view::npos ? std::string_view() : address.substr(colon + 1);
    const bool numeric = !port.empty() && std::all_of(port.begin(), port.end(), [](char c) {
      return std::isdigit(static_cast<unsigned char>(c)) != 0;
    });
    if (colon == 0 || (!numeric && port != "*")) {
      return "listen endpoint '" + endpoint + "' needs host:port (e.g. tcp://127.0.0.1:5560)";
    }
  }
  return std::nullopt;
}

void loadListen(YamlReader& reader, const YamlEntry& entry, RouterSettings& router) {
  const auto listed = reader.scalarOrList(entry, "an endpoint", "endpoints");
  if (!listed) return;
  for (const auto& item : *listed) {
    const Mark mark = reader.itemMark(item, entry.value_mark);
    if (!item.IsScalar()) {
      reader.diagnostics().error(mark, "expected an endpoint such as 'tcp://127.0.0.1:5560', got " +
                                           describe(item));
      continue;
    }
    const std::string& endpoint = item.Scalar();
    if (const auto problem = checkEndpoint(endpoint)) {
      reader.diagnostics().error(mark, *problem);
      continue;
    }
    const auto same = std::find_if(router.listen.begin(), router.listen.end(),
                                   [&](const auto& other) { return other.value == endpoint; });
    if (same != router.listen.end()) {
      reader.diagnostics().error(mark, "listen endpoint '" + endpoint +
                                           "' is given twice (first at " +
                                           lineColumn(same->mark) + ")");
      continue;
    }
    router.listen.push_back(Located<std::string>{endpoint, mark});
  }
}

void loadMetrics(YamlReader& reader, const YamlEntry& entry, RouterSettings& router) {
  Diagnostics& diagnostics = reader.diagnostics();
  // "off", or host:port (config/host_port.hpp; main parses it again when it starts the server).
  if (!entry.value.IsScalar()) {
    diagnostics.error(entry.value_mark, "expected \"host:port\" or \"off\" for 'metrics', got " +
                                            describe(entry.value));
  } else if (entry.value.Scalar() != "off" && !parseHostPort(entry.value.Scalar())) {
    diagnostics.error(entry.value_mark,
                      "metrics must be \"host:port\" (port 0..65535; \"[::1]:9464\" for "
                      "IPv6) or \"off\", got '" + entry.value.Scalar() + "'");
  } else {
    router.metrics = entry.value.Scalar();
    if (router.metrics != "off" &&
        !isLoopbackHost(parseHostPort(router.metrics)->host)) {
      diagnostics.warning(entry.value_mark, "metrics endpoint '" + router.metrics +
                                                "' is not on loopback: /metrics can be read from "
                                                "other machines");
    }
  }
}

void loadJournal(YamlReader& reader, const YamlEntry& section, RouterSettings& router) {
  Diagnostics& diagnostics = reader.diagnostics();
  if (!section.value.IsMap()) {
    diagnostics.error(section.value_mark, "expected a map with 'path' for 'journal', got " +
                                              describe(section.value));
    return;
  }
  JournalSettings journal;
  journal.mark = section.key_mark;
  bool has_path = false;
  bool path_ok = true;
  std::optional<Mark> interval_mark;
  for (const auto& entry : reader.entries(section.value)) {
    if (entry.key == "path") {
      has_path = true;
      const auto path = reader.readString(entry, "a directory path");
      if (path && path->empty()) {
        diagnostics.error(entry.value_mark, "journal path must not be empty");
        path_ok = false;
      } else if (path) {
        journal.path = resolveAgainstConfig(reader.file(), *path);
      } else {
        path_ok = false;
      }
    } else if (entry.key == "fsync") {
      if (const auto name = reader.readString(entry, "batch, interval or none")) {
        if (*name == "batch") {
          journal.fsync = JournalSettings::Fsync::Batch;
        } else if (*name == "interval") {
          journal.fsync = JournalSettings::Fsync::Interval;
        } else if (*name == "none") {
          journal.fsync = JournalSettings::Fsync::None;
        } else {
          diagnostics.error(entry.value_mark, "unknown fsync mode '" + *name +
                                                  "'; expected one of: " + join(kFsyncNames) +
                                                  didYouMean(*name, kFsyncNames));
        }
      }
    } else if (entry.key == "interval_ms") {
      interval_mark = entry.key_mark;
      loadInteger(reader, entry, journal.interval_ms, 1, 600000);
    } else if (entry.key == "types") {
      if (const auto name = reader.readString(entry, "lossless or all")) {
        if (*name == "lossless" || *name == "all") {
          journal.all_types = *name == "all";
        } else {
          diagnostics.error(entry.value_mark, "journal types must be one of: " +
                                                  join(kJournalTypes) + ", got '" + *name + "'");
        }
      }
    } else {
      reader.unknownKey(entry, "key", "journal", kJournalKeys);
    }
  }
  if (!has_path) {
    diagnostics.error(section.key_mark, "journal needs 'path' (the directory of its segments)");
    return;
  }
  if (interval_mark && journal.fsync != JournalSettings::Fsync::Interval) {
    diagnostics.error(*interval_mark, "journal interval_ms applies only with fsync: interval");
  }
  if (path_ok) router.journal = std::move(journal);
}

}  // namespace

// A relative path in the file (the journal, key files) is relative to the config file's
// directory: unlike the runtime directory (where relative ipc endpoints go), it must survive a
// reboot, and the file is the one place both the operator and the daemon agree on.
std::string resolveAgainstConfig(const std::string& config_file, const std::string& path) {
  const std::filesystem::path written(path);
  if (written.is_absolute()) return written.lexically_normal().string();
  return (std::filesystem::path(config_file).parent_path() / written).lexically_normal().string();
}

std::string_view fsyncName(JournalSettings::Fsync fsync) {
  switch (fsync) {
    case JournalSettings::Fsync::Batch: return "batch";
    case JournalSettings::Fsync::Interval: return "interval";
    case JournalSettings::Fsync::None: return "none";
  }
  return "batch";
}

void loadRouterSection(YamlReader& reader, const YamlEntry& section, RouterSettings& router) {
  Diagnostics& diagnostics = reader.diagnostics();
  if (!section.value.IsMap()) {
    diagnostics.error(section.value_mark,
                      "expected a map of router settings, got " + describe(section.value));
    return;
  }
  constexpr std::int64_t kMaxU32 = std::numeric_limits<std::uint32_t>::max();
  for (const auto& entry : reader.entries(section.value)) {
    if (entry.key == "listen") {
      loadListen(reader, entry, router);
    } else if (entry.key == "queue_limit") {
      loadInteger(reader, entry, router.queue_limit, 1, kMaxU32);
    } else if (entry.key == "max_hops") {
      loadInteger(reader, entry, router.max_hops, 1, 255);
    } else if (entry.key == "max_message_size") {
      loadInteger(reader, entry, router.max_message_size, 64, 268435456);
    } else if (entry.key == "heartbeat_ms") {
      loadInteger(reader, entry, router.heartbeat_ms, 10, 600000);
    } else if (entry.key == "shutdown_grace_ms") {
      loadInteger(reader, entry, router.shutdown_grace_ms, 0, 600000);
    } else if (entry.key == "replay_limit") {
      loadInteger(reader, entry, router.replay_limit, 1, kMaxU32);
    } else if (entry.key == "replay_bytes_limit") {
      loadInteger(reader, entry, router.replay_bytes_limit, 1024, std::int64_t{1} << 40);
    } else if (entry.key == "stall_timeout_ms") {
      loadInteger(reader, entry, router.stall_timeout_ms, 1, kMaxU32);
    } else if (entry.key == "journal") {
      loadJournal(reader, entry, router);
    } else if (entry.key == "max_connections") {
      loadInteger(reader, entry, router.max_connections, 1, kMaxU32);
    } else if (entry.key == "queue_bytes_limit") {
      loadInteger(reader, entry, router.queue_bytes_limit, 1024, std::int64_t{1} << 40);
    } else if (entry.key == "limits") {
      loadLimitsSection(reader, entry, router.limits);
    } else if (entry.key == "control") {
      if (!entry.value.IsScalar()) {
        diagnostics.error(entry.value_mark,
                          "expected an endpoint for 'control', got " + describe(entry.value));
      } else if (const auto problem = checkEndpoint(entry.value.Scalar())) {
        diagnostics.error(entry.value_mark, *problem);
      } else {
        router.control = Located<std::string>{entry.value.Scalar(), entry.value_mark};
      }
    } else if (entry.key == "control_allow_remote") {
      const std::string text = entry.value.IsScalar() ? entry.value.Scalar() : "";
      if (text == "true" || text == "false") {
        router.control_allow_remote = text == "true";
      } else {
        diagnostics.error(entry.value_mark, "control_allow_remote must be true or false, got " +
                                                describe(entry.value));
      }
    } else if (entry.key == "metrics") {
      loadMetrics(reader, entry, router);
    } else if (entry.key == "security") {
      loadSecurity(reader, entry, router);
    } else if (entry.key == "permissions") {
      loadPermissions(reader, entry, router);
    } else {
      reader.unknownKey(entry, "key", "router", kRouterKeys);
    }
  }
  if (!router.security) {
    for (const auto& endpoint : router.listen) {
      if (endpoint.value.starts_with("tcp://")) {
        diagnostics.warning(endpoint.mark,
                            "listen endpoint '" + endpoint.value +
                                "' is tcp without router.security: any process that reaches it "
                                "can join as any container, and events cross it in clear text "
                                "(docs/security.md)");
      }
    }
    if (router.control && router.control_allow_remote && !isLocalEndpoint(router.control->value)) {
      diagnostics.warning(router.control->mark,
                          "control endpoint '" + router.control->value +
                              "' is reachable from other machines without router.security: "
                              "anyone who reaches it can reload the config (docs/security.md)");
    }
  }
  // The admin plane stays on this machine unless the operator says otherwise.
  if (router.control && !router.control_allow_remote && !isLocalEndpoint(router.control->value)) {
    diagnostics.error(router.control->mark,
                      "control endpoint '" + router.control->value +
                          "' is not on loopback; evrctl could be reached from other machines. "
                          "Use 127.0.0.1/[::1]/localhost, an ipc endpoint, or set "
                          "control_allow_remote: true");
  }
}

}  // namespace evr::config
