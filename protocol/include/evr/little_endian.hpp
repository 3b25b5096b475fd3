// Little-endian loads and stores of the link protocol's fixed-layout fields (envelope, EVENTS
// record headers, Cap'n Proto segment tables), byte by byte: no alignment needed, any host order.
// Used by protocol/ and the daemon's journal (daemon/journal/).

#pragma once

#include <cstddef>
#include <cstdint>

namespace evr::le {

template <typename T>
void store(std::byte* out, T value) {
  for (std::size_t i = 0; i < sizeof(T); ++i) out[i] = static_cast<std::byte>((value >> (8 * i)) & 0xff);
}

template <typename T>
T load(const std::byte* in) {
  T value = 0;
  for (std::size_t i = 0; i < sizeof(T); ++i) value |= static_cast<T>(std::to_integer<std::uint8_t>(in[i])) << (8 * i);
  return value;
}

}  // namespace evr::le
