#include "control/reloader.hpp"

#include <algorithm>
#include <fmt/format.h>
#include <fstream>
#include <set>
#include <sstream>

#include "config/config_loader.hpp"
#include "topology/topology.hpp"

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

std::vector<std::string> Reloader::routeLines(const routing::RoutingTable& table) {
  std::vector<std::string> lines;
  std::istringstream text(table.describe());
  std::string line;
  bool in_routes = false;
  while (std::getline(text, line)) {
    if (line == "routes:") {
      in_routes = true;
      continue;
    }
    if (in_routes && line.find("(no routes)") == std::string::npos) {
      lines.push_back(line.substr(line.find_first_not_of(' ')));
    }
  }
  std::sort(lines.begin(), lines.end());
  return lines;
}

ReloadOutcome Reloader::reload(const std::string& requested_path) {
  ReloadOutcome outcome;
  const std::string path = requested_path.empty() ? path_ : requested_path;
  const auto reject = [&](std::vector<std::string> errors) {
    ++failures_;
    outcome.ok = false;
    outcome.errors = std::move(errors);
    outcome.generation = generation_;
    outcome.digest = digest_;
    return outcome;
  };

  const auto bytes = readBytes(path);
  if (!bytes) return reject({path + ": cannot read the config file"});
  const std::string digest = digestOf(*bytes);

  config::Diagnostics diagnostics;
  auto config = config::loadConfigText(*bytes, path, diagnostics);
  std::shared_ptr<const routing::RoutingTable> table;
  if (config) table = topology::compileTopology(*config, diagnostics);
  for (const auto& d : diagnostics.all()) {
    if (d.severity == config::Severity::Warning) outcome.warnings.push_back(d.toString());
  }
  if (diagnostics.hasErrors() || !table) {
    std::vector<std::string> errors;
    for (const auto& d : diagnostics.all()) {
      if (d.severity == config::Severity::Error) errors.push_back(d.toString());
    }
    return reject(std::move(errors));
  }

  // What the running sockets were made with cannot change by a reload: say so by name.
  std::vector<std::string> refused;
  const auto& before = config_.router;
  const auto& after = config->router;
  if (endpointsOf(before) != endpointsOf(after)) {
    refused.push_back(path + ": router.listen cannot change by a reload (restart evrouterd)");
  }
  if ((before.control ? before.control->value : "") != (after.control ? after.control->value : "") ||
      before.control_allow_remote != after.control_allow_remote) {
    refused.push_back(path + ": router.control cannot change by a reload (restart evrouterd)");
  }
  if (before.metrics != after.metrics) {
    refused.push_back(path + ": router.metrics cannot change by a reload (restart evrouterd)");
  }
  if (before.max_message_size != after.max_message_size || before.queue_limit != after.queue_limit ||
      before.max_hops != after.max_hops || before.heartbeat_ms != after.heartbeat_ms ||
      before.shutdown_grace_ms != after.shutdown_grace_ms) {
    refused.push_back(path + ": router limits (queue_limit, max_hops, max_message_size, heartbeat_ms, "
                             "shutdown_grace_ms) cannot change by a reload (restart evrouterd)");
  }
  if (!refused.empty()) return reject(std::move(refused));

  outcome.ok = true;
  if (digest == digest_ && path == path_) {
    outcome.changed = false;  // the same file, byte for byte: nothing to do
    outcome.generation = generation_;
    outcome.digest = digest_;
    return outcome;
  }
  const auto old_lines = routeLines(*table_);
  const auto new_lines = routeLines(*table);
  std::set_difference(new_lines.begin(), new_lines.end(), old_lines.begin(), old_lines.end(),
                      std::back_inserter(outcome.routes_added));
  std::set_difference(old_lines.begin(), old_lines.end(), new_lines.begin(), new_lines.end(),
                      std::back_inserter(outcome.routes_removed));
  path_ = path;
  digest_ = digest;
  config_ = std::move(*config);
  table_ = table;
  ++generation_;
  outcome.changed = true;
  outcome.generation = generation_;
  outcome.digest = digest_;
  outcome.table = std::move(table);
  return outcome;
}

}  // namespace evr::control
