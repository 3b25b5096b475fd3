// Reloader: one path for every config change — SIGHUP and `evrctl reload` alike.
//
// Beside the relay loop (STYLE.md: control/ sits beside the loop): load -> compile -> diff. A
// config that does not load or compile is rejected whole, with every error; one that changes
// what cannot change live (listen and control endpoints, socket-level limits) is refused by
// name; an unchanged file (same digest) is a no-op. Only an accepted change produces a table for
// the loop to install between two messages. The Reloader owns the reload counters (applied,
// unchanged, rejected: evrctl status and evrouter_reloads_total read the same numbers), and
// applyReload() is the daemon's whole reload policy around it (systemd notifications, the log,
// installing the table). Owned and called on the loop thread.

#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "routing/routing_table.hpp"

namespace evr::transport {
class RelayLoop;
}

namespace evr::control {

struct ReloadOutcome {
  bool ok = false;
  bool changed = false;
  std::uint64_t generation = 0;
  std::string digest;
  std::vector<std::string> routes_added;    // RouteSummary::toString(), sorted
  std::vector<std::string> routes_removed;  // likewise
  std::vector<std::string> errors;          // when !ok
  std::vector<std::string> warnings;
  std::shared_ptr<const routing::RoutingTable> table;  // set when ok && changed: install it
};

// What every reload so far came to.
struct ReloadCounts {
  std::uint64_t applied = 0;
  std::uint64_t unchanged = 0;
  std::uint64_t rejected = 0;  // did not load or compile, or changed what cannot change live
};

class Reloader {
 public:
  // `config_path` is the file the daemon started with; `config` and `table` what it loaded.
  Reloader(std::string config_path, config::Config config,
           std::shared_ptr<const routing::RoutingTable> table);

  // Loads `path` (empty: the current config path). On success the reloader's state moves to
  // the new config (path, digest, generation) and the caller installs outcome.table. Counted.
  ReloadOutcome reload(const std::string& path = {});

  const std::string& configPath() const { return path_; }
  // The config in force (the initial one, or the last applied reload's; key files as read then).
  const config::Config& config() const { return config_; }
  std::uint64_t generation() const { return generation_; }
  const std::string& digest() const { return digest_; }
  const ReloadCounts& counts() const { return counts_; }
  std::uint64_t failures() const { return counts_.rejected; }
  // The routing table in force (the initial one, or the last applied reload's).
  const routing::RoutingTable& table() const { return *table_; }

  // "sha-like" hex digest of bytes (FNV-1a 64; identifies a config, not a security measure).
  static std::string digestOf(const std::string& bytes);

 private:
  ReloadOutcome reloadUncounted(const std::string& path);

  std::string path_;
  config::Config config_;
  std::shared_ptr<const routing::RoutingTable> table_;
  std::string digest_;
  std::uint64_t generation_ = 1;
  ReloadCounts counts_;
};

// The daemon's reload policy, for SIGHUP and `evrctl reload`: tells systemd RELOADING, reloads
// `path` (empty: the current config), logs the outcome and every diagnostic, installs an accepted
// table in `loop`, and tells systemd READY again. Loop thread only.
ReloadOutcome applyReload(Reloader& reloader, transport::RelayLoop& loop, const std::string& path);

}  // namespace evr::control
