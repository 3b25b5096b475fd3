// Typed payloads: one plain value struct per payload of schemas/event.capnp, with a builder
// (`build`) and readers (`tryAs` / `as`). Both read and write through the event field table
// (evr/event_fields.hpp); events.cpp maps each struct member to its table field.
//
// Sits on top of evr::EventBuilder / evr::Event (evr/event.hpp) and is what container code
// normally touches: a handler reads `evr::as<evr::Bar>(e)` and publishes `evr::Signal{...}`;
// Bus::publish(const Payload&) calls `build(payload)`, found by argument-dependent lookup. The
// structs copy the data out of the Cap'n Proto message, so they outlive the Event they came from;
// code that must not copy (hot paths reading one field) uses Event::reader() instead.
//
// Each struct carries `symbol` and `time_ns`, which live in the event header (`symbol`,
// `eventTime`), not in the payload (EndOfData has no symbol). Field names match
// docs/events.md; the snake_case names that JSON, `evrctl send --set` and routing conditions use
// are listed there and in the event field table (evr/event_fields.hpp).
//
// Enums: these are C++ enums (TitleCase, STYLE.md) rather than the generated
// schema::Direction/Side/OrderKind, so container code never needs the `schema` namespace. Their
// values have the schema's ordinals; conversions are in events.cpp.
//
// Every member has a default member initializer, so designated initializers may leave any field
// out (`evr::Bar{.symbol = "AAPL", .close = 101.5}`) without -Wmissing-field-initializers.

#pragma once

#include <concepts>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "evr/event.hpp"
#include "evr/event_types.hpp"

namespace evr {

enum class Direction : std::uint8_t { Flat = 0, Long = 1, Short = 2 };
enum class Side : std::uint8_t { Buy = 0, Sell = 1 };
enum class OrderKind : std::uint8_t { Market = 0, Limit = 1 };

// Upper-case names as JSON and the CLI print them: "FLAT", "LONG", "SHORT", "BUY", "SELL",
// "MARKET", "LIMIT".
std::string_view directionName(Direction direction);
std::string_view sideName(Side side);
std::string_view orderKindName(OrderKind kind);
// Case-insensitive; nullopt for anything else.
std::optional<Direction> parseDirection(std::string_view name);
std::optional<Side> parseSide(std::string_view name);
std::optional<OrderKind> parseOrderKind(std::string_view name);

struct Bar {
  static constexpr EventType kType = EventType::BAR;
  std::string symbol{};
  std::int64_t time_ns{};
  double open{};
  double high{};
  double low{};
  double close{};
  double volume{};
  std::uint32_t period_seconds{};  // bar length, e.g. 86400 for daily bars

  friend bool operator==(const Bar&, const Bar&) = default;
};

struct Tick {
  static constexpr EventType kType = EventType::TICK;
  std::string symbol{};
  std::int64_t time_ns{};
  double bid{};
  double ask{};
  double price{};  // last trade price
  double size{};   // last trade size

  friend bool operator==(const Tick&, const Tick&) = default;
};

struct Indicator {
  static constexpr EventType kType = EventType::INDICATOR;
  std::string symbol{};
  std::int64_t time_ns{};
  std::string name{};  // e.g. "sma_20"
  double value{};

  friend bool operator==(const Indicator&, const Indicator&) = default;
};

struct Signal {
  static constexpr EventType kType = EventType::SIGNAL;
  std::string symbol{};
  std::int64_t time_ns{};
  std::string strategy{};
  Direction direction{Direction::Flat};
  double strength{};  // 0..1
  double price{};     // reference price the strategy saw

  friend bool operator==(const Signal&, const Signal&) = default;
};

struct Order {
  static constexpr EventType kType = EventType::ORDER;
  std::string symbol{};
  std::int64_t time_ns{};
  std::string order_id{};
  std::string strategy{};
  std::string portfolio{};
  Side side{Side::Buy};
  OrderKind order_kind{OrderKind::Market};
  double quantity{};
  double limit_price{};  // used when order_kind == Limit

  friend bool operator==(const Order&, const Order&) = default;
};

struct Fill {
  static constexpr EventType kType = EventType::FILL;
  std::string symbol{};
  std::int64_t time_ns{};
  std::string order_id{};
  std::string strategy{};
  std::string portfolio{};
  Side side{Side::Buy};
  double quantity{};
  double price{};
  double commission{};
  double slippage{};

  friend bool operator==(const Fill&, const Fill&) = default;
};

struct Regime {
  static constexpr EventType kType = EventType::REGIME;
  std::string symbol{};
  std::int64_t time_ns{};
  std::string classifier{};
  std::string regime{};  // label, e.g. "BULL"
  double confidence{};   // 0..1

  friend bool operator==(const Regime&, const Regime&) = default;
};

// The PORTFOLIO event (schema struct Portfolio).
struct PortfolioUpdate {
  static constexpr EventType kType = EventType::PORTFOLIO;
  std::string symbol{};
  std::int64_t time_ns{};
  std::string portfolio{};
  double cash{};
  double equity{};
  double positions_value{};
  double realized_pnl{};
  double unrealized_pnl{};

  friend bool operator==(const PortfolioUpdate&, const PortfolioUpdate&) = default;
};

struct EndOfData {
  static constexpr EventType kType = EventType::END_OF_DATA;
  std::int64_t time_ns{};
  std::string reason{};  // free text, e.g. "replay finished"

  friend bool operator==(const EndOfData&, const EndOfData&) = default;
};

// A value of a user event field. A string literal initializes the std::string alternative.
using UserValue = std::variant<std::string, std::int64_t, double, bool>;

// USER: an event type defined by the application, named by `name`, with typed key/value fields
// in order (keys may repeat; field() finds the first).
struct UserEvent {
  static constexpr EventType kType = EventType::USER;
  std::string name{};
  std::string symbol{};
  std::int64_t time_ns{};
  std::vector<std::pair<std::string, UserValue>> fields{};

  // The first field called `key`, or nullptr.
  const UserValue* field(std::string_view key) const;

  friend bool operator==(const UserEvent&, const UserEvent&) = default;
};

// A struct above: it names its event type.
template <class T>
concept TypedPayload = requires {
  { T::kType } -> std::convertible_to<EventType>;
};

template <class... T>
struct TypeList {};

// Every payload struct above, in event type order: the one list that build and tryAs are
// defined for (events.cpp).
using PayloadTypes = TypeList<Bar, Tick, Indicator, Signal, Order, Fill, Regime, PortfolioUpdate,
                              EndOfData, UserEvent>;

namespace detail {
template <class T, class List>
inline constexpr bool kIsOneOf = false;
template <class T, class... L>
inline constexpr bool kIsOneOf<T, TypeList<L...>> = (std::is_same_v<T, L> || ...);
}  // namespace detail

// One of the payload structs of PayloadTypes.
template <class T>
concept PayloadStruct = TypedPayload<T> && detail::kIsOneOf<T, PayloadTypes>;

// Builds an event of T::kType: header symbol (when not empty) and event time, and the payload.
// Bus::publish stamps the rest.
template <PayloadStruct T>
EventBuilder build(const T& payload);

// Reads the payload as T. nullopt when the event's payload is not T's (the payload union decides,
// not the header type), when the event is empty (!valid()), or when its bytes cannot be read.
// Never throws.
template <PayloadStruct T>
std::optional<T> tryAs(const Event& event);

namespace detail {
// "expected a BAR payload, got SIGNAL (seq 3 from strategy_a)".
std::string payloadMismatchMessage(const Event& event, EventType expected);
}  // namespace detail

// Like tryAs, but throws std::invalid_argument when the event does not carry a T.
template <PayloadStruct T>
T as(const Event& event) {
  if (auto value = tryAs<T>(event)) return *std::move(value);
  throw std::invalid_argument(detail::payloadMismatchMessage(event, T::kType));
}

}  // namespace evr
