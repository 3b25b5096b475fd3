// The field table of evr/event_fields.hpp. Each entry is declared by the generated getter and
// setter of its schema field, so its kind and how it converts come from the generated code.

#include "evr/event_fields.hpp"

#include <capnp/schema.h>

#include <algorithm>
#include <array>
#include <bit>
#include <charconv>
#include <cstddef>
#include <cmath>
#include <limits>
#include <type_traits>
#include <utility>

#include "evr/framing.hpp"
#include "evr/little_endian.hpp"

namespace evr::fields {
namespace {

using Payload = schema::Event::Payload;
using Which = Payload::Which;

// A payload member's discriminant equals its event type's ordinal; the table relies on it.
static_assert(static_cast<unsigned>(Which::BAR) == static_cast<unsigned>(EventType::BAR));
static_assert(static_cast<unsigned>(Which::TICK) == static_cast<unsigned>(EventType::TICK));
static_assert(static_cast<unsigned>(Which::INDICATOR) ==
              static_cast<unsigned>(EventType::INDICATOR));
static_assert(static_cast<unsigned>(Which::SIGNAL) == static_cast<unsigned>(EventType::SIGNAL));
static_assert(static_cast<unsigned>(Which::ORDER) == static_cast<unsigned>(EventType::ORDER));
static_assert(static_cast<unsigned>(Which::FILL) == static_cast<unsigned>(EventType::FILL));
static_assert(static_cast<unsigned>(Which::REGIME) == static_cast<unsigned>(EventType::REGIME));
static_assert(static_cast<unsigned>(Which::PORTFOLIO) ==
              static_cast<unsigned>(EventType::PORTFOLIO));
static_assert(static_cast<unsigned>(Which::END_OF_DATA) ==
              static_cast<unsigned>(EventType::END_OF_DATA));
static_assert(static_cast<unsigned>(Which::USER) == static_cast<unsigned>(EventType::USER));

// ---- enum value names (upper case, as docs/events.md writes them) ------------------------------

constexpr std::array<EnumValue, 11> kTypeValues = {{
    {"BAR", 1},
    {"TICK", 2},
    {"INDICATOR", 3},
    {"SIGNAL", 4},
    {"ORDER", 5},
    {"FILL", 6},
    {"REGIME", 7},
    {"PORTFOLIO", 8},
    {"END_OF_DATA", 9},
    {"USER", 10},
    {"CLASSIFICATION", 7},  // the spec's other name of REGIME
}};
constexpr std::array<EnumValue, 3> kDirectionValues = {{{"FLAT", 0}, {"LONG", 1}, {"SHORT", 2}}};
constexpr std::array<EnumValue, 2> kSideValues = {{{"BUY", 0}, {"SELL", 1}}};
constexpr std::array<EnumValue, 2> kOrderKindValues = {{{"MARKET", 0}, {"LIMIT", 1}}};

constexpr std::string_view nameIn(std::span<const EnumValue> values, std::uint16_t ordinal) {
  for (const auto& value : values) {
    if (value.ordinal == ordinal) return value.name;
  }
  return "UNKNOWN";  // an enumerant from a newer schema
}

template <class E>
constexpr std::span<const EnumValue> valuesOf() {
  if constexpr (std::is_same_v<E, schema::Direction>) {
    return kDirectionValues;
  } else if constexpr (std::is_same_v<E, schema::Side>) {
    return kSideValues;
  } else if constexpr (std::is_same_v<E, schema::OrderKind>) {
    return kOrderKindValues;
  } else if constexpr (std::is_same_v<E, schema::EventType>) {
    return kTypeValues;
  } else {
    static_assert(!std::is_same_v<E, E>, "add the value names of this enum");
  }
}

// ---- schema values -> FieldValue ---------------------------------------------------------------

template <class V>
constexpr FieldKind kindOf() {
  if constexpr (std::is_same_v<V, capnp::Text::Reader>) {
    return FieldKind::Text;
  } else if constexpr (std::is_same_v<V, bool>) {
    return FieldKind::Bool;
  } else if constexpr (std::is_enum_v<V>) {
    return FieldKind::Enum;
  } else if constexpr (std::is_floating_point_v<V>) {
    return FieldKind::Number;
  } else {
    static_assert(std::is_integral_v<V>);
    return FieldKind::Integer;
  }
}

template <class V>
FieldValue toValue(V value) {
  if constexpr (std::is_same_v<V, capnp::Text::Reader>) {
    return FieldValue::text(std::string_view(value.cStr(), value.size()));
  } else if constexpr (std::is_same_v<V, bool>) {
    return FieldValue::boolean(value);
  } else if constexpr (std::is_enum_v<V>) {
    const auto ordinal = static_cast<std::uint16_t>(value);
    return FieldValue::enumerant(ordinal, nameIn(valuesOf<V>(), ordinal));
  } else if constexpr (std::is_floating_point_v<V>) {
    return FieldValue::number(value);
  } else if constexpr (std::is_same_v<V, std::uint64_t>) {
    return FieldValue::unsignedInteger(value);
  } else {
    return FieldValue::integer(static_cast<std::int64_t>(value));
  }
}

// ---- text and values -> schema values ----------------------------------------------------------

// from_chars does not take a leading '+'; people type one.
std::string_view stripPlus(std::string_view text) {
  if (text.size() > 1 && text.front() == '+' && text[1] != '-') text.remove_prefix(1);
  return text;
}

template <class Int>
std::optional<Int> parseIntegral(std::string_view text) {
  text = stripPlus(text);
  Int value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

// A value as messages quote it: 'abc', '1.5', 'LONG'.
std::string quoted(const FieldValue& value) {
  std::string out;
  switch (value.type()) {
    case FieldValue::Type::Absent: return "nothing";
    case FieldValue::Type::Number: {
      std::array<char, 32> buffer{};
      const auto written =
          std::to_chars(buffer.data(), buffer.data() + buffer.size(), value.asNumber());
      out.assign(buffer.data(), written.ptr);
      break;
    }
    case FieldValue::Type::Integer: out = std::to_string(value.asInteger()); break;
    case FieldValue::Type::Unsigned: out = std::to_string(value.asUnsigned()); break;
    case FieldValue::Type::Bool: out = value.asBool() ? "true" : "false"; break;
    case FieldValue::Type::Text:
    case FieldValue::Type::Enum: out = value.asText(); break;
  }
  return "'" + out + "'";
}

// `value` as the schema type V of a field, or nullopt with `reason`. See SchemaField::write.
template <class V>
std::optional<V> convert(const FieldValue& value, std::string& reason) {
  using T = FieldValue::Type;
  const bool text = value.type() == T::Text;
  if constexpr (std::is_same_v<V, bool>) {
    if (value.type() == T::Bool) return value.asBool();
    if (text && value.asText() == "true") return true;
    if (text && value.asText() == "false") return false;
    reason = quoted(value) + " is not true or false";
  } else if constexpr (std::is_enum_v<V>) {
    if (value.type() == T::Enum) return static_cast<V>(value.enumOrdinal());
    if (text) {
      if (const auto ordinal = findEnumValue(valuesOf<V>(), value.asText())) {
        return static_cast<V>(*ordinal);
      }
    }
    reason = quoted(value) + " is not one of " + enumValueList(valuesOf<V>());
  } else if constexpr (std::is_floating_point_v<V>) {
    if (value.type() == T::Number) return value.asNumber();
    if (value.type() == T::Integer) return static_cast<V>(value.asInteger());
    if (value.type() == T::Unsigned) return static_cast<V>(value.asUnsigned());
    if (text) {
      if (const auto number = parseNumber(value.asText())) return *number;
    }
    reason = quoted(value) + " is not a number";
  } else {
    static_assert(std::is_integral_v<V>, "add a conversion for this field type");
    if (value.type() == T::Integer && std::in_range<V>(value.asInteger())) {
      return static_cast<V>(value.asInteger());
    }
    if (value.type() == T::Unsigned && std::in_range<V>(value.asUnsigned())) {
      return static_cast<V>(value.asUnsigned());
    }
    if (text) {
      if (const auto integer = parseIntegral<V>(value.asText())) return *integer;
    }
    reason = quoted(value) + " is not an integer in [" +
             std::to_string(std::numeric_limits<V>::min()) + ", " +
             std::to_string(std::numeric_limits<V>::max()) + "]";
  }
  return std::nullopt;
}

// ---- entries -----------------------------------------------------------------------------------

// The type a generated getter returns (declared only, for decltype).
template <class Struct, class V>
V returnTypeOf(V (Struct::*)() const);
template <auto Get>
using ValueOf = std::remove_cvref_t<decltype(returnTypeOf(Get))>;

template <class V>
constexpr std::span<const EnumValue> enumValuesFor() {
  if constexpr (std::is_enum_v<V>) {
    return valuesOf<V>();
  } else {
    return {};
  }
}

// Where an entry's schema struct is: the event itself (header fields) ...
struct InHeader {
  static constexpr EventType kPayload = EventType::UNKNOWN;
  static schema::Event::Reader of(schema::Event::Reader event) { return event; }
  static schema::Event::Builder of(schema::Event::Builder event) { return event; }
};

// ... or payload member T, through its generated union getters.
template <EventType T, auto GetReader, auto GetBuilder>
struct InPayload {
  static constexpr EventType kPayload = T;
  static auto of(schema::Event::Reader event) { return (event.getPayload().*GetReader)(); }
  static auto of(schema::Event::Builder event) { return (event.getPayload().*GetBuilder)(); }
};

template <class In, auto Get>
FieldValue readField(schema::Event::Reader event, std::uint8_t /*hops*/) {
  return toValue((In::of(event).*Get)());
}

// `Write` is the generated setter, or for text the generated init (which takes the size, so any
// string_view can be copied in; the setter wants NUL-terminated text).
template <class In, class V, auto Write>
bool writeField(schema::Event::Builder event, const FieldValue& value, std::string& reason) {
  auto target = In::of(event);
  if constexpr (std::is_same_v<V, capnp::Text::Reader>) {
    if (value.type() != FieldValue::Type::Text) {
      reason = quoted(value) + " is not text";
      return false;
    }
    const auto text = value.asText();
    auto out = (target.*Write)(static_cast<unsigned>(text.size()));
    std::copy(text.begin(), text.end(), out.begin());
  } else {
    const auto converted = convert<V>(value, reason);
    if (!converted) return false;
    (target.*Write)(*converted);
  }
  return true;
}

// The entry of the field that `Get` reads in `In`, written by `Write` (nullptr: stamped, and then
// restored by `Restore`).
template <class In, auto Get, auto Write = nullptr, auto Restore = nullptr>
constexpr SchemaField field(std::string_view name) {
  using V = ValueOf<Get>;
  SchemaField entry{name, kindOf<V>(), In::kPayload, enumValuesFor<V>(), &readField<In, Get>,
                    nullptr};
  // A type test, not `Write != nullptr`: under -fsanitize=undefined GCC 12 does not treat a
  // member-pointer comparison as a constant expression.
  if constexpr (!std::is_same_v<decltype(Write), std::nullptr_t>) {
    entry.write = &writeField<In, V, Write>;
    entry.restore = entry.write;
  } else if constexpr (!std::is_same_v<decltype(Restore), std::nullptr_t>) {
    entry.restore = &writeField<In, V, Restore>;
  }
  return entry;
}

FieldValue readHops(schema::Event::Reader /*event*/, std::uint8_t hops) {
  return FieldValue::integer(hops);
}

namespace s = schema;
using E = s::Event::Reader;
using EB = s::Event::Builder;
using P = Payload::Reader;
using PB = Payload::Builder;

using InBar = InPayload<EventType::BAR, &P::getBar, &PB::getBar>;
using InTick = InPayload<EventType::TICK, &P::getTick, &PB::getTick>;
using InIndicator = InPayload<EventType::INDICATOR, &P::getIndicator, &PB::getIndicator>;
using InSignal = InPayload<EventType::SIGNAL, &P::getSignal, &PB::getSignal>;
using InOrder = InPayload<EventType::ORDER, &P::getOrder, &PB::getOrder>;
using InFill = InPayload<EventType::FILL, &P::getFill, &PB::getFill>;
using InRegime = InPayload<EventType::REGIME, &P::getRegime, &PB::getRegime>;
using InPortfolio = InPayload<EventType::PORTFOLIO, &P::getPortfolio, &PB::getPortfolio>;
using InEndOfData = InPayload<EventType::END_OF_DATA, &P::getEndOfData, &PB::getEndOfData>;
using InUser = InPayload<EventType::USER, &P::getUser, &PB::getUser>;

// ---- the table ---------------------------------------------------------------------------------
// Keep docs/events.md and docs/conditions.md in step (tests check both).

// Header fields. Bus::publish stamps those without a writer.
constexpr std::array kHeaderFields = {
    field<InHeader, &E::getType, nullptr, &EB::setType>("type"),
    field<InHeader, &E::getSource, nullptr, &EB::initSource>("source"),
    field<InHeader, &E::getSymbol, &EB::initSymbol>("symbol"),
    field<InHeader, &E::getSeq, nullptr, &EB::setSeq>("seq"),
    field<InHeader, &E::getSourceInstance, nullptr, &EB::setSourceInstance>("source_instance"),
    field<InHeader, &E::getId, nullptr, &EB::setId>("id"),
    field<InHeader, &E::getEventTime, &EB::setEventTime>("event_time"),
    field<InHeader, &E::getPublishTime, nullptr, &EB::setPublishTime>("publish_time"),
    field<InHeader, &E::getCorrelationId, &EB::setCorrelationId>("correlation_id"),
    field<InHeader, &E::getCausationId, nullptr, &EB::setCausationId>("causation_id"),
    SchemaField{"hops", FieldKind::Integer, EventType::UNKNOWN, {}, &readHops, nullptr, nullptr},
};

// Payload fields, by payload in type order, each in schema order.
constexpr std::array kPayloadFields = {
    field<InBar, &s::Bar::Reader::getOpen, &s::Bar::Builder::setOpen>("open"),
    field<InBar, &s::Bar::Reader::getHigh, &s::Bar::Builder::setHigh>("high"),
    field<InBar, &s::Bar::Reader::getLow, &s::Bar::Builder::setLow>("low"),
    field<InBar, &s::Bar::Reader::getClose, &s::Bar::Builder::setClose>("close"),
    field<InBar, &s::Bar::Reader::getVolume, &s::Bar::Builder::setVolume>("volume"),
    field<InBar, &s::Bar::Reader::getPeriodSeconds, &s::Bar::Builder::setPeriodSeconds>(
        "period_seconds"),

    field<InTick, &s::Tick::Reader::getBid, &s::Tick::Builder::setBid>("bid"),
    field<InTick, &s::Tick::Reader::getAsk, &s::Tick::Builder::setAsk>("ask"),
    field<InTick, &s::Tick::Reader::getPrice, &s::Tick::Builder::setPrice>("price"),
    field<InTick, &s::Tick::Reader::getSize, &s::Tick::Builder::setSize>("size"),

    field<InIndicator, &s::Indicator::Reader::getName, &s::Indicator::Builder::initName>("name"),
    field<InIndicator, &s::Indicator::Reader::getValue, &s::Indicator::Builder::setValue>("value"),

    field<InSignal, &s::Signal::Reader::getStrategy, &s::Signal::Builder::initStrategy>("strategy"),
    field<InSignal, &s::Signal::Reader::getDirection, &s::Signal::Builder::setDirection>(
        "direction"),
    field<InSignal, &s::Signal::Reader::getStrength, &s::Signal::Builder::setStrength>("strength"),
    field<InSignal, &s::Signal::Reader::getPrice, &s::Signal::Builder::setPrice>("price"),

    field<InOrder, &s::Order::Reader::getOrderId, &s::Order::Builder::initOrderId>("order_id"),
    field<InOrder, &s::Order::Reader::getStrategy, &s::Order::Builder::initStrategy>("strategy"),
    field<InOrder, &s::Order::Reader::getPortfolio, &s::Order::Builder::initPortfolio>("portfolio"),
    field<InOrder, &s::Order::Reader::getSide, &s::Order::Builder::setSide>("side"),
    field<InOrder, &s::Order::Reader::getOrderKind, &s::Order::Builder::setOrderKind>("order_kind"),
    field<InOrder, &s::Order::Reader::getQuantity, &s::Order::Builder::setQuantity>("quantity"),
    field<InOrder, &s::Order::Reader::getLimitPrice, &s::Order::Builder::setLimitPrice>(
        "limit_price"),

    field<InFill, &s::Fill::Reader::getOrderId, &s::Fill::Builder::initOrderId>("order_id"),
    field<InFill, &s::Fill::Reader::getStrategy, &s::Fill::Builder::initStrategy>("strategy"),
    field<InFill, &s::Fill::Reader::getPortfolio, &s::Fill::Builder::initPortfolio>("portfolio"),
    field<InFill, &s::Fill::Reader::getSide, &s::Fill::Builder::setSide>("side"),
    field<InFill, &s::Fill::Reader::getQuantity, &s::Fill::Builder::setQuantity>("quantity"),
    field<InFill, &s::Fill::Reader::getPrice, &s::Fill::Builder::setPrice>("price"),
    field<InFill, &s::Fill::Reader::getCommission, &s::Fill::Builder::setCommission>("commission"),
    field<InFill, &s::Fill::Reader::getSlippage, &s::Fill::Builder::setSlippage>("slippage"),

    field<InRegime, &s::Regime::Reader::getClassifier, &s::Regime::Builder::initClassifier>(
        "classifier"),
    field<InRegime, &s::Regime::Reader::getRegime, &s::Regime::Builder::initRegime>("regime"),
    field<InRegime, &s::Regime::Reader::getConfidence, &s::Regime::Builder::setConfidence>(
        "confidence"),

    field<InPortfolio, &s::Portfolio::Reader::getPortfolio, &s::Portfolio::Builder::initPortfolio>(
        "portfolio"),
    field<InPortfolio, &s::Portfolio::Reader::getCash, &s::Portfolio::Builder::setCash>("cash"),
    field<InPortfolio, &s::Portfolio::Reader::getEquity, &s::Portfolio::Builder::setEquity>(
        "equity"),
    field<InPortfolio, &s::Portfolio::Reader::getPositionsValue,
          &s::Portfolio::Builder::setPositionsValue>("positions_value"),
    field<InPortfolio, &s::Portfolio::Reader::getRealizedPnl,
          &s::Portfolio::Builder::setRealizedPnl>("realized_pnl"),
    field<InPortfolio, &s::Portfolio::Reader::getUnrealizedPnl,
          &s::Portfolio::Builder::setUnrealizedPnl>("unrealized_pnl"),

    field<InEndOfData, &s::EndOfData::Reader::getReason, &s::EndOfData::Builder::initReason>(
        "reason"),

    // USER: the name; its key/value list is not a field (evr/event_json.hpp and evr/events.hpp
    // handle it beside the table).
    field<InUser, &s::UserEvent::Reader::getName, &s::UserEvent::Builder::initName>("name"),
};

// ---- views of the table, computed at compile time ----------------------------------------------

struct Range {
  std::size_t begin = 0;
  std::size_t end = 0;
};

// Where each payload's entries are in kPayloadFields (grouped by payload, in type order).
constexpr std::array<Range, kEventTypeCount> payloadRanges() {
  std::array<Range, kEventTypeCount> out{};
  for (std::size_t i = 0; i < kPayloadFields.size(); ++i) {
    auto& range = out[static_cast<std::size_t>(kPayloadFields[i].payload)];
    if (range.end == 0) range.begin = i;
    range.end = i + 1;
  }
  return out;
}
constexpr auto kPayloadRanges = payloadRanges();

constexpr bool groupedByPayloadInTypeOrder() {
  for (std::size_t i = 1; i < kPayloadFields.size(); ++i) {
    if (kPayloadFields[i].payload < kPayloadFields[i - 1].payload) return false;
  }
  return true;
}
static_assert(groupedByPayloadInTypeOrder(), "keep each payload's entries together, in type order");

constexpr bool sameName(const SchemaField& a, const SchemaField& b) { return a.name == b.name; }

// A name is unique among the header fields and the fields of any one payload, and no payload
// field reuses a header name (JSON puts them side by side). A name several payloads share has
// one kind and one set of enum values.
constexpr bool namesAreConsistent() {
  for (std::size_t i = 0; i < kHeaderFields.size(); ++i) {
    for (std::size_t j = i + 1; j < kHeaderFields.size(); ++j) {
      if (sameName(kHeaderFields[i], kHeaderFields[j])) return false;
    }
    for (const auto& entry : kPayloadFields) {
      if (sameName(kHeaderFields[i], entry)) return false;
    }
  }
  for (std::size_t i = 0; i < kPayloadFields.size(); ++i) {
    for (std::size_t j = i + 1; j < kPayloadFields.size(); ++j) {
      const auto& a = kPayloadFields[i];
      const auto& b = kPayloadFields[j];
      if (!sameName(a, b)) continue;
      if (a.payload == b.payload || a.kind != b.kind) return false;
      if (a.enum_values.data() != b.enum_values.data()) return false;
    }
  }
  return true;
}
static_assert(namesAreConsistent(), "a field name is repeated, or shared with another kind");

constexpr std::size_t nameCount() {
  std::size_t count = kHeaderFields.size();
  for (std::size_t i = 0; i < kPayloadFields.size(); ++i) {
    bool seen = false;
    for (std::size_t j = 0; j < i; ++j) {
      seen = seen || sameName(kPayloadFields[j], kPayloadFields[i]);
    }
    if (!seen) ++count;
  }
  return count;
}

// The entries merged by name, in first-appearance order.
constexpr std::array<FieldInfo, nameCount()> fieldsByName() {
  std::array<FieldInfo, nameCount()> out{};
  std::size_t count = 0;
  for (const SchemaField& entry : kHeaderFields) {
    out[count] = FieldInfo{entry.name, entry.kind, true, EventTypeSet::all(), entry.enum_values};
    out[count++].entries[0] = &entry;
  }
  for (const SchemaField& entry : kPayloadFields) {
    std::size_t i = 0;
    while (i < count && out[i].name != entry.name) ++i;
    if (i == count) {
      out[count++] = FieldInfo{entry.name, entry.kind, false, EventTypeSet{}, entry.enum_values};
    }
    out[i].types.add(entry.payload);
    out[i].entries[static_cast<std::size_t>(entry.payload)] = &entry;
  }
  return out;
}
constexpr auto kFields = fieldsByName();

char upper(char c) { return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c; }

bool equalsIgnoringCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (upper(a[i]) != upper(b[i])) return false;
  }
  return true;
}

// ---- exact numeric comparison ------------------------------------------------------------------

constexpr double kTwo63 = 9223372036854775808.0;   // 2^63
constexpr double kTwo64 = 18446744073709551616.0;  // 2^64

template <class T>
std::partial_ordering order(T a, T b) {
  return a < b ? std::partial_ordering::less
               : (b < a ? std::partial_ordering::greater : std::partial_ordering::equivalent);
}

std::partial_ordering compareSigned(std::int64_t a, double b) {
  if (std::isnan(b)) return std::partial_ordering::unordered;
  if (b >= kTwo63) return std::partial_ordering::less;
  if (b < -kTwo63) return std::partial_ordering::greater;
  const double whole = std::trunc(b);  // in [-2^63, 2^63): exact as int64
  const auto by_whole = order(a, static_cast<std::int64_t>(whole));
  if (by_whole != std::partial_ordering::equivalent) return by_whole;
  return order(0.0, b - whole);
}

std::partial_ordering compareUnsigned(std::uint64_t a, double b) {
  if (std::isnan(b)) return std::partial_ordering::unordered;
  if (b >= kTwo64) return std::partial_ordering::less;
  if (b < 0) return std::partial_ordering::greater;
  const double whole = std::trunc(b);
  const auto by_whole = order(a, static_cast<std::uint64_t>(whole));
  if (by_whole != std::partial_ordering::equivalent) return by_whole;
  return order(0.0, b - whole);
}

std::partial_ordering compareMixed(std::int64_t a, std::uint64_t b) {
  if (a < 0) return std::partial_ordering::less;
  return order(static_cast<std::uint64_t>(a), b);
}

std::partial_ordering reverse(std::partial_ordering o) {
  if (o == std::partial_ordering::less) return std::partial_ordering::greater;
  if (o == std::partial_ordering::greater) return std::partial_ordering::less;
  return o;
}

}  // namespace

std::string_view kindName(FieldKind kind) {
  switch (kind) {
    case FieldKind::Number: return "number";
    case FieldKind::Integer: return "integer";
    case FieldKind::Text: return "text";
    case FieldKind::Bool: return "bool";
    case FieldKind::Enum: return "enum";
  }
  return "?";
}

std::partial_ordering compareNumeric(const FieldValue& a, const FieldValue& b) {
  using T = FieldValue::Type;
  switch (a.type()) {
    case T::Number:
      switch (b.type()) {
        case T::Number: return a.asNumber() <=> b.asNumber();
        case T::Integer: return reverse(compareSigned(b.asInteger(), a.asNumber()));
        case T::Unsigned: return reverse(compareUnsigned(b.asUnsigned(), a.asNumber()));
        default: return std::partial_ordering::unordered;
      }
    case T::Integer:
      switch (b.type()) {
        case T::Number: return compareSigned(a.asInteger(), b.asNumber());
        case T::Integer: return order(a.asInteger(), b.asInteger());
        case T::Unsigned: return compareMixed(a.asInteger(), b.asUnsigned());
        default: return std::partial_ordering::unordered;
      }
    case T::Unsigned:
      switch (b.type()) {
        case T::Number: return compareUnsigned(a.asUnsigned(), b.asNumber());
        case T::Integer: return reverse(compareMixed(b.asInteger(), a.asUnsigned()));
        case T::Unsigned: return order(a.asUnsigned(), b.asUnsigned());
        default: return std::partial_ordering::unordered;
      }
    default: return std::partial_ordering::unordered;
  }
}

std::span<const FieldInfo> allFields() { return kFields; }

const FieldInfo* findField(std::string_view name) {
  for (const auto& field : kFields) {
    if (field.name == name) return &field;
  }
  return nullptr;
}

std::string fieldNameList() {
  std::string out;
  for (const auto& field : kFields) {
    if (!out.empty()) out += ", ";
    out += field.name;
  }
  return out;
}

std::span<const SchemaField> headerFields() { return kHeaderFields; }

std::span<const SchemaField> payloadFields(EventType type) {
  const auto index = static_cast<std::size_t>(type);
  if (index >= kPayloadRanges.size()) return {};
  const auto [begin, end] = kPayloadRanges[index];
  return std::span<const SchemaField>(kPayloadFields).subspan(begin, end - begin);
}

EventType payloadType(schema::Event::Reader event) {
  const auto which = static_cast<unsigned>(event.getPayload().which());
  return which < kEventTypeCount ? static_cast<EventType>(which) : EventType::UNKNOWN;
}

template <>
std::span<const EnumValue> enumValuesOf<schema::EventType>() {
  return kTypeValues;
}
template <>
std::span<const EnumValue> enumValuesOf<schema::Direction>() {
  return kDirectionValues;
}
template <>
std::span<const EnumValue> enumValuesOf<schema::Side>() {
  return kSideValues;
}
template <>
std::span<const EnumValue> enumValuesOf<schema::OrderKind>() {
  return kOrderKindValues;
}

std::optional<std::uint16_t> findEnumValue(std::span<const EnumValue> values,
                                           std::string_view name) {
  for (const auto& value : values) {
    if (equalsIgnoringCase(value.name, name)) return value.ordinal;
  }
  return std::nullopt;
}

std::string_view enumValueName(std::span<const EnumValue> values, std::uint16_t ordinal) {
  return nameIn(values, ordinal);
}

std::string enumValueList(std::span<const EnumValue> values) {
  std::string out;
  for (std::size_t i = 0; i < values.size(); ++i) {
    bool alias = false;
    for (std::size_t j = 0; j < i; ++j) alias = alias || values[j].ordinal == values[i].ordinal;
    if (alias) continue;
    if (!out.empty()) out += ", ";
    out += values[i].name;
  }
  return out;
}

std::optional<double> parseNumber(std::string_view text) {
  text = stripPlus(text);
  double value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() ||
      !std::isfinite(value)) {
    return std::nullopt;
  }
  return value;
}

std::optional<std::int64_t> parseInteger(std::string_view text) {
  return parseIntegral<std::int64_t>(text);
}

// ---- FlatEvent: fields read from the words ------------------------------------------------------
//
// Where each entry's field sits comes from the compiled schema (capnp::Schema), found by the
// entry's name in camelCase, never from numbers written here; an entry whose schema field is not
// found, or does not have the kind and the zero default read here, has no slot and is read
// through a reader. tests/unit/event_fields_test.cpp holds every entry but hops to having one.

namespace {

enum class Decode : std::uint8_t { None, Hops, Text, Bool, Enum, Signed, Unsigned, Unsigned64, Float32, Float64 };

struct FlatSlot {
  Decode decode = Decode::None;
  std::uint16_t payload_pointer = 0;  // a payload field: its payload's pointer in Event
  std::uint32_t at = 0;               // Text: the pointer's index; data: the offset in bits
  std::uint8_t bits = 0;              // data: its width
};

struct FlatLayout {
  std::uint32_t discriminant_bit = 0;  // Event.payload's union tag, in Event's data section
  std::array<FlatSlot, kHeaderFields.size()> header{};
  std::array<FlatSlot, kPayloadFields.size()> payload{};
};

std::string camelCase(std::string_view snake) {
  std::string out;
  bool up = false;
  for (const char c : snake) {
    if (c == '_') {
      up = true;
      continue;
    }
    out += up ? upper(c) : c;
    up = false;
  }
  return out;
}

// The slot of `entry`'s field in `schema` (Event for a header field, its payload's struct else).
FlatSlot slotIn(const SchemaField& entry, capnp::StructSchema schema) {
  FlatSlot slot;
  if (entry.read == &readHops) {
    slot.decode = Decode::Hops;
    return slot;
  }
  KJ_IF_MAYBE(found, schema.findFieldByName(camelCase(entry.name))) {
    const auto proto = found->getProto();
    if (!proto.isSlot() || proto.getSlot().getHadExplicitDefault()) return slot;
    const auto offset = proto.getSlot().getOffset();
    using T = capnp::schema::Type;
    const auto data = [&](Decode decode, std::uint8_t bits) {
      slot.decode = decode;
      slot.bits = bits;
      slot.at = offset * bits;
    };
    switch (found->getType().which()) {
      case T::TEXT:
        slot.decode = Decode::Text;
        slot.at = offset;
        break;
      case T::BOOL: data(Decode::Bool, 1); break;
      case T::ENUM: data(Decode::Enum, 16); break;
      case T::INT8: data(Decode::Signed, 8); break;
      case T::INT16: data(Decode::Signed, 16); break;
      case T::INT32: data(Decode::Signed, 32); break;
      case T::INT64: data(Decode::Signed, 64); break;
      case T::UINT8: data(Decode::Unsigned, 8); break;
      case T::UINT16: data(Decode::Unsigned, 16); break;
      case T::UINT32: data(Decode::Unsigned, 32); break;
      case T::UINT64: data(Decode::Unsigned64, 64); break;
      case T::FLOAT32: data(Decode::Float32, 32); break;
      case T::FLOAT64: data(Decode::Float64, 64); break;
      default: break;
    }
    // The kind the table gives the entry must be the one read here.
    const FieldKind kind = slot.decode == Decode::Text    ? FieldKind::Text
                           : slot.decode == Decode::Bool  ? FieldKind::Bool
                           : slot.decode == Decode::Enum  ? FieldKind::Enum
                           : slot.decode == Decode::Float32 || slot.decode == Decode::Float64
                               ? FieldKind::Number
                               : FieldKind::Integer;
    if (slot.decode != Decode::None && kind != entry.kind) slot = FlatSlot{};
  }
  return slot;
}

FlatLayout makeFlatLayout() {
  FlatLayout layout;
  const auto event = capnp::Schema::from<schema::Event>();
  const auto payload = capnp::Schema::from<schema::Event::Payload>();
  layout.discriminant_bit = payload.getProto().getStruct().getDiscriminantOffset() * 16;
  for (std::size_t i = 0; i < kHeaderFields.size(); ++i) layout.header[i] = slotIn(kHeaderFields[i], event);
  for (std::size_t i = 0; i < kPayloadFields.size(); ++i) {
    const SchemaField& entry = kPayloadFields[i];
    for (const auto member : payload.getUnionFields()) {
      const auto proto = member.getProto();
      if (proto.getDiscriminantValue() != static_cast<std::uint16_t>(entry.payload) || !proto.isSlot() ||
          !member.getType().isStruct()) {
        continue;
      }
      layout.payload[i] = slotIn(entry, member.getType().asStruct());
      layout.payload[i].payload_pointer = static_cast<std::uint16_t>(proto.getSlot().getOffset());
    }
  }
  return layout;
}

const FlatSlot& flatSlot(const FlatLayout& layout, const SchemaField* entry) {
  if (entry >= kHeaderFields.data() && entry < kHeaderFields.data() + kHeaderFields.size()) {
    return layout.header[static_cast<std::size_t>(entry - kHeaderFields.data())];
  }
  return layout.payload[static_cast<std::size_t>(entry - kPayloadFields.data())];
}

const FlatLayout& flatLayout() {
  static const FlatLayout layout = makeFlatLayout();
  return layout;
}

std::uint64_t wordAt(const capnp::word* segment, std::int64_t at) {
  return le::load<std::uint64_t>(reinterpret_cast<const std::byte*>(segment + at));
}

// The struct the pointer at word `at` leads to: a null pointer's is the default (no sections);
// nullopt for a pointer a reader would refuse or follow further (far), or one out of the segment.
std::optional<FlatEvent::Struct> structAt(const capnp::word* segment, std::int64_t size, std::int64_t at) {
  const std::uint64_t pointer = wordAt(segment, at);
  if (pointer == 0) return FlatEvent::Struct{};
  if ((pointer & 3) != 0) return std::nullopt;
  const std::int64_t start = at + 1 + pointerOffset(pointer);
  const std::uint64_t data = (pointer >> 32) & 0xffffu, pointers = pointer >> 48;
  if (start < 0 || start + static_cast<std::int64_t>(data + pointers) > size) return std::nullopt;
  return FlatEvent::Struct{start, data, pointers};
}

// `bits` bits at bit `at` of the struct's data section, zero past its end (a reader's default).
std::uint64_t dataBits(const capnp::word* segment, const FlatEvent::Struct& in, std::uint32_t at, std::uint8_t bits) {
  if (at + bits > in.data_words * 64) return 0;
  const std::uint64_t word = wordAt(segment, in.data + at / 64);
  return bits == 64 ? word : (word >> (at % 64)) & ((std::uint64_t{1} << bits) - 1);
}

}  // namespace

FlatEvent::FlatEvent(kj::ArrayPtr<const capnp::word> words) {
  if (words.size() < 2) return;
  const auto* table = reinterpret_cast<const std::byte*>(words.begin());
  // One segment (the table's first half-word is the count - 1), held whole by the words.
  if (le::load<std::uint32_t>(table) != 0) return;
  const std::uint64_t size = le::load<std::uint32_t>(table + 4);
  if (size == 0 || size > words.size() - 1) return;
  segment_ = words.begin() + 1;
  size_ = static_cast<std::int64_t>(size);
  const auto root = structAt(segment_, size_, 0);
  if (!root) return;
  root_ = *root;
  readable_ = true;
}

std::optional<FieldValue> FlatEvent::read(const FieldInfo& field, std::uint8_t hops) const {
  if (!readable_) return std::nullopt;
  const FlatLayout& layout = flatLayout();
  Struct in = root_;
  const SchemaField* entry = field.entries[0];
  if (!field.header) {
    // The payload the union tag names (an unknown one: none), as payloadType() reads it.
    const std::uint64_t which = dataBits(segment_, root_, layout.discriminant_bit, 16);
    entry = field.entries[which < kEventTypeCount ? which : 0];
    if (entry == nullptr) return FieldValue::absent();
  }
  const FlatSlot& slot = flatSlot(layout, entry);
  if (slot.decode == Decode::None) return std::nullopt;
  if (slot.decode == Decode::Hops) return FieldValue::integer(hops);
  if (!field.header) {
    // The payload's struct: a pointer past the root's section is null.
    if (slot.payload_pointer < root_.pointers) {
      const auto payload = structAt(segment_, size_, root_.data + static_cast<std::int64_t>(root_.data_words) +
                                                         slot.payload_pointer);
      if (!payload) return std::nullopt;
      in = *payload;
    } else {
      in = Struct{};
    }
  }
  if (slot.decode == Decode::Text) {
    if (slot.at >= in.pointers) return FieldValue::text("");
    const std::int64_t at = in.data + static_cast<std::int64_t>(in.data_words) + slot.at;
    const std::uint64_t pointer = wordAt(segment_, at);
    if (pointer == 0) return FieldValue::text("");
    // A list (kind 1) of bytes (element size 2), its last byte a NUL, inside the segment.
    const std::uint64_t count = pointer >> 35;
    if ((pointer & 3) != 1 || ((pointer >> 32) & 7) != 2 || count == 0) return std::nullopt;
    const std::int64_t start = at + 1 + pointerOffset(pointer);
    if (start < 0 || start + static_cast<std::int64_t>((count + 7) / 8) > size_) return std::nullopt;
    const auto* bytes = reinterpret_cast<const char*>(segment_ + start);
    if (bytes[count - 1] != '\0') return std::nullopt;
    return FieldValue::text(std::string_view(bytes, count - 1));
  }
  const std::uint64_t raw = dataBits(segment_, in, slot.at, slot.bits);
  switch (slot.decode) {
    case Decode::Bool: return FieldValue::boolean(raw != 0);
    case Decode::Enum: {
      const auto ordinal = static_cast<std::uint16_t>(raw);
      return FieldValue::enumerant(ordinal, nameIn(entry->enum_values, ordinal));
    }
    case Decode::Signed: {
      const unsigned shift = 64 - slot.bits;  // sign-extends the field's top bit
      return FieldValue::integer(static_cast<std::int64_t>(raw << shift) >> shift);
    }
    case Decode::Unsigned: return FieldValue::integer(static_cast<std::int64_t>(raw));
    case Decode::Unsigned64: return FieldValue::unsignedInteger(raw);
    case Decode::Float32: return FieldValue::number(std::bit_cast<float>(static_cast<std::uint32_t>(raw)));
    case Decode::Float64: return FieldValue::number(std::bit_cast<double>(raw));
    default: return std::nullopt;
  }
}

}  // namespace evr::fields
