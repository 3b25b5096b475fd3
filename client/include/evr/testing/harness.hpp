// evr::testing::Harness: a container's handlers on a real Bus, with no evrouterd and no sockets,
// for unit tests (docs/testing.md).
//
// A container keeps its logic in a function of the Bus (`void setup(evr::Bus&)`): its main()
// calls it on the Bus of a live Connection, a test calls it on harness.bus(). The test then feeds
// events as evrouterd would deliver them (Origin::Router: handlers subscribed with
// Origin::Router see them, nothing fed is exported) and reads back what the handlers published,
// in publish order, stamped as the live Bus stamps them (source = the container, seq 1, 2, ..,
// causation and correlation ids). It stands where a Connection stands: it is the Bus's exporter.
//
// Events come from the test (a payload struct, an EventBuilder, a whole Event) or from a JSON-lines
// file, one event per line as `evrctl record` writes it (evr::fromJson, evr/event_json.hpp), so an
// incident recorded in production replays as a unit test.
//
// Threads: like the Bus, the harness belongs to the thread that made it. A handler that throws
// throws out of feed(), as it would out of Connection::run.

#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "evr/bus.hpp"
#include "evr/event.hpp"
#include "evr/events.hpp"

namespace evr::testing {

class Harness {
 public:
  // `container`: the container's name, the source of everything its handlers publish.
  explicit Harness(std::string container);
  Harness(const Harness&) = delete;
  Harness& operator=(const Harness&) = delete;

  // The Bus the container's handlers subscribe on.
  evr::Bus& bus() { return bus_; }
  const std::string& container() const { return bus_.source(); }

  // Dispatches one event to the handlers as if evrouterd delivered it: Origin::Router, hops 1,
  // source `source`, seq 1, 2, .. per source, the id a Bus would give it, publish time = event
  // time (from the payload's time_ns); then runs the handlers and everything they publish, in
  // turn, also what other threads published meanwhile (Bus::drain). Returns the event as
  // dispatched.
  template <typename Payload>
    requires requires(const Payload& p) { build(p); }
  Event feed(const Payload& payload, std::string source = "feed") {
    return feed(build(payload), std::move(source));
  }
  // The same for an event built by hand (symbol, event time, tags, correlation and causation as
  // the builder has them).
  Event feed(EventBuilder&& event, std::string source = "feed");
  // A whole event, header as given (an event read back with evr::fromJson, or one another
  // harness published: a Local event is fed as a copy of its bytes with Origin::Router, hops + 1).
  void feed(Event event);
  // Feeds every event of a JSON-lines file (evrctl record's format; blank lines skipped) in file
  // order, headers as recorded. The whole file is read first: a bad line throws
  // std::invalid_argument "FILE:LINE: field 'close': ..." and nothing is fed. Returns how many.
  std::size_t feedFile(const std::filesystem::path& jsonl);

  // Everything the handlers published since the start (or clear()), in publish order; with
  // `type`, only events of that type.
  std::vector<Event> published(std::optional<EventType> type = std::nullopt) const;
  // Forgets what was published (the Bus keeps its seq: later events go on from there).
  void clear() { published_.clear(); }

  // Reads a JSON-lines file into events (what feedFile feeds), throwing like feedFile.
  static std::vector<Event> readFile(const std::filesystem::path& jsonl);

 private:
  evr::Bus bus_;
  std::vector<Event> published_;
  std::map<std::string, std::uint64_t, std::less<>> seq_by_source_;
};

}  // namespace evr::testing
