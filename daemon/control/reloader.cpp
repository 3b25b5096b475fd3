#include "control/reloader.hpp"

#include <spdlog/spdlog.h>
#include <systemd/sd-daemon.h>

#include <algorithm>
#include <ctime>
#include <fmt/format.h>
#include <fstream>
#include <sstream>

#include "topology/compile_config.hpp"
#include "transport/relay_loop.hpp"

namespace evr::control {
namespace {

std::optional<std::string> readBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::stringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

std::vector<std::string> endpointsOf(const config::RouterSettings& router) {
  std::vector<std::string> out;
  for (const auto& listen : router.listen) out.push_back(listen.value);
  return out;
}

// Routes of `from` that `to` does not have, as sorted lines.
std::vector<std::string> routesMissing(const std::vector<routing::RouteSummary>& to,
                                       const std::vector<routing::RouteSummary>& from) {
  std::vector<std::string> out;
  for (const auto& route : from) {
    if (std::find(to.begin(), to.end(), route) == to.end()) out.push_back(route.toString());
  }
  std::sort(out.begin(), out.end());
  return out;
}

// What the running sockets were made with cannot change by a reload: say so by name. The limits
// of docs/delivery.md "Limits" (router.max_connections, queue_bytes_limit, limits) are not
// compared here: they change live (RelayLoop::applyLimits, called by applyReload).
std::vector<std::string> refusedChanges(const std::string& path,
                                        const config::RouterSettings& before,
                                        const config::RouterSettings& after) {
  std::vector<std::string> refused;
  if (endpointsOf(before) != endpointsOf(after)) {
    refused.push_back(path + ": router.listen cannot change by a reload (restart evrouterd)");
  }
  if ((before.control ? before.control->value : "") !=
          (after.control ? after.control->value : "") ||
      before.control_allow_remote != after.control_allow_remote) {
    refused.push_back(path + ": router.control cannot change by a reload (restart evrouterd)");
  }
  if (before.metrics != after.metrics) {
    refused.push_back(path + ": router.metrics cannot change by a reload (restart evrouterd)");
  }
  if (before.max_message_size != after.max_message_size ||
      before.queue_limit != after.queue_limit || before.max_hops != after.max_hops ||
      before.heartbeat_ms != after.heartbeat_ms ||
      before.shutdown_grace_ms != after.shutdown_grace_ms ||
      before.replay_limit != after.replay_limit ||
      before.replay_bytes_limit != after.replay_bytes_limit ||
      before.stall_timeout_ms != after.stall_timeout_ms) {
    refused.push_back(path +
                      ": router limits (queue_limit, max_hops, max_message_size, heartbeat_ms, "
                      "shutdown_grace_ms, replay_limit, replay_bytes_limit, stall_timeout_ms) cannot "
                      "change by a reload (restart evrouterd)");
  }
  const auto journalText = [](const config::RouterSettings& router) {
    if (!router.journal) return std::string("off");
    const auto& j = *router.journal;
    return j.path + "|" + std::string(config::fsyncName(j.fsync)) + "|" +
           std::to_string(j.interval_ms) + "|" + (j.all_types ? "all" : "lossless");
  };
  if (journalText(before) != journalText(after)) {
    refused.push_back(path + ": router.journal cannot change by a reload (restart evrouterd)");
  }
  // The sockets were made with CURVE and this key, or without: clients and permissions can change.
  if (before.security.has_value() != after.security.has_value()) {
    refused.push_back(path + ": router.security cannot be turned " + (after.security ? "on" : "off") +
                      " by a reload (restart evrouterd)");
  } else if (before.security && (before.security->secret_key_file.value != after.security->secret_key_file.value ||
                                 before.security->public_key != after.security->public_key)) {
    refused.push_back(path + ": router.security.secret_key_file cannot change by a reload (restart evrouterd)");
  }
  return refused;
}

// What a reload may change beside the file's bytes: the keys read from the files it names.
std::string keysText(const config::RouterSettings& router) {
  if (!router.security) return "off";
  std::string out;
  for (const auto& client : router.security->clients) {
    out += client.public_key + ":" + std::string(config::controlRoleName(client.control));
    for (const auto& name : client.names) out += "," + name.value;
    out += ";";
  }
  return out;
}

}  // namespace

Reloader::Reloader(std::string config_path, config::Config config,
                   std::shared_ptr<const routing::RoutingTable> table)
    : path_(std::move(config_path)), config_(std::move(config)), table_(std::move(table)) {
  digest_ = digestOf(readBytes(path_).value_or(""));
}

std::string Reloader::digestOf(const std::string& bytes) {
  std::uint64_t hash = 1469598103934665603ull;
  for (const unsigned char c : bytes) {
    hash ^= c;
    hash *= 1099511628211ull;
  }
  return fmt::format("{:016x}", hash);
}

ReloadOutcome Reloader::reload(const std::string& requested_path) {
  auto outcome = reloadUncounted(requested_path.empty() ? path_ : requested_path);
  if (!outcome.ok) {
    ++counts_.rejected;
  } else if (outcome.changed) {
    ++counts_.applied;
  } else {
    ++counts_.unchanged;
  }
  return outcome;
}

ReloadOutcome Reloader::reloadUncounted(const std::string& path) {
  ReloadOutcome outcome;
  outcome.generation = generation_;
  outcome.digest = digest_;
  const auto reject = [&](std::vector<std::string> errors) {
    outcome.errors = std::move(errors);
    return outcome;
  };

  const auto bytes = readBytes(path);
  if (!bytes) return reject({path + ": cannot read the config file"});
  const std::string digest = digestOf(*bytes);

  std::vector<std::string> errors;
  auto compiled = topology::compileConfigText(*bytes, path, [&](const config::Diagnostic& d) {
    (d.severity == config::Severity::Error ? errors : outcome.warnings).push_back(d.toString());
  });
  if (!compiled.ok()) return reject(std::move(errors));
  if (auto refused = refusedChanges(path, config_.router, compiled.config->router);
      !refused.empty()) {
    return reject(std::move(refused));
  }

  outcome.ok = true;
  if (digest == digest_ && path == path_ && keysText(config_.router) == keysText(compiled.config->router)) {
    return outcome;  // the same file, byte for byte, and the same keys: a no-op
  }
  const auto before = table_->routes();
  const auto after = compiled.table->routes();
  outcome.routes_added = routesMissing(before, after);
  outcome.routes_removed = routesMissing(after, before);
  path_ = path;
  digest_ = digest;
  config_ = std::move(*compiled.config);
  table_ = compiled.table;
  ++generation_;
  outcome.changed = true;
  outcome.generation = generation_;
  outcome.digest = digest_;
  outcome.table = std::move(compiled.table);
  return outcome;
}

ReloadOutcome applyReload(Reloader& reloader, transport::RelayLoop& loop, const std::string& path) {
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%llu",
             static_cast<unsigned long long>(now.tv_sec) * 1000000ULL +
                 static_cast<unsigned long long>(now.tv_nsec) / 1000ULL);
  auto outcome = reloader.reload(path);
  for (const auto& warning : outcome.warnings) spdlog::warn("{}", warning);
  if (!outcome.ok) {
    for (const auto& error : outcome.errors) spdlog::error("{}", error);
    spdlog::error("reload rejected ({} failed so far): the running routes stay in force",
                  reloader.failures());
  } else if (!outcome.changed) {
    spdlog::info("reload: {} is unchanged (generation {}); nothing to do", reloader.configPath(),
                 outcome.generation);
  } else {
    loop.installTable(outcome.table);
    loop.setPermissions(reloader.config().router.permissions);
    if (const auto& security = reloader.config().router.security) {
      loop.setAccess(security::AccessList::compile(*security));
    }
    loop.applyLimits(reloader.config().router);
    spdlog::info("reload applied: generation {} digest {} from {}: {} routes added, {} removed",
                 outcome.generation, outcome.digest, reloader.configPath(),
                 outcome.routes_added.size(), outcome.routes_removed.size());
  }
  sd_notify(0, "READY=1");
  return outcome;
}

}  // namespace evr::control
