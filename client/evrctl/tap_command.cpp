// evrctl tap: a live copy of routed events as JSON lines, from evrouterd's tap socket.
//
// Filters run here, so the daemon's cost stays one copy per routed event while someone taps:
// --container (source or target), --adapter, --type, and --where in the condition language
// (docs/conditions.md), compiled before subscribing so a bad expression fails at once.

#include <nlohmann/json.hpp>

#include <csignal>
#include <cstdlib>
#include <iostream>

#include "command.hpp"
#include "control_client.hpp"
#include "tap_stream.hpp"
#include "config/diagnostics.hpp"
#include "evr/runtime_dir.hpp"
#include "evr/event.hpp"
#include "evr/event_json.hpp"
#include "evr/frames.hpp"
#include "routing/condition.hpp"

namespace evr::ctl {
namespace {

struct TapOptions {
  std::string endpoint;
  ControlOptions control;  // its endpoint, and the keys for both sockets
  std::string container;
  std::string adapter;
  std::string type;
  std::string where;
  std::uint64_t count = 0;
  double timeout = 0;
};

bool contains(const nlohmann::json& list, const std::string& value) {
  for (const auto& item : list) {
    if (item.get<std::string>() == value) return true;
  }
  return false;
}

}  // namespace

Command addTapCommand(CLI::App& parent) {
  auto* app = parent.add_subcommand("tap", "Print a live copy of routed events as JSON lines (with from, to, adapters), filtered.");
  auto options = std::make_shared<TapOptions>();
  app->add_option("--control", options->control.endpoint,
                  "evrouterd control endpoint, asked where the tap is (" +
                      defaultIpcEndpointHelp("EVR_CONTROL", "evrouterd.ctl") + ")");
  addKeyOptions(*app, options->control.keys);
  app->add_option("--tap", options->endpoint, "The tap endpoint itself, instead of asking --control");
  app->add_option("--container", options->container, "Only events from or to this container");
  app->add_option("--adapter", options->adapter, "Only events this adapter carried");
  app->add_option("--type", options->type, "Only events of this type (BAR, SIGNAL, ...)");
  app->add_option("--where", options->where, "Only events for which this condition holds, e.g. \"event.regime == 'BULL'\"");
  app->add_option("--count", options->count, "Exit 0 after this many events (0: until Ctrl-C or --timeout)");
  app->add_option("--timeout", options->timeout, "Seconds in all (0: no limit); with --count, running out is exit 2")
      ->capture_default_str();
  return {app, [options]() {
            std::optional<EventType> type;
            if (!options->type.empty()) {
              type = parseEventType(options->type);
              if (!type) throw std::runtime_error("unknown event type '" + options->type + "'; expected one of " + eventTypeNameList());
            }
            std::optional<routing::Condition> where;
            if (!options->where.empty()) {
              config::Diagnostics diagnostics;
              where = routing::compileCondition(options->where, config::Mark{"--where", 1, 1}, diagnostics);
              if (!where) {
                std::cerr << diagnostics.toString();
                return kExitError;
              }
            }
            sigset_t stop_signals;
            sigemptyset(&stop_signals);
            sigaddset(&stop_signals, SIGINT);
            sigaddset(&stop_signals, SIGTERM);
            sigprocmask(SIG_BLOCK, &stop_signals, nullptr);

            zmq::context_t context(1);
            std::string endpoint = options->endpoint;
            if (endpoint.empty()) {
              const auto found = tapEndpointOf(options->control, 5.0);
              if (!found) return kExitTimeout;
              endpoint = *found;
            }
            TapStream tap(context, options->control.keys, endpoint);
            const Deadline deadline(options->timeout);
            std::uint64_t printed = 0;
            while (options->count == 0 || printed < options->count) {
              if (deadline.expired()) {
                if (options->count == 0) return kExitOk;
                std::cerr << "evrctl tap: " << printed << " of " << options->count << " events before the timeout\n";
                return kExitTimeout;
              }
              timespec none{};
              if (sigtimedwait(&stop_signals, nullptr, &none) > 0) return options->count == 0 ? kExitOk : kExitTimeout;
              auto tapped = tap.next(deadline.remaining(std::chrono::milliseconds(200)));
              if (!tapped) continue;
              const Event& event = tapped->event;
              nlohmann::json& meta = tapped->meta;
              if (type && event.type() != *type) continue;
              if (!options->container.empty() && meta.value("from", std::string()) != options->container &&
                  !tapped->routedTo(options->container)) {
                continue;
              }
              if (!options->adapter.empty() && !contains(meta["adapters"], options->adapter)) continue;
              if (where && !where->evaluate(routing::EventView{event.reader(), event.hops()})) continue;
              nlohmann::json line = toJson(event);
              line["from"] = meta["from"];
              line["to"] = meta["to"];
              line["adapters"] = meta["adapters"];
              std::cout << line.dump() << std::endl;
              ++printed;
            }
            return kExitOk;
          }};
}

}  // namespace evr::ctl
