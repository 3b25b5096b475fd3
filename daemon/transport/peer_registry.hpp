// PeerRegistry: the relay loop's state for every container it has heard of or routes to.
//
// Beside the routing table, which is an immutable value swapped on reload, this is the mutable
// side: one Peer per container name, kept for the daemon's life (so queues and counters survive
// reloads and reconnects), plus the map from the ROUTER's routing ids to peers. Loop thread only.

#pragma once

#include <zmq.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "evr/batch.hpp"
#include "evr/link_messages.hpp"
#include "evr/event_types.hpp"
#include "stats/stats.hpp"
#include "transport/rate_limiter.hpp"
#include "transport/target_queue.hpp"  // QueuedEvent

namespace evr::transport {

using PeerId = std::uint32_t;
using Clock = std::chrono::steady_clock;

// An EVENTS message sent to a container and not yet acked by it: kept (a reference to the same
// buffer, not a copy) to send again if the container's process dies before it has handled them.
struct SentBatch {
  std::uint64_t first_seq = 0;  // link seq of its first event
  std::uint32_t count = 0;
  zmq::message_t batch;
  std::uint64_t journal_index = 0;  // the highest journal index among its events; 0: none
  std::uint64_t last_seq() const { return first_seq + count - 1; }
};

struct Peer {
  std::string name;
  bool connected = false;
  std::string routing_id;          // the ROUTER's id for the current connection
  std::uint64_t client_instance = 0;
  std::string key;                 // router.security: the current connection's CURVE key (Z85)

  // router.permissions: the types it may publish, as of the loop's permissions_generation_
  // (recomputed when they differ, so a reload or a new peer needs no pass over every peer).
  EventTypeSet may_publish = EventTypeSet::all();
  std::uint64_t permissions_generation = 0;
  EventTypeSet denied_told;        // types it has been sent ERROR notAuthorized for

  // container -> daemon link
  std::uint64_t last_rx_seq = 0;   // highest seq taken from the container
  std::uint64_t acked_rx_seq = 0;  // ackable() value last acked
  // Backpressure: while set, acks stop here (an event at the next seq met a congested target),
  // so the container's resend buffer fills and its publish waits instead of the queue overflowing.
  std::optional<std::uint64_t> ack_hold;
  bool ack_now = false;  // ack at the end of this burst whatever the count (a resend, a release)
  // Journal: acks stop before the first event journaled in this burst until the journal has it on
  // disk (per router.journal.fsync).
  std::optional<std::uint64_t> journal_cap;
  // Rate limit (router.limits): acks stop at the last event within its token budget; the events
  // after it are paid for, in order, as tokens come back (RelayLoop::releaseRateCaps).
  std::optional<std::uint64_t> rate_cap;
  TokenBucket rate;
  std::uint64_t ackable() const {
    std::uint64_t out = last_rx_seq;
    if (ack_hold) out = std::min(out, *ack_hold);
    if (journal_cap) out = std::min(out, *journal_cap);
    if (rate_cap) out = std::min(out, *rate_cap);
    return out;
  }
  // daemon -> container link: the seq runs for the daemon's life, across the container's joins,
  // so a process joining under the name resumes right after the last event the name acked.
  std::uint64_t tx_seq = 0;
  std::uint64_t tx_acked = 0;
  // The replay buffer: what was sent and not acked, oldest first, bounded by router.replay_limit
  // events and router.replay_bytes_limit bytes (replay_bytes: its batches' sizes). Batches before
  // `resend_from` have been sent on the current connection; a new connection starts again at 0.
  // What libzmq's pipes to the container hold is part of it (sent, so kept here).
  std::deque<SentBatch> replay;
  std::uint64_t replay_bytes = 0;
  bool sheds = false;  // some event type has a lossy policy for it (RelayLoop::rebindTable)
  // Events the replay buffer holds (every sent batch is kept until acked whole, so they run from
  // its first batch to tx_seq), a partly acked first batch included.
  std::size_t replayEvents() const { return replay.empty() ? 0 : tx_seq - replay.front().first_seq + 1; }
  std::size_t resend_from = 0;

  // Event-time ordering (docs/determinism.md). `ordered`: the last process under this name said so
  // in its HELLO (kept while it is away, so its sources keep sending watermarks).
  // `inputs_sent`: the last INPUTS it was sent, watermarks left out (what a reload compares).
  // `acked_watermarks`: per input, the latest watermark record inside a batch it acked whole.
  bool ordered = false;
  std::optional<InputsInfo> inputs_sent;
  std::vector<WatermarkInfo> acked_watermarks;
  // Watermarks for it that could not go at once (it is away, or events are queued ahead of
  // them): the latest per source, sent when its queue is empty. Never queued, so they hold no
  // source and count against no limit; late is safe for a watermark, early never is.
  std::vector<WatermarkInfo> held_watermarks;

  Clock::time_point last_heard{};
  // Events routed to this peer in the current receive burst, sent as one EVENTS message at its
  // end. Only filled while `queue` is empty (so order holds): a peer has one or the other.
  BatchWriter out;
  std::uint64_t out_journal = 0;  // the highest journal index among the events in `out`
  std::size_t out_watermarks = 0;  // watermark records in `out` (not events: not counted as such)
  std::size_t out_watermark_bytes = 0;
  // Or, instead of `out`, one EVENTS body as a source sent it (its hops moved on), when every event
  // in it goes where this peer is and nothing else came for it yet this burst: sent on as it is,
  // without a copy (RelayLoop::forwardBatch). A peer holds one or the other, never both.
  zmq::message_t forward;
  std::size_t forward_count = 0;  // its records; 0: none held
  bool out_listed = false;  // listed in the loop's out list for this burst
  TargetQueue queue;
  // Stall detection: when it last acked (or had no lossless work pending), and whether it has
  // been reported stalled since (router.stall_timeout_ms).
  Clock::time_point last_progress{};
  bool stalled = false;
  bool backlogged = false;   // listed in the loop's backlog (connected, queue not empty)
  bool ack_pending = false;  // listed in the loop's ack list for this burst
  stats::ContainerCounters counters;
};

class PeerRegistry {
 public:
  // The peer for `name`, created (disconnected, empty) if new. Ids are never reused.
  PeerId ensure(std::string_view name);
  std::optional<PeerId> findByName(std::string_view name) const;
  std::optional<PeerId> findByRoutingId(std::string_view routing_id) const;

  void attach(PeerId id, std::string routing_id);  // the peer is connected through routing_id
  void detach(PeerId id);                          // the connection is gone; queue and counters stay

  Peer& operator[](PeerId id) { return peers_[id]; }
  const Peer& operator[](PeerId id) const { return peers_[id]; }
  std::size_t size() const { return peers_.size(); }
  // Peers connected now (router.max_connections counts them).
  std::size_t connectedCount() const { return by_routing_id_.size(); }

 private:
  std::deque<Peer> peers_;  // a deque: Peers never move, references stay valid
  std::unordered_map<std::string, PeerId> by_name_;
  std::unordered_map<std::string, PeerId> by_routing_id_;
};

}  // namespace evr::transport
