// Shared plumbing for the example containers: command line, a Connection, and stopping cleanly
// on SIGINT/SIGTERM. Each example's main() is then only its trading logic.

#pragma once

#include <CLI/CLI.hpp>
#include <signal.h>

#include <atomic>
#include <functional>
#include <iostream>
#include <zmq.hpp>

#include "evr/bus.hpp"
#include "evr/connection.hpp"
#include "evr/events.hpp"

namespace evr::examples {

struct ContainerArgs {
  std::string name;
  std::string endpoint;  // empty: evr::defaultEndpoint()
};

inline void addContainerOptions(CLI::App& app, ContainerArgs& args, std::string default_name) {
  args.name = std::move(default_name);
  app.add_option("--as", args.name, "container name (as the config names it)")->capture_default_str();
  app.add_option("--endpoint", args.endpoint, "evrouterd endpoint (default: $EVR_ENDPOINT or ./run/evrouterd.sock)");
}

inline evr::Connection* g_connection = nullptr;

// Runs `connection` until a handler calls stop() or SIGINT/SIGTERM arrives. Returns the exit code.
inline int runContainer(evr::Connection& connection) {
  g_connection = &connection;
  struct sigaction action{};
  action.sa_handler = [](int) {
    if (g_connection != nullptr) g_connection->stop();  // stop() is async-signal-safe: an atomic and a write()
  };
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
  try {
    connection.run();
  } catch (const evr::ConnectionError& e) {
    std::cerr << connection.container() << ": " << e.what() << '\n';
    return 1;
  }
  g_connection = nullptr;
  return 0;
}

}  // namespace evr::examples
