// Event fields by name: the one table of what a routing condition can read from an event.
//
// Used by stage 2/3 of the daemon (routing/condition compiles `event.<name>` against this table
// and the relay loop reads through its getters). The names are docs/events.md's snake_case names
// (the client's event_json.cpp table uses the same ones). Each entry says the field's kind, which
// payload types carry it (header fields: every event) and how to read it from a
// `schema::Event::Reader` in place: a getter returns a FieldValue, a small value that borrows
// text from the message and never allocates. A field that several payloads share (`price`,
// `strategy`, `portfolio`, `side`, `quantity`, `order_id`, `name`) is read from whichever of them
// the event carries; any other payload gives FieldValue::absent().
//
// Reading follows the payload union, not the header's type. Getters may throw kj::Exception on a
// malformed message, like every Cap'n Proto reader; callers on the data plane catch it.

#pragma once

#include <compare>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "event.capnp.h"
#include "evr/event_types.hpp"

namespace evr::fields {

// What a condition may do with a field: Number and Integer compare numerically with each other,
// Text with strings, Enum with its value names, Bool with true/false.
enum class FieldKind : std::uint8_t { Number, Integer, Text, Bool, Enum };

// "number", "integer", "text", "bool", "enum".
std::string_view kindName(FieldKind kind);

// One value of an enum field. An ordinal's first entry is its canonical (upper-case) name; later
// entries with the same ordinal are aliases (`CLASSIFICATION` for the type `REGIME`).
struct EnumValue {
  std::string_view name;
  std::uint16_t ordinal;
};

// A value read from one event: absent, or a number, integer, text, bool or enum value. Text and
// enum names point into the message (or the static name table): valid while the message is.
// Trivially copyable, 32 bytes.
class FieldValue {
 public:
  enum class Type : std::uint8_t { Absent, Number, Integer, Unsigned, Text, Bool, Enum };

  constexpr FieldValue() = default;
  static constexpr FieldValue absent() { return {}; }
  static constexpr FieldValue number(double value) {
    FieldValue out(Type::Number);
    out.number_ = value;
    return out;
  }
  static constexpr FieldValue integer(std::int64_t value) {
    FieldValue out(Type::Integer);
    out.integer_ = value;
    return out;
  }
  // uint64 fields (ids, seq): kept unsigned so values above 2^63 compare exactly.
  static constexpr FieldValue unsignedInteger(std::uint64_t value) {
    FieldValue out(Type::Unsigned);
    out.unsigned_ = value;
    return out;
  }
  static constexpr FieldValue text(std::string_view value) {
    FieldValue out(Type::Text);
    out.text_ = value;
    return out;
  }
  static constexpr FieldValue boolean(bool value) {
    FieldValue out(Type::Bool);
    out.boolean_ = value;
    return out;
  }
  static constexpr FieldValue enumerant(std::uint16_t ordinal, std::string_view name) {
    FieldValue out(Type::Enum);
    out.ordinal_ = ordinal;
    out.text_ = name;
    return out;
  }

  constexpr Type type() const { return type_; }
  constexpr bool isAbsent() const { return type_ == Type::Absent; }
  constexpr bool isNumeric() const {
    return type_ == Type::Number || type_ == Type::Integer || type_ == Type::Unsigned;
  }
  // Each accessor is valid for its own type only (asserted in debug builds by the callers).
  constexpr double asNumber() const { return number_; }
  constexpr std::int64_t asInteger() const { return integer_; }
  constexpr std::uint64_t asUnsigned() const { return unsigned_; }
  constexpr std::string_view asText() const { return text_; }  // Text, or an Enum's name
  constexpr bool asBool() const { return boolean_; }
  constexpr std::uint16_t enumOrdinal() const { return ordinal_; }

 private:
  constexpr explicit FieldValue(Type type) : type_(type) {}

  Type type_ = Type::Absent;
  bool boolean_ = false;
  std::uint16_t ordinal_ = 0;
  union {
    double number_;
    std::int64_t integer_ = 0;
    std::uint64_t unsigned_;
  };
  std::string_view text_;
};

// Exact numeric order of two numeric values (Number, Integer, Unsigned in any mix: an int64, a
// uint64 above 2^63 and a double are compared without rounding). Unordered when either is NaN
// or not numeric.
std::partial_ordering compareNumeric(const FieldValue& a, const FieldValue& b);

// One readable field.
struct FieldInfo {
  std::string_view name;  // as written after `event.`
  FieldKind kind;
  bool header;                             // true: a header field, every event has it
  EventTypeSet types;                      // payload types that carry it; all() for header fields
  std::span<const EnumValue> enum_values;  // Enum only
  // Reads the field in place; `hops` comes from the link envelope. Never allocates.
  FieldValue (*read)(schema::Event::Reader event, std::uint8_t hops);
};

// Every field: header fields first (type, source, symbol, seq, id, event_time, publish_time,
// correlation_id, causation_id, hops), then payload fields in docs/events.md's order, each name
// once.
std::span<const FieldInfo> allFields();
// nullptr when `name` (without `event.`) is not a field. Case-sensitive.
const FieldInfo* findField(std::string_view name);
// "type, source, symbol, ..." for messages.
std::string fieldNameList();

// The ordinal of an Enum field's value named `name`, in any case; nullopt when it has none.
std::optional<std::uint16_t> findEnumValue(const FieldInfo& field, std::string_view name);
// The canonical name of an ordinal ("UNKNOWN" for one the table does not know).
std::string_view enumValueName(const FieldInfo& field, std::uint16_t ordinal);
// "FLAT, LONG, SHORT": canonical names, aliases left out.
std::string enumValueList(const FieldInfo& field);

}  // namespace evr::fields
