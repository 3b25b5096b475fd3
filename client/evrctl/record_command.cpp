// `evrctl record`: what evrouterd routes to one container, as JSON lines in a file (the events
// whole: header and payload, evr::toJson), through the tap. `evrctl replay` publishes such a file
// again, and evr::testing::Harness feeds it to a container's handlers in a unit test
// (docs/testing.md).
//
// The tap copies events as evrouterd routes them, so a recording holds what was routed to the
// container while it ran, also what waited in its queue; it starts when the daemon has the
// subscription (its log says "tap: 1 subscriber").

#include <signal.h>

#include <fstream>
#include <iostream>
#include <memory>
#include <string>

#include "command.hpp"
#include "control_client.hpp"
#include "evr/event_json.hpp"
#include "evr/runtime_dir.hpp"
#include "tap_stream.hpp"

namespace evr::ctl {
namespace {

struct RecordOptions {
  ControlOptions control;  // its endpoint, and the keys for both sockets
  std::string tap;
  std::string container;
  std::string out;
  std::uint64_t count = 0;
  double seconds = 0;
};

int runRecord(const RecordOptions& options) {
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  sigprocmask(SIG_BLOCK, &stop_signals, nullptr);

  std::ofstream out(options.out, std::ios::trunc);
  if (!out) {
    std::cerr << "evrctl record: cannot write " << options.out << '\n';
    return kExitError;
  }
  zmq::context_t context(1);
  std::string endpoint = options.tap;
  if (endpoint.empty()) {
    const auto found = tapEndpointOf(options.control, 5.0);
    if (!found) return kExitTimeout;
    endpoint = *found;
  }
  TapStream tap(context, options.control.keys, endpoint);
  const Deadline deadline(options.seconds);
  std::uint64_t recorded = 0;
  const auto report = [&](std::string_view why) {
    std::cerr << "evrctl record: " << recorded << " events to '" << options.container << "' in "
              << options.out << " (" << why << ")\n";
  };
  while (options.count == 0 || recorded < options.count) {
    if (deadline.expired()) {
      report("--seconds " + describeSeconds(options.seconds));
      return kExitOk;
    }
    timespec none{};
    if (sigtimedwait(&stop_signals, nullptr, &none) > 0) {
      report("interrupted");
      return kExitOk;
    }
    const auto tapped = tap.next(deadline.remaining(std::chrono::milliseconds(200)));
    if (!tapped || !tapped->routedTo(options.container)) continue;
    // Text from other processes need not be valid UTF-8: replace, never throw.
    out << toJson(tapped->event).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
    out.flush();  // a recording cut short by a crash keeps every whole line
    if (!out) throw std::runtime_error("cannot write " + options.out);
    ++recorded;
  }
  report("--count");
  return kExitOk;
}

}  // namespace

Command addRecordCommand(CLI::App& parent) {
  auto options = std::make_shared<RecordOptions>();
  CLI::App* app = parent.add_subcommand(
      "record", "Record the events evrouterd routes to a container, as JSON lines (for replay and "
                "evr::testing::Harness).");
  app->add_option("--container", options->container, "The container whose input to record")->required();
  app->add_option("--out", options->out, "The file to write (FILE.jsonl; replaced)")->required();
  app->add_option("--count", options->count, "Stop after this many events (0: no limit)")
      ->capture_default_str();
  app->add_option("--seconds", options->seconds, "Stop after this many seconds (0: until Ctrl-C or --count)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app->add_option("--control", options->control.endpoint,
                  "evrouterd control endpoint, asked where the tap is (" +
                      defaultIpcEndpointHelp("EVR_CONTROL", "evrouterd.ctl") + ")");
  app->add_option("--tap", options->tap, "The tap endpoint itself, instead of asking --control");
  addKeyOptions(*app, options->control.keys);
  app->footer(std::string(kExitCodeHelp) + " The end (--count, --seconds, Ctrl-C) is exit 0.");
  return Command{app, [options] { return runRecord(*options); }};
}

}  // namespace evr::ctl
