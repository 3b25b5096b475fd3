// The router of one run: evrouterd with a config generated for the scenario's pattern (and its
// journal or CURVE keys, if the scenario has them), the bare
// relay with the equivalent fixed forwarding table, the plain ZeroMQ relay (zmq_relay.cpp), or
// nats-server on a random loopback port.
// Each is started fresh for every run (so runs are independent and peak RSS belongs to one
// pattern), is ready when start() returns, and is stopped by stop() or, on any failure, killed by
// the destructor. "direct" has no router.

#pragma once

#include <sys/types.h>

#include <csignal>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

#include "process.hpp"
#include "scenarios.hpp"
#include "temp_dir.hpp"

namespace evr::bench {

struct RouterOptions {
  std::string evrouterd;
  std::string bare_relay;
  std::string nats_server;  // empty: not found
  // router.queue_limit in the generated evrouterd configs; 0: the daemon's default. evrouterd acks
  // an event when it takes it, not when the target has it, so a publisher faster than a consumer
  // fills that consumer's queue and, at the limit, events are dropped (queue_full) and reported.
  std::uint64_t evrouterd_queue_limit = 0;
};

// The defaults: evrouterd and evr_bare_relay from the build tree this binary is in, nats-server
// from PATH (then /usr/sbin, /usr/bin).
RouterOptions defaultRouterOptions();

// Empty when `system` can run here; otherwise why not, e.g. "not installed: nats-server".
std::string unavailableReason(System system, const RouterOptions& routers);

// The evrouterd config of a scenario run in `run_dir` (the run's temp dir, so all goes with the
// run). With scenario.journal, router.journal is on with its fsync mode and its segments in
// run_dir/journal. With scenario.curve, router.security is on with the key files in run_dir
// (scenarios.hpp: kServerKeyPrefix, kClientKeyPrefix; Router::start makes them).
std::string evrouterdConfig(const Scenario& scenario, std::uint64_t queue_limit, const std::filesystem::path& run_dir);

class Router {
 public:
  // Starts the scenario's router in `dir` and waits (bounded) until it accepts connections.
  // nullptr for "direct". Throws std::runtime_error with the router's output on failure.
  static std::unique_ptr<Router> start(const Scenario& scenario, const evr::test::TempDir& dir,
                                       const RouterOptions& routers);

  // evrouterd with the config `yaml` (written to `dir`), listening on ipc in `dir`; `label` names
  // it in errors. What start() does for an evrouterd scenario, for configs no scenario makes (the
  // lockstep curve, curves.hpp).
  static std::unique_ptr<Router> startEvrouterd(const std::string& yaml, const evr::test::TempDir& dir,
                                                const RouterOptions& routers, const std::string& label);

  pid_t pid() const { return process_->pid(); }
  // Where publishers and consumers connect.
  const std::string& endpoint() const { return endpoint_; }
  // Its stop signal and a bounded wait; returns everything it printed (its log). Throws when it
  // does not stop or exits with an error.
  std::string stop();

 private:
  Router(std::string label, std::unique_ptr<evr::test::Process> process, std::string endpoint,
         int stop_signal = SIGTERM);
  std::string label_;
  int stop_signal_;
  std::unique_ptr<evr::test::Process> process_;
  std::string endpoint_;
};

}  // namespace evr::bench
