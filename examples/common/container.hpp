// Shared plumbing of the demo's containers: the command line every container has, one process's
// bus and connection, and running until done or until SIGINT/SIGTERM.
//
// Each container's main() is then only its trading logic: parse its own options next to
// addContainerOptions, build a Container, subscribe handlers (usually through a StepMerger,
// step_merger.hpp), and return container.run().

#pragma once

#include <CLI/CLI.hpp>
#include <zmq.hpp>

#include <chrono>
#include <iostream>
#include <string>
#include <vector>

#include "evr/bus.hpp"
#include "evr/connection.hpp"
#include "evr/events.hpp"

namespace evr::examples {

struct ContainerArgs {
  std::string name;
  std::string endpoint;             // empty: evr::defaultEndpoint()
  std::vector<std::string> inputs;  // containers whose END_OF_DATA this one waits for
};

// --as NAME, --endpoint EP and, when `with_inputs`, --inputs A,B (required).
void addContainerOptions(CLI::App& app, ContainerArgs& args, std::string default_name, bool with_inputs = true);

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
};

}  // namespace evr::examples
