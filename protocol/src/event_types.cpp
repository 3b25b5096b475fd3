#include "evr/event_types.hpp"

#include <algorithm>
#include <array>
#include <cctype>

namespace evr {
namespace {

constexpr std::array<std::string_view, kEventTypeCount> kNames = {
    "UNKNOWN", "BAR",       "TICK",      "INDICATOR",   "SIGNAL", "ORDER",
    "FILL",    "REGIME",    "PORTFOLIO", "END_OF_DATA", "USER",
};

}  // namespace

std::string_view eventTypeName(EventType type) {
  const auto index = static_cast<unsigned>(type);
  return index < kNames.size() ? kNames[index] : "UNKNOWN";
}

std::optional<EventType> parseEventType(std::string_view name) {
  std::string upper(name);
  std::transform(upper.begin(), upper.end(), upper.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  if (upper == "CLASSIFICATION") return EventType::REGIME;
  for (unsigned i = 1; i < kNames.size(); ++i) {
    if (kNames[i] == upper) return static_cast<EventType>(i);
  }
  return std::nullopt;
}

std::string eventTypeNameList() {
  std::string out;
  for (unsigned i = 1; i < kNames.size(); ++i) {
    if (!out.empty()) out += ", ";
    out += kNames[i];
  }
  return out;
}

std::string EventTypeSet::toString() const {
  if (isAll()) return "ALL";
  if (empty()) return "NONE";
  std::string out;
  for (unsigned i = 1; i < kEventTypeCount; ++i) {
    if (containsOrdinal(static_cast<std::uint8_t>(i))) {
      if (!out.empty()) out += '|';
      out += kNames[i];
    }
  }
  return out;
}

}  // namespace evr
