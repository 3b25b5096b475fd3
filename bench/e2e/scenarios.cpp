#include "scenarios.hpp"

#include <algorithm>
#include <array>

#include "payload.hpp"

namespace evr::bench {
namespace {

constexpr std::array<std::string_view, 5> kSystemNames{"direct", "zmq-relay", "bare-relay", "evrouterd", "nats-server"};

std::vector<ConsumerPlan> consumers(std::size_t count, bool one_route_key_each) {
  std::vector<ConsumerPlan> plans;
  for (std::size_t i = 0; i < count; ++i) {
    plans.push_back({"sub" + std::to_string(i + 1),
                     one_route_key_each ? std::optional<std::size_t>(i) : std::nullopt});
  }
  return plans;
}

Scenario pipeline(System system, std::string note, std::optional<JournalFsync> journal = std::nullopt, bool curve = false) {
  return {system, Pattern::Pipeline, std::move(note), consumers(1, false), journal, curve};
}
Scenario broadcast(System system, std::string note) { return {system, Pattern::Broadcast, std::move(note), consumers(3, false)}; }
Scenario selective(System system, std::string note) {
  return {system, Pattern::Selective, std::move(note), consumers(kRouteKeys, true)};
}

}  // namespace

std::string_view systemName(System system) { return kSystemNames[static_cast<std::size_t>(system)]; }

std::string_view patternName(Pattern pattern) {
  switch (pattern) {
    case Pattern::Pipeline: return "pipeline";
    case Pattern::Broadcast: return "broadcast";
    case Pattern::Selective: return "selective";
  }
  return "?";
}

std::string_view fsyncName(JournalFsync fsync) {
  switch (fsync) {
    case JournalFsync::None: return "none";
    case JournalFsync::Interval: return "interval";
    case JournalFsync::Batch: return "batch";
  }
  return "?";
}

std::string Scenario::systemLabel() const {
  std::string label(systemName(system));
  if (journal) label += "+journal-" + std::string(fsyncName(*journal));
  if (curve) label += "+curve";
  return label;
}

std::uint64_t Scenario::expectedBy(const ConsumerPlan& consumer, std::uint64_t events) const {
  if (!consumer.route_key) return events;
  const auto keyed = static_cast<std::size_t>(
      std::count_if(consumers.begin(), consumers.end(), [](const ConsumerPlan& plan) { return plan.route_key.has_value(); }));
  std::uint64_t expected = 0;
  for (std::size_t key = *consumer.route_key; key < route_keys; key += keyed) {
    expected += eventsWithRouteKey(events, key, route_keys);
  }
  return expected;
}

std::uint64_t Scenario::expectedTotal(std::uint64_t events) const {
  std::uint64_t total = 0;
  for (const auto& consumer : consumers) total += expectedBy(consumer, events);
  return total;
}

std::vector<Scenario> benchmarkScenarios() {
  return {
      pipeline(System::Direct, "ZeroMQ PUSH -> PULL over ipc, no hop"),
      pipeline(System::ZmqRelay, "ZeroMQ ROUTER relay, 128 KiB batches forwarded as they came, no protocol: the ceiling of a ZeroMQ router"),
      broadcast(System::ZmqRelay, "ZeroMQ ROUTER relay, each batch to 3 consumers (one shared buffer), no protocol"),
      pipeline(System::BareRelay, "pub -> sub1 through the bare relay"),
      broadcast(System::BareRelay, "pub -> sub1,sub2,sub3 through the bare relay"),
      pipeline(System::Evrouterd, "pipeline adapter pub -> sub1"),
      broadcast(System::Evrouterd, "broadcast adapter pub -> 3 targets"),
      selective(System::Evrouterd, "selective adapter, 4 rules on event.regime, 1/4 to each"),
      pipeline(System::Evrouterd, "pipeline adapter, journal on, fsync: none (the page cache only)", JournalFsync::None),
      pipeline(System::Evrouterd,
               "pipeline adapter, journal on, fsync: interval, interval_ms: " + std::to_string(kJournalIntervalMs),
               JournalFsync::Interval),
      pipeline(System::Evrouterd, "pipeline adapter, journal on, fsync: batch (synced before the source is acked)",
               JournalFsync::Batch),
      pipeline(System::Evrouterd, "pipeline adapter, router.security on: CURVE on both links", std::nullopt, true),
      pipeline(System::Nats, "1 subscriber"),
      broadcast(System::Nats, "3 subscribers on one subject"),
      selective(System::Nats, "4 subjects, 1/4 to each (subject-based routing: NATS has no payload conditions)"),
  };
}

std::vector<std::string> systemLabels() {
  std::vector<std::string> labels;
  for (const auto& scenario : benchmarkScenarios()) {
    auto label = scenario.systemLabel();
    if (std::find(labels.begin(), labels.end(), label) == labels.end()) labels.push_back(std::move(label));
  }
  return labels;
}

}  // namespace evr::bench
