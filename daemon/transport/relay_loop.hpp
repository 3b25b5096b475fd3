// RelayLoop: the routing thread. Last stage of YAML -> Config -> Topology -> RoutingTable -> here.
//
// Owns every socket (one ROUTER bound to each listen endpoint) and runs on one thread, so nothing
// on the hot path takes a lock. Per event (alone in an EVENT message or one of an EVENTS batch):
// read its envelope or record header (never the event), look up (source, type) in the current
// RoutingTable, and append the event's bytes to each target's batch; at the end of the receive
// burst each target gets its batch as one EVENTS message with fresh per-link seqs. An EVENTS body
// whose events all go by plain routes to the same targets is checked once and sent on as it came
// (forwardBatch), without a copy, when it is all a target gets in the burst. Nothing waits
// for a batch to fill: an idle link carries one event per message. A target that is not connected
// or whose pipe is full gets its events queued; every outcome is counted (stats/). The table is a
// shared_ptr<const RoutingTable> swapped between two messages.
//
// Link protocol: docs/protocol.md. Failure contract: no exception escapes per-message handling;
// malformed input is dropped, counted and logged at a limited rate.

#pragma once

#include <zmq.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <unordered_map>
#include <span>
#include <memory>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "journal/journal.hpp"
#include "evr/envelope.hpp"
#include "protocol.capnp.h"
#include "routing/routing_table.hpp"
#include "security/access_list.hpp"
#include "stats/stats.hpp"
#include "transport/peer_registry.hpp"

namespace evr::transport {

// A live copy of routed events (control/tap implements it). active() is asked per routed event,
// so it must be cheap; publish() only runs while it is true.
class EventTap {
 public:
  virtual ~EventTap() = default;
  virtual bool active() const = 0;
  virtual void publish(const std::string& source, const std::vector<std::string>& targets,
                       const std::vector<std::string>& adapters, unsigned hops,
                       zmq::message_t& event) = 0;
};

class RelayLoop {
 public:
  RelayLoop(zmq::context_t& context, const config::RouterSettings& settings,
            std::vector<std::string> endpoints);
  RelayLoop(const RelayLoop&) = delete;
  RelayLoop& operator=(const RelayLoop&) = delete;

  // Binds every endpoint. Throws std::runtime_error naming the endpoint and the reason; refuses an
  // ipc endpoint that a running daemon already serves (rather than stealing its socket file).
  void bind();

  // Installs a routing table: from the next message on, events route by it. Loop thread only.
  void installTable(std::shared_ptr<const routing::RoutingTable> table);

  // Runs until SIGTERM or SIGINT arrives on `signal_fd` (a signalfd; -1 for none) or stop() is
  // called, then drains (router.shutdown_grace_ms) and returns.
  void run(int signal_fd);
  void stop() { stop_requested_.store(true, std::memory_order_release); }
  // Called on the loop thread when SIGHUP arrives (main wires it to a config reload).
  void setReloadHandler(std::function<void()> handler) { on_reload_ = std::move(handler); }
  // A socket the loop polls too, calling `serve` on the loop thread when it may have messages (the
  // control server, the tap, ZAP): no locks, and requests are handled between two messages.
  // `serve` must take every message the socket has (receive until EAGAIN): the loop polls the
  // socket's ZMQ_FD as a plain descriptor, which signals only what arrived after the socket last
  // processed its commands (see turn()); every timer tick serves each side socket regardless.
  void addSidePoller(zmq::socket_t& socket, std::function<void()> serve) {
    side_pollers_.push_back(SidePoller{&socket, socket.get(zmq::sockopt::fd), std::move(serve), false});
  }
  // Runs `task` on the loop thread about every `every` (the timer's resolution is
  // heartbeat_ms / 4), e.g. the systemd watchdog: a stuck loop stops the pings.
  void addPeriodic(std::chrono::milliseconds every, std::function<void()> task) {
    periodic_.push_back(Periodic{every, std::move(task), {}});
  }
  // Journals routed events from now on (docs/delivery.md, "The journal"), and queues what
  // `recovery` found undelivered ahead of everything else. Call before run(), after the first
  // installTable. `all_types`: router.journal.types all.
  void setJournal(std::unique_ptr<journal::Journal> journal, const journal::JournalRecovery& recovery,
                  bool all_types);
  const journal::Journal* journal() const { return journal_.get(); }
  // router.security (docs/security.md). enableCurve: the data socket speaks CURVE with this
  // secret key (Z85) under ZAP domain security::kDataDomain; call before bind(), and serve a
  // security::ZapHandler in the same context. setAccess: the client list in force (a reload calls
  // it again): a HELLO must name a container its key holds, and a connection whose key no longer
  // holds its name is cut (ERROR notAuthorized), its later messages refused and counted.
  void enableCurve(const std::string& secret_key);
  void setAccess(std::shared_ptr<const security::AccessList> access);
  const security::AccessList* access() const { return access_.get(); }
  stats::AuthCounts& authCounts() { return auth_; }
  // router.permissions (a reload calls it again): an event of a type its source may not publish
  // is dropped (`denied`), and the source told once per type.
  void setPermissions(const std::vector<config::PublishPermission>& permissions);
  // Where copies of routed events go while someone taps (evrctl tap). Loop thread only.
  void setTap(EventTap* tap) { tap_ = tap; }
  // Applies the limits a reload may change (docs/config.md, "What a reload changes"):
  // max_connections, queue_bytes_limit and limits (each peer's token bucket, at once). Loop
  // thread only; the other settings stay as they were.
  void applyLimits(const config::RouterSettings& settings);

  // The clock the loop's timers read (heartbeat silence, the ack timer, periodic tasks, the
  // shutdown grace period, idle times): steady_clock unless a test sets another. The route-time
  // histogram always measures real time.
  using Now = std::function<Clock::time_point()>;
  void setClockForTest(Now now) { now_ = std::move(now); }
  // One turn of run()'s loop without waiting: what has arrived, then flushes, acks and timers, as
  // a test on the loop's thread drives it (with a fake clock, time moves only when it says so).
  void turnForTest() { turn(-1, std::chrono::milliseconds(0)); }

  // Every counter, with containers, routes and adapters filled in. Loop thread only (the metrics
  // server gets copies through a periodic task; control requests are served on this thread).
  stats::Snapshot snapshot() const;
  std::uint64_t instance() const { return instance_; }
  const std::vector<std::string>& endpoints() const { return endpoints_; }

 private:
  // Polls for up to `timeout`, then serves what is ready: signals, side sockets, messages, then
  // flushes, acks and timers. False when SIGTERM or SIGINT arrived.
  bool turn(int signal_fd, std::chrono::milliseconds timeout);
  std::chrono::milliseconds timerInterval() const;
  void receiveBurst();
  void handleMessage(zmq::message_t& routing_id, zmq::message_t& head, zmq::message_t* body);
  // `key`: the connection's CURVE key (Z85) under router.security, else "".
  void handleHello(zmq::message_t& routing_id, zmq::message_t* body, std::string_view key);
  void handleEvent(PeerId source, const Envelope& envelope, zmq::message_t* body);
  void handleEvents(PeerId source, const Envelope& envelope, zmq::message_t* body);
  // The hop for a whole EVENTS body that can go on as it came: every record an event that passes
  // acceptEvent's checks and routes, by plain routes only, to the same targets, from a source with
  // nothing that needs each event alone (a skipped seq, a rate limit, publish permissions, the
  // journal, a tap). Takes the seqs, moves the hops on in place, counts as routeEvent would and
  // hands each target the body itself (Peer::forward), or queues it as one entry for a target
  // with something ahead of it (queueWhole). False, having done nothing, otherwise: the body then
  // goes event by event.
  bool forwardBatch(PeerId source, const Envelope& envelope, zmq::message_t& body);
  // forwardBatch's `body` (`count` records from link seq `seq` of `source`) queued for `target`
  // as one entry, when every record is lossless for it and the queue has room for them all.
  // False, having done nothing, otherwise.
  bool queueWhole(PeerId source, std::uint64_t seq, routing::ContainerId target, zmq::message_t& body,
                  std::size_t count);
  // True when `peer`'s queue takes `events` more lossless events of `bytes` within
  // router.queue_limit and router.queue_bytes_limit.
  bool losslessRoom(const Peer& peer, std::size_t events, std::size_t bytes) const;
  // Takes the body `target` holds to forward into its `out` batch, so more can follow it there.
  void unforward(Peer& target);
  // Takes link seq `seq` from `source`: false when it was taken before (a resend). `event`: it
  // carries an event (counted in); false for a watermark record.
  bool takeSeq(PeerId source, std::uint64_t seq, bool event = true);
  // Event-time ordering (docs/determinism.md). A watermark record from `source`: passed, as
  // "`source` is complete up to t", to every container it routes to (never journaled or tapped).
  void acceptWatermark(PeerId source, std::span<const std::byte> record);
  // Keeps `watermark` for `reader` until its queue is empty: the latest per source.
  void holdWatermark(Peer& reader, WatermarkInfo watermark);
  // Sends `id` its INPUTS when they differ from what it was last sent (`force`: anyway, as after
  // WELCOME). refreshInputs: every connected peer, after a table change or a new ordered peer.
  void sendInputs(PeerId id, bool force);
  void refreshInputs();
  // An ordered target acked `batch` whole: the watermark records in it are what a process joining
  // under its name starts from (INPUTS' watermarks).
  void noteAckedWatermarks(Peer& peer, const zmq::message_t& batch);
  // The checks every event passes (size, framing, type, hop limit), then routing.
  void acceptEvent(PeerId source, std::uint64_t seq, std::uint8_t event_type, std::uint8_t hops,
                   std::span<const std::byte> event);
  // router.permissions: true when `source` may publish the event (its header type, which must be
  // the event's own); otherwise it is dropped, counted `denied` and the source told once per type.
  bool mayPublish(PeerId source, std::uint64_t seq, std::uint8_t event_type, std::span<const std::byte> event);
  // The types `peer` may publish under the router.permissions in force.
  const EventTypeSet& publishable(Peer& peer);
  // A message from a connection that has not joined (or was cut): true when its key is one
  // router.security no longer lets in (answered notAuthorized and counted, not notJoined).
  bool refuseRevoked(const zmq::message_t& head, const std::string& routing_id, std::uint64_t seq);
  void routeEvent(PeerId source, std::uint8_t event_type, std::uint8_t hops,
                  std::span<const std::byte> event);
  void tapEvent(PeerId source, const routing::RouteEntry& entry,
                const std::vector<routing::ContainerId>& chosen,
                const std::vector<routing::AdapterIndex>& deciders, std::uint8_t hops,
                std::span<const std::byte> event);
  // A copy of `event` changed by `transform`; `new_type` is its type afterwards.
  static zmq::message_t applyTransform(const schema::Event::Reader& event,
                                       const routing::Transform& transform, EventType& new_type);
  // Delivers the event to every target in chosen_ (one journal record for them all).
  void deliverChosen(std::uint8_t event_type, std::uint8_t hops, std::span<const std::byte> event);
  // `whole`: the EVENTS message `event` is a record of, when every record of it goes to `target`:
  // a lossless event queued for it shares that message instead of a copy (QueuedEvent::of).
  void deliver(routing::ContainerId target, std::uint8_t event_type, std::uint8_t hops,
               std::span<const std::byte> event, std::uint64_t journal_index,
               zmq::message_t* whole = nullptr);
  // Appends the event routed to chosen_ to the journal; returns its index (0: not journaled).
  std::uint64_t journalEvent(std::uint8_t event_type, std::uint8_t hops, std::span<const std::byte> event);
  // Forces the journal to disk per its policy and lets the held sources' acks go.
  void syncJournal();
  struct Origin {
    std::string source;
    std::uint64_t instance = 0;
    std::uint64_t seq = 0;
  };
  static std::optional<Origin> readOrigin(std::span<const std::byte> event);
  // True for a source's resend of an event the previous daemon journaled (and did not ack).
  bool journaledBefore(std::span<const std::byte> event);
  void checkStall(PeerId id, Clock::time_point now);
  // Sends the events batched for `target` in this burst as one EVENTS message.
  void flushOut(PeerId target);
  void flushAllOut();
  // Moves what is batched for `target` to its queue (its pipe is full, or it is gone).
  void spillOut(PeerId target, zmq::message_t& batch, std::uint64_t journal_index);
  // Queues per the target's delivery policy for the event (conflating or dropping, counted).
  void enqueue(PeerId target, QueuedEvent&& event, DeliveryPolicy policy);
  // Backpressure: a connected target's queue at pauseThreshold() holds the acks of the source
  // whose event was routed there; releaseHeldAcks() lets them go once queues are at half of it.
  std::size_t pauseThreshold() const;
  void holdAcks(PeerId source, std::uint64_t seq);
  void releaseHeldAcks();
  // Bytes counterpart of pauseThreshold(): a quarter of router.queue_bytes_limit.
  std::uint64_t pauseBytes() const;
  // Limits (docs/delivery.md, "Limits"). A HELLO that needs a connection slot when
  // router.max_connections are joined gets ERROR overloaded: false then.
  bool admitHello(const std::string& routing_id, const std::string& name);
  // Charges the event taken at `seq` to its source's token bucket; over it, the source's acks stop
  // before `seq` (Peer::rate_cap) and the event counts as rate_limited.
  void chargeRate(PeerId source, std::uint64_t seq);
  // Pays the capped sources' events from their refilled buckets, moving their acks on.
  void releaseRateCaps();
  // (Re)applies router.limits to the peer's bucket; an unlimited one lets its cap go.
  void applyRateLimit(PeerId id);
  std::chrono::milliseconds pollTimeout() const;

  enum class SendResult { Sent, WouldBlock, Gone };
  SendResult sendTo(Peer& peer, const Envelope& envelope, zmq::message_t* body);
  // Sends `batch` of `count` records as the next EVENTS message to `peer` and, once sent, keeps
  // it for replay and moves the link's seq. The caller counts what it carried.
  SendResult sendBatch(Peer& peer, zmq::message_t batch, std::size_t count, std::uint64_t journal_index);
  SendResult sendBatch(Peer& peer, BatchWriter& writer, std::uint64_t journal_index) {
    const std::size_t count = writer.count();
    return sendBatch(peer, writer.take(), count, journal_index);
  }
  SendResult sendRaw(const std::string& routing_id, const Envelope& envelope, zmq::message_t* body);
  void sendError(const std::string& routing_id, schema::ErrorCode code, const std::string& message,
                 std::uint64_t seq = 0);
  void flushQueue(PeerId id);
  // Sends the watermarks held for `id` (held while it was away or its queue was not empty, so
  // they follow every event queued before them) once nothing is queued ahead of them.
  void sendHeldWatermarks(PeerId id);
  // The container acked its link up to `ack`: what that covers leaves the replay buffer.
  void takeAck(PeerId id, std::uint64_t ack);
  // Sends what the replay buffer holds beyond the current connection's position. False while the
  // pipe is full or the connection went away.
  bool resendReplay(PeerId id);
  // Keeps a sent batch for resending until the container acks it.
  void keepForReplay(Peer& peer, std::uint64_t first_seq, std::size_t count, zmq::message_t& batch,
                     std::uint64_t journal_index);
  // A target with a lossy policy (conflate, drop_*) gets at most this many messages ahead of its
  // queue, as the pipe's mark used to allow: what it sheds when it falls behind is then what it
  // could not take, not what waited in a deep pipe (its queue is where policies apply).
  static constexpr std::size_t kSheddingReplayMessages = 100;
  // The replay buffer is at router.replay_limit events or replay_bytes_limit bytes (or, for a
  // target that sheds, kSheddingReplayMessages): what comes for the peer waits in its queue until
  // an ack makes room.
  bool replayFull(const Peer& peer) const {
    return peer.replayEvents() >= settings_.replay_limit || peer.replay_bytes >= settings_.replay_bytes_limit ||
           (peer.sheds && peer.replay.size() >= kSheddingReplayMessages);
  }
  // Events may go straight to the connection (nothing queued or waiting to be resent before them,
  // and the replay buffer has room).
  bool sendsDirect(const Peer& peer) const {
    return peer.connected && peer.queue.empty() && peer.resend_from == peer.replay.size() && !replayFull(peer);
  }
  void flushBacklog();
  void sendAcks();
  void onTimer();
  void disconnect(PeerId id, const char* why);
  void drop(stats::DropReason reason, PeerId from, std::optional<PeerId> to, const std::string& why,
            std::uint64_t events = 1);
  void drainForShutdown();
  void rebindTable();

  static constexpr PeerId kNoPeer = ~PeerId{0};

  zmq::socket_t socket_;
  std::function<void()> on_reload_;
  struct SidePoller {
    zmq::socket_t* socket;
    int fd;  // its ZMQ_FD
    std::function<void()> serve;
    bool pending;  // serve() left messages (it takes a bounded number per call)
  };
  // Serves each side socket whose descriptor fired, that had messages left, or all (`all`).
  void serveSidePollers(const zmq::pollitem_t* items, bool all);
  std::vector<SidePoller> side_pollers_;
  struct Periodic {
    std::chrono::milliseconds every;
    std::function<void()> run;
    Clock::time_point last;
  };
  std::vector<Periodic> periodic_;
  EventTap* tap_ = nullptr;
  config::RouterSettings settings_;
  std::vector<std::string> endpoints_;
  std::uint64_t instance_;
  std::atomic<bool> stop_requested_{false};
  bool stopping_ = false;

  std::shared_ptr<const routing::RoutingTable> table_;
  PeerRegistry peers_;
  // The table's ContainerIds <-> our PeerIds, rebuilt whenever either side grows.
  std::vector<PeerId> peer_of_container_;
  std::vector<std::int32_t> container_of_peer_;  // -1: not in the table
  std::vector<std::uint64_t> adapter_matches_;    // events each adapter routed
  std::vector<std::uint64_t> adapter_unmatched_;  // selective: events no rule (and no default) took
  // Per table container: the route_stamp_ of the last event delivered to it, so an event that
  // several routes reach (static and selective) goes to each target once, without allocating.
  std::vector<std::uint64_t> delivered_stamp_;
  std::vector<std::uint64_t> route_counts_;  // [source * containers + target], this table's
  std::uint64_t route_stamp_ = 0;
  std::vector<routing::ContainerId> chosen_;  // targets of the event being routed, as it came
  std::uint64_t generation_ = 0;              // tables installed so far

  std::unique_ptr<journal::Journal> journal_;
  bool journal_all_types_ = false;
  bool journal_failed_ = false;                 // an append failed; sources held until one works
  std::uint64_t journal_first_index_ = 0;       // below it: records of an earlier daemon
  std::vector<std::string_view> journal_names_;
  std::vector<PeerId> journal_capped_;          // sources whose acks wait for the journal's sync
  // Per source name: (instance, highest seq) journaled by the previous daemon.
  std::unordered_map<std::string, std::vector<std::pair<std::uint64_t, std::uint64_t>>> recovered_seqs_;

  std::vector<PeerId> ack_pending_;   // sources that sent events this burst
  std::vector<PeerId> out_pending_;   // targets with events batched in this burst
  std::vector<PeerId> held_;          // sources whose acks are held (backpressure)
  std::vector<PeerId> rate_capped_;   // sources whose acks wait for their rate limit
  PeerId routing_source_ = kNoPeer;   // the source and seq of the event being routed
  std::uint64_t routing_seq_ = 0;
  std::vector<PeerId> backlogged_;    // connected peers with a non-empty queue
  Clock::time_point last_timer_{};

  std::shared_ptr<const security::AccessList> access_;  // null: no router.security
  stats::AuthCounts auth_;
  std::unordered_map<std::string, EventTypeSet> permissions_;  // container -> may publish
  std::uint64_t permissions_generation_ = 1;

  stats::Snapshot totals_;  // events_in, deliveries, unrouted, drops (containers filled on snapshot)
  stats::RateLimiter log_limiter_;
  Now now_ = &Clock::now;
};

}  // namespace evr::transport
