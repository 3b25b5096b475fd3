// evr::detail::ByteLog: the bytes of the resend buffer. Connection writes each exported event here
// as the EVENTS record it goes out as (record header, then the event), so the event itself (its
// storage: struct, reader, buffer, about 1.4 KiB) goes back to the free list at once, still in
// cache, instead of staying alive until the daemon acks it. The log keeps the bytes in the order
// they came, in chunks it reuses: appending allocates only when the log grows past the most it
// has held (docs/performance.md, "The resend buffer keeps bytes").
//
// Records appended back to back in one chunk are one batch body already: share() hands a run of
// them to ZeroMQ as a message without copying (docs/performance.md, "A batch is a span of the
// resend buffer"). A chunk a message still holds is not reused or freed until libzmq lets go of
// the message, which it may do on its I/O thread, after the log itself is gone. (An ack normally
// comes after that; in one process over inproc the peer may ack before it frees the message.)
//
// Bytes go in at the back and leave from the front a chunk at a time: releaseBefore(ref) frees
// every chunk wholly before the one `ref` is in. A ref stays valid until its chunk is released.

#pragma once

#include <zmq.hpp>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "evr/batch.hpp"
#include "evr/ring.hpp"

namespace evr::detail {

class ByteLog {
 public:
  // Where appended bytes are: chunk is a running number (never reused), offset and size in it.
  struct Ref {
    std::uint64_t chunk = 0;
    std::uint32_t offset = 0;
    std::uint32_t size = 0;
  };
  // A chunk's size; larger appends get a chunk of their own size (not kept for reuse). A batch is
  // a run of records in one chunk, so a chunk has room for whole batches (kBatchTargetBytes). A
  // chunk is one huge page: a mapping of its own, aligned to 2 MiB and marked for transparent
  // huge pages (MADV_HUGEPAGE), so a fast publisher's first pass over its resend buffer takes a
  // page fault per 2 MiB, not per 4 KiB (docs/performance.md, "The resend buffer in huge pages").
  static constexpr std::size_t kChunkBytes = std::size_t{2} << 20;
  static_assert(kChunkBytes >= 2 * kBatchTargetBytes);

  ByteLog() = default;
  ByteLog(const ByteLog&) = delete;
  ByteLog& operator=(const ByteLog&) = delete;
  ~ByteLog();

  // `head` then `body`, contiguous in one chunk; the ref covers both.
  Ref append(std::span<const std::byte> head, std::span<const std::byte> body);
  Ref append(std::span<const std::byte> bytes) { return append({}, bytes); }
  std::span<const std::byte> at(const Ref& ref) const {
    const Chunk& chunk = chunks_[ref.chunk - first_chunk_];
    return {chunk.buffer->data + ref.offset, ref.size};
  }
  // A message over `bytes` from the start of `from`, which must lie in from's chunk (refs
  // appended one after another in the same chunk are contiguous). No copy: the message holds
  // the chunk until libzmq frees it.
  zmq::message_t share(const Ref& from, std::size_t bytes);
  // Frees the chunks before `chunk` (a Ref's chunk: the oldest still needed).
  void releaseBefore(std::uint64_t chunk);
  // Frees everything (the chunks are kept for reuse).
  void clear() { releaseBefore(first_chunk_ + chunks_.size()); }
  // Bytes held in live chunks (their whole size), for tests and stats.
  std::size_t chunkBytes() const;
  std::size_t spareChunks() const { return spare_.size(); }

 private:
  // A chunk's memory, owned jointly by the log (one count while it lists the buffer) and by each
  // message share() made over it; whoever drops the last count deletes it.
  struct Buffer {
    explicit Buffer(std::size_t bytes);
    ~Buffer();
    Buffer(const Buffer&) = delete;
    Buffer& operator=(const Buffer&) = delete;
    std::atomic<std::uint32_t> owners{1};
    std::byte* data;
    std::size_t size;
    bool mapped;  // data is a mapping of its own (a chunk of kChunkBytes), else from new[]
  };
  static void drop(Buffer* buffer);
  Buffer* takeSpare();  // a spare chunk no message holds, or nullptr
  static void dropShared(void* data, void* buffer);  // libzmq's free function for share()

  struct Chunk {
    Buffer* buffer = nullptr;
    std::size_t used = 0;  // bytes of buffer written
  };

  Ring<Chunk> chunks_;          // live chunks; the front is number first_chunk_
  std::uint64_t first_chunk_ = 0;
  std::vector<Buffer*> spare_;  // released chunks of kChunkBytes, for reuse once no message holds them
};

// Whether `record`, appended right after a run of `count` records (`body_bytes` in all) that
// starts at `head`, still belongs to that run's batch: same chunk (a batch is contiguous bytes),
// and within `limit_bytes` by the rule every batch keeps (batchFull).
inline bool joinsBatch(const ByteLog::Ref& head, std::size_t count, std::size_t body_bytes,
                       const ByteLog::Ref& record, std::size_t limit_bytes = kBatchTargetBytes) {
  return record.chunk == head.chunk &&
         !batchFull(count, body_bytes, record.size - kBatchRecordHeader, limit_bytes);
}

}  // namespace evr::detail
