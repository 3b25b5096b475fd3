// Relay counters: what happened to every event, by container, adapter and drop reason.
//
// Owned and written by the relay loop's thread only (plain integers, no atomics on the hot path);
// read through snapshots taken on that thread (for the log now, the control socket later). Every
// event that enters the daemon ends in exactly one of: delivered to each of its targets, queued,
// unrouted (no route from its source), or a drop with a reason below.

#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace evr::stats {

enum class DropReason : std::uint8_t {
  Malformed,     // bad envelope, bad framing, unknown event type, missing frame
  Oversized,     // event frame over router.max_message_size
  NotJoined,     // EVENT from a peer that has not said HELLO (the client resends after joining)
  Duplicate,     // link seq already taken (a resend after a lost ack)
  HopLimit,      // forwarded more than router.max_hops times: a routing cycle
  QueueFull,     // target's lossless queue at router.queue_limit or router.queue_bytes_limit
  Shutdown,      // still queued when the shutdown grace period ended
  Conflated,     // replaced by a newer event of its source, symbol and type (delivery: conflate)
  Policy,        // dropped by a target's drop_oldest / drop_newest bound
  Denied,        // its source may not publish its type (router.permissions), or a revoked key's
  Count,
};

std::string_view dropReasonName(DropReason reason);

using DropCounts = std::array<std::uint64_t, static_cast<std::size_t>(DropReason::Count)>;

// Why a connection, a HELLO or a control request was refused (router.security, docs/security.md).
enum class AuthRefusal : std::uint8_t {
  UnknownKey,  // ZAP: a CURVE key router.security.clients does not list
  NoControl,   // ZAP: a listed key without a control role, on the control socket or tap
  NameNotHeld, // HELLO under a name the key does not hold
  Revoked,     // a message from a connection whose key a reload took away
  ReadOnly,    // a reload asked with a `control: read` key
  Malformed,   // a ZAP request libzmq should never send (counted, answered 500)
  Count,
};

std::string_view authRefusalName(AuthRefusal reason);

struct AuthCounts {
  std::uint64_t accepted = 0;  // CURVE handshakes ZAP let in
  std::array<std::uint64_t, static_cast<std::size_t>(AuthRefusal::Count)> refused{};
};

struct ContainerCounters {
  std::uint64_t events_in = 0;   // events received from this container
  std::uint64_t bytes_in = 0;
  std::uint64_t events_out = 0;  // events sent to this container
  std::uint64_t bytes_out = 0;
  std::uint64_t unrouted = 0;    // its events that no route took
  std::uint64_t joins = 0;
  std::uint64_t redelivered = 0;  // events sent again after it joined again without acking them
  std::uint64_t replayed = 0;     // events sent to it from the journal after a daemon restart
  std::uint64_t rate_limited = 0;  // its events taken over its rate limit: their acks waited
  DropCounts drops_from{};       // its events dropped, by reason
  DropCounts drops_to{};         // events meant for it dropped, by reason
};

struct ContainerSnapshot {
  std::string name;
  bool connected = false;
  bool declared = false;
  std::size_t queue_depth = 0;
  std::size_t unacked = 0;  // events sent to it that it has not acked yet (the replay buffer)
  bool stalled = false;     // lossless work pending and no ack for router.stall_timeout_ms
  bool held = false;        // its acks are held: a lossless target it feeds has a long queue
  bool rate_limited = false;  // its acks wait for its rate limit now (router.limits)
  std::uint64_t queue_bytes = 0;  // event bytes queued for it
  ContainerCounters counters;
  std::optional<std::uint64_t> idle_ms;  // since the daemon last heard from it; none: never
};

// Events that went from one container to another since the routing table in force was installed.
struct RouteSnapshot {
  std::string source;
  std::string target;
  std::uint64_t events = 0;
};

// Time an event spends in the router, from handleEvent's entry to the end of routing (deliver or
// queue to every target), in fixed log-spaced buckets 250 ns .. 10 ms plus +Inf. A value: the
// loop thread records into its own copy and snapshots copy it. record() is O(1) (a scan of a
// fixed 15-entry table) and never allocates.
struct LatencyHistogram {
  // Upper bounds (inclusive, Prometheus `le`) in nanoseconds: a 1-2.5-5 series.
  static constexpr std::array<std::uint64_t, 15> kBoundsNs = {
      250,     500,     1'000,     2'500,     5'000,     10'000,    25'000,    50'000,
      100'000, 250'000, 500'000,   1'000'000, 2'500'000, 5'000'000, 10'000'000};
  // counts[i]: events with bound[i-1] < ns <= bound[i] (not cumulative); counts.back(): over 10 ms.
  std::array<std::uint64_t, kBoundsNs.size() + 1> counts{};
  std::uint64_t sum_ns = 0;
  std::uint64_t count = 0;

  // `events` events took `ns` each (a batch records its average once per event).
  void record(std::uint64_t ns, std::uint64_t events = 1) {
    std::size_t bucket = 0;
    while (bucket < kBoundsNs.size() && ns > kBoundsNs[bucket]) ++bucket;
    counts[bucket] += events;
    sum_ns += ns * events;
    count += events;
  }
};

struct Snapshot {
  std::uint64_t events_in = 0;
  std::uint64_t deliveries = 0;  // events sent to targets (one per target)
  std::uint64_t unrouted = 0;
  std::uint64_t unmatched = 0;  // selective adapters: events no rule and no default took
  std::uint64_t forwarded = 0;  // deliveries sent in the EVENTS body they came in (no copy)
  std::uint64_t backpressure_holds = 0;  // a source's acks held: a connected target's queue was long
  std::uint64_t stalls = 0;          // times a lossless target was found stalled
  std::uint64_t journal_errors = 0;  // journal appends or syncs that failed (sources held meanwhile)
  std::uint64_t handler_errors = 0;  // messages whose handling failed with an exception (a bug or
                                    // a resource failure; the loop went on)
  std::uint64_t hellos_refused_overloaded = 0;  // HELLOs refused at router.max_connections
  std::uint64_t connections = 0;                 // containers joined now
  std::uint64_t connections_limit = 0;           // router.max_connections
  DropCounts drops{};
  std::optional<AuthCounts> auth;  // with router.security only
  std::vector<ContainerSnapshot> containers;
  std::vector<RouteSnapshot> routes;  // non-zero only
  std::vector<std::pair<std::string, std::uint64_t>> adapter_matches;    // adapter name, events
  std::vector<std::pair<std::string, std::uint64_t>> adapter_unmatched;  // adapter name, events
  LatencyHistogram latency;  // time in the router per routed (or unrouted) event

  // One line: "in=.. delivered=.. unrouted=.. unmatched=.. dropped: malformed=.. ..." (only
  // non-zero drops; backpressure_holds and handler_errors only when non-zero).
  std::string summary() const;
};

// Logs a message at most once per interval per key, then says how many were suppressed.
class RateLimiter {
 public:
  explicit RateLimiter(std::chrono::milliseconds interval = std::chrono::seconds(1))
      : interval_(interval) {}
  // True when the caller should log now; `suppressed` is how many were skipped since the last.
  bool allow(std::size_t key, std::uint64_t& suppressed);

 private:
  struct Slot {
    std::chrono::steady_clock::time_point last{};
    std::uint64_t suppressed = 0;
  };
  std::chrono::milliseconds interval_;
  std::vector<Slot> slots_;
};

}  // namespace evr::stats
