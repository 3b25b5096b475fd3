// The field table of evr/event_fields.hpp. Payload fields are declared by their schema getters,
// so a field's kind and the payload types that carry it come from the generated code.

#include "evr/event_fields.hpp"

#include <array>
#include <cmath>
#include <limits>
#include <type_traits>
#include <utility>

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
constexpr std::span<const EnumValue> enumValuesOf() {
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
    return FieldValue::enumerant(ordinal, nameIn(enumValuesOf<V>(), ordinal));
  } else if constexpr (std::is_floating_point_v<V>) {
    return FieldValue::number(value);
  } else if constexpr (std::is_same_v<V, std::uint64_t>) {
    return FieldValue::unsignedInteger(value);
  } else {
    return FieldValue::integer(static_cast<std::int64_t>(value));
  }
}

// ---- payload fields ----------------------------------------------------------------------------

// One payload that carries a field: the union member W, read with PayloadGet, then FieldGet.
template <Which W, auto PayloadGet, auto FieldGet>
struct From {
  static constexpr EventType kType = static_cast<EventType>(W);
  using Value =
      std::remove_cvref_t<decltype(((std::declval<Payload::Reader>().*PayloadGet)().*FieldGet)())>;
  static bool read(Payload::Reader payload, FieldValue& out) {
    if (payload.which() != W) return false;
    out = toValue(((payload.*PayloadGet)().*FieldGet)());
    return true;
  }
};

template <class... Froms>
FieldValue readPayload(schema::Event::Reader event, std::uint8_t /*hops*/) {
  const auto payload = event.getPayload();
  FieldValue out;
  (Froms::read(payload, out) || ...);
  return out;
}

template <class First, class... Rest>
constexpr FieldInfo payloadField(std::string_view name) {
  using V = typename First::Value;
  static_assert((std::is_same_v<V, typename Rest::Value> && ...),
                "a shared payload field has one type in every payload");
  EventTypeSet types = EventTypeSet::of(First::kType);
  (types.add(Rest::kType), ...);
  std::span<const EnumValue> enum_values;
  if constexpr (std::is_enum_v<V>) enum_values = enumValuesOf<V>();
  return FieldInfo{name, kindOf<V>(), false, types, enum_values, &readPayload<First, Rest...>};
}

// ---- header fields -----------------------------------------------------------------------------

template <auto Get>
FieldValue readHeader(schema::Event::Reader event, std::uint8_t /*hops*/) {
  return toValue((event.*Get)());
}

template <auto Get>
constexpr FieldInfo headerField(std::string_view name) {
  using V = std::remove_cvref_t<decltype((std::declval<schema::Event::Reader>().*Get)())>;
  std::span<const EnumValue> enum_values;
  if constexpr (std::is_enum_v<V>) enum_values = enumValuesOf<V>();
  return FieldInfo{name, kindOf<V>(), true, EventTypeSet::all(), enum_values, &readHeader<Get>};
}

FieldValue readHops(schema::Event::Reader /*event*/, std::uint8_t hops) {
  return FieldValue::integer(hops);
}

namespace s = schema;
using E = s::Event::Reader;
using P = Payload::Reader;

template <auto FieldGet>
using FromBar = From<Which::BAR, &P::getBar, FieldGet>;
template <auto FieldGet>
using FromTick = From<Which::TICK, &P::getTick, FieldGet>;
template <auto FieldGet>
using FromIndicator = From<Which::INDICATOR, &P::getIndicator, FieldGet>;
template <auto FieldGet>
using FromSignal = From<Which::SIGNAL, &P::getSignal, FieldGet>;
template <auto FieldGet>
using FromOrder = From<Which::ORDER, &P::getOrder, FieldGet>;
template <auto FieldGet>
using FromFill = From<Which::FILL, &P::getFill, FieldGet>;
template <auto FieldGet>
using FromRegime = From<Which::REGIME, &P::getRegime, FieldGet>;
template <auto FieldGet>
using FromPortfolio = From<Which::PORTFOLIO, &P::getPortfolio, FieldGet>;
template <auto FieldGet>
using FromEndOfData = From<Which::END_OF_DATA, &P::getEndOfData, FieldGet>;
template <auto FieldGet>
using FromUser = From<Which::USER, &P::getUser, FieldGet>;

// The table. Order: header, then payload fields in docs/events.md's order (a shared name where it
// first appears). Keep docs/conditions.md's field list in step.
constexpr std::array kFields = {
    headerField<&E::getType>("type"),
    headerField<&E::getSource>("source"),
    headerField<&E::getSymbol>("symbol"),
    headerField<&E::getSeq>("seq"),
    headerField<&E::getId>("id"),
    headerField<&E::getEventTime>("event_time"),
    headerField<&E::getPublishTime>("publish_time"),
    headerField<&E::getCorrelationId>("correlation_id"),
    headerField<&E::getCausationId>("causation_id"),
    FieldInfo{"hops", FieldKind::Integer, true, EventTypeSet::all(), {}, &readHops},
    // BAR
    payloadField<FromBar<&s::Bar::Reader::getOpen>>("open"),
    payloadField<FromBar<&s::Bar::Reader::getHigh>>("high"),
    payloadField<FromBar<&s::Bar::Reader::getLow>>("low"),
    payloadField<FromBar<&s::Bar::Reader::getClose>>("close"),
    payloadField<FromBar<&s::Bar::Reader::getVolume>>("volume"),
    payloadField<FromBar<&s::Bar::Reader::getPeriodSeconds>>("period_seconds"),
    // TICK
    payloadField<FromTick<&s::Tick::Reader::getBid>>("bid"),
    payloadField<FromTick<&s::Tick::Reader::getAsk>>("ask"),
    payloadField<FromTick<&s::Tick::Reader::getPrice>, FromSignal<&s::Signal::Reader::getPrice>,
                 FromFill<&s::Fill::Reader::getPrice>>("price"),
    payloadField<FromTick<&s::Tick::Reader::getSize>>("size"),
    // INDICATOR (and USER's name)
    payloadField<FromIndicator<&s::Indicator::Reader::getName>,
                 FromUser<&s::UserEvent::Reader::getName>>("name"),
    payloadField<FromIndicator<&s::Indicator::Reader::getValue>>("value"),
    // SIGNAL
    payloadField<FromSignal<&s::Signal::Reader::getStrategy>,
                 FromOrder<&s::Order::Reader::getStrategy>,
                 FromFill<&s::Fill::Reader::getStrategy>>("strategy"),
    payloadField<FromSignal<&s::Signal::Reader::getDirection>>("direction"),
    payloadField<FromSignal<&s::Signal::Reader::getStrength>>("strength"),
    // ORDER
    payloadField<FromOrder<&s::Order::Reader::getOrderId>, FromFill<&s::Fill::Reader::getOrderId>>(
        "order_id"),
    payloadField<FromOrder<&s::Order::Reader::getPortfolio>,
                 FromFill<&s::Fill::Reader::getPortfolio>,
                 FromPortfolio<&s::Portfolio::Reader::getPortfolio>>("portfolio"),
    payloadField<FromOrder<&s::Order::Reader::getSide>, FromFill<&s::Fill::Reader::getSide>>(
        "side"),
    payloadField<FromOrder<&s::Order::Reader::getOrderKind>>("order_kind"),
    payloadField<FromOrder<&s::Order::Reader::getQuantity>,
                 FromFill<&s::Fill::Reader::getQuantity>>("quantity"),
    payloadField<FromOrder<&s::Order::Reader::getLimitPrice>>("limit_price"),
    // FILL
    payloadField<FromFill<&s::Fill::Reader::getCommission>>("commission"),
    payloadField<FromFill<&s::Fill::Reader::getSlippage>>("slippage"),
    // REGIME
    payloadField<FromRegime<&s::Regime::Reader::getClassifier>>("classifier"),
    payloadField<FromRegime<&s::Regime::Reader::getRegime>>("regime"),
    payloadField<FromRegime<&s::Regime::Reader::getConfidence>>("confidence"),
    // PORTFOLIO
    payloadField<FromPortfolio<&s::Portfolio::Reader::getCash>>("cash"),
    payloadField<FromPortfolio<&s::Portfolio::Reader::getEquity>>("equity"),
    payloadField<FromPortfolio<&s::Portfolio::Reader::getPositionsValue>>("positions_value"),
    payloadField<FromPortfolio<&s::Portfolio::Reader::getRealizedPnl>>("realized_pnl"),
    payloadField<FromPortfolio<&s::Portfolio::Reader::getUnrealizedPnl>>("unrealized_pnl"),
    // END_OF_DATA
    payloadField<FromEndOfData<&s::EndOfData::Reader::getReason>>("reason"),
};

constexpr bool namesAreUnique() {
  for (std::size_t i = 0; i < kFields.size(); ++i) {
    for (std::size_t j = i + 1; j < kFields.size(); ++j) {
      if (kFields[i].name == kFields[j].name) return false;
    }
  }
  return true;
}
static_assert(namesAreUnique(), "a field name appears twice: merge the entries");

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

std::optional<std::uint16_t> findEnumValue(const FieldInfo& field, std::string_view name) {
  for (const auto& value : field.enum_values) {
    if (equalsIgnoringCase(value.name, name)) return value.ordinal;
  }
  return std::nullopt;
}

std::string_view enumValueName(const FieldInfo& field, std::uint16_t ordinal) {
  return nameIn(field.enum_values, ordinal);
}

std::string enumValueList(const FieldInfo& field) {
  std::string out;
  const auto values = field.enum_values;
  for (std::size_t i = 0; i < values.size(); ++i) {
    bool alias = false;
    for (std::size_t j = 0; j < i; ++j) alias = alias || values[j].ordinal == values[i].ordinal;
    if (alias) continue;
    if (!out.empty()) out += ", ";
    out += values[i].name;
  }
  return out;
}

}  // namespace evr::fields
