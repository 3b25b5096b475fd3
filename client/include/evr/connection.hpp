// evr::Connection: joins one container's Bus to evrouterd.
//
// Exports every event published on the bus (once, in publish order) and dispatches on the bus
// every event the router sends this container; never re-exports what it received. Owns one
// DEALER socket; the socket, and so everything but publish()/stop(), belongs to the thread that
// drives the loop (run(), poll(), or the caller's own loop on fd()).
//
// Link behaviour (docs/protocol.md): HELLO -> WELCOME, then EVENTS both ways with per-link seq and
// cumulative acks. An event from the router is acked only once every handler has run for it, so an
// event this process was handling when it died comes again to the next process under its name;
// within one process no handler sees an event twice (duplicates are dropped by link seq, and across
// a daemon restart by the event's source, source instance and source seq). With a position file,
// not even across this process's own crash. Events published in one dispatch round leave together when it ends (never
// later: a lone publish is sent at once); see PublishBatch for loops outside handlers.
// Published events stay in a resend buffer until the daemon acks them; if the daemon restarts, the connection rejoins by itself and resends what the old daemon never acked,
// so nothing published is lost (an event may be delivered twice if the daemon died between routing
// it and acking it). When the resend buffer is full, publish() on the loop thread waits (serving
// the link) until the daemon acks; tryPublish-style callers check canPublish() first.

#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>
#include <zmq.hpp>

#include "evr/batch.hpp"
#include "evr/bus.hpp"
#include "evr/byte_log.hpp"
#include "evr/curve_keys.hpp"
#include "evr/envelope.hpp"
#include "evr/event_order.hpp"
#include "evr/source_positions.hpp"

namespace evr {

struct ConnectionOptions {
  std::string container{};  // the name the config uses
  std::string endpoint{};   // empty: defaultEndpoint()
  std::chrono::milliseconds heartbeat{1000};
  // Resend buffer, events. Their bytes sit in 2 MiB chunks (evr/byte_log.hpp), huge pages where
  // the kernel gives them: a connection that has published holds at least one.
  std::size_t max_unacked = 65536;
  // Asks glibc to keep up to 64 MiB of freed heap for reuse, for the whole process (evr/heap.hpp):
  // without it a busy link gives memory back and faults it in again at every burst. false: leave
  // malloc as it is. GLIBC_TUNABLES=glibc.malloc.trim_threshold=N also leaves it to that.
  bool keep_freed_heap = true;
  // Optional: a file keeping, per source, the last event this container's handlers have handled,
  // so a restarted process drops what it handled before it crashed (see evr/source_positions.hpp).
  // Use it for containers that must not act twice on one event (execution). Empty: none, and
  // after a crash at most the events handled since the last ack come again (docs/delivery.md).
  std::string position_file{};
  PositionSync position_sync = PositionSync::Batch;  // when the file is forced to disk
  PositionMode position_mode = PositionMode::AfterHandling;  // an interrupted handler's event
  std::chrono::milliseconds position_sync_interval{100};  // with PositionSync::Interval
  // router.security (docs/security.md): evrouterd's public key file (its server.pub) and this
  // process's secret key file (evrctl keygen's PREFIX.key). Both or neither; empty: $EVR_SERVER_KEY
  // and $EVR_KEY, and when those are unset too the link is plain (no CURVE).
  std::string server_key_file{};
  std::string key_file{};
  // Event-time ordering (docs/determinism.md): handlers see the events of this container's inputs
  // by (event time, input, source seq), a step at a time, once every input has passed that time.
  Ordering ordering = Ordering::Arrival;
};

// The endpoint a client uses when none is given: $EVR_ENDPOINT, else
// ipc://<runtime dir>/evrouterd.sock with the runtime dir $RUNTIME_DIRECTORY or ./run.
std::string defaultEndpoint();

// A fatal link condition the caller must see: the name is taken, the protocol versions differ.
class ConnectionError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct ConnectionStats {
  std::uint64_t published = 0;        // local events exported
  std::uint64_t sent = 0;             // events sent, resends included
  std::uint64_t batches = 0;          // EVENTS messages that carried them
  std::uint64_t resent = 0;
  std::uint64_t acked = 0;            // highest seq the daemon acked
  std::uint64_t received = 0;         // events from the router dispatched
  std::uint64_t duplicates = 0;       // events from the router dropped: handled already
  std::uint64_t interrupted = 0;      // events whose handlers the last process's crash cut short
  std::uint64_t malformed = 0;        // events from the router dropped as unreadable
  std::uint64_t joins = 0;            // WELCOMEs (1 + rejoins)
  std::uint64_t errors = 0;           // ERROR messages from the daemon
  std::uint64_t denied = 0;           // events the daemon would not route (router.permissions)
  // Event-time ordering (docs/determinism.md)
  std::uint64_t steps = 0;            // steps released to handlers
  std::uint64_t unordered = 0;        // events handed on at arrival: not from an input
  std::uint64_t late = 0;             // events at or before a time their input had passed
  std::uint64_t watermarks_in = 0;    // watermark records from the daemon
  std::uint64_t watermarks_out = 0;   // watermark records sent
  std::uint64_t acked_held = 0;       // held events acked before their handlers ran (a crash
                                      // would lose them): the daemon's replay buffer was filling
};

class Connection {
 public:
  Connection(zmq::context_t& context, Bus& bus, ConnectionOptions options);
  ~Connection();  // flushes unacknowledged events for up to 2 s (and says so if that fails), then BYE
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Serves the link until stop(). Throws ConnectionError on a fatal link condition.
  void run();
  // Serves the link for at most `timeout`: returns after the first batch of work, or on timeout.
  // Returns true when something was done. Throws ConnectionError like run().
  bool poll(std::chrono::milliseconds timeout);
  // Thread-safe: makes run() return soon.
  void stop();

  // Serves the link until every published event is acked, or `timeout`. True when all acked.
  bool flush(std::chrono::milliseconds timeout);
  // Serves the link until joined, or `timeout`. True when joined.
  bool waitJoined(std::chrono::milliseconds timeout);

  // From now on, events are handled but no longer acked: evrouterd keeps them and hands them to
  // the next process joining under this name. For consumers that stop part-way through what they
  // were sent (evrctl recv --count).
  void stopAcking() { acks_stopped_ = true; }

  bool joined() const { return joined_; }
  // The highest link seq handled (what acks carry).
  std::uint64_t handledSeq() const { return handled_seq_; }
  bool canPublish() const { return unacked_.size() < options_.max_unacked; }
  const ConnectionStats& stats() const { return stats_; }
  const std::string& container() const { return options_.container; }
  const std::string& endpoint() const { return endpoint_; }

  // The clock the link's timers read (heartbeats, the ack delay, ack requests, HELLO retries, and
  // the silence after which the link counts as lost): steady_clock unless a test sets another.
  // The waits of run(), poll(), flush() and waitJoined() stay in real time.
  // Switching clocks restarts every timer at the new clock's present.
  using Now = std::function<std::chrono::steady_clock::time_point()>;
  void setClockForTest(Now now);

  // Event-time ordering (docs/determinism.md). onStepEnd: after the handlers of every event of a
  // step (one event time) have run. onInputsEnded: once, when every input has ended (published
  // END_OF_DATA, or said it will publish nothing more) and everything has been handled. Both run
  // on the loop thread, only with Ordering::EventTime.
  void onStepEnd(std::function<void(std::int64_t time)> handler) { on_step_end_ = std::move(handler); }
  void onInputsEnded(std::function<void()> handler) { on_inputs_ended_ = std::move(handler); }
  // A source's promise: nothing it publishes from now on has an event time at or before `time`.
  // Publishing does this by itself (an event of time t promises t - 1; END_OF_DATA, everything);
  // call it when a source knows more, e.g. a feed with no bars on a holiday. Loop thread only;
  // the promise leaves with the next events, or now when nothing is corked.
  void advanceWatermark(std::int64_t time);
  // The containers that route to this one, as evrouterd last said (INPUTS); by name.
  const std::vector<std::string>& inputs() const { return input_names_; }
  // The highest watermark sent (kNoWatermark: none).
  std::int64_t watermarkSent() const { return sent_watermark_; }

  // A file descriptor for the caller's own poll/epoll loop: readable when poll(0ms) has work.
  // Call poll(0ms) also at least every heartbeat interval.
  int fd() const { return epoll_fd_; }

 private:
  struct Pending {  // an exported event in the resend buffer: its EVENTS record is in unacked_bytes_
    std::uint64_t seq = 0;
    detail::ByteLog::Ref record;
  };
  void keepUnacked(std::span<const std::byte> bytes, std::uint8_t type, std::uint8_t hops);
  using Clock = std::chrono::steady_clock;

  // Keeps exported events back until the last Cork ends (then sends them in batches).
  struct Cork {
    explicit Cork(Connection& c) : connection(c) { connection.cork(); }
    ~Cork() { connection.uncork(); }
    Connection& connection;
  };
  friend class PublishBatch;
  void cork();
  void uncork();
  void onExport(const Event& event);
  void sendHello();
  // Sends every exported, not yet sent event, in EVENTS messages of up to batchLimit() bytes, as
  // far as the link takes them (sendBatches), then moves send_mark_.
  void sendUnsent();
  void sendBatches();
  std::size_t batchLimit() const;
  // Asks the daemon for its ack now (at most every few ms) after sending what is unsent.
  void requestAck();
  bool sendControl(MessageKind kind);
  bool sendFrames(zmq::message_t& envelope, zmq::message_t* body);
  std::size_t receiveBurst();
  void handleMessage(const Envelope& envelope, zmq::message_t* body);
  void handleEvents(const Envelope& envelope, zmq::message_t* body);
  // One event from the daemon, at link seq `seq`: dispatched when readable, else counted.
  void takeEvent(std::uint64_t seq, std::uint8_t envelope_type, Event event, std::string_view why);
  void handleInputs(zmq::message_t* body);
  // Ordering::EventTime: hands the bus every step the order can release (only when the bus is
  // idle, so a step's handlers never interleave with another's).
  void releaseOrdered();
  // Appends a watermark record to what is unsent when this container can promise more than it
  // has (and someone downstream is ordered).
  void appendWatermark();
  bool ordered() const { return options_.ordering == Ordering::EventTime; }
  // Ack bookkeeping: every link seq taken gets a ticket, in order; `done` once handled (or
  // skipped). The ack moves over the done prefix.
  std::uint64_t track(std::uint64_t seq, bool done);
  bool markDone(std::uint64_t ticket);  // false: done already (or settled)
  void settle();
  void deliverToBus(Event event, std::uint64_t ticket);
  void handleWelcome(const Envelope& envelope, zmq::message_t* body);
  void handleError(zmq::message_t* body);
  void handleAck(std::uint64_t ack);
  // The bus has run the handlers of the oldest router event it was given.
  void onHandled(const Event& event) noexcept;
  // An event taken without dispatch (a duplicate, unreadable) counts as handled in its turn.
  void skipHandled(std::uint64_t seq);
  // What acks carry now (the handled position, made durable per the position file's policy).
  std::uint64_t ackValue();
  void onTimer();
  void markLost(const char* why);
  // Sets CURVE on the socket when keys are given (options or environment). Before connect.
  void setUpCurve(zmq::context_t& context);
  // While not joined: a handshake the daemon refused (a CURVE key it does not know, or CURVE on
  // one side only) is a ConnectionError, not an endless retry.
  void checkHandshake();
  bool serveOnce(std::chrono::milliseconds timeout);
  // Takes what other threads published and what the daemon sent, without waiting; clears the
  // wake-up eventfd only when `clear_wakeups` (each clearing is a read(2), usually of nothing).
  std::size_t serveReady(bool clear_wakeups);
  std::size_t drainWakeups(bool clear_eventfd);

  Bus& bus_;
  ConnectionOptions options_;
  std::string endpoint_;
  zmq::socket_t socket_;
  std::optional<HandshakeWatch> handshake_;  // refused handshakes of socket_
  int wake_fd_ = -1;   // eventfd: other threads published or called stop()
  int epoll_fd_ = -1;  // wake_fd_ + the socket's ZMQ_FD
  std::uint64_t client_instance_ = 0;

  bool joined_ = false;
  std::atomic<bool> stop_requested_{false};
  std::uint64_t daemon_instance_ = 0;
  std::uint64_t next_seq_ = 1;          // link seq of the next exported event
  detail::Ring<Pending> unacked_;          // exported, not yet acked; front is oldest
  detail::ByteLog unacked_bytes_;          // their records, batch bodies already
  std::uint64_t next_unsent_seq_ = 1;    // first entry of unacked_ not yet sent on this join
  std::uint64_t acked_ = 0;              // highest seq the daemon acked
  std::uint64_t rx_seq_ = 0;             // highest link seq taken from this daemon instance
  std::uint64_t handled_seq_ = 0;        // highest link seq whose handlers have run (the ack)
  std::uint64_t rx_acked_sent_ = 0;      // handled_seq_ value last acked to the daemon
  // Router events taken and not yet handled (or skipped), in link order; in_bus_base_ is the
  // ticket of the front. `epoch` is the join they came on: one from a daemon that has since
  // restarted moves no ack. bus_tickets_: the tickets of the events given to the bus, in the
  // order given (the bus runs them in that order), so a handled event finds its entry.
  struct InBus {
    std::uint64_t seq;
    std::uint32_t epoch;
    bool done;
  };
  detail::Ring<InBus> in_bus_;
  std::uint64_t in_bus_base_ = 0;
  std::uint64_t next_ticket_ = 0;
  detail::Ring<std::uint64_t> bus_tickets_;
  // Event-time ordering (docs/determinism.md).
  EventOrder order_;
  std::vector<std::string> input_names_;
  bool want_watermarks_ = false;             // INPUTS: someone this container routes to is ordered
  std::int64_t own_watermark_ = kNoWatermark;  // what publishing (or advanceWatermark) promised
  std::int64_t sent_watermark_ = kNoWatermark;
  bool inputs_ended_told_ = false;
  std::uint32_t replay_limit_ = 0;           // from WELCOME
  std::function<void(std::int64_t)> on_step_end_;
  std::function<void()> on_inputs_ended_;
  std::uint32_t epoch_ = 0;              // daemon instances joined so far
  bool acks_stopped_ = false;
  SourcePositions positions_;
  std::uint32_t max_message_size_ = 0;   // from WELCOME; 0 = not known yet
  std::chrono::milliseconds heartbeat_;

  Clock::time_point last_send_{};
  Clock::time_point last_receive_{};
  Clock::time_point last_hello_{};
  std::chrono::milliseconds hello_retry_{100};  // doubles while HELLOs go unanswered (connection.cpp)
  Clock::time_point joining_since_ = Clock::now();  // when this (re)join began: the nameInUse grace
  Clock::time_point last_ack_request_{};
  std::uint64_t ack_requested_up_to_ = 0;  // highest sent seq when the last ack request went
  bool warned_full_ = false;
  // ERROR overloaded (the daemon is at router.max_connections): HELLOs go at this interval
  // instead of every 100 ms, doubling up to 5 s; back to 0 on WELCOME.
  std::chrono::milliseconds overload_backoff_{0};
  int corked_ = 0;                       // Cork / PublishBatch scopes alive
  std::size_t unsent_bytes_ = 0;         // event bytes exported but not yet sent
  // A corked publish sends once unsent_bytes_ reaches this: a batch's worth more than sendUnsent
  // left behind, so a full link is asked again once per batch, not once per event.
  std::size_t send_mark_ = kBatchTargetBytes;
  struct HeldBatch {  // the EVENTS body the link last refused (count 0: none)
    zmq::message_t body;
    std::uint64_t first_seq = 0;
    std::size_t count = 0;
    std::size_t event_bytes = 0;
  };
  HeldBatch held_;

  ConnectionStats stats_;
  Now now_ = &Clock::now;
};

// Groups the events published on the loop thread while it lives into as few EVENTS messages as
// fit (each up to kBatchTargetBytes), for code that publishes many events outside a handler, such
// as a data feed replaying a file. Inside handlers this happens by itself: what one dispatch
// round or one receive burst publishes leaves together at its end. Events leave when the
// PublishBatch ends, when a batch is full, or when the connection is served (poll, run, flush).
class PublishBatch {
 public:
  explicit PublishBatch(Connection& connection) : connection_(connection) { connection_.cork(); }
  ~PublishBatch() {
    try {
      connection_.uncork();
    } catch (const std::exception&) {
      // Unsent events stay in the resend buffer; the next poll or run sends them.
    }
  }
  PublishBatch(const PublishBatch&) = delete;
  PublishBatch& operator=(const PublishBatch&) = delete;

 private:
  Connection& connection_;
};

}  // namespace evr
