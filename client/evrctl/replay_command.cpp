// `evrctl replay`: joins evrouterd as a container and publishes a recording again (the JSON lines
// of `evrctl record`, `recv --json` or `tap`), in file order; succeeds when evrouterd has
// acknowledged every event.
//
// Each event keeps its type, payload, symbol, event time and tags; the Bus stamps the rest as for
// any publish (source = --as, seq, id, publish time). Causation is kept where it still means
// something: an event whose cause is an earlier event of the same file answers that event's
// replayed copy (EventBuilder::causedBy); any other starts a new chain (no causation, no
// correlation id). The whole file is checked before joining: a bad line is FILE:LINE and the field.

#include <zmq.hpp>

#include <chrono>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "command.hpp"
#include "evr/bus.hpp"
#include "evr/connection.hpp"
#include "evr/event_json.hpp"
#include "evr/runtime_dir.hpp"

namespace evr::ctl {
namespace {

using namespace std::chrono_literals;

struct ReplayOptions {
  KeyOptions keys;
  std::string file;
  std::string container;
  double rate = 0;
  double timeout = 10;
  std::string endpoint;
};

struct Recorded {
  EventBuilder builder;
  std::uint64_t id = 0;        // as recorded
  std::uint64_t cause_id = 0;  // its causation_id as recorded
};

std::uint64_t idField(const nlohmann::json& object, const char* name) {
  const auto it = object.find(name);
  return it != object.end() && it->is_number_unsigned() ? it->get<std::uint64_t>() : 0;
}

int runReplay(const ReplayOptions& options) {
  std::vector<Recorded> recording;
  for (auto& [line, object] : readJsonLines(options.file)) {
    std::string error;
    auto builder = tryBuilderFromJson(object, error);
    if (!builder) {
      std::cerr << "evrctl replay: " << options.file << ":" << line << ": " << error << '\n';
      return kExitError;
    }
    builder->root().setCorrelationId(0);  // set again below when the cause is replayed
    recording.push_back({std::move(*builder), idField(object, "id"), idField(object, "causation_id")});
  }

  zmq::context_t context;
  Bus bus(options.container);
  std::optional<Connection> link;
  connect(link, context, bus, {.container = options.container, .endpoint = options.endpoint}, options.keys);
  Connection& connection = *link;
  // What the bus dispatched last: publish() from this (owner) thread dispatches at once.
  Event last_published;
  bus.subscribeAll([&](const Event& event) { last_published = event; }, Origin::Local);

  const Deadline join_deadline(options.timeout);
  while (!connection.joined() && !join_deadline.expired()) {
    connection.waitJoined(join_deadline.remaining(1000ms));
  }
  if (!connection.joined()) {
    std::cerr << "evrctl replay: could not join evrouterd at " << connection.endpoint() << " as '"
              << options.container << "' within " << describeSeconds(options.timeout)
              << " (is evrouterd running?)\n";
    return kExitError;
  }

  // Pacing as in send: event i is due at start + i/rate, waited for by serving the link.
  const auto start = Deadline::Clock::now();
  const std::chrono::duration<double> interval(options.rate > 0 ? 1.0 / options.rate : 0.0);
  std::map<std::uint64_t, Event> replayed;  // recorded id -> its replayed copy
  std::uint64_t published = 0;
  for (auto& entry : recording) {
    if (options.rate > 0) {
      const auto due = start + std::chrono::duration_cast<Deadline::Clock::duration>(interval * published);
      for (auto now = Deadline::Clock::now(); now < due; now = Deadline::Clock::now()) {
        connection.poll(std::chrono::ceil<std::chrono::milliseconds>(due - now));
      }
    }
    if (const auto cause = replayed.find(entry.cause_id); entry.cause_id != 0 && cause != replayed.end()) {
      entry.builder.causedBy(cause->second);
    }
    bus.publish(std::move(entry.builder));
    if (entry.id != 0 && last_published.valid()) replayed.insert_or_assign(entry.id, last_published);
    ++published;
    if (options.rate <= 0 && published % 64 == 0) connection.poll(0ms);
  }

  const Deadline ack_deadline(options.timeout);
  bool all_acked = connection.flush(ack_deadline.remaining(1000ms));
  while (!all_acked && !ack_deadline.expired()) all_acked = connection.flush(ack_deadline.remaining(1000ms));
  if (!all_acked) {
    const auto& stats = connection.stats();
    std::cerr << "evrctl replay: evrouterd acknowledged " << std::min(stats.acked, stats.published)
              << " of " << published << " events within " << describeSeconds(options.timeout) << '\n';
    return kExitTimeout;
  }
  std::cerr << "evrctl replay: " << published << " events from " << options.file << " as '"
            << options.container << "'\n";
  return kExitOk;
}

}  // namespace

Command addReplayCommand(CLI::App& parent) {
  auto options = std::make_shared<ReplayOptions>();
  CLI::App* app = parent.add_subcommand(
      "replay", "Join as a container and publish a recording (evrctl record's JSON lines) again; "
                "succeed when evrouterd has acknowledged it all.");
  app->add_option("file", options->file, "The recording (FILE.jsonl)")->required();
  app->add_option("--as", options->container, "Container name to join as (as the config names it)")
      ->required();
  app->add_option("--rate", options->rate, "Events per second; 0 = as fast as possible")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app->add_option("--timeout", options->timeout,
                  "Seconds to join, and at the end for evrouterd's acks; 0 = no limit")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  addKeyOptions(*app, options->keys);
  app->add_option("--endpoint", options->endpoint,
                  "evrouterd data endpoint (" + defaultIpcEndpointHelp("EVR_ENDPOINT", "evrouterd.sock") + ")");
  app->footer(kExitCodeHelp);
  return Command{app, [options] { return runReplay(*options); }};
}

}  // namespace evr::ctl
