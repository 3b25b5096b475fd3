// TargetQueue: the events waiting for one target container, in FIFO order, with the target's
// delivery policies (config/delivery.hpp, docs/delivery.md section 2) applied as they are pushed.
//
// Beside the relay loop (transport/), which owns one per Peer and decides when to send: this
// module only keeps and shapes the queue. Loop thread only; no sockets, no routing table.
//
// Semantics, per pushed event and its policy:
// - Lossless: appended. The queue never drops one itself; the loop watches losslessSize() and
//   holds sources back. A received batch whose every record is lossless for this target may be
//   one entry (QueuedEvent::batch): counted as its records, sent on as it came, popped whole.
// - Conflate: with a valid ConflationKey (source, type, symbol), when an event with the same key
//   is still queued, the new event replaces it in place (same position, so the order of first
//   arrival is kept) and `conflated` counts it; else it is appended and indexed. A key that could
//   not be read (a malformed event) is appended plainly and never conflated.
// - DropOldest / DropNewest with limit L: each lossy policy is bounded on its own (at most L
//   drop_oldest and at most L drop_newest events queued). A drop_oldest push at L removes the
//   oldest queued drop_oldest event (`dropped_oldest`); a drop_newest push at L is refused
//   (`dropped_newest`). Conflate events are bounded by their number of keys, not by L.
// - Bytes (router.queue_bytes_limit, B): each policy's queued event bytes are counted beside its
//   events (bytes(policy)), and a lossy push is bounded by B the same way as by L, whichever is
//   hit first: a drop_oldest push removes oldest drop_oldest events while that policy holds B
//   bytes or more; a drop_newest push is refused at B; a conflate push of a NEW key is refused
//   at B (`refused_bytes`; replacing a queued key's event is always taken). As with counts, the
//   check is made before the push, so a policy's bytes exceed B by at most one event. Lossless
//   bytes are the loop's to watch (losslessBytes()), as lossless counts are.
//
// Cost: push, conflation and removal are O(1) amortised; a removed event leaves a tombstone that
// iteration skips, and the storage is compacted when tombstones outnumber live events. The ring
// and the index grow by doubling and are reused: in steady state the only allocation per event
// is the event's own bytes, none when it shares the batch it came in (QueuedEvent::of), and, for
// conflation of an unaligned event, one aligned copy while its key is read.

#pragma once

#include <zmq.hpp>

#include <array>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <span>
#include <vector>

#include "config/delivery.hpp"

namespace evr::transport {

// An event waiting for its target: not connected yet, or its pipe is full.
struct QueuedEvent {
  // The event's bytes: a message of their own, or a share of the EVENTS message they are a record
  // of (`part` says where in it), kept without a copy (QueuedEvent::of).
  zmq::message_t body;
  std::uint8_t event_type = 0;
  std::uint8_t hops = 0;
  // Set by the journal integration (docs/delivery.md, section 3); opaque to the queue. A conflated
  // event takes the index of the event that replaces it.
  std::uint64_t journal_index = 0;
  std::span<const std::byte> part{};  // empty: the event is the whole body
  // 1: one event. 2 or more: a whole EVENTS message of that many records (`body`, `part` empty, the
  // type and hops in its records), lossless, queued as one entry and sent on as it is
  // (QueuedEvent::batch).
  std::uint32_t records = 1;

  std::span<const std::byte> bytes() const {
    return part.empty() ? std::span<const std::byte>(static_cast<const std::byte*>(body.data()), body.size()) : part;
  }

  // `event` to queue. Given `whole`, the message `event` lies in, it shares that message's buffer
  // (a reference, no copy) unless the message keeps its bytes inline (a small one), which moves
  // with it; else it copies `event`. Sharing keeps all of `whole` alive while the event waits, so
  // callers share only when every record of `whole` is queued for the same target, lossless (what
  // the queue counts is then what it keeps, but for the records' 8-byte headers).
  static QueuedEvent of(std::span<const std::byte> event, std::uint8_t event_type, std::uint8_t hops,
                        std::uint64_t journal_index, zmq::message_t* whole = nullptr);
  // All `records` records of the EVENTS message `whole` (a checked batch, hops as they are to be
  // sent) as one entry, sharing its buffer. Lossless only; its bytes() are the whole body.
  static QueuedEvent batch(zmq::message_t& whole, std::uint32_t records, std::uint64_t journal_index);
};

// What conflation compares: (source, event type, symbol). The symbol is not copied: it is the
// bytes [symbol_offset, symbol_offset + symbol_size) of the event the key was built from, so a
// key is only meaningful with that event's bytes (the body pushed with it).
struct ConflationKey {
  bool valid = false;  // false: the symbol could not be read; the event is never conflated
  std::uint32_t source = 0;
  std::uint8_t event_type = 0;
  std::uint32_t symbol_offset = 0;
  std::uint32_t symbol_size = 0;  // 0: no symbol (events of one source and type conflate)
  std::uint64_t hash = 0;
};

// The key of `event` (one Cap'n Proto schema::Event message, as routed): reads `Event.symbol`
// with a traversal limit, in place or from an aligned copy. Never throws: a malformed event gets
// a key with valid == false.
ConflationKey conflationKey(std::uint32_t source, std::uint8_t event_type,
                            std::span<const std::byte> event) noexcept;

struct TargetQueueCounters {
  std::uint64_t conflated = 0;       // events that replaced a queued one
  std::uint64_t dropped_oldest = 0;  // drop_oldest events removed to make room
  std::uint64_t dropped_newest = 0;  // drop_newest events refused
  std::uint64_t refused_bytes = 0;   // conflate events of a new key refused at the bytes bound
};

class TargetQueue {
 private:
  struct Slot {
    QueuedEvent event;
    DeliveryPolicy policy = DeliveryPolicy::Lossless;
    bool live = false;
    bool indexed = false;  // Conflate with a valid key: listed in index_
    ConflationKey key;
  };

 public:
  enum class PushResult : std::uint8_t {
    Appended,      // queued at the back
    Conflated,     // replaced a queued event with the same key, in its place
    DroppedOldest, // queued at the back; the oldest drop_oldest event was removed
    Refused,       // not queued: drop_newest at its limit
  };

  TargetQueue() = default;
  TargetQueue(TargetQueue&&) = default;
  TargetQueue& operator=(TargetQueue&&) = default;
  TargetQueue(const TargetQueue&) = delete;
  TargetQueue& operator=(const TargetQueue&) = delete;

  // Queues `event` under `policy`. `lossy_limit` (>= 1) bounds drop_oldest and drop_newest
  // events, each policy on its own; it is passed per push so that a reload can change it (a
  // smaller limit removes drop_oldest events down to it on the next drop_oldest push). `key`
  // matters for Conflate only and must be built from `event.body`'s bytes.
  // `bytes_limit` bounds each lossy policy's queued bytes likewise (router.queue_bytes_limit).
  PushResult push(QueuedEvent&& event, DeliveryPolicy policy, std::uint32_t lossy_limit,
                  const ConflationKey& key = {},
                  std::uint64_t bytes_limit = ~std::uint64_t{0});

  // Live events, a batch entry counting its records (tombstones are not counted).
  std::size_t size() const { return events_; }
  bool empty() const { return events_ == 0; }
  std::size_t losslessSize() const { return count(DeliveryPolicy::Lossless); }
  std::size_t lossySize() const { return events_ - losslessSize(); }  // conflate and drop_*
  std::size_t count(DeliveryPolicy policy) const {
    return counts_[static_cast<std::size_t>(policy)];
  }
  const TargetQueueCounters& counters() const { return counters_; }
  // Event bytes of live events: all, of one policy, of lossless ones.
  std::uint64_t bytes() const {
    std::uint64_t total = 0;
    for (const auto b : bytes_) total += b;
    return total;
  }
  std::uint64_t bytes(DeliveryPolicy policy) const { return bytes_[static_cast<std::size_t>(policy)]; }
  std::uint64_t losslessBytes() const { return bytes(DeliveryPolicy::Lossless); }

  // Forward iteration over live entries (events and batch entries) from the front, e.g. to build
  // a batch; then popFront(n) with how many events were sent. Invalidated by any change to the
  // queue.
  class const_iterator {
   public:
    using iterator_category = std::forward_iterator_tag;
    using value_type = QueuedEvent;
    using difference_type = std::ptrdiff_t;
    using pointer = const QueuedEvent*;
    using reference = const QueuedEvent&;

    const_iterator() = default;
    reference operator*() const { return queue_->slot(pos_).event; }
    pointer operator->() const { return &queue_->slot(pos_).event; }
    // The policy the event was queued under.
    DeliveryPolicy policy() const { return queue_->slot(pos_).policy; }
    const_iterator& operator++() {
      pos_ = queue_->nextLive(pos_ + 1);
      return *this;
    }
    const_iterator operator++(int) {
      const_iterator before = *this;
      ++*this;
      return before;
    }
    friend bool operator==(const const_iterator& a, const const_iterator& b) {
      return a.pos_ == b.pos_;
    }

   private:
    friend class TargetQueue;
    const_iterator(const TargetQueue* queue, std::uint64_t pos) : queue_(queue), pos_(pos) {}
    const TargetQueue* queue_ = nullptr;
    std::uint64_t pos_ = 0;
  };
  const_iterator begin() const { return const_iterator(this, head_); }  // head_ is live or tail_
  const_iterator end() const { return const_iterator(this, tail_); }
  const QueuedEvent& front() const {
    assert(!empty());
    return slot(head_).event;
  }

  // The front entry's message, shared (a counted reference): for a batch entry, what to send.
  zmq::message_t shareFront() {
    assert(!empty());
    zmq::message_t shared;
    shared.copy(slot(head_).event.body);
    return shared;
  }

  // Removes the first `n` live events (n <= size()); a batch entry goes whole, never in part.
  void popFront(std::size_t n);
  // Removes every event; counters and capacity stay.
  void clear();

  // For tests: slots in use (live events and tombstones) and the index's entry count.
  std::size_t slotsInUseForTest() const { return static_cast<std::size_t>(tail_ - head_); }
  std::size_t indexSizeForTest() const { return index_used_; }

 private:
  static constexpr std::uint64_t kNoPos = ~std::uint64_t{0};
  struct IndexEntry {
    std::uint64_t hash = 0;
    std::uint64_t pos = kNoPos;  // absolute position of the slot; kNoPos: empty
  };

  Slot& slot(std::uint64_t pos) { return ring_[pos & (ring_.size() - 1)]; }
  const Slot& slot(std::uint64_t pos) const { return ring_[pos & (ring_.size() - 1)]; }
  std::uint64_t nextLive(std::uint64_t pos) const {
    while (pos != tail_ && !slot(pos).live) ++pos;
    return pos;
  }
  std::uint64_t append(QueuedEvent&& event, DeliveryPolicy policy);
  void growRing();
  void kill(std::uint64_t pos);   // live -> tombstone (or popped)
  void skipDeadFront();
  void compactIfSparse();

  bool sameKey(const Slot& queued, const ConflationKey& key, const QueuedEvent& event) const;
  std::uint64_t findIndexed(const ConflationKey& key, const QueuedEvent& event) const;
  void indexInsert(std::uint64_t hash, std::uint64_t pos);
  void indexErase(std::uint64_t hash, std::uint64_t pos);
  void growIndex();

  // Slots at absolute positions [head_, tail_), at ring_[pos & (size - 1)]; a power of two.
  std::vector<Slot> ring_;
  std::uint64_t head_ = 0;
  std::uint64_t tail_ = 0;
  std::size_t live_ = 0;    // live slots
  std::size_t events_ = 0;  // the events they hold
  std::size_t tombstones_ = 0;
  std::array<std::size_t, kDeliveryPolicyCount> counts_{};
  std::array<std::uint64_t, kDeliveryPolicyCount> bytes_{};  // event bytes, per policy
  // Positions of live drop_oldest events, oldest first: a ring like ring_.
  std::vector<std::uint64_t> oldest_;
  std::size_t oldest_head_ = 0;
  std::size_t oldest_size_ = 0;
  // Conflation index: open addressing, linear probing, power-of-two size, at most half full.
  std::vector<IndexEntry> index_;
  std::size_t index_used_ = 0;
  TargetQueueCounters counters_;
};

}  // namespace evr::transport
