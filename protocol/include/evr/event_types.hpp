// Event type names, ordinals and bit sets: shared by config parsing, routing and the client.
//
// The ordinals are schema::EventType's (schemas/event.capnp) and travel in the envelope, so the
// router can route on them without decoding an event. Config and CLI spell them in upper case
// with underscores ("BAR", "END_OF_DATA"); "CLASSIFICATION" is accepted as another name of REGIME
// (the spec uses both).

#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "event.capnp.h"

namespace evr {

using schema::EventType;

// Number of EventType enumerants, `unknown` included. Type sets are 32-bit masks.
inline constexpr unsigned kEventTypeCount = 11;
static_assert(kEventTypeCount <= 32, "EventTypeSet is a 32-bit mask");

std::string_view eventTypeName(EventType type);
std::optional<EventType> parseEventType(std::string_view name);
// "BAR, TICK, ..." for error messages.
std::string eventTypeNameList();

// schema::EventType's `watermark`: the ordinal of the link's progress record (docs/determinism.md),
// which travels in EVENTS like an event but is not one: outside kEventTypeCount, so no config,
// route, type set or handler ever sees it.
inline constexpr std::uint8_t kWatermarkType = static_cast<std::uint8_t>(EventType::WATERMARK);
static_assert(kWatermarkType == kEventTypeCount, "the watermark record follows the event types");

inline bool isKnownEventType(std::uint8_t ordinal) {
  return ordinal > 0 && ordinal < kEventTypeCount;
}

// A set of event types as a bit mask; value type.
class EventTypeSet {
 public:
  constexpr EventTypeSet() = default;
  static constexpr EventTypeSet all() { return EventTypeSet((1u << kEventTypeCount) - 2u); }
  static constexpr EventTypeSet fromBits(std::uint32_t bits) { return EventTypeSet(bits & all().bits_); }
  static constexpr EventTypeSet of(EventType type) {
    return EventTypeSet(1u << static_cast<unsigned>(type));
  }
  constexpr void add(EventType type) { bits_ |= 1u << static_cast<unsigned>(type); }
  constexpr bool contains(EventType type) const {
    return (bits_ >> static_cast<unsigned>(type)) & 1u;
  }
  constexpr bool containsOrdinal(std::uint8_t ordinal) const {
    return ordinal < 32 && ((bits_ >> ordinal) & 1u);
  }
  constexpr bool empty() const { return bits_ == 0; }
  constexpr bool isAll() const { return bits_ == all().bits_; }
  constexpr std::uint32_t bits() const { return bits_; }
  friend constexpr bool operator==(EventTypeSet, EventTypeSet) = default;
  // "ALL" or "BAR|SIGNAL".
  std::string toString() const;

 private:
  constexpr explicit EventTypeSet(std::uint32_t bits) : bits_(bits) {}
  std::uint32_t bits_ = 0;
};

}  // namespace evr
