// Typed payloads <-> Cap'n Proto events (see evr/events.hpp). The payload structs' members are
// mapped, once each, to fields of the event field table (evr/event_fields.hpp), which reads and
// writes the schema; build and tryAs are one template each over that mapping.

#include "evr/events.hpp"

#include <kj/exception.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <stdexcept>
#include <tuple>

#include "evr/event_fields.hpp"

namespace evr {
namespace {

using fields::FieldValue;
using fields::SchemaField;

// The C++ enums mirror the schema's ordinals, so conversion is a cast.
static_assert(static_cast<unsigned>(schema::Direction::FLAT) == static_cast<unsigned>(Direction::Flat));
static_assert(static_cast<unsigned>(schema::Direction::LONG) == static_cast<unsigned>(Direction::Long));
static_assert(static_cast<unsigned>(schema::Direction::SHORT) == static_cast<unsigned>(Direction::Short));
static_assert(static_cast<unsigned>(schema::Side::BUY) == static_cast<unsigned>(Side::Buy));
static_assert(static_cast<unsigned>(schema::Side::SELL) == static_cast<unsigned>(Side::Sell));
static_assert(static_cast<unsigned>(schema::OrderKind::MARKET) == static_cast<unsigned>(OrderKind::Market));
static_assert(static_cast<unsigned>(schema::OrderKind::LIMIT) == static_cast<unsigned>(OrderKind::Limit));

// PayloadTypes is in event type order: the n-th struct is type n + 1.
template <class... T>
constexpr bool inTypeOrder(TypeList<T...>) {
  unsigned ordinal = 0;
  return ((static_cast<unsigned>(T::kType) == ++ordinal) && ...);
}
static_assert(inTypeOrder(PayloadTypes{}), "list the payload structs in event type order");

// ---- the payload members, each mapped to its table field ---------------------------------------

// A member of payload struct T that holds the table field `field` of T's payload.
template <class T, class M>
struct Member {
  std::string_view field;
  M T::*member;
};

// Each struct's members besides symbol and time_ns (the header's symbol and event_time).
template <class T>
constexpr std::tuple<> kMembers{};

template <>
constexpr auto kMembers<Bar> =
    std::tuple{Member{"open", &Bar::open},     Member{"high", &Bar::high},
               Member{"low", &Bar::low},       Member{"close", &Bar::close},
               Member{"volume", &Bar::volume}, Member{"period_seconds", &Bar::period_seconds}};
template <>
constexpr auto kMembers<Tick> = std::tuple{Member{"bid", &Tick::bid}, Member{"ask", &Tick::ask},
                                           Member{"price", &Tick::price},
                                           Member{"size", &Tick::size}};
template <>
constexpr auto kMembers<Indicator> =
    std::tuple{Member{"name", &Indicator::name}, Member{"value", &Indicator::value}};
template <>
constexpr auto kMembers<Signal> =
    std::tuple{Member{"strategy", &Signal::strategy}, Member{"direction", &Signal::direction},
               Member{"strength", &Signal::strength}, Member{"price", &Signal::price}};
template <>
constexpr auto kMembers<Order> =
    std::tuple{Member{"order_id", &Order::order_id},     Member{"strategy", &Order::strategy},
               Member{"portfolio", &Order::portfolio},   Member{"side", &Order::side},
               Member{"order_kind", &Order::order_kind}, Member{"quantity", &Order::quantity},
               Member{"limit_price", &Order::limit_price}};
template <>
constexpr auto kMembers<Fill> =
    std::tuple{Member{"order_id", &Fill::order_id},   Member{"strategy", &Fill::strategy},
               Member{"portfolio", &Fill::portfolio}, Member{"side", &Fill::side},
               Member{"quantity", &Fill::quantity},   Member{"price", &Fill::price},
               Member{"commission", &Fill::commission}, Member{"slippage", &Fill::slippage}};
template <>
constexpr auto kMembers<Regime> =
    std::tuple{Member{"classifier", &Regime::classifier}, Member{"regime", &Regime::regime},
               Member{"confidence", &Regime::confidence}};
template <>
constexpr auto kMembers<PortfolioUpdate> =
    std::tuple{Member{"portfolio", &PortfolioUpdate::portfolio},
               Member{"cash", &PortfolioUpdate::cash},
               Member{"equity", &PortfolioUpdate::equity},
               Member{"positions_value", &PortfolioUpdate::positions_value},
               Member{"realized_pnl", &PortfolioUpdate::realized_pnl},
               Member{"unrealized_pnl", &PortfolioUpdate::unrealized_pnl}};
template <>
constexpr auto kMembers<EndOfData> = std::tuple{Member{"reason", &EndOfData::reason}};
// USER's key/value list is not a table field: readUserFields / writeUserFields below.
template <>
constexpr auto kMembers<UserEvent> = std::tuple{Member{"name", &UserEvent::name}};

const SchemaField& tableField(EventType type, std::string_view name) {
  for (const auto& field : fields::payloadFields(type)) {
    if (field.name == name) return field;
  }
  // kMembers names a field the table does not have: a bug, met by any test that builds or reads
  // this payload.
  throw std::logic_error("evr/events: no field '" + std::string(name) + "' in " +
                         std::string(eventTypeName(type)) + "'s part of the field table");
}

// The table fields of T's members, in kMembers<T>'s order; looked up once.
template <class T>
const auto& tableFieldsOf() {
  static_assert(std::tuple_size_v<decltype(kMembers<T>)> > 0, "list T's members in kMembers");
  static const auto found = std::apply(
      [](const auto&... m) {
        return std::array<const SchemaField*, sizeof...(m)>{&tableField(T::kType, m.field)...};
      },
      kMembers<T>);
  return found;
}

// ---- member values <-> FieldValue ---------------------------------------------------------------

template <class M>
FieldValue toFieldValue(const M& value) {
  if constexpr (std::is_same_v<M, std::string>) {
    return FieldValue::text(value);
  } else if constexpr (std::is_enum_v<M>) {
    return FieldValue::enumerant(static_cast<std::uint16_t>(value), {});
  } else if constexpr (std::is_floating_point_v<M>) {
    return FieldValue::number(value);
  } else if constexpr (std::is_unsigned_v<M>) {
    return FieldValue::unsignedInteger(value);
  } else {
    return FieldValue::integer(value);
  }
}

template <class M>
M fromFieldValue(const FieldValue& value, const SchemaField& field) {
  if constexpr (std::is_same_v<M, std::string>) {
    return std::string(value.asText());
  } else if constexpr (std::is_enum_v<M>) {
    // Read from outside input: an ordinal beyond the C++ enum (a newer schema) reads as the
    // first enumerant rather than as an out-of-range value.
    const auto ordinal = value.enumOrdinal();
    const bool known = std::ranges::any_of(field.enum_values,
                                           [&](const auto& v) { return v.ordinal == ordinal; });
    return known ? static_cast<M>(ordinal) : M{};
  } else if constexpr (std::is_floating_point_v<M>) {
    return value.asNumber();
  } else if constexpr (std::is_unsigned_v<M>) {
    return static_cast<M>(value.type() == FieldValue::Type::Unsigned ? value.asUnsigned()
                                                                     : value.asInteger());
  } else {
    return static_cast<M>(value.asInteger());
  }
}

template <class T, std::size_t... I>
void writeMembers(const T& payload, schema::Event::Builder root, std::index_sequence<I...>) {
  const auto& table = tableFieldsOf<T>();
  std::string reason;
  // A member always fits its field (same type, same range), so a write cannot fail.
  ((void)table[I]->write(root, toFieldValue(payload.*std::get<I>(kMembers<T>).member), reason),
   ...);
}

template <class M>
void readMember(const SchemaField& field, schema::Event::Reader root, M& member) {
  member = fromFieldValue<M>(field.read(root, 0), field);
}

template <class T, std::size_t... I>
void readMembers(schema::Event::Reader root, T& payload, std::index_sequence<I...>) {
  const auto& table = tableFieldsOf<T>();
  (readMember(*table[I], root, payload.*std::get<I>(kMembers<T>).member), ...);
}

template <class T>
constexpr auto kMemberIndices =
    std::make_index_sequence<std::tuple_size_v<decltype(kMembers<T>)>>{};

// ---- USER key/value fields ----------------------------------------------------------------------

// std::string is NUL-terminated, as capnp::Text::Reader wants.
capnp::Text::Reader text(const std::string& value) {
  return capnp::Text::Reader(value.c_str(), value.size());
}

std::string toString(capnp::Text::Reader value) { return std::string(value.cStr(), value.size()); }

void writeUserFields(const UserEvent& user, schema::Event::Builder root) {
  auto fields = root.getPayload().getUser().initFields(static_cast<unsigned>(user.fields.size()));
  for (unsigned i = 0; i < fields.size(); ++i) {
    const auto& [key, value] = user.fields[i];
    auto field = fields[i];
    field.setKey(text(key));
    auto slot = field.getValue();
    std::visit(
        [&slot](const auto& v) {
          using V = std::decay_t<decltype(v)>;
          if constexpr (std::is_same_v<V, std::string>) {
            slot.setText(text(v));
          } else if constexpr (std::is_same_v<V, std::int64_t>) {
            slot.setInt(v);
          } else if constexpr (std::is_same_v<V, double>) {
            slot.setFloat(v);
          } else {
            slot.setBool(v);
          }
        },
        value);
  }
}

void readUserFields(schema::Event::Reader root, UserEvent& user) {
  const auto fields = root.getPayload().getUser().getFields();
  user.fields.reserve(fields.size());
  for (const auto field : fields) {
    const auto value = field.getValue();
    UserValue v;
    switch (value.which()) {
      case schema::UserEvent::Field::Value::TEXT:
        v = toString(value.getText());
        break;
      case schema::UserEvent::Field::Value::INT:
        v = value.getInt();
        break;
      case schema::UserEvent::Field::Value::FLOAT:
        v = value.getFloat();
        break;
      case schema::UserEvent::Field::Value::BOOL:
        v = value.getBool();
        break;
      default:  // a value kind from a newer schema: keep the key, value empty text
        break;
    }
    user.fields.emplace_back(toString(field.getKey()), std::move(v));
  }
}

// ---- enum names -------------------------------------------------------------------------------

template <class SchemaEnum, class Enum>
std::string_view nameOf(Enum value) {
  return fields::enumValueName(fields::enumValuesOf<SchemaEnum>(),
                               static_cast<std::uint16_t>(value));
}

template <class SchemaEnum, class Enum>
std::optional<Enum> parse(std::string_view name) {
  const auto ordinal = fields::findEnumValue(fields::enumValuesOf<SchemaEnum>(), name);
  if (!ordinal) return std::nullopt;
  return static_cast<Enum>(*ordinal);
}

}  // namespace

std::string_view directionName(Direction direction) {
  return nameOf<schema::Direction>(direction);
}
std::string_view sideName(Side side) { return nameOf<schema::Side>(side); }
std::string_view orderKindName(OrderKind kind) { return nameOf<schema::OrderKind>(kind); }
std::optional<Direction> parseDirection(std::string_view name) {
  return parse<schema::Direction, Direction>(name);
}
std::optional<Side> parseSide(std::string_view name) { return parse<schema::Side, Side>(name); }
std::optional<OrderKind> parseOrderKind(std::string_view name) {
  return parse<schema::OrderKind, OrderKind>(name);
}

const UserValue* UserEvent::field(std::string_view key) const {
  for (const auto& [k, v] : fields) {
    if (k == key) return &v;
  }
  return nullptr;
}

// ---- build and tryAs ---------------------------------------------------------------------------

template <PayloadStruct T>
EventBuilder build(const T& payload) {
  EventBuilder builder(T::kType);
  if constexpr (requires(const T& t) { t.symbol; }) {
    if (!payload.symbol.empty()) builder.symbol(payload.symbol);
  }
  builder.eventTime(payload.time_ns);
  writeMembers(payload, builder.root(), kMemberIndices<T>);
  if constexpr (std::is_same_v<T, UserEvent>) writeUserFields(payload, builder.root());
  return builder;
}

template <PayloadStruct T>
std::optional<T> tryAs(const Event& event) {
  if (!event.valid()) return std::nullopt;
  try {
    const auto root = event.reader();
    if (fields::payloadType(root) != T::kType) return std::nullopt;
    T payload;
    if constexpr (requires(const T& t) { t.symbol; }) payload.symbol = toString(root.getSymbol());
    payload.time_ns = root.getEventTime();
    readMembers(root, payload, kMemberIndices<T>);
    if constexpr (std::is_same_v<T, UserEvent>) readUserFields(root, payload);
    return payload;
  } catch (const kj::Exception&) {
    return std::nullopt;  // unreadable bytes: not a T either
  }
}

namespace detail {

// build and tryAs are defined in this file only. Explicitly instantiating this class for
// PayloadTypes instantiates both for every payload struct, so the list stays the only list.
template <class List>
struct PayloadFunctions;
template <class... T>
struct PayloadFunctions<TypeList<T...>> {
  static const std::tuple<EventBuilder (*)(const T&)..., std::optional<T> (*)(const Event&)...>
      functions;
};
template <class... T>
const std::tuple<EventBuilder (*)(const T&)..., std::optional<T> (*)(const Event&)...>
    PayloadFunctions<TypeList<T...>>::functions{&build<T>..., &tryAs<T>...};
template struct PayloadFunctions<PayloadTypes>;

std::string payloadMismatchMessage(const Event& event, EventType expected) {
  std::string message = "expected a ";
  message += eventTypeName(expected);
  message += " payload, got ";
  if (!event.valid()) return message + "an empty event";
  try {
    const auto root = event.reader();
    message += eventTypeName(root.getType());
    message += " (seq " + std::to_string(root.getSeq()) + " from ";
    message += toString(root.getSource());
    message += ")";
  } catch (const kj::Exception&) {
    message += "an unreadable event";
  }
  return message;
}

}  // namespace detail
}  // namespace evr
