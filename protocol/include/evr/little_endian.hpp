// Little-endian loads and stores of the link protocol's fixed-layout fields (envelope, EVENTS
// record headers, Cap'n Proto segment tables and pointers): no alignment needed, any host order.
// On a little-endian host each is one unaligned move (a byte-by-byte loop was not folded into one
// by the compiler and cost a tenth of a consumer's time in contentWords); elsewhere, byte by byte.
// Used by protocol/ and the daemon's journal (daemon/journal/).

#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace evr::le {

template <typename T>
void store(std::byte* out, T value) {
  if constexpr (std::endian::native == std::endian::little) {
    std::memcpy(out, &value, sizeof(T));
  } else {
    for (std::size_t i = 0; i < sizeof(T); ++i) out[i] = static_cast<std::byte>((value >> (8 * i)) & 0xff);
  }
}

template <typename T>
T load(const std::byte* in) {
  T value = 0;
  if constexpr (std::endian::native == std::endian::little) {
    std::memcpy(&value, in, sizeof(T));
  } else {
    for (std::size_t i = 0; i < sizeof(T); ++i) value |= static_cast<T>(std::to_integer<std::uint8_t>(in[i])) << (8 * i);
  }
  return value;
}

}  // namespace evr::le
