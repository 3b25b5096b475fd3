// The body of an EVENTS message: several events in one ZeroMQ frame (docs/protocol.md, "EVENTS").
//
// Why: per-message cost in ZeroMQ (frames, pipe hand-offs, I/O-thread wake-ups) is several times
// the cost of routing an event, so a busy link carries events in batches. A batch forms only from
// what is already waiting (a receive burst, a dispatch round, an explicit PublishBatch); nothing is
// ever held back to fill one.
//
// Layout: `count` records back to back (the count is the envelope's `flags` field), each
//
//   0  4  size: bytes of the event that follows (a multiple of 8, at least 8)
//   4  1  event type (schema::EventType ordinal)
//   5  1  hops
//   6  2  reserved, 0
//   8  .. the event: a flat, unpacked Cap'n Proto message (size bytes)
//
// Every record starts at a multiple of 8 from the start of the body, so events in an 8-aligned
// body are read in place. Record i has link seq = envelope seq + i.

#pragma once

#include <zmq.hpp>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <utility>

namespace evr {

inline constexpr std::size_t kBatchRecordHeader = 8;
// Records per EVENTS message: the envelope's 16-bit flags field holds the count.
inline constexpr std::size_t kMaxBatchRecords = 0xffff;
// Senders close a batch once it holds this many bytes (a lone larger event still goes, alone).
// Bounds the memory a full ZeroMQ pipe can hold: its high-water mark counts messages.
inline constexpr std::size_t kBatchTargetBytes = 128 * 1024;

// Writes a record's header (the layout above) at `at`, for an event of `event_bytes`.
void writeRecordHeader(std::byte* at, std::size_t event_bytes, std::uint8_t event_type, std::uint8_t hops);

// True when a batch of `count` records and `bytes` so far should not take one more record of
// `event_bytes`: the next one starts a new batch (a lone record over the limit still goes, alone).
constexpr bool batchFull(std::size_t count, std::size_t bytes, std::size_t event_bytes,
                         std::size_t limit_bytes = kBatchTargetBytes) {
  return count > 0 && (count >= kMaxBatchRecords || bytes + kBatchRecordHeader + event_bytes > limit_bytes);
}

struct BatchRecord {
  std::span<const std::byte> event;
  std::uint8_t event_type = 0;
  std::uint8_t hops = 0;
};

// Builds one EVENTS body. take() hands the buffer to a zmq message without copying it.
class BatchWriter {
 public:
  BatchWriter() = default;
  BatchWriter(const BatchWriter&) = delete;
  BatchWriter& operator=(const BatchWriter&) = delete;
  BatchWriter(BatchWriter&& other) noexcept { swap(other); }
  BatchWriter& operator=(BatchWriter&& other) noexcept {
    swap(other);
    return *this;
  }
  ~BatchWriter();

  // Room for `bytes` of records at once (what the caller knows it will append), so the buffer
  // is allocated once per batch rather than grown.
  void reserve(std::size_t bytes);
  // `event` must be a whole flat Cap'n Proto message (its size a multiple of 8).
  void append(std::span<const std::byte> event, std::uint8_t event_type, std::uint8_t hops);
  std::size_t count() const { return count_; }
  std::size_t bytes() const { return size_; }
  bool empty() const { return count_ == 0; }
  // True when one more record of `event_bytes` should start a new batch instead.
  bool full(std::size_t event_bytes, std::size_t limit_bytes = kBatchTargetBytes) const {
    return batchFull(count_, size_, event_bytes, limit_bytes);
  }
  // The body as a message; the writer is empty afterwards.
  zmq::message_t take();
  void clear() { size_ = count_ = 0; }

 private:
  void swap(BatchWriter& other) noexcept {
    std::swap(data_, other.data_);
    std::swap(size_, other.size_);
    std::swap(capacity_, other.capacity_);
    std::swap(count_, other.count_);
  }

  std::byte* data_ = nullptr;
  std::size_t size_ = 0;
  std::size_t capacity_ = 0;
  std::size_t count_ = 0;
};

enum class BatchError : std::uint8_t {
  None,
  Truncated,        // a record header or event runs past the end of the body
  BadRecordSize,    // an event size of 0 or not a multiple of 8
  CountMismatch,    // more or fewer records than the envelope's count
};

std::string_view batchErrorName(BatchError error);

// Checks the record layout of a whole body against `count` (O(count), reads headers only).
// Never throws: outside input.
BatchError checkBatch(std::span<const std::byte> body, std::size_t count);

// Adds 1 to the hops of every record of a body that checkBatch accepted, in place: what a router
// does to a batch it forwards as it came.
void incrementHops(std::span<std::byte> body);

// Walks the records of a body that checkBatch accepted.
class BatchReader {
 public:
  explicit BatchReader(std::span<const std::byte> body) : body_(body) {}
  bool next(BatchRecord& record);

 private:
  std::span<const std::byte> body_;
  std::size_t offset_ = 0;
};

}  // namespace evr
