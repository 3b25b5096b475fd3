// `evrctl recv`: join evrouterd as a container and print every event routed to it, one per line.
//
// SIGINT/SIGTERM end the command cleanly (the connection says BYE). They are blocked for the whole
// process before the zmq context starts its threads, and polled between link polls with
// sigtimedwait, so no signal handler or global flag is needed.

#include <signal.h>

#include <zmq.hpp>

#include <chrono>
#include <ctime>
#include <iostream>
#include <memory>
#include <optional>
#include <string>

#include "command.hpp"
#include "evr/runtime_dir.hpp"
#include "evr/bus.hpp"
#include "evr/connection.hpp"
#include "evr/event_json.hpp"

namespace evr::ctl {
namespace {

using namespace std::chrono_literals;

// How long one link poll may block: the latency of noticing SIGINT or the deadline.
constexpr std::chrono::milliseconds kPollSlice = 50ms;

struct RecvOptions {
  KeyOptions keys;
  std::string container;
  std::uint64_t count = 0;
  double timeout = 10;
  bool json = false;
  std::string endpoint;
  std::string position_file;
  bool print_once = false;  // --at-most-once
  bool ordered = false;     // --ordered
};

// Blocks SIGINT and SIGTERM for the process while alive (threads started meanwhile inherit the
// mask) and reports whether one arrived.
class StopSignals {
 public:
  StopSignals() {
    sigemptyset(&set_);
    sigaddset(&set_, SIGINT);
    sigaddset(&set_, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set_, &previous_);
  }
  ~StopSignals() {
    // A signal still pending would be delivered on unblocking; we have handled it already.
    while (received()) {
    }
    pthread_sigmask(SIG_SETMASK, &previous_, nullptr);
  }
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;

  // Takes one pending stop signal, if any. Never blocks.
  bool received() const {
    const timespec zero{};
    return sigtimedwait(&set_, nullptr, &zero) > 0;
  }

 private:
  sigset_t set_{};
  sigset_t previous_{};
};

std::string formatLine(const Event& event, bool json) {
  if (json) {
    // Text fields from other processes need not be valid UTF-8: replace, never throw.
    return toJson(event).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }
  return toText(event);
}

// Serves the link until --count events arrived (`received` is updated by the bus handler), a stop
// signal, or the deadline. Returns the exit code and says on stderr why it was not 0.
int serveUntilDone(const RecvOptions& options, Connection& connection,
                   const StopSignals& stop_signals, const Deadline& deadline,
                   const std::uint64_t& received) {
  const bool bounded = options.count > 0;
  while (true) {
    if (bounded && received >= options.count) return kExitOk;
    if (stop_signals.received()) {
      if (!bounded) return kExitOk;
      std::cerr << "evrctl recv: interrupted: " << received << " of " << options.count
                << " events arrived\n";
      return kExitTimeout;
    }
    if (deadline.expired()) {
      if (connection.stats().joins == 0) {
        std::cerr << "evrctl recv: could not join evrouterd at " << connection.endpoint()
                  << " as '" << options.container << "' within "
                  << describeSeconds(options.timeout) << " (is evrouterd running?)\n";
        return kExitError;
      }
      if (!bounded) return kExitOk;
      std::cerr << "evrctl recv: timed out after " << describeSeconds(options.timeout) << ": "
                << received << " of " << options.count << " events arrived\n";
      return kExitTimeout;
    }
    connection.poll(deadline.remaining(kPollSlice));
  }
}

int runRecv(const RecvOptions& options) {
  const Deadline deadline(options.timeout);
  const StopSignals stop_signals;  // before the zmq context starts its I/O threads
  // Declared before the connection: its destructor may still dispatch to the handler below.
  std::uint64_t received = 0;
  bool done = false;  // set once the result is decided: later events are not printed
  const bool bounded = options.count > 0;

  zmq::context_t context;
  Bus bus(options.container);
  std::optional<Connection> link;
  connect(link, context, bus,
          {.container = options.container,
           .endpoint = options.endpoint,
           .position_file = options.position_file,
           .position_mode = options.print_once ? PositionMode::BeforeHandling : PositionMode::AfterHandling,
           .ordering = options.ordered ? Ordering::EventTime : Ordering::Arrival},
          options.keys);
  Connection& connection = *link;

  // An event is acked once this handler has returned, so what it does not print must stay
  // unacked: evrouterd then keeps it for the next process under this name.
  bus.subscribeAll([&](const Event& event) {
    if (event.origin() != Origin::Router) return;
    if (done || (bounded && received >= options.count)) {
      connection.stopAcking();  // the rest of the last burst, or what comes while leaving
      return;
    }
    try {
      std::cout << formatLine(event, options.json) << std::endl;  // one line, flushed
      ++received;
    } catch (const std::exception& e) {
      std::cerr << "evrctl recv: skipping an unreadable event: " << e.what() << '\n';
    }
  });

  const int code = serveUntilDone(options, connection, stop_signals, deadline, received);
  done = true;
  return code;
}

}  // namespace

Command addRecvCommand(CLI::App& parent) {
  auto options = std::make_shared<RecvOptions>();
  CLI::App* app = parent.add_subcommand(
      "recv", "Join as a container and print each event routed to it, one per line.");
  app->add_option("--as", options->container, "Container name to join as (as the config names it)")
      ->required();
  app->add_option("--count", options->count,
                  "Exit 0 after this many events; 0 = until --timeout or SIGINT (then exit 0)")
      ->capture_default_str();
  app->add_option("--timeout", options->timeout,
                  "Seconds to wait in all; 0 = no limit. With --count, running out is exit 2")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app->add_flag("--json", options->json,
                "One JSON object per line (docs/events.md) instead of a compact text line");
  addKeyOptions(*app, options->keys);
  app->add_option("--endpoint", options->endpoint,
                  "evrouterd data endpoint (" + defaultIpcEndpointHelp("EVR_ENDPOINT", "evrouterd.sock") + ")");
  app->add_option("--position-file", options->position_file,
                  "Keep the last handled event of each source in this file, so that a restarted "
                  "recv prints nothing it printed before a crash");
  app->add_flag("--at-most-once", options->print_once,
               "With --position-file: after a crash, never print an event again, even the one "
               "being printed when the process died (it is named in a warning instead)")
      ->needs(app->get_option("--position-file"));
  app->add_flag("--ordered", options->ordered,
                "Print in event-time order, a step at a time, once every container that routes "
                "here has passed that time (docs/determinism.md)");
  app->footer(std::string(kExitCodeHelp) +
              " With --count, SIGINT before the count also exits 2.");
  return Command{app, [options] { return runRecv(*options); }};
}

}  // namespace evr::ctl
