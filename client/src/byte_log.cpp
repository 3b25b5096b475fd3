#include "evr/byte_log.hpp"

#include <algorithm>
#include <cstring>

namespace evr::detail {

ByteLog::Ref ByteLog::append(std::span<const std::byte> bytes) {
  if (chunks_.empty() || chunks_[chunks_.size() - 1].bytes.size() - chunks_[chunks_.size() - 1].used < bytes.size()) {
    Chunk chunk;
    if (bytes.size() <= kChunkBytes && !spare_.empty()) {
      chunk.bytes = std::move(spare_.back());
      spare_.pop_back();
    } else {
      chunk.bytes.resize(std::max(bytes.size(), kChunkBytes));
    }
    chunks_.push_back(std::move(chunk));
  }
  Chunk& last = chunks_[chunks_.size() - 1];
  const Ref ref{first_chunk_ + chunks_.size() - 1, static_cast<std::uint32_t>(last.used),
                static_cast<std::uint32_t>(bytes.size())};
  if (!bytes.empty()) std::memcpy(last.bytes.data() + last.used, bytes.data(), bytes.size());
  last.used += bytes.size();
  return ref;
}

void ByteLog::releaseBefore(std::uint64_t chunk) {
  while (!chunks_.empty() && first_chunk_ < chunk) {
    Chunk& front = chunks_.front();
    if (front.bytes.size() == kChunkBytes) spare_.push_back(std::move(front.bytes));
    chunks_.pop_front();
    ++first_chunk_;
  }
}

std::size_t ByteLog::chunkBytes() const {
  std::size_t total = 0;
  for (std::size_t i = 0; i < chunks_.size(); ++i) total += chunks_[i].bytes.size();
  return total;
}

}  // namespace evr::detail
