// `evrctl send`: join evrouterd as a container and publish events built from --set fields.
//
// The events go through the same Bus and Connection a real container uses, so what the daemon
// sees is exactly what a container would publish; the command succeeds only when evrouterd has
// acknowledged every event.

#include <zmq.hpp>

#include <algorithm>
#include <chrono>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "command.hpp"
#include "evr/runtime_dir.hpp"
#include "evr/bus.hpp"
#include "evr/connection.hpp"
#include "evr/event_fields.hpp"
#include "evr/event_json.hpp"
#include "evr/event_types.hpp"

namespace evr::ctl {
namespace {

using namespace std::chrono_literals;

struct SendOptions {
  KeyOptions keys;
  std::string container;
  std::string type;
  std::vector<std::string> sets;
  std::uint64_t count = 1;
  double rate = 0;
  double timeout = 10;
  std::size_t max_unacked = ConnectionOptions{}.max_unacked;
  std::string endpoint;
};

std::int64_t wallClockNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Every type's --set names, from the field table (so help can never disagree with the parser).
std::string fieldHelp() {
  std::string out = "Fields for --set FIELD=VALUE, by --type:\n";
  out += "  any type: ";
  for (const auto& field : fields::headerFields()) {
    if (field.write != nullptr) out += std::string(field.name) + ", ";
  }
  out += "tag.KEY\n";
  out += "            (event_time: ns since the epoch; default: the send time)\n";
  std::vector<std::string_view> enums;
  for (unsigned i = 1; i < kEventTypeCount; ++i) {
    const auto type = static_cast<EventType>(i);
    std::string line = "  " + std::string(eventTypeName(type)) + ": ";
    bool first = true;
    for (const auto& field : fields::payloadFields(type)) {
      if (!first) line += ", ";
      line += field.name;
      first = false;
      if (field.kind == fields::FieldKind::Enum &&
          std::find(enums.begin(), enums.end(), field.name) == enums.end()) {
        enums.push_back(field.name);
      }
    }
    if (type == EventType::USER) {
      line += ", and any other KEY (or field.KEY) as a user field: integer, number,\n"
              "        true/false, else text";
    }
    out += line + "\n";
  }
  out += "Enums (";
  for (std::size_t i = 0; i < enums.size(); ++i) out += (i > 0 ? ", " : "") + std::string(enums[i]);
  out += ") take their names in any case: long, SELL, Limit.\n";
  out += "See docs/events.md.\n\n";
  out += kExitCodeHelp;
  return out;
}

bool splitAssignment(const std::string& text, std::pair<std::string, std::string>& out) {
  const auto eq = text.find('=');
  if (eq == std::string::npos || eq == 0) return false;
  out = {text.substr(0, eq), text.substr(eq + 1)};
  return true;
}

int runSend(const SendOptions& options) {
  const Deadline deadline(options.timeout);
  const auto type = parseEventType(options.type);  // checked by the option's validator
  if (!type) return kExitError;

  FieldValues fields;
  bool has_event_time = false;
  for (const auto& set : options.sets) {
    std::pair<std::string, std::string> field;
    if (!splitAssignment(set, field)) {
      std::cerr << "evrctl send: --set expects FIELD=VALUE, got '" << set << "'\n";
      return kExitError;
    }
    has_event_time = has_event_time || field.first == "event_time";
    fields.push_back(std::move(field));
  }
  // Check the fields before joining: a typo should not need a daemon to be reported.
  std::string error;
  if (!tryFromFields(*type, fields, error)) {
    std::cerr << "evrctl send: " << error << '\n';
    return kExitError;
  }

  zmq::context_t context;
  Bus bus(options.container);
  std::optional<Connection> link;
  connect(link, context, bus,
          {.container = options.container, .endpoint = options.endpoint, .max_unacked = options.max_unacked},
          options.keys);
  Connection& connection = *link;

  while (!connection.joined() && !deadline.expired()) {
    connection.waitJoined(deadline.remaining(1000ms));
  }
  if (!connection.joined()) {
    std::cerr << "evrctl send: could not join evrouterd at " << connection.endpoint() << " as '"
              << options.container << "' within " << describeSeconds(options.timeout)
              << " (is evrouterd running?)\n";
    return kExitError;
  }

  // Pacing: event i is due at start + i/rate. Wait for it by serving the link (acks, heartbeats),
  // never by sleeping.
  const auto start = Deadline::Clock::now();
  const std::chrono::duration<double> interval(options.rate > 0 ? 1.0 / options.rate : 0.0);
  std::uint64_t published = 0;
  while (published < options.count && !deadline.expired()) {
    if (options.rate > 0) {
      const auto due =
          start + std::chrono::duration_cast<Deadline::Clock::duration>(interval * published);
      if (due >= deadline.end()) break;
      for (auto now = Deadline::Clock::now(); now < due; now = Deadline::Clock::now()) {
        connection.poll(std::chrono::ceil<std::chrono::milliseconds>(due - now));
      }
    }
    EventBuilder builder = fromFields(*type, fields);
    if (!has_event_time) builder.eventTime(wallClockNs());
    bus.publish(std::move(builder));
    ++published;
    // Unpaced bursts: take acks now and then so the resend buffer keeps draining.
    if (options.rate <= 0 && published % 64 == 0) connection.poll(0ms);
  }

  bool all_acked = connection.flush(deadline.remaining(1000ms));
  while (!all_acked && !deadline.expired()) all_acked = connection.flush(deadline.remaining(1000ms));

  if (published < options.count) {
    std::cerr << "evrctl send: timed out after " << describeSeconds(options.timeout)
              << ": published " << published << " of " << options.count << " events\n";
    return kExitError;
  }
  if (!all_acked) {
    const auto& stats = connection.stats();
    std::cerr << "evrctl send: timed out after " << describeSeconds(options.timeout)
              << ": evrouterd acknowledged " << std::min(stats.acked, stats.published) << " of "
              << options.count << " events\n";
    return kExitError;
  }
  return kExitOk;
}

}  // namespace

Command addSendCommand(CLI::App& parent) {
  auto options = std::make_shared<SendOptions>();
  CLI::App* app = parent.add_subcommand(
      "send", "Join as a container and publish events built from --set fields; succeed when "
              "evrouterd has acknowledged them all.");
  app->add_option("--as", options->container, "Container name to join as (as the config names it)")
      ->required();
  app->add_option("--type", options->type, "Event type: " + eventTypeNameList())
      ->required()
      ->check(CLI::Validator(
          [](std::string& value) -> std::string {
            return parseEventType(value) ? "" : "unknown event type '" + value + "' (" +
                                                     eventTypeNameList() + ")";
          },
          "TYPE"));
  app->add_option("--set", options->sets, "FIELD=VALUE, repeatable (fields below)");
  app->add_option("--count", options->count, "How many events to publish")->capture_default_str();
  app->add_option("--rate", options->rate, "Events per second; 0 = as fast as possible")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app->add_option("--timeout", options->timeout,
                  "Seconds the whole command may take (joining, sending, acks); 0 = no limit")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app->add_option("--max-unacked", options->max_unacked,
                  "Events sent and not yet acknowledged before publishing waits (the resend buffer). "
                  "Keep it, times the sources feeding one target, under 3/4 of router.queue_limit, or "
                  "a slow lossless target drops queue_full (docs/protocol.md, \"Backpressure\")")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  addKeyOptions(*app, options->keys);
  app->add_option("--endpoint", options->endpoint,
                  "evrouterd data endpoint (" + defaultIpcEndpointHelp("EVR_ENDPOINT", "evrouterd.sock") + ")");
  app->footer(fieldHelp());
  return Command{app, [options] { return runSend(*options); }};
}

}  // namespace evr::ctl
