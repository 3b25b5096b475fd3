#include "evr/framing.hpp"

#include <capnp/serialize.h>

#include <algorithm>
#include <cstring>
#include <optional>

#include "evr/little_endian.hpp"

namespace evr {
namespace {

// More segments than this is not a message any sender of ours produces.
constexpr std::uint32_t kMaxSegments = 512;

// What reading a message whole costs, found by walking its pointers as Cap'n Proto's encoding lays
// them out (capnproto.org/encoding.html: struct, list, far and other pointers), with a budget:
// nullopt as soon as it is spent. Two budgets of the message's size: words of content (each
// object's, as targetSize() counts them: a message with nothing shared reaches no more than it
// holds) and objects visited (so that empty structs and voids, which have no words, still cost
// their number). Reading the words directly, not through Cap'n Proto's Any* readers, costs a
// fraction of it on every received event. A pointer Cap'n Proto would refuse to follow (out of its
// segment, to a segment that is not there, of no known kind, nested past the limit) throws, as
// Cap'n Proto's own walk of it (totalSize()) would; fuzz/capnp_target.cpp holds the two to that.
class BoundedWalk {
 public:
  BoundedWalk(capnp::MessageReader& message, std::uint64_t budget, int nesting_limit)
      : message_(&message), words_left_(budget), visits_left_(budget), nesting_limit_(nesting_limit) {}

  std::optional<std::uint64_t> root() {
    const auto segment = getSegment(0);
    if (segment.size() == 0) fail("message has no root pointer");
    const std::uint64_t budget = words_left_;
    const Target root = follow(segment, 0);
    if (root.kind == Kind::List || root.kind == Kind::Capability) fail("message root is not a struct");
    if (!object(root, nesting_limit_)) return std::nullopt;
    return budget - words_left_;
  }

 private:
  enum class Kind : std::uint8_t { None, Struct, List, Capability };
  // An object a pointer leads to: its segment, where its content starts, and the pointer word
  // (or far pointer's landing tag) that says what it is.
  struct Target {
    Kind kind = Kind::None;
    kj::ArrayPtr<const capnp::word> segment;
    std::int64_t start = 0;
    std::uint64_t tag = 0;
  };

  kj::ArrayPtr<const capnp::word> getSegment(capnp::uint id) const { return message_->getSegment(id); }

  [[noreturn]] static void fail(const char* why) {
    kj::throwFatalException(KJ_EXCEPTION(FAILED, "unreadable Cap'n Proto message", why));
  }

  static std::uint64_t load(kj::ArrayPtr<const capnp::word> segment, std::int64_t at) {
    return le::load<std::uint64_t>(reinterpret_cast<const std::byte*>(segment.begin() + at));
  }


  // The pointer at `at` in `segment`, followed through a far pointer's landing pad if it is one.
  // Inlined: it runs for every pointer, and a call each costs about as much as its work.
  [[gnu::always_inline]] Target follow(kj::ArrayPtr<const capnp::word> segment, std::int64_t at) {
    const std::uint64_t pointer = load(segment, at);
    if (pointer == 0) return {};
    if ((pointer & 3) != 2) return described(pointer, segment, at + 1 + pointerOffset(pointer));
    const bool double_far = ((pointer >> 2) & 1) != 0;
    const std::int64_t pad = static_cast<std::int64_t>((pointer >> 3) & 0x1fffffffu);
    const auto pad_segment = getSegment(static_cast<capnp::uint>(pointer >> 32));
    if (pad + (double_far ? 2 : 1) > static_cast<std::int64_t>(pad_segment.size())) {
      fail("far pointer out of bounds");
    }
    const std::uint64_t landing = load(pad_segment, pad);
    if (!double_far) return described(landing, pad_segment, pad + 1 + pointerOffset(landing));
    // A double far: the pad is a far pointer to the content and a tag that says what it is.
    if ((landing & 3) != 2) fail("double-far landing pad is not a far pointer");
    const auto content = getSegment(static_cast<capnp::uint>(landing >> 32));
    if (content.begin() == nullptr) fail("far pointer to a segment that is not there");
    return described(load(pad_segment, pad + 1), content, static_cast<std::int64_t>((landing >> 3) & 0x1fffffffu));
  }

  // What `word` (a pointer, a far pointer's landing pad or its tag) says is at `start`.
  static Target described(std::uint64_t word, kj::ArrayPtr<const capnp::word> segment, std::int64_t start) {
    switch (word & 3) {
      case 0: return {Kind::Struct, segment, start, word};
      case 1: return {Kind::List, segment, start, word};
      case 2: fail("a far pointer where an object was expected");
      default:
        if ((word & 0xffffffffu) != 3) fail("unknown pointer type");
        return {Kind::Capability, segment, start, word};  // nothing behind it to read
    }
  }

  static void require(const Target& target, std::uint64_t words) {
    // Nothing to read: Cap'n Proto takes a target outside the segment as its end, and reads none.
    if (words == 0) return;
    if (target.start < 0 || target.start + static_cast<std::int64_t>(words) >
                                static_cast<std::int64_t>(target.segment.size())) {
      fail("pointer out of bounds");
    }
  }

  bool object(const Target& target, int nesting) {
    if (target.kind == Kind::None) return true;
    if (nesting <= 0) fail("message is too deeply nested or contains cycles");
    if (target.kind == Kind::Capability) return true;
    if (target.kind == Kind::Struct) {
      const std::uint64_t data = (target.tag >> 32) & 0xffffu;
      const std::uint64_t pointers = target.tag >> 48;
      require(target, data + pointers);
      return structure(target.segment, target.start, data, pointers, nesting - 1);
    }
    const std::uint64_t count = target.tag >> 35;
    switch ((target.tag >> 32) & 7) {
      case 0: return spend(0, count + 1);  // voids: no words, yet reading costs their number
      case 6: {                            // pointers
        require(target, count);
        if (!spend(count, 1)) return false;
        for (std::uint64_t i = 0; i < count; ++i) {
          if (!object(follow(target.segment, target.start + static_cast<std::int64_t>(i)), nesting - 1)) return false;
        }
        return true;
      }
      case 7: {  // structs, after a tag word in struct pointer form: count is their words
        require(target, count + 1);
        const std::uint64_t tag = load(target.segment, target.start);
        if ((tag & 3) != 0) fail("a list of structs whose tag is not a struct pointer");
        const std::uint64_t elements = (tag >> 2) & 0x1fffffffu;  // 29 bits, as Cap'n Proto reads it
        const std::uint64_t data = (tag >> 32) & 0xffffu;
        const std::uint64_t pointers = tag >> 48;
        if (elements * (data + pointers) > count) fail("a list of structs overruns its words");
        if (!spend(1, 1)) return false;  // the tag; each element is charged as a struct
        for (std::uint64_t i = 0; i < elements; ++i) {
          const std::int64_t at = target.start + 1 + static_cast<std::int64_t>(i * (data + pointers));
          if (!structure(target.segment, at, data, pointers, nesting - 1)) return false;
        }
        return true;
      }
      default: {  // bits, bytes, 2-, 4-, 8-byte values: data, text, primitives
        static constexpr std::uint64_t kBits[] = {0, 1, 8, 16, 32, 64};
        const std::uint64_t words = (count * kBits[(target.tag >> 32) & 7] + 63) / 64;
        require(target, words);
        return spend(words, 1);
      }
    }
  }

  bool structure(kj::ArrayPtr<const capnp::word> segment, std::int64_t start, std::uint64_t data,
                 std::uint64_t pointers, int nesting) {
    if (!spend(data + pointers, 1)) return false;
    for (std::uint64_t i = 0; i < pointers; ++i) {
      const std::int64_t at = start + static_cast<std::int64_t>(data + i);
      if (load(segment, at) == 0) continue;  // null: nothing behind it (most optional fields)
      if (!object(follow(segment, at), nesting)) return false;
    }
    return true;
  }

  bool spend(std::uint64_t words, std::uint64_t visits) {
    if (words > words_left_ || visits > visits_left_) return false;
    words_left_ -= words;
    visits_left_ -= visits;
    return true;
  }

  capnp::MessageReader* message_ = nullptr;
  std::uint64_t words_left_;
  std::uint64_t visits_left_;
  int nesting_limit_;
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

std::optional<std::uint64_t> contentWords(capnp::MessageReader& message, std::uint64_t budget,
                                         int nesting_limit) {
  return BoundedWalk(message, budget, nesting_limit).root();
}

namespace {

// The walk of readableUnchecked: BoundedWalk's, with the same two budgets and nesting rule, for a
// message of one segment only, and without recursion (it runs for every received event: a call
// per pointer cost about as much as the pointer's checks). It says yes or no; anything it does
// not accept as it is (a far pointer, a pointer out of the segment, an unknown kind, too deep, over
// budget) is a no, and readRepeatedly, whose BoundedWalk throws where reading would, decides.
class OneSegmentWalk {
 public:
  OneSegmentWalk(kj::ArrayPtr<const capnp::word> segment, std::uint64_t budget)
      : words_(segment.begin()), size_(static_cast<std::int64_t>(segment.size())),
        words_left_(budget), visits_left_(budget) {}

  // The deepest nesting limit it walks to; a deeper limit is a no (runs_ has room for this one).
  static constexpr int kMaxNesting = 64;

  bool root(int nesting_limit) {
    if (size_ == 0 || nesting_limit > kMaxNesting) return false;
    const std::uint64_t pointer = load(0);
    if (pointer == 0) return true;  // the default struct: nothing to read
    if ((pointer & 3) != 0) return false;  // a root that is not a struct (or is far)
    return object(pointer, 1 + pointerOffset(pointer), nesting_limit) && drain();
  }

 private:
  // A run of pointers still to follow: `count` words from `at`, whose objects are at `nesting`.
  // Or, when `elements`, `count` struct elements of a list from `at`, each `element_words` long
  // (none, for empty structs) with its pointers from `element_data` on, whose pointers lead to
  // objects at `nesting` (one below the list's own level).
  // Kept small (24 bytes, half the cache lines): a count has at most 29 bits,
  // an element at most 2 x 16 bits of words, a nesting at most kMaxNesting.
  struct Run {
    std::int64_t at;
    std::uint32_t count;
    std::uint32_t element_words;
    std::uint16_t element_data;
    std::int16_t nesting;
    bool elements;

    static Run pointersAt(std::int64_t at, std::uint64_t count, int nesting) {
      return {at, static_cast<std::uint32_t>(count), 0, 0, static_cast<std::int16_t>(nesting), false};
    }
    static Run elementsOf(std::int64_t at, std::uint64_t count, std::uint64_t data, std::uint64_t pointers,
                          int nesting) {
      return {at, static_cast<std::uint32_t>(count), static_cast<std::uint32_t>(data + pointers),
              static_cast<std::uint16_t>(data), static_cast<std::int16_t>(nesting), true};
    }
  };

  std::uint64_t load(std::int64_t at) const {
    return le::load<std::uint64_t>(reinterpret_cast<const std::byte*>(words_ + at));
  }
  bool inside(std::int64_t start, std::uint64_t words) const {
    // As BoundedWalk::require: an object of no words is not read, wherever it points.
    return words == 0 || (start >= 0 && start + static_cast<std::int64_t>(words) <= size_);
  }
  bool spend(std::uint64_t words, std::uint64_t visits) {
    if (words > words_left_ || visits > visits_left_) return false;
    words_left_ -= words;
    visits_left_ -= visits;
    return true;
  }
  bool push(const Run& run) {
    if (run.count == 0) return true;
    if (depth_ == kMaxRuns) return false;  // cannot happen within kMaxNesting: a no all the same
    runs_[depth_++] = run;
    return true;
  }
  bool structure(std::int64_t start, std::uint64_t data, std::uint64_t pointers, int nesting) {
    return spend(data + pointers, 1) &&
           push(Run::pointersAt(start + static_cast<std::int64_t>(data), pointers, nesting));
  }

  // The object `pointer` (not null, not far) says is at `start`, at nesting level `nesting`.
  [[gnu::always_inline]] bool object(std::uint64_t pointer, std::int64_t start, int nesting) {
    if (nesting <= 0) return false;
    if ((pointer & 3) == 0) {  // struct
      const std::uint64_t data = (pointer >> 32) & 0xffffu, pointers = pointer >> 48;
      return inside(start, data + pointers) && structure(start, data, pointers, nesting - 1);
    }
    if ((pointer & 3) == 3) return (pointer & 0xffffffffu) == 3;  // a capability: nothing behind it
    if ((pointer & 3) == 2) return false;                           // far: an unchecked reader would not follow it
    const std::uint64_t count = pointer >> 35;
    switch ((pointer >> 32) & 7) {
      case 0: return spend(0, count + 1);  // voids: no words, yet reading costs their number
      case 6:                              // pointers
        return inside(start, count) && spend(count, 1) && push(Run::pointersAt(start, count, nesting - 1));
      case 7: {  // structs, after a tag word in struct pointer form: count is their words
        if (!inside(start, count + 1)) return false;
        const std::uint64_t tag = load(start);
        if ((tag & 3) != 0) return false;
        const std::uint64_t elements = (tag >> 2) & 0x1fffffffu;  // 29 bits, as Cap'n Proto reads it
        const std::uint64_t data = (tag >> 32) & 0xffffu, pointers = tag >> 48;
        if (elements * (data + pointers) > count) return false;
        // Each element is charged as a struct when its turn comes (drain).
        return spend(1, 1) && push(Run::elementsOf(start + 1, elements, data, pointers, nesting - 1));
      }
      default: {  // bits, bytes, 2-, 4-, 8-byte values: data, text, primitives
        static constexpr std::uint64_t kBits[] = {0, 1, 8, 16, 32, 64};
        const std::uint64_t words = (count * kBits[(pointer >> 32) & 7] + 63) / 64;
        return inside(start, words) && spend(words, 1);
      }
    }
  }

  // Follows what the runs hold, depth first, as BoundedWalk's recursion does. A run of pointers
  // comes off the stack and is followed here, in registers, up to its first pointer that leads
  // to pointers of its own (a struct, a list of pointers or of structs): the run's rest goes back
  // on the stack, that object's run above it. So the order, and the stack's bound, are the
  // recursion's; most pointers (texts, data) never touch the stack.
  bool drain() {
    while (depth_ > 0) {
      Run& run = runs_[depth_ - 1];
      if (run.count == 0) {
        --depth_;
        continue;
      }
      if (run.elements) {  // the next struct element of a list
        --run.count;
        const std::int64_t at = run.at;
        run.at += run.element_words;
        // An element's pointers lead to objects at the elements' own level, as in BoundedWalk.
        if (!structure(at, run.element_data, run.element_words - run.element_data, run.nesting)) return false;
        continue;
      }
      std::int64_t at = run.at;
      const std::int64_t end = at + run.count;
      const int nesting = run.nesting;
      --depth_;
      for (; at < end; ++at) {
        const std::uint64_t pointer = load(at);
        if (pointer == 0) continue;  // null: nothing behind it (most optional fields)
        const std::int64_t start = at + 1 + pointerOffset(pointer);
        if (leadsToPointers(pointer)) {
          if (at + 1 < end && !push(Run::pointersAt(at + 1, static_cast<std::uint64_t>(end - at - 1), nesting))) {
            return false;
          }
          if (!object(pointer, start, nesting)) return false;
          break;
        }
        if (!object(pointer, start, nesting)) return false;
      }
    }
    return true;
  }

  // A struct pointer, or a list pointer of pointers or of structs.
  static bool leadsToPointers(std::uint64_t pointer) {
    return (pointer & 3) == 0 || ((pointer & 3) == 1 && ((pointer >> 32) & 7) >= 6);
  }

  // At most two runs per level of nesting (a list's elements and one element's pointers; a
  // struct's or a pointer list's pointers are one), and the root's.
  static constexpr int kMaxRuns = 2 * kMaxNesting + 2;

  const capnp::word* words_;
  std::int64_t size_;
  std::uint64_t words_left_;
  std::uint64_t visits_left_;
  Run runs_[kMaxRuns];
  int depth_ = 0;
};

}  // namespace

bool readableUnchecked(kj::ArrayPtr<const capnp::word> words, int nesting_limit) {
  if (words.size() < 2) return false;
  // One segment (the table's first half-word is the count - 1), the rest of the words.
  if (le::load<std::uint32_t>(reinterpret_cast<const std::byte*>(words.begin())) != 0) return false;
  return OneSegmentWalk(words.slice(1, words.size()), words.size()).root(nesting_limit);
}

capnp::ReaderOptions readRepeatedly(std::optional<capnp::FlatArrayMessageReader>& message,
                                    kj::ArrayPtr<const capnp::word> words) {
  const capnp::ReaderOptions limited = peerReaderOptions(words.size() * sizeof(capnp::word));
  capnp::ReaderOptions unlimited = limited;
  unlimited.traversalLimitInWords = kj::maxValue;  // the walk below is the bound
  message.emplace(words, unlimited);
  if (contentWords(*message, words.size(), limited.nestingLimit)) return unlimited;
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
