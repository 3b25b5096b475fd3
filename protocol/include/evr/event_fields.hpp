// Event fields by name: the one table of the fields of schemas/event.capnp, for everything that
// names a field: routing conditions (`event.<name>`), JSON and text lines, `evrctl send --set`,
// the typed payload structs of evr/events.hpp and language bindings.
//
// An entry (SchemaField) is one schema field: a header field of Event, or a field of one payload
// struct. It knows the field's name (docs/events.md's snake_case name, which is also its JSON key
// and its `--set` name), its kind, the payload that carries it, and how to read it from a
// `schema::Event::Reader` in place and write it into a `schema::Event::Builder`. Reading returns
// a FieldValue, a small value that borrows text from the message and never allocates.
//
// Conditions look fields up by name (FieldInfo): a name that several payloads share (`price`,
// `strategy`, `portfolio`, `side`, `quantity`, `order_id`, `name`) is read from whichever of them
// the event carries; any other payload gives FieldValue::absent(). Reading follows the payload
// union, not the header's type. Getters may throw kj::Exception on a malformed message, like
// every Cap'n Proto reader; callers on the data plane catch it.
//
// Used by stage 2/3 of the daemon (routing/condition), the client library (event_json, events)
// and evrctl. tests/unit/event_fields_test.cpp walks the schema and fails when a field has no
// entry.

#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "event.capnp.h"
#include "evr/event_types.hpp"

namespace evr::fields {

// A field's kind: Number (floating point), Integer (any integer width, signed or not), Text, Bool,
// Enum (a schema enum, named by its values). In conditions Number and Integer compare numerically
// with each other, Text with strings, Enum with its value names, Bool with true/false.
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

// One field of the schema: a header field of Event, or a field of one payload struct. A name
// that several payloads share has one entry per payload, with the same kind.
struct SchemaField {
  std::string_view name;  // snake_case: `event.<name>`, the JSON key, `--set <name>=`
  FieldKind kind;
  EventType payload;                       // the payload that carries it; UNKNOWN: a header field
  std::span<const EnumValue> enum_values;  // Enum only
  // Reads the field in place. `hops` comes from the link envelope (only the `hops` entry reads
  // it). A payload field's event must carry `payload` (check payloadType() first). Never
  // allocates.
  FieldValue (*read)(schema::Event::Reader event, std::uint8_t hops);
  // Writes `value` into the event, converted to the field's type: a value of the field's kind
  // (any numeric value for a Number; an Integer or Unsigned in range for an Integer; an ordinal
  // for an Enum), or Text to be parsed ("1.5", "+3", "long": enum names in any case). False, with
  // `reason` ("'-1' is not an integer in [0, 4294967295]"), when it does not convert. A payload
  // field's builder must hold `payload`. nullptr for what Bus::publish stamps (type, source,
  // seq, id, publish_time, causation_id) and for hops, which is not in the event.
  bool (*write)(schema::Event::Builder event, const FieldValue& value, std::string& reason);
  // Writes like `write`, for every field the event carries, the stamped ones included: for an
  // event read back whole, header as recorded (evr::fromJson, evr::testing::Harness). nullptr
  // only for hops, which is not in the event.
  bool (*restore)(schema::Event::Builder event, const FieldValue& value, std::string& reason) = nullptr;

  constexpr bool header() const { return payload == EventType::UNKNOWN; }
};

// The header fields: type, source, symbol, seq, id, event_time, publish_time, correlation_id,
// causation_id, hops (tags are a list, not a field).
std::span<const SchemaField> headerFields();
// The fields of `type`'s payload in schema order; empty for UNKNOWN or a type this build does not
// know. USER has only `name`: its key/value list is not a field.
std::span<const SchemaField> payloadFields(EventType type);
// The type of the payload `event` carries (UNKNOWN for none, or one this build does not know).
EventType payloadType(schema::Event::Reader event);

// A field by name, as conditions see it: its entries merged.
struct FieldInfo {
  std::string_view name;  // as written after `event.`
  FieldKind kind;
  bool header;                             // true: a header field, every event has it
  EventTypeSet types;                      // payload types that carry it; all() for header fields
  std::span<const EnumValue> enum_values;  // Enum only
  // The entries behind the name: a header field's at [0], else each payload's at its type.
  std::array<const SchemaField*, kEventTypeCount> entries{};

  // Reads the field from whichever payload the event carries; `hops` comes from the link
  // envelope. Never allocates.
  FieldValue read(schema::Event::Reader event, std::uint8_t hops) const {
    const auto slot = header ? 0u : static_cast<unsigned>(payloadType(event));
    const SchemaField* entry = entries[slot];
    return entry != nullptr ? entry->read(event, hops) : FieldValue::absent();
  }
};

// An event's flat words (a whole message: segment table, then one segment), read by hand in Cap'n
// Proto's wire format with every bound checked, for routes that read a field or two per event:
// a Cap'n Proto reader costs more to make and to read through (about 1,000 instructions per event
// in a selective route) than the reads themselves. The daemon's routes read fields this way first,
// and through a reader only where this cannot (routing/condition.hpp, EventView).
class FlatEvent {
 public:
  // Takes the segment table and the root. rootReadable() is false unless the message has one
  // segment that the words hold and a root pointer that is null or leads to a struct inside it:
  // then a reader's getRoot succeeds; otherwise a reader decides (and throws where it must).
  explicit FlatEvent(kj::ArrayPtr<const capnp::word> words);
  bool rootReadable() const { return readable_; }

  // The value field.read() of a reader of these words returns, or nullopt when this cannot be sure
  // of it in a few steps: the root is not readable, a pointer on the way is far, of an unexpected
  // kind or out of the segment, or the field has an explicit default. A reader of such a message
  // decides, throwing where reading would. Where a value is given, a reader with no traversal
  // limit reads the same value without throwing (a reader with one may throw instead, for a message
  // whose pointers overlap, which no builder writes). Never throws or allocates.
  std::optional<FieldValue> read(const FieldInfo& field, std::uint8_t hops) const;

  // A struct in the segment: its data and pointer sections, by word index.
  struct Struct {
    std::int64_t data = 0;
    std::uint64_t data_words = 0;
    std::uint64_t pointers = 0;
  };

 private:
  const capnp::word* segment_ = nullptr;
  std::int64_t size_ = 0;  // the segment's words
  Struct root_;
  bool readable_ = false;
};

// Every field name once: header fields first (type, source, symbol, seq, id, event_time,
// publish_time, correlation_id, causation_id, hops), then payload fields in schema order, a
// shared name where it first appears.
std::span<const FieldInfo> allFields();
// nullptr when `name` (without `event.`) is not a field. Case-sensitive.
const FieldInfo* findField(std::string_view name);
// "type, source, symbol, ..." for messages.
std::string fieldNameList();

// The value names of a schema enum (EventType, Direction, Side, OrderKind) as the table reads and
// writes them.
template <class E>
std::span<const EnumValue> enumValuesOf();
template <>
std::span<const EnumValue> enumValuesOf<schema::EventType>();
template <>
std::span<const EnumValue> enumValuesOf<schema::Direction>();
template <>
std::span<const EnumValue> enumValuesOf<schema::Side>();
template <>
std::span<const EnumValue> enumValuesOf<schema::OrderKind>();

// The ordinal of the value named `name`, in any case; nullopt when there is none.
std::optional<std::uint16_t> findEnumValue(std::span<const EnumValue> values,
                                           std::string_view name);
// The canonical name of an ordinal ("UNKNOWN" for one the table does not know).
std::string_view enumValueName(std::span<const EnumValue> values, std::uint16_t ordinal);
// "FLAT, LONG, SHORT": canonical names, aliases left out.
std::string enumValueList(std::span<const EnumValue> values);
// The same for an Enum field's values.
inline std::optional<std::uint16_t> findEnumValue(const FieldInfo& field, std::string_view name) {
  return findEnumValue(field.enum_values, name);
}
inline std::string_view enumValueName(const FieldInfo& field, std::uint16_t ordinal) {
  return enumValueName(field.enum_values, ordinal);
}
inline std::string enumValueList(const FieldInfo& field) {
  return enumValueList(field.enum_values);
}

// Numbers as people type them: "1.5", "-3", "+2" (a leading '+' is allowed). nullopt for
// anything else, for an out-of-range integer and for a number that is not finite.
std::optional<double> parseNumber(std::string_view text);
std::optional<std::int64_t> parseInteger(std::string_view text);

}  // namespace evr::fields
