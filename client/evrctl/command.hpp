// evrctl subcommands: how a command plugs into main.cpp, and what every command shares (exit
// codes, the overall deadline).
//
// Each command lives in its own file and exposes one registration function that adds its
// subcommand to the top-level CLI11 app and returns how to run it. main.cpp only lists them, so a
// new command (status, stats, graph, tap, top, reload, check, journal, trace, record, replay) is one new file, one line here and
// one line in main.cpp. Commands run on the main thread; nothing here is global or mutable.

#pragma once

#include <CLI/CLI.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <zmq.hpp>

#include "evr/bus.hpp"
#include "evr/connection.hpp"

namespace evr::ctl {

// Exit codes shared by every command (documented in --help).
inline constexpr int kExitOk = 0;
inline constexpr int kExitError = 1;    // usage, config or link error
inline constexpr int kExitTimeout = 2;  // the work did not finish within --timeout

inline constexpr const char* kExitCodeHelp =
    "Exit codes: 0 ok, 1 usage/config/link error, 2 timeout.";

// A registered subcommand: `app` is its parser (owned by the parent app), `run` executes it after
// a successful parse and returns the exit code. `run` may throw: main turns an exception into a
// message and exit code 1.
struct Command {
  CLI::App* app = nullptr;
  std::function<int()> run;
};

Command addSendCommand(CLI::App& parent);
Command addRecvCommand(CLI::App& parent);
Command addStatusCommand(CLI::App& parent);
Command addStatsCommand(CLI::App& parent);
Command addReloadCommand(CLI::App& parent);
Command addGraphCommand(CLI::App& parent);
Command addTopCommand(CLI::App& parent);
Command addTapCommand(CLI::App& parent);
Command addCheckCommand(CLI::App& parent);
Command addJournalCommand(CLI::App& parent);
Command addTraceCommand(CLI::App& parent);
Command addKeygenCommand(CLI::App& parent);
Command addRecordCommand(CLI::App& parent);
Command addReplayCommand(CLI::App& parent);
// Hidden `completion bash`: walks `parent`'s commands when it runs, so register it last.
Command addCompletionCommand(CLI::App& parent);

// router.security's keys for every command that connects (docs/security.md): evrouterd's public
// key file and the caller's secret key file. Both empty: no CURVE.
struct KeyOptions {
  std::string server_key;
  std::string key;
};

// --server-key FILE ($EVR_SERVER_KEY) and --key FILE ($EVR_KEY).
inline void addKeyOptions(CLI::App& app, KeyOptions& keys) {
  app.add_option("--server-key", keys.server_key,
                 "evrouterd's public key file (server.pub), when it runs with router.security")
      ->envname("EVR_SERVER_KEY");
  app.add_option("--key", keys.key,
                 "this caller's secret key file (PREFIX.key from `evrctl keygen`), with --server-key")
      ->envname("EVR_KEY");
}

// Makes `socket` a CURVE client when keys are given; throws std::runtime_error when one is
// missing or a file is bad. Before connect.
inline void applyKeys(zmq::socket_t& socket, const KeyOptions& keys) {
  if (keys.server_key.empty() && keys.key.empty()) return;
  if (keys.server_key.empty() || keys.key.empty()) {
    throw std::runtime_error("CURVE needs both --server-key (evrouterd's .pub) and --key (your .key)");
  }
  makeCurveClient(socket, keys.server_key, keys.key);
}

// Asks the daemon at `control` (empty: the default control endpoint) where its tap is.
struct ControlOptions;
std::optional<std::string> tapEndpointOf(const ControlOptions& control, double timeout);

// The whole command's time budget (--timeout SECONDS; 0 or less: no limit).
class Deadline {
 public:
  using Clock = std::chrono::steady_clock;

  explicit Deadline(double seconds)
      : unlimited_(!(seconds > 0)),
        end_(unlimited_ ? Clock::time_point::max()
                        : Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                             std::chrono::duration<double>(seconds))) {}

  bool expired() const { return !unlimited_ && Clock::now() >= end_; }
  Clock::time_point end() const { return end_; }

  // Time left, rounded up to whole milliseconds and capped at `cap` (so an unlimited deadline
  // still hands callers bounded waits).
  std::chrono::milliseconds remaining(std::chrono::milliseconds cap) const {
    if (unlimited_) return cap;
    const auto left = end_ - Clock::now();
    if (left <= Clock::duration::zero()) return std::chrono::milliseconds(0);
    return std::min(cap, std::chrono::ceil<std::chrono::milliseconds>(left));
  }

 private:
  bool unlimited_;
  Clock::time_point end_;
};

// Creates the container's connection in `out`: `options` as the command set them, with the
// endpoint resolved (empty: the default) and the key files of `keys`. A malformed endpoint becomes
// a std::runtime_error naming it; ConnectionError (bad name) passes through.
inline void connect(std::optional<Connection>& out, zmq::context_t& context, Bus& bus,
                    ConnectionOptions options, const KeyOptions& keys) {
  if (options.endpoint.empty()) options.endpoint = defaultEndpoint();
  options.server_key_file = keys.server_key;
  options.key_file = keys.key;
  try {
    out.emplace(context, bus, options);
  } catch (const zmq::error_t& e) {
    throw std::runtime_error("cannot connect to '" + options.endpoint + "': " + e.what());
  }
}

// "10s", "1.5s", "no limit" for messages.
inline std::string describeSeconds(double seconds) {
  if (!(seconds > 0)) return "no limit";
  std::string text = std::to_string(seconds);
  text.erase(text.find_last_not_of('0') + 1);
  if (!text.empty() && text.back() == '.') text.pop_back();
  return text + "s";
}

}  // namespace evr::ctl
