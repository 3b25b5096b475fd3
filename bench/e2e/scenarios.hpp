// What the end-to-end benchmark runs: each system under test with each pattern it has, and who
// consumes what. Values only; routers.cpp starts the systems, run.cpp runs one scenario once.
//
//   system       pipeline (1 consumer)  broadcast (3 consumers)  selective (4 consumers, 1/4 each)
//   direct       PUSH -> PULL           -                        -
//   zmq-relay    DEALER -> ROUTER -> DEALER, batches as they came, to 1 or 3 consumers; -
//   bare-relay   pub -> sub1            pub -> sub1..3           -   (a fixed table cannot select)
//   evrouterd    pipeline adapter       broadcast adapter        selective adapter, 4 rules on event.regime
//   nats-server  1 subscriber           3 subscribers            4 subjects (subject-based routing)
//
// evrouterd+journal-none|interval|batch: evrouterd's pipeline row again with the event journal
// (router.journal) on, one row per fsync mode, so the table shows what the delivery guarantee
// costs next to plain evrouterd (journal off). Pipeline only: the journal's cost is per event
// taken, not per target, so the other patterns would add minutes and no information.
//
// evrouterd+curve: the pipeline row again with router.security on (docs/security.md): every link
// is CURVE (encrypted, authenticated by evrouterd's ZAP handler), keys made fresh for each run.
// Pipeline only, for the same reason: CURVE's cost is per message on each link.

#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "payload.hpp"

namespace evr::bench {

enum class System { Direct, ZmqRelay, BareRelay, Evrouterd, Nats };
enum class Pattern { Pipeline, Broadcast, Selective };

std::string_view systemName(System system);    // "direct", "zmq-relay", "bare-relay", "evrouterd", "nats-server"
std::string_view patternName(Pattern pattern);  // "pipeline", "broadcast", "selective"

// evrouterd's journal (router.journal, docs/delivery.md section 3): when its data is synced.
enum class JournalFsync { None, Interval, Batch };
std::string_view fsyncName(JournalFsync fsync);  // "none", "interval", "batch": the config's words
// interval_ms of the `interval` rows (the daemon's default).
inline constexpr int kJournalIntervalMs = 100;

inline constexpr std::string_view kPublisherName = "pub";
// CURVE rows: the key files in the run's temp dir, PREFIX.key and PREFIX.pub (evr/curve_keys.hpp
// writeKeyFiles): evrouterd's pair, and one client pair holding every container name of the
// scenario (publisher and consumers), which every client process uses.
inline constexpr std::string_view kServerKeyPrefix = "server";
inline constexpr std::string_view kClientKeyPrefix = "client";
inline constexpr std::string_view kNatsSubject = "bench";

struct ConsumerPlan {
  std::string name;                      // evr container name; label elsewhere
  // Selective: gets only the events with this route key, or, when the scenario has more route
  // keys than keyed consumers (Scenario::route_keys), every key k with k % (keyed consumers) ==
  // route_key: the rules are spread over the consumers round-robin.
  std::optional<std::size_t> route_key;
};

struct Scenario {
  System system = System::Direct;
  Pattern pattern = Pattern::Pipeline;
  std::string note;  // what the pattern is for this system, shown in the table and JSON
  std::vector<ConsumerPlan> consumers;
  // evrouterd only: the journal, in a directory of the run's own temp dir; absent: no journal.
  std::optional<JournalFsync> journal{};
  // evrouterd only: router.security on and every client link CURVE (routers.hpp: the key files).
  bool curve = false;
  // Route keys the publisher labels events with (event i has key i % route_keys, payload.hpp);
  // a selective evrouterd config has one rule per key. The cost curves (curves.hpp) raise it.
  std::size_t route_keys = kRouteKeys;
  // A selective evrouterd config: appended to every rule's condition (" and ..."); the selective
  // curve's rules "tried in turn" use it to make rules evrouterd cannot look up by value.
  std::string rule_suffix{};
  // evr publishers: bytes of a second tag, `pad`, beside the 128-byte payload (the event-size
  // curve); 0: no such tag.
  std::size_t pad_bytes = 0;

  // The system's name in the table, the JSON and --only: systemName(system), plus
  // "+journal-<fsync>" when the journal is on, e.g. "evrouterd+journal-batch", and "+curve"
  // with CURVE.
  std::string systemLabel() const;

  // How many of `events` published events `consumer` must receive.
  std::uint64_t expectedBy(const ConsumerPlan& consumer, std::uint64_t events) const;
  std::uint64_t expectedTotal(std::uint64_t events) const;
};

// Every scenario, in table order.
std::vector<Scenario> benchmarkScenarios();

// The systemLabel() of every scenario, in table order, each once: what --only accepts.
std::vector<std::string> systemLabels();

}  // namespace evr::bench
