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

// What reading a message whole costs, walked with a budget: false as soon as it is spent. Two
// budgets of the message's size: words of content (each object's, as targetSize() counts them:
// a message with nothing shared reaches no more than it holds) and objects visited (so that empty
// structs and voids, which have no words, still cost their number).
class BoundedWalk {
 public:
  explicit BoundedWalk(std::uint64_t words) : words_left_(words), visits_left_(words) {}

  bool structure(capnp::AnyStruct::Reader object) {
    const auto pointers = object.getPointerSection();
    if (!spend(object.getDataSection().size() / sizeof(capnp::word) + pointers.size(), 1)) return false;
    for (const auto each : pointers) {
      if (!pointer(each)) return false;
    }
    return true;
  }

  bool pointer(capnp::AnyPointer::Reader pointer) {
    switch (pointer.getPointerType()) {
      case capnp::PointerType::NULL_:
      case capnp::PointerType::CAPABILITY: return true;
      case capnp::PointerType::STRUCT: return structure(pointer.getAs<capnp::AnyStruct>());
      case capnp::PointerType::LIST: return list(pointer.getAs<capnp::AnyList>());
    }
    return true;
  }

 private:
  bool list(capnp::AnyList::Reader list) {
    switch (list.getElementSize()) {
      case capnp::ElementSize::POINTER: {
        const auto elements = list.as<capnp::List<capnp::AnyPointer>>();
        if (!spend(elements.size(), 1)) return false;
        for (const auto element : elements) {
          if (!pointer(element)) return false;
        }
        return true;
      }
      case capnp::ElementSize::INLINE_COMPOSITE: {
        if (!spend(1, 1)) return false;  // its tag word; each element is charged as a struct
        for (const auto element : list.as<capnp::List<capnp::AnyStruct>>()) {
          if (!structure(element)) return false;
        }
        return true;
      }
      case capnp::ElementSize::VOID:
        return spend(0, std::uint64_t{list.size()} + 1);  // no words, yet reading costs its length
      default:
        // Data, text, primitives: their bytes.
        return spend((list.getRawBytes().size() + sizeof(capnp::word) - 1) / sizeof(capnp::word), 1);
    }
  }

  bool spend(std::uint64_t words, std::uint64_t visits) {
    if (words > words_left_ || visits > visits_left_) return false;
    words_left_ -= words;
    visits_left_ -= visits;
    return true;
  }

  std::uint64_t words_left_;
  std::uint64_t visits_left_;
};

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

capnp::ReaderOptions readRepeatedly(std::optional<capnp::FlatArrayMessageReader>& message,
                                    kj::ArrayPtr<const capnp::word> words) {
  const capnp::ReaderOptions limited = peerReaderOptions(words.size() * sizeof(capnp::word));
  capnp::ReaderOptions unlimited = limited;
  unlimited.traversalLimitInWords = kj::maxValue;  // the walk below is the bound
  message.emplace(words, unlimited);
  BoundedWalk walk(words.size());
  if (walk.structure(message->getRoot<capnp::AnyStruct>())) return unlimited;
  message.emplace(words, limited);
  return limited;
}

capnp::ReaderOptions repeatedReaderOptions(kj::ArrayPtr<const capnp::word> words) {
  std::optional<capnp::FlatArrayMessageReader> message;
  return readRepeatedly(message, words);
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
