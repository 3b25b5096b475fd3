// evr::detail::ByteLog: the bytes of the resend buffer. Connection copies each exported event's
// bytes in here, so the event itself (its storage: struct, reader, buffer, about 1.4 KiB) goes
// back to the free list at once, still in cache, instead of staying alive until the daemon acks
// it. The log keeps only the bytes, in the order they came, in chunks it reuses: appending
// allocates only when the log grows past the most it has held (docs/performance.md, "The resend
// buffer keeps bytes").
//
// Bytes go in at the back and leave from the front a chunk at a time: releaseBefore(ref) frees
// every chunk wholly before the one `ref` is in. A ref stays valid until its chunk is released.

#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

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
  // A chunk's size; larger appends get a chunk of their own size (not kept for reuse).
  static constexpr std::size_t kChunkBytes = 64 * 1024;

  Ref append(std::span<const std::byte> bytes);
  std::span<const std::byte> at(const Ref& ref) const {
    const Chunk& chunk = chunks_[ref.chunk - first_chunk_];
    return {chunk.bytes.data() + ref.offset, ref.size};
  }
  // Frees the chunks before `chunk` (a Ref's chunk: the oldest still needed).
  void releaseBefore(std::uint64_t chunk);
  // Frees everything (the chunks are kept for reuse).
  void clear() { releaseBefore(first_chunk_ + chunks_.size()); }
  // Bytes held in live chunks (their whole size), for tests and stats.
  std::size_t chunkBytes() const;
  std::size_t spareChunks() const { return spare_.size(); }

 private:
  struct Chunk {
    std::vector<std::byte> bytes;  // size() is the capacity; `used` of it is written
    std::size_t used = 0;
  };

  Ring<Chunk> chunks_;          // live chunks; the front is number first_chunk_
  std::uint64_t first_chunk_ = 0;
  std::vector<std::vector<std::byte>> spare_;  // released chunks of kChunkBytes, for reuse
};

}  // namespace evr::detail
