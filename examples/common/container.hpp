// Shared plumbing of the demo's containers: the command line every container has, one process's
// bus and connection, and running until done or until SIGINT/SIGTERM.
//
// Each container's main() is then only its trading logic: parse its own options next to
// addContainerOptions, build a Container, give it a step handler (onSteps), and return
// container.run(). Every container's connection orders its inputs by event time (the client
// library's Ordering::EventTime, docs/determinism.md): evrouterd says who the inputs are.

#pragma once

#include <CLI/CLI.hpp>
#include <zmq.hpp>

#include <chrono>
#include <functional>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "evr/bus.hpp"
#include "evr/connection.hpp"
#include "evr/events.hpp"

namespace evr::examples {

struct ContainerArgs {
  std::string name;
  std::string endpoint;  // empty: evr::defaultEndpoint()
};

// --as NAME and --endpoint EP.
void addContainerOptions(CLI::App& app, ContainerArgs& args, std::string default_name);

// One time step of a container's inputs: its event time and the events of it, in the library's
// order (END_OF_DATA aside). Then, once every input has ended, the end (with the last step's time).
using StepHandler = std::function<void(std::int64_t time_ns, const std::vector<evr::Event>& events)>;
using EndHandler = std::function<void(std::int64_t last_time_ns)>;

// One container process: a zmq context, its bus and its connection to evrouterd. A resource:
// not copyable, owned by main(); one per process (it installs the SIGINT/SIGTERM handlers, which
// stop the connection).
class Container {
 public:
  explicit Container(const ContainerArgs& args);
  ~Container();
  Container(const Container&) = delete;
  Container& operator=(const Container&) = delete;

  evr::Bus& bus() { return bus_; }
  evr::Connection& connection() { return connection_; }
  const std::string& name() const { return name_; }

  // Calls `on_step` after each step the connection releases (steps with only END_OF_DATA are not
  // steps), and `on_end` once every input has ended. Call once, before run().
  void onSteps(StepHandler on_step, EndHandler on_end);

  // Serves the link until finish() or SIGINT/SIGTERM, then waits (bounded) until evrouterd has
  // acknowledged everything published. Returns the process exit code: 0, or 1 on a link error,
  // 130 when interrupted.
  int run();
  // Serves the link for at most `timeout` (Connection::poll), for a container's own loop.
  bool poll(std::chrono::milliseconds timeout);
  // True once SIGINT or SIGTERM arrived (a container's own loop checks it).
  bool interrupted() const;
  // Publishes END_OF_DATA (this container's own, at `time_ns`) and makes run() return.
  void finish(std::int64_t time_ns, const std::string& reason);

 private:
  std::string name_;
  zmq::context_t context_{1};
  evr::Bus bus_;
  evr::Connection connection_;
  bool finished_ = false;
  StepHandler on_step_;
  EndHandler on_end_;
  std::vector<evr::Event> step_;  // the events of the step being released
  std::optional<evr::Bus::SubscriptionId> step_subscription_;  // onSteps' bus handler
  std::int64_t last_step_ = 0;
};

}  // namespace evr::examples
