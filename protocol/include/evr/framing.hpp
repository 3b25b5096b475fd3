// Checks and reads Cap'n Proto message bytes that arrived from outside the process.
//
// Used by the daemon (a cheap structural check before forwarding bytes it does not decode) and
// by the client (before building a reader). Every function here takes untrusted input and never
// throws for malformed bytes.
//
// Cap'n Proto reads words in place and needs them 8-byte aligned; a ZeroMQ frame's data is not
// guaranteed to be (small messages live inside zmq_msg_t). AlignedWords views aligned data in
// place and copies unaligned data, never reading unaligned words.

#pragma once

#include <capnp/message.h>
#include <capnp/serialize.h>
#include <kj/array.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "evr/little_endian.hpp"

namespace evr {

enum class FramingError : std::uint8_t {
  None,
  Empty,
  NotWordMultiple,   // length is not a multiple of 8
  BadSegmentTable,   // segment count is zero, absurd, or the table does not fit
  SizeMismatch,      // the segments do not add up to the frame's length
};

std::string_view framingErrorName(FramingError error);

// O(segment count): checks that `bytes` is exactly one unpacked (non-packed) Cap'n Proto message.
FramingError checkFraming(std::span<const std::byte> bytes);

// Read limits for messages from peers: traversal bounded by the message's own size (8x, the
// amplification allowance Cap'n Proto recommends against pointer-reuse attacks), nesting 64.
capnp::ReaderOptions peerReaderOptions(std::size_t message_bytes);

// Words of content reading `message` whole costs (what Cap'n Proto's targetSize() counts: each
// object once per pointer that leads to it, far-pointer landing pads not counted), from a walk of
// its pointers that stops at `budget` words of content or `budget` objects: nullopt then. Throws
// kj::Exception where reading would (a pointer out of bounds or of no known kind, nesting past
// `nesting_limit`).
std::optional<std::uint64_t> contentWords(capnp::MessageReader& message, std::uint64_t budget,
                                         int nesting_limit);

// Read limits for a peer's message that will be read many times (a handler re-reading a kept
// event; one condition per rule of a selective adapter): the peer limit is one budget for a
// reader's life and runs out after a few dozen full reads. contentWords with a budget of the
// message's words: within it, no pointer shares its target to multiply reads, and the options have no
// traversal limit; over it, they are `peerReaderOptions`. The walk stops at its budget (Cap'n
// Proto's targetSize() does not: targets shared level after level make it exponential). Throws
// kj::Exception when reading does (an unreadable message).
capnp::ReaderOptions repeatedReaderOptions(kj::ArrayPtr<const capnp::word> words);
// The same decision with one reader: emplaces into `message` the reader of `words` that
// repeatedReaderOptions would give (walking the reader it keeps, unless it must be remade with
// the peer limit), and returns its options. What the receive paths use.
capnp::ReaderOptions readRepeatedly(std::optional<capnp::FlatArrayMessageReader>& message,
                                    kj::ArrayPtr<const capnp::word> words);

// Whether `words`, a flat message checkFraming accepted, may be read with no bounds checks
// (capnp::readMessageUnchecked(words.begin() + 1)): it has one segment, and a walk of it with
// contentWords's rules and a budget of its words read it whole and met no far pointer. Then every
// object a reader can reach from the root lies inside the segment, is of a kind Cap'n Proto knows,
// is nested no deeper than `nesting_limit` (at most 64) and is read once per pointer to it, so an
// unchecked reader reads only what the walk checked; what Cap'n Proto checks whatever the reader
// (a pointer's kind against the field's type, a list's element size, a text's NUL) it still checks.
// False otherwise, bad input included (it never throws): then readRepeatedly decides, and throws
// where reading would. fuzz/capnp_target.cpp holds it to saying yes only where contentWords reads
// the message whole, and reads every message it allows both ways, to the same result.
bool readableUnchecked(kj::ArrayPtr<const capnp::word> words, int nesting_limit = 64);

// A Cap'n Proto pointer's offset: bits 2..31, signed, in words from the end of the pointer to its
// object (for a far pointer, its landing pad's word). The walks and the hand reads below use it.
inline std::int64_t pointerOffset(std::uint64_t pointer) {
  return static_cast<std::int32_t>(static_cast<std::uint32_t>(pointer)) >> 2;
}

// Where the root struct's pointers are in a message of one segment whose first word, `segment`,
// is the root pointer: the pointer section's first word (counted from `segment`) and how many
// pointers it holds. Nullopt when the root pointer is null, not a struct pointer, or points before
// the segment. The client's header writer uses it on the event it builds.
struct RootPointerSection {
  std::uint64_t at;
  std::uint64_t count;
};
inline std::optional<RootPointerSection> rootPointerSection(const capnp::word* segment) {
  const std::uint64_t root = le::load<std::uint64_t>(reinterpret_cast<const std::byte*>(segment));
  if (root == 0 || (root & 3) != 0) return std::nullopt;
  // The struct's data begins `offset` words after the pointer, its pointers after the data.
  const std::int64_t data_at = 1 + pointerOffset(root);
  if (data_at < 0) return std::nullopt;
  return RootPointerSection{static_cast<std::uint64_t>(data_at) + ((root >> 32) & 0xffffu), root >> 48};
}

// For a message readableUnchecked accepted, so every object its pointers lead to lies inside it:
// the text the pointer at word `at` of its segment leads to, read by hand in a few instructions
// (Cap'n Proto's text reader costs about a hundred). "" for a null pointer; the bytes before the
// NUL of a NUL-terminated list of bytes; nullopt for anything else, which Cap'n Proto's reader
// refuses. Inline, as rootPointerSection: they run for every event.
inline std::optional<std::string_view> textAt(const capnp::word* segment, std::uint64_t at) {
  const std::uint64_t pointer = le::load<std::uint64_t>(reinterpret_cast<const std::byte*>(segment + at));
  if (pointer == 0) return std::string_view();
  // A list (kind 1) of bytes (element size 2) of `count` bytes, the last of them a NUL.
  const std::uint64_t count = pointer >> 35;
  if ((pointer & 3) != 1 || ((pointer >> 32) & 7) != 2 || count == 0) return std::nullopt;
  const std::int64_t start = static_cast<std::int64_t>(at) + 1 + pointerOffset(pointer);
  const auto* bytes = reinterpret_cast<const char*>(segment + start);
  if (bytes[count - 1] != '\0') return std::nullopt;
  return std::string_view(bytes, count - 1);
}

// The same for the root struct's pointer `index` ("" when the root has fewer pointers, as Cap'n
// Proto reads it). fuzz/capnp_target.cpp holds it to agreeing with Cap'n Proto.
inline std::optional<std::string_view> rootText(kj::ArrayPtr<const capnp::word> words, unsigned index) {
  const capnp::word* segment = words.begin() + 1;  // after the segment table of one segment
  const auto pointers = rootPointerSection(segment);
  if (!pointers || index >= pointers->count) return std::string_view();
  return textAt(segment, pointers->at + index);
}

// For a message readableUnchecked accepted: in the list of structs the root's pointer `list` leads
// to (Event.tags), the first element whose text at pointer `key` is `wanted`, and its text at
// pointer `value`, read by hand. `found` false when no element has that key (or there is no
// list); nullopt where a pointer is not what a list of structs or a text must be, which Cap'n
// Proto's reader refuses (a list of another element size, which it would read as structs, is
// left to it too). fuzz/capnp_target.cpp holds it to agreeing with Cap'n Proto.
struct KeyedText {
  bool found = false;
  std::string_view value;
};
inline std::optional<KeyedText> rootKeyedText(kj::ArrayPtr<const capnp::word> words, unsigned list, unsigned key,
                                              unsigned value, std::string_view wanted) {
  const capnp::word* segment = words.begin() + 1;
  const auto pointers = rootPointerSection(segment);
  if (!pointers || list >= pointers->count) return KeyedText{};
  const std::uint64_t at = pointers->at + list;
  const std::uint64_t pointer = le::load<std::uint64_t>(reinterpret_cast<const std::byte*>(segment + at));
  if (pointer == 0) return KeyedText{};
  // A list (kind 1) of structs (element size 7): a tag word in struct pointer form, its "offset"
  // the element count (29 bits), then the elements, each data words then pointers.
  if ((pointer & 3) != 1 || ((pointer >> 32) & 7) != 7) return std::nullopt;
  const std::int64_t tag_at = static_cast<std::int64_t>(at) + 1 + pointerOffset(pointer);
  const std::uint64_t tag = le::load<std::uint64_t>(reinterpret_cast<const std::byte*>(segment + tag_at));
  if ((tag & 3) != 0) return std::nullopt;
  const std::uint64_t elements = (tag >> 2) & 0x1fffffffu, data = (tag >> 32) & 0xffffu, count = tag >> 48;
  const auto textOf = [&](std::uint64_t element, unsigned index) -> std::optional<std::string_view> {
    if (index >= count) return std::string_view();
    return textAt(segment, element + data + index);
  };
  for (std::uint64_t i = 0; i < elements; ++i) {
    const std::uint64_t element = static_cast<std::uint64_t>(tag_at) + 1 + i * (data + count);
    const auto element_key = textOf(element, key);
    if (!element_key) return std::nullopt;
    if (*element_key != wanted) continue;
    const auto element_value = textOf(element, value);
    if (!element_value) return std::nullopt;
    return KeyedText{true, *element_value};
  }
  return KeyedText{};
}

// A word view of `bytes` that is safe to hand to capnp::FlatArrayMessageReader.
class AlignedWords {
 public:
  explicit AlignedWords(std::span<const std::byte> bytes);
  AlignedWords(AlignedWords&&) = default;
  AlignedWords& operator=(AlignedWords&&) = default;

  kj::ArrayPtr<const capnp::word> words() const { return words_; }
  bool copied() const { return copy_.size() > 0; }

 private:
  kj::Array<capnp::word> copy_;
  kj::ArrayPtr<const capnp::word> words_;
};

inline bool isWordAligned(const void* p) {
  return reinterpret_cast<std::uintptr_t>(p) % alignof(capnp::word) == 0;
}

}  // namespace evr
