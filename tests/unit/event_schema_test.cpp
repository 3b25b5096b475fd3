// evr/event_fields against schemas/event.capnp: the field table covers the schema. Walks the
// schema by Cap'n Proto reflection (header fields, the payload union's members and their fields),
// so a field added to the schema without a table entry, or an entry whose name, kind or getter
// and setter do not match its schema field, fails here rather than in a user's condition or
// `--set`.

#include <capnp/message.h>
#include <capnp/schema.h>
#include <capnp/serialize.h>

#include <boost/test/unit_test.hpp>
#include <cctype>
#include <compare>
#include <cstring>
#include <random>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "event.capnp.h"
#include "evr/event_fields.hpp"
#include "evr/framing.hpp"
#include "fuzz_targets.hpp"

namespace fields = evr::fields;
namespace schema = evr::schema;
using evr::EventType;

namespace {

// Schema fields that are deliberately not table fields: lists, handled beside the table.
const std::set<std::string> kNotInTable = {"Event.tags", "UserEvent.fields"};

// "periodSeconds" -> "period_seconds" (docs/events.md).
std::string snakeCase(std::string_view camel) {
  std::string out;
  for (const char c : camel) {
    if (std::isupper(static_cast<unsigned char>(c))) {
      out += '_';
      out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    } else {
      out += c;
    }
  }
  return out;
}

std::string_view nameOf(const capnp::StructSchema::Field& field) {
  const auto name = field.getProto().getName();
  return std::string_view(name.cStr(), name.size());
}

std::string structName(const capnp::StructSchema& schema) {
  const auto name = schema.getUnqualifiedName();
  return std::string(name.cStr(), name.size());
}

// The table kind of a schema type; nullopt for what has none (lists, structs, data).
std::optional<fields::FieldKind> kindOf(capnp::Type type) {
  using W = capnp::schema::Type::Which;
  switch (type.which()) {
    case W::FLOAT32:
    case W::FLOAT64: return fields::FieldKind::Number;
    case W::INT8:
    case W::INT16:
    case W::INT32:
    case W::INT64:
    case W::UINT8:
    case W::UINT16:
    case W::UINT32:
    case W::UINT64: return fields::FieldKind::Integer;
    case W::TEXT: return fields::FieldKind::Text;
    case W::BOOL: return fields::FieldKind::Bool;
    case W::ENUM: return fields::FieldKind::Enum;
    default: return std::nullopt;
  }
}

const fields::SchemaField* findIn(std::span<const fields::SchemaField> table,
                                  std::string_view name) {
  for (const auto& entry : table) {
    if (entry.name == name) return &entry;
  }
  return nullptr;
}

// Every field of `schema` has an entry of the same name and kind in `table`, and every entry of
// `table` (but `extra`) is a field of `schema`.
void checkCovers(const capnp::StructSchema& schema, std::span<const fields::SchemaField> table,
                 std::set<std::string> extra = {}) {
  std::set<std::string> seen;
  for (const auto field : schema.getNonUnionFields()) {
    const std::string where = structName(schema) + "." + std::string(nameOf(field));
    if (kNotInTable.contains(where)) continue;
    if (field.getProto().isGroup()) continue;  // Event.payload: walked by the caller
    const auto name = snakeCase(nameOf(field));
    seen.insert(name);
    const auto* entry = findIn(table, name);
    BOOST_TEST_REQUIRE(entry != nullptr, where << " has no entry '" << name << "' in the table");
    const auto kind = kindOf(field.getType());
    BOOST_TEST_REQUIRE(kind.has_value(), where << " is not a scalar: add it to kNotInTable");
    BOOST_TEST((entry->kind == *kind), where << " is a " << fields::kindName(*kind)
                                             << " field, the table says "
                                             << fields::kindName(entry->kind));
  }
  for (const auto& entry : table) {
    const std::string name(entry.name);
    BOOST_TEST((seen.contains(name) || extra.contains(name)),
               "table entry '" << name << "' is not a field of " << structName(schema));
  }
}

// Sets the payload union to `type`'s member, initialised (all its fields at their defaults).
void initPayload(schema::Event::Builder root, EventType type) {
  switch (type) {
    case EventType::BAR: root.getPayload().initBar(); break;
    case EventType::TICK: root.getPayload().initTick(); break;
    case EventType::INDICATOR: root.getPayload().initIndicator(); break;
    case EventType::SIGNAL: root.getPayload().initSignal(); break;
    case EventType::ORDER: root.getPayload().initOrder(); break;
    case EventType::FILL: root.getPayload().initFill(); break;
    case EventType::REGIME: root.getPayload().initRegime(); break;
    case EventType::PORTFOLIO: root.getPayload().initPortfolio(); break;
    case EventType::END_OF_DATA: root.getPayload().initEndOfData(); break;
    case EventType::USER: root.getPayload().initUser(); break;
    default: BOOST_FAIL("a payload type without an init here"); break;
  }
}

}  // namespace

BOOST_AUTO_TEST_SUITE(event_schema)

BOOST_AUTO_TEST_CASE(every_header_field_has_an_entry) {
  const auto event = capnp::Schema::from<schema::Event>();
  // hops is the envelope's, read as if it were a header field.
  checkCovers(event, fields::headerFields(), {"hops"});
  for (const auto& entry : fields::headerFields()) BOOST_TEST(entry.header(), entry.name);
}

BOOST_AUTO_TEST_CASE(every_payload_field_has_an_entry) {
  const auto payload = capnp::Schema::from<schema::Event>()
                           .getFieldByName("payload")
                           .getType()
                           .asStruct();
  std::size_t payloads = 0;
  for (const auto member : payload.getUnionFields()) {
    const auto type = static_cast<EventType>(member.getProto().getDiscriminantValue());
    const auto table = fields::payloadFields(type);
    if (!member.getType().isStruct()) {  // `none`
      BOOST_TEST(table.empty(), nameOf(member));
      continue;
    }
    ++payloads;
    BOOST_TEST_CONTEXT("payload member " << nameOf(member)) {
      BOOST_TEST(!table.empty(), "no table entries for this payload member");
      checkCovers(member.getType().asStruct(), table);
      for (const auto& entry : table) BOOST_TEST((entry.payload == type), entry.name);
    }
  }
  BOOST_TEST(payloads == evr::kEventTypeCount - 1);  // one per known type but UNKNOWN
}

BOOST_AUTO_TEST_CASE(each_entry_writes_the_field_it_reads) {
  // Distinct values for every writable field of a payload, written one after the other and read
  // back at the end: an entry whose setter and getter are different fields fails.
  for (unsigned i = 1; i < evr::kEventTypeCount; ++i) {
    const auto type = static_cast<EventType>(i);
    capnp::MallocMessageBuilder message;
    auto root = message.initRoot<schema::Event>();
    root.setType(type);
    initPayload(root, type);
    std::vector<std::string> texts;  // outlive the writes' FieldValues
    const auto valueFor = [&](const fields::SchemaField& entry, int n) {
      switch (entry.kind) {
        case fields::FieldKind::Number: return fields::FieldValue::number(n + 0.5);
        case fields::FieldKind::Integer: return fields::FieldValue::integer(n);
        case fields::FieldKind::Bool: return fields::FieldValue::boolean(n % 2 == 1);
        case fields::FieldKind::Enum: {
          const auto& value = entry.enum_values[n % entry.enum_values.size()];
          return fields::FieldValue::enumerant(value.ordinal, {});
        }
        case fields::FieldKind::Text: break;
      }
      texts.push_back("text " + std::to_string(n));
      return fields::FieldValue::text(texts.back());
    };
    std::vector<fields::FieldValue> written;
    int n = 1;
    std::vector<const fields::SchemaField*> entries;
    for (const auto& entry : fields::headerFields()) {
      if (entry.write != nullptr) entries.push_back(&entry);
    }
    for (const auto& entry : fields::payloadFields(type)) entries.push_back(&entry);
    texts.reserve(entries.size());
    for (const auto* entry : entries) {
      BOOST_TEST_REQUIRE(entry->write != nullptr, entry->name);
      written.push_back(valueFor(*entry, n++));
      std::string reason;
      BOOST_TEST(entry->write(root, written.back(), reason), entry->name << ": " << reason);
    }
    const auto reader = root.asReader();
    for (std::size_t k = 0; k < entries.size(); ++k) {
      const auto read = entries[k]->read(reader, 0);
      const auto& expected = written[k];
      BOOST_TEST_CONTEXT(evr::eventTypeName(type) << "." << entries[k]->name) {
        switch (entries[k]->kind) {
          case fields::FieldKind::Number: BOOST_TEST(read.asNumber() == expected.asNumber()); break;
          case fields::FieldKind::Integer:
            BOOST_TEST((fields::compareNumeric(read, expected) ==
                        std::partial_ordering::equivalent));
            break;
          case fields::FieldKind::Bool: BOOST_TEST(read.asBool() == expected.asBool()); break;
          case fields::FieldKind::Enum:
            BOOST_TEST(read.enumOrdinal() == expected.enumOrdinal());
            break;
          case fields::FieldKind::Text: BOOST_TEST(read.asText() == expected.asText()); break;
        }
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(writes_convert_text_and_reject_what_does_not_fit) {
  capnp::MallocMessageBuilder message;
  auto root = message.initRoot<schema::Event>();
  root.getPayload().initBar();
  const auto bar = fields::payloadFields(EventType::BAR);
  const auto* period = findIn(bar, "period_seconds");
  const auto* close = findIn(bar, "close");
  BOOST_TEST_REQUIRE((period != nullptr && close != nullptr));
  std::string reason;
  BOOST_TEST(period->write(root, fields::FieldValue::text("+86400"), reason));
  BOOST_TEST(root.getPayload().getBar().getPeriodSeconds() == 86400u);
  BOOST_TEST(!period->write(root, fields::FieldValue::integer(-1), reason));
  BOOST_TEST(reason == "'-1' is not an integer in [0, 4294967295]");
  BOOST_TEST(!period->write(root, fields::FieldValue::number(2.5), reason));
  BOOST_TEST(reason == "'2.5' is not an integer in [0, 4294967295]");
  BOOST_TEST(close->write(root, fields::FieldValue::integer(3), reason));
  BOOST_TEST(root.getPayload().getBar().getClose() == 3.0);
  BOOST_TEST(!close->write(root, fields::FieldValue::text("inf"), reason));
  BOOST_TEST(reason == "'inf' is not a number");

  root.getPayload().initSignal();
  const auto* direction = findIn(fields::payloadFields(EventType::SIGNAL), "direction");
  BOOST_TEST_REQUIRE(direction != nullptr);
  BOOST_TEST(direction->write(root, fields::FieldValue::text("Short"), reason));
  BOOST_TEST((root.getPayload().getSignal().getDirection() == schema::Direction::SHORT));
  BOOST_TEST(!direction->write(root, fields::FieldValue::text("up"), reason));
  BOOST_TEST(reason == "'up' is not one of FLAT, LONG, SHORT");
}

BOOST_AUTO_TEST_CASE(stamped_header_fields_have_no_writer) {
  std::set<std::string> writable;
  for (const auto& entry : fields::headerFields()) {
    if (entry.write != nullptr) writable.emplace(entry.name);
  }
  BOOST_TEST((writable == std::set<std::string>{"symbol", "event_time", "correlation_id"}));
}

BOOST_AUTO_TEST_SUITE_END()

// fields::FlatEvent, the hand reader of the daemon's routes, against Cap'n Proto's reader: the same
// value wherever it gives one, and none where a reader would throw (evr::fuzz::compareFlatReads,
// which the fuzz target `capnp` runs on every input).
namespace {

// An event of `type` with every field the table can write set to a value of its own (negative
// where the field is signed), the stamped header fields too.
kj::Array<capnp::word> fullEvent(EventType type, std::vector<std::string>& texts) {
  capnp::MallocMessageBuilder message;
  auto root = message.initRoot<schema::Event>();
  initPayload(root, type);
  std::vector<const fields::SchemaField*> entries;
  for (const auto& entry : fields::headerFields()) entries.push_back(&entry);
  for (const auto& entry : fields::payloadFields(type)) entries.push_back(&entry);
  int n = 1;
  for (const auto* entry : entries) {
    if (entry->restore == nullptr) continue;  // hops: not in the event
    std::string reason;
    fields::FieldValue value;
    switch (entry->kind) {
      case fields::FieldKind::Number: value = fields::FieldValue::number(-n - 0.25); break;
      case fields::FieldKind::Integer: value = fields::FieldValue::integer(-n); break;
      case fields::FieldKind::Bool: value = fields::FieldValue::boolean(true); break;
      case fields::FieldKind::Enum:
        value = fields::FieldValue::enumerant(entry->enum_values[n % entry->enum_values.size()].ordinal, {});
        break;
      case fields::FieldKind::Text:
        texts.push_back(std::string(entry->name) + " " + std::to_string(n));
        value = fields::FieldValue::text(texts.back());
        break;
    }
    if (!entry->restore(root, value, reason)) {  // an unsigned field: the value positive
      BOOST_TEST_REQUIRE(entry->restore(root, fields::FieldValue::integer(n), reason), entry->name << ": " << reason);
    }
    ++n;
  }
  root.setType(static_cast<schema::EventType>(type));  // after `type` got a value of its own
  return capnp::messageToFlatArray(message);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(flat_event)

BOOST_AUTO_TEST_CASE(reads_every_field_but_hops_by_hand_as_a_reader_does) {
  for (unsigned i = 1; i < evr::kEventTypeCount; ++i) {
    const auto type = static_cast<EventType>(i);
    BOOST_TEST_CONTEXT(evr::eventTypeName(type)) {
      std::vector<std::string> texts;
      texts.reserve(64);
      const auto words = fullEvent(type, texts);
      const fields::FlatEvent flat(words.asPtr());
      BOOST_TEST_REQUIRE(flat.rootReadable());
      // Every field read by hand (hops from the envelope), each as a reader reads it.
      const auto reads = evr::fuzz::compareFlatReads(words.asPtr());
      BOOST_TEST(reads.left == 0u);
      BOOST_TEST(reads.by_hand == fields::allFields().size());
      // The event's own fields have the values written: none is absent.
      for (const auto& field : fields::allFields()) {
        if (field.header || field.types.contains(type)) BOOST_TEST(!flat.read(field, 3)->isAbsent(), field.name);
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(reads_defaults_as_a_reader_does) {
  std::size_t by_hand = 0, left = 0;
  const auto add = [&](evr::fuzz::FlatReads reads) {
    by_hand += reads.by_hand;
    left += reads.left;
  };
  // Payloads with nothing set, no payload, and no root at all (a null root pointer).
  for (unsigned i = 0; i < evr::kEventTypeCount; ++i) {
    capnp::MallocMessageBuilder message;
    auto root = message.initRoot<schema::Event>();
    if (i > 0) initPayload(root, static_cast<EventType>(i));
    const auto words = capnp::messageToFlatArray(message);
    add(evr::fuzz::compareFlatReads(words.asPtr()));
  }
  const std::array<capnp::word, 2> null_root{capnp::word{}, capnp::word{}};
  std::array<std::uint32_t, 2> table{0, 1};
  std::array<capnp::word, 2> words = null_root;
  std::memcpy(reinterpret_cast<std::byte*>(words.data()), table.data(), sizeof table);
  BOOST_TEST(fields::FlatEvent(kj::arrayPtr(words.data(), words.size())).rootReadable());
  add(evr::fuzz::compareFlatReads(kj::arrayPtr(words.data(), words.size())));
  BOOST_TEST(left == 0u);
  BOOST_TEST(by_hand == (evr::kEventTypeCount + 1) * fields::allFields().size());
}

BOOST_AUTO_TEST_CASE(leaves_far_pointers_and_several_segments_to_a_reader) {
  // Segments of one word: every object behind a far pointer, in a message of many segments.
  capnp::MallocMessageBuilder message(1, capnp::AllocationStrategy::FIXED_SIZE);
  auto root = message.initRoot<schema::Event>();
  root.setSource("far");
  root.getPayload().initRegime().setRegime("BULL");
  const auto words = capnp::messageToFlatArray(message);
  BOOST_TEST_REQUIRE(message.getSegmentsForOutput().size() > 1u);
  BOOST_TEST(!fields::FlatEvent(words.asPtr()).rootReadable());
  BOOST_TEST(!fields::FlatEvent(words.asPtr()).read(*fields::findField("regime"), 0).has_value());

  // One segment whose payload pointer is far (to a landing pad in the same segment, which points
  // at the struct): made by hand from a plain event with one more word for the pad. A reader
  // follows it; the hand reader leaves it to one.
  capnp::MallocMessageBuilder plain;
  auto event = plain.initRoot<schema::Event>();
  event.getPayload().initRegime().setRegime("BULL");
  const auto original = capnp::messageToFlatArray(plain);
  BOOST_TEST(!fields::FlatEvent(original.slice(0, 1)).rootReadable());  // no segment words at all
  auto far = kj::heapArray<capnp::word>(original.size() + 1);
  std::memcpy(far.begin(), original.begin(), original.size() * sizeof(capnp::word));
  std::memset(reinterpret_cast<std::byte*>(far.end() - 1), 0, sizeof(capnp::word));
  auto* table = reinterpret_cast<std::uint32_t*>(far.begin());
  const std::uint32_t pad = table[1]++;  // the pad: the segment's new last word
  const auto section = evr::rootPointerSection(far.begin() + 1);
  BOOST_TEST_REQUIRE(section.has_value());
  const auto payload = capnp::Schema::from<schema::Event::Payload>();
  std::uint64_t member = 0;
  for (const auto field : payload.getUnionFields()) {
    if (field.getProto().getDiscriminantValue() == static_cast<std::uint16_t>(EventType::REGIME)) {
      member = field.getProto().getSlot().getOffset();
    }
  }
  auto* segment = reinterpret_cast<std::uint64_t*>(far.begin() + 1);
  const std::uint64_t at = section->at + member, pointer = segment[at];
  const std::int64_t target = static_cast<std::int64_t>(at) + 1 + evr::pointerOffset(pointer);
  // The pad: the same struct pointer, its offset counted from the pad. The far pointer: kind 2,
  // the pad's word at bits 3..31, segment 0.
  const auto offset = static_cast<std::uint32_t>(target - (static_cast<std::int64_t>(pad) + 1));
  segment[pad] = (pointer & 0xffffffff00000000u) | static_cast<std::uint32_t>(offset << 2);
  segment[at] = (static_cast<std::uint64_t>(pad) << 3) | 2;
  capnp::FlatArrayMessageReader reader(far.asPtr());
  const auto label = reader.getRoot<schema::Event>().getPayload().getRegime().getRegime();
  BOOST_TEST_REQUIRE(std::string_view(label.cStr(), label.size()) == "BULL");
  BOOST_TEST(fields::FlatEvent(far.asPtr()).rootReadable());
  BOOST_TEST(!fields::FlatEvent(far.asPtr()).read(*fields::findField("regime"), 0).has_value());

  auto flat = kj::heapArray<capnp::word>(original.asPtr());
  BOOST_TEST_REQUIRE(fields::FlatEvent(flat.asPtr()).read(*fields::findField("regime"), 0).has_value());
  // A text whose last byte is not a NUL: a reader throws, the hand reader gives nothing.
  std::size_t by_hand = 0, left = 0;
  const auto add = [&](evr::fuzz::FlatReads reads) {
    by_hand += reads.by_hand;
    left += reads.left;
  };
  auto* bytes = reinterpret_cast<char*>(flat.begin());
  const std::string_view all(bytes, flat.size() * sizeof(capnp::word));
  const auto bull = all.find("BULL");
  BOOST_TEST_REQUIRE(bull != std::string_view::npos);
  bytes[bull + 4] = 'X';
  BOOST_TEST(!fields::FlatEvent(flat.asPtr()).read(*fields::findField("regime"), 0).has_value());
  add(evr::fuzz::compareFlatReads(flat.asPtr()));
  BOOST_TEST(left > 0u);
}

BOOST_AUTO_TEST_CASE(never_gives_a_value_a_reader_would_not) {
  // Events of every type with every field set, bytes changed at random: wherever the hand reader
  // gives a value, a reader reads the same one without throwing. Deterministic (a fixed seed).
  std::mt19937_64 random(20261204);
  std::size_t by_hand = 0, left = 0;
  const auto add = [&](evr::fuzz::FlatReads reads) {
    by_hand += reads.by_hand;
    left += reads.left;
  };
  for (unsigned i = 1; i < evr::kEventTypeCount; ++i) {
    std::vector<std::string> texts;
    texts.reserve(64);
    const auto original = fullEvent(static_cast<EventType>(i), texts);
    for (int round = 0; round < 400; ++round) {
      auto words = kj::heapArray<capnp::word>(original.asPtr());
      auto* bytes = reinterpret_cast<unsigned char*>(words.begin());
      const std::size_t size = words.size() * sizeof(capnp::word);
      const int changes = 1 + static_cast<int>(random() % 3);
      for (int c = 0; c < changes; ++c) {
        // Mostly the pointer and data words after the segment table, sometimes the table.
        const std::size_t at = round % 16 == 0 ? random() % 8 : 8 + random() % (size - 8);
        bytes[at] = static_cast<unsigned char>(random());
      }
      add(evr::fuzz::compareFlatReads(words.asPtr()));
    }
  }
  // Both happened: values given and checked, and fields left to the reader.
  BOOST_TEST(by_hand > 10000u);
  BOOST_TEST(left > 100u);
}

BOOST_AUTO_TEST_SUITE_END()
