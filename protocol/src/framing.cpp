#include "evr/framing.hpp"

#include <capnp/any.h>
#include <capnp/serialize.h>

#include <algorithm>
#include <cstring>

#include "evr/little_endian.hpp"

namespace evr {
namespace {

// More segments than this is not a message any sender of ours produces.
constexpr std::uint32_t kMaxSegments = 512;

}  // namespace

std::string_view framingErrorName(FramingError error) {
  switch (error) {
    case FramingError::None: return "none";
    case FramingError::Empty: return "empty event frame";
    case FramingError::NotWordMultiple: return "event frame length is not a multiple of 8";
    case FramingError::BadSegmentTable: return "bad Cap'n Proto segment table";
    case FramingError::SizeMismatch: return "Cap'n Proto segments do not match the frame length";
  }
  return "?";
}

FramingError checkFraming(std::span<const std::byte> bytes) {
  if (bytes.empty()) return FramingError::Empty;
  if (bytes.size() % 8 != 0) return FramingError::NotWordMultiple;
  const std::uint64_t segment_count = std::uint64_t{le::load<std::uint32_t>(bytes.data())} + 1;
  if (segment_count > kMaxSegments) return FramingError::BadSegmentTable;
  // Table: 4 bytes count, 4 bytes per segment size, padded to a word.
  const std::uint64_t table_bytes = ((4 + 4 * segment_count) + 7) / 8 * 8;
  if (table_bytes > bytes.size()) return FramingError::BadSegmentTable;
  std::uint64_t body_words = 0;
  for (std::uint64_t i = 0; i < segment_count; ++i) {
    body_words += le::load<std::uint32_t>(bytes.data() + 4 + 4 * i);
  }
  if (table_bytes + body_words * 8 != bytes.size()) return FramingError::SizeMismatch;
  return FramingError::None;
}

capnp::ReaderOptions peerReaderOptions(std::size_t message_bytes) {
  capnp::ReaderOptions options;
  options.traversalLimitInWords = std::max<std::uint64_t>(1024, message_bytes);  // 8x the words
  options.nestingLimit = 64;
  return options;
}

capnp::ReaderOptions repeatedReaderOptions(kj::ArrayPtr<const capnp::word> words) {
  capnp::ReaderOptions options = peerReaderOptions(words.size() * sizeof(capnp::word));
  capnp::FlatArrayMessageReader once(words, options);
  if (once.getRoot<capnp::AnyPointer>().targetSize().wordCount <= words.size()) {
    options.traversalLimitInWords = kj::maxValue;
  }
  return options;
}

AlignedWords::AlignedWords(std::span<const std::byte> bytes) {
  const std::size_t word_count = bytes.size() / sizeof(capnp::word);
  if (isWordAligned(bytes.data())) {
    words_ = kj::arrayPtr(reinterpret_cast<const capnp::word*>(bytes.data()), word_count);
  } else {
    copy_ = kj::heapArray<capnp::word>(word_count);
    std::memcpy(copy_.begin(), bytes.data(), word_count * sizeof(capnp::word));
    words_ = copy_.asPtr();
  }
}

}  // namespace evr
