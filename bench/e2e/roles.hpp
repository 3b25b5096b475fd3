// The publisher and consumer processes of the end-to-end benchmark (`evr_e2e_bench --role ...`).
//
// The driver (driver.cpp) starts every publisher and consumer as its own process. The loops here
// are the same for every system; only the link differs: a PublisherLink publishes one payload and
// serves its client, a ConsumerLink waits for events and hands each payload to a ConsumerTally.
// The links are in direct_links.cpp (ZeroMQ PUSH/PULL), evr_links.cpp (our client library, for
// both the bare relay and evrouterd) and nats_links.cpp (the NATS C client).
//
// Protocol with the driver, on stdout (logs go to stderr):
//   consumer: "ready" once events published from now on will reach it, then one JSON line
//             {"role":"consumer",...} when it has every event it expects or gave up waiting;
//   publisher: one JSON line {"role":"publisher",...} once every event was handed over and
//             flushed to the system under test.
// Exit code 0 unless the role could not run (bad arguments, cannot connect): lost events are a
// result, reported in the JSON, not a failure of the process.

#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "payload.hpp"

namespace evr::bench {

// The time left until `deadline`, in whole milliseconds, never negative: what a client call that
// waits takes as its timeout.
inline std::chrono::milliseconds timeLeft(std::chrono::steady_clock::time_point deadline) {
  return std::max(std::chrono::milliseconds(0), std::chrono::duration_cast<std::chrono::milliseconds>(
                                                    deadline - std::chrono::steady_clock::now()));
}

struct RoleOptions {
  std::string role;        // "publisher" or "consumer"
  std::string system;      // "direct", "zmq" (zmq-relay), "evr" (bare relay and evrouterd) or "nats"
  std::string endpoint;    // ZeroMQ endpoint, or nats://host:port
  std::string name;        // evr container name; label in reports
  std::string subject;     // nats: the consumer's subject; the publisher's subject prefix
  std::uint64_t events = 0;  // events the publisher publishes (indices 0..events-1)
  std::uint64_t expect = 0;  // consumer: how many of them it must receive
  double rate = 0;           // publisher: events/s; 0 means as fast as the client API allows
  std::uint64_t warmup = 0;  // consumer: indices below this are left out of latency samples
  bool latency = false;      // consumer: report every latency sample
  bool route_by_key = false; // nats publisher: publish to "<subject>.<route key>"
  std::size_t route_keys = kRouteKeys;  // publisher: event i has route key i % route_keys
  std::size_t pad_bytes = 0;  // evr publisher: a `pad` tag of this many bytes beside the payload
  double timeout_s = 120;    // give up after this long
  double idle_timeout_s = 10;  // consumer: give up after this long without an event
  // evr: CURVE with DIR/server.pub and DIR/client.key (scenarios.hpp: the key prefixes); empty: plain.
  std::string curve_keys;
};

// One system's publishing side. Implementations are final and own their client.
class PublisherLink {
 public:
  virtual ~PublisherLink() = default;
  // Connects/joins; true when events published from now on are accepted.
  virtual bool connect(std::chrono::steady_clock::time_point deadline) = 0;
  // Publishes one event through the client API. May block for backpressure.
  virtual void publish(std::uint64_t index, const Payload& payload) = 0;
  // Lets the client do its periodic work between events (acks, heartbeats). Never blocks.
  virtual void serve() = 0;
  // Hands everything published to the system (flush / wait for acks). False on timeout.
  virtual bool finish(std::chrono::steady_clock::time_point deadline) = 0;
};

// Counts what one consumer received: distinct indices (lost = expected - distinct), duplicates,
// unreadable payloads, first and last arrival, and latency samples after the warm-up.
class ConsumerTally {
 public:
  ConsumerTally(std::uint64_t events, std::uint64_t expect, std::uint64_t warmup, bool latency);
  // Called by a link's handler with the 128 payload bytes, as soon as the event arrives.
  void onPayload(std::span<const char> bytes);
  bool done() const { return distinct_ >= expect_; }
  std::uint64_t distinct() const { return distinct_; }
  // One JSON line for the driver; `cpu_ns`: the process's CPU time since it was ready.
  std::string report(const std::string& name, bool timed_out, std::int64_t cpu_ns) const;

 private:
  std::vector<bool> seen_;
  std::uint64_t expect_;
  std::uint64_t warmup_;
  bool latency_;
  std::uint64_t received_ = 0;
  std::uint64_t distinct_ = 0;
  std::uint64_t duplicates_ = 0;
  std::uint64_t unreadable_ = 0;
  std::int64_t first_ns_ = 0;
  std::int64_t last_ns_ = 0;
  std::vector<std::int64_t> latency_ns_;
};

// One system's consuming side. It hands every payload that arrives to the ConsumerTally it was
// made with (which outlives it).
class ConsumerLink {
 public:
  virtual ~ConsumerLink() = default;
  // Subscribes/joins/binds; true when events published from now on reach this consumer.
  virtual bool subscribe(std::chrono::steady_clock::time_point deadline) = 0;
  // Waits up to `timeout` for events and takes in what arrived.
  virtual void receive(std::chrono::milliseconds timeout) = 0;
};

std::unique_ptr<PublisherLink> makeDirectPublisher(const RoleOptions& options);
std::unique_ptr<ConsumerLink> makeDirectConsumer(const RoleOptions& options, ConsumerTally& tally);
std::unique_ptr<PublisherLink> makeEvrPublisher(const RoleOptions& options);
std::unique_ptr<ConsumerLink> makeEvrConsumer(const RoleOptions& options, ConsumerTally& tally);
// zmq_relay.cpp: the zmq-relay system's publisher and consumer, and its relay process
// (`evr_e2e_bench --role relay --endpoint E`).
std::unique_ptr<PublisherLink> makeZmqRelayPublisher(const RoleOptions& options);
std::unique_ptr<ConsumerLink> makeZmqRelayConsumer(const RoleOptions& options, ConsumerTally& tally);
int zmqRelayMain(int argc, char** argv);
// nullptr when the benchmark was built without libnats.
std::unique_ptr<PublisherLink> makeNatsPublisher(const RoleOptions& options);
std::unique_ptr<ConsumerLink> makeNatsConsumer(const RoleOptions& options, ConsumerTally& tally);

// `evr_e2e_bench --role ...`: parses the role's command line and runs it. Returns the exit code.
int roleMain(int argc, char** argv);

// A bench child process's logging: spdlog (the client library's) to stderr at warn and above,
// under `name`; stdout belongs to the driver protocol.
void logToStderr(const std::string& name);

}  // namespace evr::bench
