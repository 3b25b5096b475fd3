// Integration-test helpers: a real evrouterd in a temporary runtime directory, and container
// processes (evr_test_peer, evrctl) pointed at it. Everything is bounded by timeouts; nothing
// sleeps to synchronise (readiness is the daemon's own start-of-loop log line).

#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "daemon_stats.hpp"
#include "process.hpp"
#include "temp_dir.hpp"

namespace evr::test {

using namespace std::chrono_literals;

class RunningDaemon {
 public:
  // Writes `yaml` to <tmp>/evrouter.yaml and starts evrouterd on it; waits until it listens.
  explicit RunningDaemon(const std::string& yaml);
  ~RunningDaemon() = default;

  const TempDir& dir() const { return dir_; }
  const std::string& endpoint() const { return endpoint_; }
  const std::string& configPath() const { return config_path_; }
  // The control socket (evrctl status, stats, reload; statsOf in daemon_stats.hpp).
  std::string controlEndpoint() const { return dir_.ipc("evrouterd.ctl"); }
  Process& process() { return *process_; }

  // Starts evrouterd again (after stop()), same config and runtime dir; waits until it listens.
  void restart();
  // SIGTERM, then the exit code; the whole stderr is kept in log().
  int stop(std::chrono::milliseconds timeout = 20s);
  const std::string& log() const { return log_; }

  // evr_test_peer --endpoint <ours> <args...>
  std::unique_ptr<Process> peer(std::vector<std::string> args) const;
  // evrctl <args...> with --endpoint <ours> appended after the subcommand (args[0]).
  std::unique_ptr<Process> evrctl(std::vector<std::string> args) const;
  // evrctl <args...> with --control <our control socket> after the subcommand (status, stats, reload).
  std::unique_ptr<Process> evrctlControl(std::vector<std::string> args) const;

 private:
  void start();
  TempDir dir_;
  std::string config_path_;
  std::string endpoint_;
  std::unique_ptr<Process> process_;
  std::string log_;
};

// Reads `key=value` pairs from a line such as "summary received=10 ok=1".
std::map<std::string, std::string> parseFields(const std::string& line);

}  // namespace evr::test
