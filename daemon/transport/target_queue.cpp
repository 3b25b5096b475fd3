#include "transport/target_queue.hpp"

#include <capnp/message.h>
#include <capnp/serialize.h>
#include <kj/exception.h>

#include <algorithm>
#include <cassert>
#include <cstring>
#include <utility>

#include "event.capnp.h"
#include "evr/framing.hpp"

namespace evr::transport {
namespace {

constexpr std::size_t kMinRing = 16;
constexpr std::size_t kMinIndex = 16;
// Compaction waits for at least this many tombstones, so that a small queue is not compacted
// on every removal.
constexpr std::size_t kMinTombstonesToCompact = 64;

std::uint64_t mix(std::uint64_t x) {  // splitmix64's finaliser
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ull;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebull;
  x ^= x >> 31;
  return x;
}

std::uint64_t keyHash(std::uint32_t source, std::uint8_t type, std::span<const std::byte> symbol) {
  std::uint64_t hash = 0xcbf29ce484222325ull;  // FNV-1a 64 over the symbol
  for (const std::byte b : symbol) {
    hash ^= static_cast<std::uint8_t>(b);
    hash *= 0x100000001b3ull;
  }
  return mix(hash ^ mix((static_cast<std::uint64_t>(source) << 8) | type));
}

}  // namespace

QueuedEvent QueuedEvent::of(std::span<const std::byte> event, std::uint8_t event_type, std::uint8_t hops,
                            std::uint64_t journal_index, zmq::message_t* whole) {
  QueuedEvent queued{zmq::message_t(), event_type, hops, journal_index};
  if (whole != nullptr) {
    assert(event.data() >= static_cast<const std::byte*>(whole->data()) &&
           event.data() + event.size() <= static_cast<const std::byte*>(whole->data()) + whole->size());
    queued.body.copy(*whole);  // zmq_msg_copy: a counted reference to the same buffer
    if (queued.body.data() == whole->data()) {
      queued.part = event;
      return queued;
    }
  }
  queued.body = zmq::message_t(event.data(), event.size());
  return queued;
}

QueuedEvent QueuedEvent::batch(zmq::message_t& whole, std::uint32_t records, std::uint64_t journal_index) {
  assert(records >= 2);
  QueuedEvent queued{zmq::message_t(), 0, 0, journal_index};
  queued.body.copy(whole);  // a counted reference, or the bytes of a small message
  queued.records = records;
  return queued;
}

ConflationKey conflationKey(std::uint32_t source, std::uint8_t event_type,
                            std::span<const std::byte> event) noexcept {
  ConflationKey key;
  key.source = source;
  key.event_type = event_type;
  if (checkFraming(event) != FramingError::None) return key;
  try {
    const AlignedWords words(event);
    capnp::FlatArrayMessageReader message(words.words(), peerReaderOptions(event.size()));
    const auto root = message.getRoot<schema::Event>();
    if (root.hasSymbol()) {
      const capnp::Text::Reader symbol = root.getSymbol();
      // The text lies in the words read; its offset there is its offset in `event` (a copy, when
      // one was made, has the same layout).
      const auto* base = reinterpret_cast<const char*>(words.words().begin());
      const std::ptrdiff_t offset = symbol.begin() - base;
      if (offset < 0 || static_cast<std::size_t>(offset) + symbol.size() > event.size()) {
        return key;  // cannot happen for a checked message; refuse rather than over-read
      }
      key.symbol_offset = static_cast<std::uint32_t>(offset);
      key.symbol_size = static_cast<std::uint32_t>(symbol.size());
    }
    key.hash = keyHash(source, event_type, event.subspan(key.symbol_offset, key.symbol_size));
    key.valid = true;
  } catch (const kj::Exception&) {
    key = ConflationKey{};
    key.source = source;
    key.event_type = event_type;
  } catch (...) {  // e.g. bad_alloc from the aligned copy
    key = ConflationKey{};
    key.source = source;
    key.event_type = event_type;
  }
  return key;
}

TargetQueue::PushResult TargetQueue::push(QueuedEvent&& event, DeliveryPolicy policy,
                                          std::uint32_t lossy_limit, const ConflationKey& key,
                                          std::uint64_t bytes_limit) {
  assert(lossy_limit >= 1);
  assert(event.records == 1 || policy == DeliveryPolicy::Lossless);
  switch (policy) {
    case DeliveryPolicy::Lossless:
      append(std::move(event), policy);
      return PushResult::Appended;

    case DeliveryPolicy::Conflate: {
      if (!key.valid) {
        append(std::move(event), policy);
        return PushResult::Appended;
      }
      const std::uint64_t found = findIndexed(key, event);
      if (found != kNoPos) {
        Slot& queued = slot(found);
        auto& policy_bytes = bytes_[static_cast<std::size_t>(DeliveryPolicy::Conflate)];
        policy_bytes = policy_bytes - queued.event.bytes().size() + event.bytes().size();
        queued.event = std::move(event);  // in place: the position of first arrival stays
        queued.key = key;                 // its symbol now points into the new bytes
        ++counters_.conflated;
        return PushResult::Conflated;
      }
      if (bytes(DeliveryPolicy::Conflate) >= bytes_limit) {
        ++counters_.refused_bytes;
        return PushResult::Refused;
      }
      const std::uint64_t pos = append(std::move(event), policy);
      Slot& added = slot(pos);
      added.key = key;
      added.indexed = true;
      indexInsert(key.hash, pos);
      return PushResult::Appended;
    }

    case DeliveryPolicy::DropOldest: {
      bool dropped = false;
      while (count(DeliveryPolicy::DropOldest) > 0 &&
             (count(DeliveryPolicy::DropOldest) >= lossy_limit ||
              bytes(DeliveryPolicy::DropOldest) >= bytes_limit)) {
        const std::uint64_t oldest = oldest_[oldest_head_];
        oldest_head_ = (oldest_head_ + 1) & (oldest_.size() - 1);
        --oldest_size_;
        kill(oldest);
        ++tombstones_;
        ++counters_.dropped_oldest;
        dropped = true;
      }
      skipDeadFront();
      compactIfSparse();
      const std::uint64_t pos = append(std::move(event), policy);
      if (oldest_size_ == oldest_.size()) {
        std::vector<std::uint64_t> grown(std::max<std::size_t>(kMinRing, oldest_.size() * 2));
        for (std::size_t i = 0; i < oldest_size_; ++i) {
          grown[i] = oldest_[(oldest_head_ + i) & (oldest_.size() - 1)];
        }
        oldest_ = std::move(grown);
        oldest_head_ = 0;
      }
      oldest_[(oldest_head_ + oldest_size_) & (oldest_.size() - 1)] = pos;
      ++oldest_size_;
      return dropped ? PushResult::DroppedOldest : PushResult::Appended;
    }

    case DeliveryPolicy::DropNewest:
      if (count(DeliveryPolicy::DropNewest) >= lossy_limit ||
          bytes(DeliveryPolicy::DropNewest) >= bytes_limit) {
        ++counters_.dropped_newest;
        return PushResult::Refused;
      }
      append(std::move(event), policy);
      return PushResult::Appended;
  }
  assert(false && "unknown delivery policy");
  return PushResult::Refused;
}

std::uint64_t TargetQueue::append(QueuedEvent&& event, DeliveryPolicy policy) {
  if (tail_ - head_ == ring_.size()) growRing();
  const std::uint64_t pos = tail_++;
  Slot& added = slot(pos);
  added.event = std::move(event);
  added.policy = policy;
  added.live = true;
  added.indexed = false;
  ++live_;
  events_ += added.event.records;
  counts_[static_cast<std::size_t>(policy)] += added.event.records;
  bytes_[static_cast<std::size_t>(policy)] += added.event.bytes().size();
  return pos;
}

void TargetQueue::growRing() {
  std::vector<Slot> grown(std::max<std::size_t>(kMinRing, ring_.size() * 2));
  for (std::uint64_t pos = head_; pos != tail_; ++pos) {
    grown[pos & (grown.size() - 1)] = std::move(slot(pos));
  }
  ring_ = std::move(grown);
}

// Takes the event at `pos` out of the counts and the index and frees its bytes. The drop_oldest
// list is the caller's to update.
void TargetQueue::kill(std::uint64_t pos) {
  Slot& dead = slot(pos);
  assert(dead.live);
  if (dead.indexed) indexErase(dead.key.hash, pos);
  dead.live = false;
  dead.indexed = false;
  bytes_[static_cast<std::size_t>(dead.policy)] -= dead.event.bytes().size();
  --live_;
  events_ -= dead.event.records;
  counts_[static_cast<std::size_t>(dead.policy)] -= dead.event.records;
  dead.event = QueuedEvent{};
}

void TargetQueue::skipDeadFront() {
  while (head_ != tail_ && !slot(head_).live) {
    ++head_;
    --tombstones_;
  }
}

void TargetQueue::popFront(std::size_t n) {
  assert(n <= events_);
  while (n > 0) {
    assert(head_ != tail_ && slot(head_).live && slot(head_).event.records <= n);
    n -= slot(head_).event.records;
    if (slot(head_).policy == DeliveryPolicy::DropOldest) {
      // FIFO order is shared, so the front drop_oldest event is the oldest one listed.
      assert(oldest_size_ > 0 && oldest_[oldest_head_] == head_);
      oldest_head_ = (oldest_head_ + 1) & (oldest_.size() - 1);
      --oldest_size_;
    }
    kill(head_);
    ++head_;
    skipDeadFront();
  }
}

void TargetQueue::clear() {
  for (std::uint64_t pos = head_; pos != tail_; ++pos) {
    Slot& cleared = slot(pos);
    cleared.event = QueuedEvent{};
    cleared.live = false;
    cleared.indexed = false;
  }
  head_ = tail_;
  live_ = 0;
  events_ = 0;
  tombstones_ = 0;
  counts_ = {};
  bytes_ = {};
  oldest_head_ = 0;
  oldest_size_ = 0;
  std::fill(index_.begin(), index_.end(), IndexEntry{});
  index_used_ = 0;
}

// Moves the live events together when tombstones outnumber them: O(slots), paid for by the
// removals that made the tombstones. Positions change, so the index and the drop_oldest list are
// rebuilt.
void TargetQueue::compactIfSparse() {
  if (tombstones_ < kMinTombstonesToCompact || tombstones_ <= live_) return;
  std::uint64_t write = head_;
  for (std::uint64_t read = head_; read != tail_; ++read) {
    if (!slot(read).live) continue;
    if (read != write) slot(write) = std::move(slot(read));
    ++write;
  }
  for (std::uint64_t pos = write; pos != tail_; ++pos) {
    slot(pos).event = QueuedEvent{};
    slot(pos).live = false;
    slot(pos).indexed = false;
  }
  tail_ = write;
  tombstones_ = 0;
  std::fill(index_.begin(), index_.end(), IndexEntry{});
  index_used_ = 0;
  oldest_head_ = 0;
  oldest_size_ = 0;
  for (std::uint64_t pos = head_; pos != tail_; ++pos) {
    const Slot& kept = slot(pos);
    if (kept.indexed) indexInsert(kept.key.hash, pos);
    if (kept.policy == DeliveryPolicy::DropOldest) oldest_[oldest_size_++] = pos;
  }
}

bool TargetQueue::sameKey(const Slot& queued, const ConflationKey& key,
                          const QueuedEvent& event) const {
  const ConflationKey& other = queued.key;
  if (other.hash != key.hash || other.source != key.source ||
      other.event_type != key.event_type || other.symbol_size != key.symbol_size) {
    return false;
  }
  const auto a = queued.event.bytes();
  const auto b = event.bytes();
  if (static_cast<std::size_t>(other.symbol_offset) + other.symbol_size > a.size() ||
      static_cast<std::size_t>(key.symbol_offset) + key.symbol_size > b.size()) {
    return false;  // a key not built from its event's bytes: never conflate on it
  }
  return key.symbol_size == 0 ||
         std::memcmp(a.data() + other.symbol_offset, b.data() + key.symbol_offset,
                     key.symbol_size) == 0;
}

std::uint64_t TargetQueue::findIndexed(const ConflationKey& key, const QueuedEvent& event) const {
  if (index_used_ == 0) return kNoPos;
  const std::size_t mask = index_.size() - 1;
  for (std::size_t i = key.hash & mask;; i = (i + 1) & mask) {
    const IndexEntry& entry = index_[i];
    if (entry.pos == kNoPos) return kNoPos;
    if (entry.hash == key.hash && sameKey(slot(entry.pos), key, event)) return entry.pos;
  }
}

void TargetQueue::indexInsert(std::uint64_t hash, std::uint64_t pos) {
  if ((index_used_ + 1) * 2 > index_.size()) growIndex();
  const std::size_t mask = index_.size() - 1;
  std::size_t i = hash & mask;
  while (index_[i].pos != kNoPos) i = (i + 1) & mask;
  index_[i] = IndexEntry{hash, pos};
  ++index_used_;
}

// Backward-shift deletion (linear probing without tombstones): the entries after the removed
// one move back when their probe sequence passes through the hole.
void TargetQueue::indexErase(std::uint64_t hash, std::uint64_t pos) {
  const std::size_t mask = index_.size() - 1;
  std::size_t hole = hash & mask;
  while (index_[hole].pos != pos) {
    assert(index_[hole].pos != kNoPos && "an indexed slot is missing from the index");
    hole = (hole + 1) & mask;
  }
  for (std::size_t next = (hole + 1) & mask; index_[next].pos != kNoPos; next = (next + 1) & mask) {
    const std::size_t home = index_[next].hash & mask;
    // `next` may move to `hole` when its home is not in (hole, next] cyclically.
    const bool home_between = hole <= next ? (home > hole && home <= next)
                                           : (home > hole || home <= next);
    if (home_between) continue;
    index_[hole] = index_[next];
    hole = next;
  }
  index_[hole] = IndexEntry{};
  --index_used_;
}

void TargetQueue::growIndex() {
  std::vector<IndexEntry> old = std::move(index_);
  index_.assign(std::max<std::size_t>(kMinIndex, old.size() * 2), IndexEntry{});
  index_used_ = 0;
  for (const IndexEntry& entry : old) {
    if (entry.pos != kNoPos) indexInsert(entry.hash, entry.pos);
  }
}

}  // namespace evr::transport
