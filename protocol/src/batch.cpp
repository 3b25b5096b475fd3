#include "evr/batch.hpp"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <new>

#include "evr/little_endian.hpp"

namespace evr {
namespace {

void freeBuffer(void* data, void* /*hint*/) { std::free(data); }

}  // namespace

void writeRecordHeader(std::byte* at, std::size_t event_bytes, std::uint8_t event_type, std::uint8_t hops) {
  le::store(at, static_cast<std::uint32_t>(event_bytes));
  at[4] = std::byte{event_type};
  at[5] = std::byte{hops};
  at[6] = at[7] = std::byte{0};
}

BatchWriter::~BatchWriter() { std::free(data_); }

void BatchWriter::append(std::span<const std::byte> event, std::uint8_t event_type,
                         std::uint8_t hops) {
  const std::size_t needed = size_ + kBatchRecordHeader + event.size();
  if (needed > capacity_) {
    // Sized for the first record (an idle link sends one event per batch); a second record means
    // a busy link, so room for a whole batch at once rather than doubling through small sizes.
    const std::size_t capacity =
        std::max(needed, count_ == 0 ? std::size_t{0} : kBatchTargetBytes + kBatchRecordHeader);
    auto* grown = static_cast<std::byte*>(std::realloc(data_, capacity));
    if (grown == nullptr) throw std::bad_alloc();
    data_ = grown;
    capacity_ = capacity;
  }
  std::byte* p = data_ + size_;
  writeRecordHeader(p, event.size(), event_type, hops);
  std::memcpy(p + kBatchRecordHeader, event.data(), event.size());
  size_ = needed;
  ++count_;
}

void BatchWriter::reserve(std::size_t bytes) {
  if (bytes <= capacity_) return;
  auto* grown = static_cast<std::byte*>(std::realloc(data_, bytes));
  if (grown == nullptr) throw std::bad_alloc();
  data_ = grown;
  capacity_ = bytes;
}

zmq::message_t BatchWriter::take() {
  // A batch of a few events in room for a whole one: give the rest back before the message keeps
  // it (in a pipe, in a replay buffer), so what those hold stays near the bytes they count. glibc
  // shrinks in place.
  if (size_ != 0 && size_ < capacity_ / 2) {
    auto* shrunk = static_cast<std::byte*>(std::realloc(data_, size_));
    if (shrunk != nullptr) data_ = shrunk;
  }
  // The message owns the buffer from here (libzmq frees it once sent); the next append allocates.
  zmq::message_t message(data_, size_, &freeBuffer, nullptr);
  data_ = nullptr;
  size_ = capacity_ = count_ = 0;
  return message;
}

std::string_view batchErrorName(BatchError error) {
  switch (error) {
    case BatchError::None: return "none";
    case BatchError::Truncated: return "EVENTS body truncated inside a record";
    case BatchError::BadRecordSize: return "EVENTS record size is 0 or not a multiple of 8";
    case BatchError::CountMismatch: return "EVENTS body does not hold the count of records its envelope gives";
  }
  return "?";
}

BatchError checkBatch(std::span<const std::byte> body, std::size_t count) {
  std::size_t offset = 0;
  std::size_t seen = 0;
  while (offset < body.size()) {
    if (body.size() - offset < kBatchRecordHeader) return BatchError::Truncated;
    const std::size_t size = le::load<std::uint32_t>(body.data() + offset);
    if (size == 0 || size % 8 != 0) return BatchError::BadRecordSize;
    if (body.size() - offset - kBatchRecordHeader < size) return BatchError::Truncated;
    offset += kBatchRecordHeader + size;
    if (++seen > count) return BatchError::CountMismatch;
  }
  return seen == count ? BatchError::None : BatchError::CountMismatch;
}

void incrementHops(std::span<std::byte> body) {
  for (std::size_t offset = 0; body.size() - offset >= kBatchRecordHeader;) {
    std::byte* p = body.data() + offset;
    p[5] = static_cast<std::byte>(std::to_integer<std::uint8_t>(p[5]) + 1);
    offset += kBatchRecordHeader + le::load<std::uint32_t>(p);
  }
}

bool BatchReader::next(BatchRecord& record) {
  if (body_.size() - offset_ < kBatchRecordHeader) return false;
  const std::byte* p = body_.data() + offset_;
  const std::size_t size = le::load<std::uint32_t>(p);
  if (body_.size() - offset_ - kBatchRecordHeader < size) return false;
  record.event = body_.subspan(offset_ + kBatchRecordHeader, size);
  record.event_type = std::to_integer<std::uint8_t>(p[4]);
  record.hops = std::to_integer<std::uint8_t>(p[5]);
  offset_ += kBatchRecordHeader + size;
  return true;
}

}  // namespace evr
