#include "evr/byte_log.hpp"

#include <sys/mman.h>

#include <algorithm>
#include <cstdint>
#include <cstring>

namespace evr::detail {

namespace {

// A mapping of `bytes` (a multiple of the alignment) aligned to `alignment`, or nullptr.
std::byte* mapAligned(std::size_t bytes, std::size_t alignment) {
  void* whole = ::mmap(nullptr, bytes + alignment, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (whole == MAP_FAILED) return nullptr;
  const auto start = reinterpret_cast<std::uintptr_t>(whole);
  const std::uintptr_t aligned = (start + alignment - 1) & ~(alignment - 1);
  if (aligned > start) ::munmap(whole, aligned - start);
  const std::uintptr_t end = start + bytes + alignment;
  if (end > aligned + bytes) ::munmap(reinterpret_cast<void*>(aligned + bytes), end - (aligned + bytes));
  return reinterpret_cast<std::byte*>(aligned);
}

}  // namespace

ByteLog::Buffer::Buffer(std::size_t bytes) : data(nullptr), size(bytes), mapped(false) {
  if (bytes == kChunkBytes) {
    data = mapAligned(bytes, kChunkBytes);
    if (data != nullptr) {
      mapped = true;
      // A hint: without transparent huge pages (THP "never", or no THP in the kernel) the chunk
      // is faulted in 4 KiB at a time, as memory from new[] would be.
      (void)::madvise(data, bytes, MADV_HUGEPAGE);
      return;
    }
  }
  data = new std::byte[bytes];
}

ByteLog::Buffer::~Buffer() {
  if (mapped) {
    ::munmap(data, size);
  } else {
    delete[] data;
  }
}

ByteLog::~ByteLog() {
  clear();
  for (Buffer* buffer : spare_) drop(buffer);
}

void ByteLog::drop(Buffer* buffer) {
  if (buffer->owners.fetch_sub(1, std::memory_order_acq_rel) == 1) delete buffer;
}

void ByteLog::dropShared(void* /*data*/, void* buffer) { drop(static_cast<Buffer*>(buffer)); }

ByteLog::Ref ByteLog::append(std::span<const std::byte> head, std::span<const std::byte> body) {
  const std::size_t size = head.size() + body.size();
  if (chunks_.empty() || chunks_[chunks_.size() - 1].buffer->size - chunks_[chunks_.size() - 1].used < size) {
    Chunk chunk;
    if (size <= kChunkBytes) chunk.buffer = takeSpare();
    if (chunk.buffer == nullptr) chunk.buffer = new Buffer(std::max(size, kChunkBytes));
    chunks_.push_back(chunk);
  }
  Chunk& last = chunks_[chunks_.size() - 1];
  const Ref ref{first_chunk_ + chunks_.size() - 1, static_cast<std::uint32_t>(last.used),
                static_cast<std::uint32_t>(size)};
  std::byte* at = last.buffer->data + last.used;
  if (!head.empty()) std::memcpy(at, head.data(), head.size());
  if (!body.empty()) std::memcpy(at + head.size(), body.data(), body.size());
  last.used += size;
  return ref;
}

zmq::message_t ByteLog::share(const Ref& from, std::size_t bytes) {
  Buffer* buffer = chunks_[from.chunk - first_chunk_].buffer;
  zmq::message_t message(buffer->data + from.offset, bytes, &ByteLog::dropShared, buffer);
  buffer->owners.fetch_add(1, std::memory_order_relaxed);  // the log holds one: it cannot reach 0
  return message;
}

ByteLog::Buffer* ByteLog::takeSpare() {
  // Only a chunk no message holds any more: the acquire pairs with the drop on libzmq's thread, so
  // its reads of the bytes are done before they are written again.
  for (std::size_t i = spare_.size(); i-- > 0;) {
    Buffer* buffer = spare_[i];
    if (buffer->owners.load(std::memory_order_acquire) == 1) {
      spare_[i] = spare_.back();
      spare_.pop_back();
      return buffer;
    }
  }
  return nullptr;
}

void ByteLog::releaseBefore(std::uint64_t chunk) {
  while (!chunks_.empty() && first_chunk_ < chunk) {
    Buffer* buffer = chunks_.front().buffer;
    if (buffer->size == kChunkBytes) {
      spare_.push_back(buffer);  // perhaps still held by a message: takeSpare() waits for that
    } else {
      drop(buffer);
    }
    chunks_.pop_front();
    ++first_chunk_;
  }
}

std::size_t ByteLog::chunkBytes() const {
  std::size_t total = 0;
  for (std::size_t i = 0; i < chunks_.size(); ++i) total += chunks_[i].buffer->size;
  return total;
}

}  // namespace evr::detail
