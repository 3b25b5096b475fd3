// Cap'n Proto messages word by word, for tests of what reads them: the pointer words of the
// encoding spec (capnproto.org/encoding.html) and messages made of them, valid or not.
#pragma once

#include <capnp/common.h>
#include <kj/array.h>

#include <cstdint>
#include <cstring>
#include <vector>

namespace evr::test {

// A message of the given segments, each a list of raw words, behind its segment table.
inline kj::Array<capnp::word> rawMessage(const std::vector<std::vector<std::uint64_t>>& segments) {
  std::vector<std::uint64_t> raw((segments.size() + 2) / 2, 0);  // the table, padded to a word
  std::vector<std::uint32_t> table{static_cast<std::uint32_t>(segments.size() - 1)};
  for (const auto& segment : segments) table.push_back(static_cast<std::uint32_t>(segment.size()));
  std::memcpy(raw.data(), table.data(), table.size() * sizeof(std::uint32_t));
  for (const auto& segment : segments) raw.insert(raw.end(), segment.begin(), segment.end());
  auto words = kj::heapArray<capnp::word>(raw.size());
  std::memcpy(words.asBytes().begin(), raw.data(), raw.size() * sizeof(std::uint64_t));
  return words;
}

// The pointer words of Cap'n Proto's encoding: a struct or list `offset` words after the pointer.
inline std::uint64_t structPointer(std::int32_t offset, std::uint16_t data, std::uint16_t pointers) {
  return (static_cast<std::uint64_t>(static_cast<std::uint32_t>(offset) << 2)) | (std::uint64_t{data} << 32) |
         (std::uint64_t{pointers} << 48);
}
inline std::uint64_t listPointer(std::int32_t offset, unsigned element_size, std::uint32_t count) {
  return (static_cast<std::uint64_t>(static_cast<std::uint32_t>(offset) << 2)) | 1 |
         (std::uint64_t{element_size} << 32) | (std::uint64_t{count} << 35);
}
inline std::uint64_t farPointer(bool double_far, std::uint32_t pad, std::uint32_t segment) {
  return 2 | (std::uint64_t{double_far} << 2) | (std::uint64_t{pad} << 3) | (std::uint64_t{segment} << 32);
}

// A message of `levels` two-pointer structs, both pointers of each pointing at the next: 2 words
// a level, but reading it whole visits 2^levels structs.
inline kj::Array<capnp::word> sharedTargets(unsigned levels) {
  std::vector<std::uint64_t> segment{structPointer(0, 0, 2)};  // the root: the first level, after it
  for (unsigned level = 0; level < levels; ++level) {
    const std::uint16_t pointers = level + 1 == levels ? 0 : 2;
    segment.push_back(structPointer(1, 0, pointers));  // both at the next level, 2 words on
    segment.push_back(structPointer(0, 0, pointers));
  }
  return rawMessage({segment});
}

}  // namespace evr::test
