// Reloader: one path for every config change — SIGHUP and `evrctl reload` alike.
//
// Beside the relay loop (STYLE.md: control/ sits beside the loop): load -> compile -> diff. A
// config that does not load or compile is rejected whole, with every error; one that changes
// what cannot change live (listen and control endpoints, socket-level limits) is refused by
// name; an unchanged file (same digest) is a no-op. Only an accepted change produces a table for
// the loop to install between two messages. Owned and called on the loop thread.

#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "routing/routing_table.hpp"

namespace evr::control {

struct ReloadOutcome {
  bool ok = false;
  bool changed = false;
  std::uint64_t generation = 0;
  std::string digest;
  std::vector<std::string> routes_added;
  std::vector<std::string> routes_removed;
  std::vector<std::string> errors;    // when !ok
  std::vector<std::string> warnings;
  std::shared_ptr<const routing::RoutingTable> table;  // set when ok && changed: install it
};

class Reloader {
 public:
  // `config_path` is the file the daemon started with; `config` and `table` what it loaded.
  Reloader(std::string config_path, config::Config config,
           std::shared_ptr<const routing::RoutingTable> table);

  // Loads `path` (empty: the current config path). On success the reloader's state moves to
  // the new config (path, digest, generation) and the caller installs outcome.table.
  ReloadOutcome reload(const std::string& path = {});

  const std::string& configPath() const { return path_; }
  std::uint64_t generation() const { return generation_; }
  const std::string& digest() const { return digest_; }
  std::uint64_t failures() const { return failures_; }
  // The routing table in force (the initial one, or the last applied reload's).
  const routing::RoutingTable& table() const { return *table_; }

  // "sha-like" hex digest of bytes (FNV-1a 64; identifies a config, not a security measure).
  static std::string digestOf(const std::string& bytes);
  // The table's routes as lines "source: TYPE|TYPE -> targets", for diffs.
  static std::vector<std::string> routeLines(const routing::RoutingTable& table);

 private:
  std::string path_;
  config::Config config_;
  std::shared_ptr<const routing::RoutingTable> table_;
  std::string digest_;
  std::uint64_t generation_ = 1;
  std::uint64_t failures_ = 0;
};

}  // namespace evr::control
