#include "payload.hpp"

#include <charconv>
#include <cstring>

namespace evr::bench {
namespace {

constexpr std::string_view kIndexKey = "i=";
constexpr std::string_view kTimeKey = " t=";
constexpr std::size_t kHexDigits = 16;
constexpr std::size_t kIndexAt = kIndexKey.size();
constexpr std::size_t kTimeAt = kIndexAt + kHexDigits + kTimeKey.size();
constexpr std::size_t kHeaderEnd = kTimeAt + kHexDigits;
static_assert(kHeaderEnd < kPayloadSize);

void writeHex(char* out, std::uint64_t value) {
  static constexpr char kDigits[] = "0123456789abcdef";
  for (std::size_t i = kHexDigits; i-- > 0;) {
    out[i] = kDigits[value & 0xf];
    value >>= 4;
  }
}

std::optional<std::uint64_t> readHex(const char* in) {
  std::uint64_t value = 0;
  const auto [end, error] = std::from_chars(in, in + kHexDigits, value, 16);
  if (error != std::errc() || end != in + kHexDigits) return std::nullopt;
  return value;
}

}  // namespace

void writePayload(Payload& out, std::uint64_t index, std::int64_t send_ns) {
  std::memcpy(out.data(), kIndexKey.data(), kIndexKey.size());
  writeHex(out.data() + kIndexAt, index);
  std::memcpy(out.data() + kIndexAt + kHexDigits, kTimeKey.data(), kTimeKey.size());
  writeHex(out.data() + kTimeAt, static_cast<std::uint64_t>(send_ns));
  out[kHeaderEnd] = ' ';
  std::memset(out.data() + kHeaderEnd + 1, '.', kPayloadSize - kHeaderEnd - 1);
}

std::optional<PayloadStamp> readPayload(std::span<const char> bytes) {
  if (bytes.size() != kPayloadSize ||
      std::string_view(bytes.data(), kIndexKey.size()) != kIndexKey ||
      std::string_view(bytes.data() + kIndexAt + kHexDigits, kTimeKey.size()) != kTimeKey) {
    return std::nullopt;
  }
  const auto index = readHex(bytes.data() + kIndexAt);
  const auto send_ns = readHex(bytes.data() + kTimeAt);
  if (!index || !send_ns) return std::nullopt;
  return PayloadStamp{*index, static_cast<std::int64_t>(*send_ns)};
}

}  // namespace evr::bench
