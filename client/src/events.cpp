// Typed payloads <-> Cap'n Proto events (see evr/events.hpp).

#include "evr/events.hpp"

#include <kj/exception.h>

#include <algorithm>
#include <array>
#include <cctype>

namespace evr {
namespace {

using Which = schema::Event::Payload::Which;

// The C++ enums mirror the schema's ordinals, so conversion is a cast.
static_assert(static_cast<unsigned>(schema::Direction::FLAT) == static_cast<unsigned>(Direction::Flat));
static_assert(static_cast<unsigned>(schema::Direction::LONG) == static_cast<unsigned>(Direction::Long));
static_assert(static_cast<unsigned>(schema::Direction::SHORT) == static_cast<unsigned>(Direction::Short));
static_assert(static_cast<unsigned>(schema::Side::BUY) == static_cast<unsigned>(Side::Buy));
static_assert(static_cast<unsigned>(schema::Side::SELL) == static_cast<unsigned>(Side::Sell));
static_assert(static_cast<unsigned>(schema::OrderKind::MARKET) == static_cast<unsigned>(OrderKind::Market));
static_assert(static_cast<unsigned>(schema::OrderKind::LIMIT) == static_cast<unsigned>(OrderKind::Limit));

constexpr std::array<std::string_view, 3> kDirectionNames = {"FLAT", "LONG", "SHORT"};
constexpr std::array<std::string_view, 2> kSideNames = {"BUY", "SELL"};
constexpr std::array<std::string_view, 2> kOrderKindNames = {"MARKET", "LIMIT"};

bool equalsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](unsigned char x, unsigned char y) {
           return std::toupper(x) == std::toupper(y);
         });
}

template <class Enum, std::size_t N>
std::optional<Enum> parseEnum(const std::array<std::string_view, N>& names, std::string_view name) {
  for (std::size_t i = 0; i < N; ++i) {
    if (equalsIgnoreCase(names[i], name)) return static_cast<Enum>(i);
  }
  return std::nullopt;
}

template <std::size_t N>
std::string_view enumName(const std::array<std::string_view, N>& names, unsigned ordinal) {
  return ordinal < N ? names[ordinal] : std::string_view("UNKNOWN");
}

// Schema enums are read from outside input: an ordinal beyond the C++ enum (a newer schema)
// reads as the first enumerant rather than as an out-of-range value.
template <class Enum, class SchemaEnum>
Enum fromSchema(SchemaEnum value, unsigned count) {
  const auto ordinal = static_cast<unsigned>(value);
  return ordinal < count ? static_cast<Enum>(ordinal) : Enum{};
}

template <class SchemaEnum, class Enum>
SchemaEnum toSchema(Enum value) {
  return static_cast<SchemaEnum>(static_cast<std::uint16_t>(value));
}

// std::string is NUL-terminated, as capnp::Text::Reader wants.
capnp::Text::Reader text(const std::string& value) {
  return capnp::Text::Reader(value.c_str(), value.size());
}

std::string toString(capnp::Text::Reader value) { return std::string(value.cStr(), value.size()); }

EventBuilder headerBuilder(EventType type, const std::string& symbol, std::int64_t time_ns) {
  EventBuilder builder(type);
  if (!symbol.empty()) builder.symbol(symbol);
  builder.eventTime(time_ns);
  return builder;
}

// Runs `read(root, payload)` when the event carries payload `which`; never throws.
template <class T, class Read>
std::optional<T> readIf(const Event& event, Which which, Read read) {
  if (!event.valid()) return std::nullopt;
  try {
    const auto root = event.reader();
    const auto payload = root.getPayload();
    if (payload.which() != which) return std::nullopt;
    return read(root, payload);
  } catch (const kj::Exception&) {
    return std::nullopt;  // unreadable bytes: not a T either
  }
}

}  // namespace

std::string_view directionName(Direction direction) {
  return enumName(kDirectionNames, static_cast<unsigned>(direction));
}
std::string_view sideName(Side side) { return enumName(kSideNames, static_cast<unsigned>(side)); }
std::string_view orderKindName(OrderKind kind) {
  return enumName(kOrderKindNames, static_cast<unsigned>(kind));
}
std::optional<Direction> parseDirection(std::string_view name) {
  return parseEnum<Direction>(kDirectionNames, name);
}
std::optional<Side> parseSide(std::string_view name) { return parseEnum<Side>(kSideNames, name); }
std::optional<OrderKind> parseOrderKind(std::string_view name) {
  return parseEnum<OrderKind>(kOrderKindNames, name);
}

const UserValue* UserEvent::field(std::string_view key) const {
  for (const auto& [k, v] : fields) {
    if (k == key) return &v;
  }
  return nullptr;
}

// ---- builders ----------------------------------------------------------------------------------

EventBuilder build(const Bar& bar) {
  auto builder = headerBuilder(Bar::kType, bar.symbol, bar.time_ns);
  auto p = builder.root().getPayload().getBar();
  p.setOpen(bar.open);
  p.setHigh(bar.high);
  p.setLow(bar.low);
  p.setClose(bar.close);
  p.setVolume(bar.volume);
  p.setPeriodSeconds(bar.period_seconds);
  return builder;
}

EventBuilder build(const Tick& tick) {
  auto builder = headerBuilder(Tick::kType, tick.symbol, tick.time_ns);
  auto p = builder.root().getPayload().getTick();
  p.setBid(tick.bid);
  p.setAsk(tick.ask);
  p.setPrice(tick.price);
  p.setSize(tick.size);
  return builder;
}

EventBuilder build(const Indicator& indicator) {
  auto builder = headerBuilder(Indicator::kType, indicator.symbol, indicator.time_ns);
  auto p = builder.root().getPayload().getIndicator();
  p.setName(text(indicator.name));
  p.setValue(indicator.value);
  return builder;
}

EventBuilder build(const Signal& signal) {
  auto builder = headerBuilder(Signal::kType, signal.symbol, signal.time_ns);
  auto p = builder.root().getPayload().getSignal();
  p.setStrategy(text(signal.strategy));
  p.setDirection(toSchema<schema::Direction>(signal.direction));
  p.setStrength(signal.strength);
  p.setPrice(signal.price);
  return builder;
}

EventBuilder build(const Order& order) {
  auto builder = headerBuilder(Order::kType, order.symbol, order.time_ns);
  auto p = builder.root().getPayload().getOrder();
  p.setOrderId(text(order.order_id));
  p.setStrategy(text(order.strategy));
  p.setPortfolio(text(order.portfolio));
  p.setSide(toSchema<schema::Side>(order.side));
  p.setOrderKind(toSchema<schema::OrderKind>(order.order_kind));
  p.setQuantity(order.quantity);
  p.setLimitPrice(order.limit_price);
  return builder;
}

EventBuilder build(const Fill& fill) {
  auto builder = headerBuilder(Fill::kType, fill.symbol, fill.time_ns);
  auto p = builder.root().getPayload().getFill();
  p.setOrderId(text(fill.order_id));
  p.setStrategy(text(fill.strategy));
  p.setPortfolio(text(fill.portfolio));
  p.setSide(toSchema<schema::Side>(fill.side));
  p.setQuantity(fill.quantity);
  p.setPrice(fill.price);
  p.setCommission(fill.commission);
  p.setSlippage(fill.slippage);
  return builder;
}

EventBuilder build(const Regime& regime) {
  auto builder = headerBuilder(Regime::kType, regime.symbol, regime.time_ns);
  auto p = builder.root().getPayload().getRegime();
  p.setClassifier(text(regime.classifier));
  p.setRegime(text(regime.regime));
  p.setConfidence(regime.confidence);
  return builder;
}

EventBuilder build(const PortfolioUpdate& portfolio) {
  auto builder = headerBuilder(PortfolioUpdate::kType, portfolio.symbol, portfolio.time_ns);
  auto p = builder.root().getPayload().getPortfolio();
  p.setPortfolio(text(portfolio.portfolio));
  p.setCash(portfolio.cash);
  p.setEquity(portfolio.equity);
  p.setPositionsValue(portfolio.positions_value);
  p.setRealizedPnl(portfolio.realized_pnl);
  p.setUnrealizedPnl(portfolio.unrealized_pnl);
  return builder;
}

EventBuilder build(const EndOfData& end_of_data) {
  EventBuilder builder(EndOfData::kType);
  builder.eventTime(end_of_data.time_ns);
  builder.root().getPayload().getEndOfData().setReason(text(end_of_data.reason));
  return builder;
}

EventBuilder build(const UserEvent& user) {
  auto builder = headerBuilder(UserEvent::kType, user.symbol, user.time_ns);
  auto p = builder.root().getPayload().getUser();
  p.setName(text(user.name));
  auto fields = p.initFields(static_cast<unsigned>(user.fields.size()));
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
  return builder;
}

// ---- readers -----------------------------------------------------------------------------------

template <>
std::optional<Bar> tryAs<Bar>(const Event& event) {
  return readIf<Bar>(event, Which::BAR, [](auto root, auto payload) {
    const auto p = payload.getBar();
    return Bar{.symbol = toString(root.getSymbol()),
               .time_ns = root.getEventTime(),
               .open = p.getOpen(),
               .high = p.getHigh(),
               .low = p.getLow(),
               .close = p.getClose(),
               .volume = p.getVolume(),
               .period_seconds = p.getPeriodSeconds()};
  });
}

template <>
std::optional<Tick> tryAs<Tick>(const Event& event) {
  return readIf<Tick>(event, Which::TICK, [](auto root, auto payload) {
    const auto p = payload.getTick();
    return Tick{.symbol = toString(root.getSymbol()),
                .time_ns = root.getEventTime(),
                .bid = p.getBid(),
                .ask = p.getAsk(),
                .price = p.getPrice(),
                .size = p.getSize()};
  });
}

template <>
std::optional<Indicator> tryAs<Indicator>(const Event& event) {
  return readIf<Indicator>(event, Which::INDICATOR, [](auto root, auto payload) {
    const auto p = payload.getIndicator();
    return Indicator{.symbol = toString(root.getSymbol()),
                     .time_ns = root.getEventTime(),
                     .name = toString(p.getName()),
                     .value = p.getValue()};
  });
}

template <>
std::optional<Signal> tryAs<Signal>(const Event& event) {
  return readIf<Signal>(event, Which::SIGNAL, [](auto root, auto payload) {
    const auto p = payload.getSignal();
    return Signal{.symbol = toString(root.getSymbol()),
                  .time_ns = root.getEventTime(),
                  .strategy = toString(p.getStrategy()),
                  .direction = fromSchema<Direction>(p.getDirection(), kDirectionNames.size()),
                  .strength = p.getStrength(),
                  .price = p.getPrice()};
  });
}

template <>
std::optional<Order> tryAs<Order>(const Event& event) {
  return readIf<Order>(event, Which::ORDER, [](auto root, auto payload) {
    const auto p = payload.getOrder();
    return Order{.symbol = toString(root.getSymbol()),
                 .time_ns = root.getEventTime(),
                 .order_id = toString(p.getOrderId()),
                 .strategy = toString(p.getStrategy()),
                 .portfolio = toString(p.getPortfolio()),
                 .side = fromSchema<Side>(p.getSide(), kSideNames.size()),
                 .order_kind = fromSchema<OrderKind>(p.getOrderKind(), kOrderKindNames.size()),
                 .quantity = p.getQuantity(),
                 .limit_price = p.getLimitPrice()};
  });
}

template <>
std::optional<Fill> tryAs<Fill>(const Event& event) {
  return readIf<Fill>(event, Which::FILL, [](auto root, auto payload) {
    const auto p = payload.getFill();
    return Fill{.symbol = toString(root.getSymbol()),
                .time_ns = root.getEventTime(),
                .order_id = toString(p.getOrderId()),
                .strategy = toString(p.getStrategy()),
                .portfolio = toString(p.getPortfolio()),
                .side = fromSchema<Side>(p.getSide(), kSideNames.size()),
                .quantity = p.getQuantity(),
                .price = p.getPrice(),
                .commission = p.getCommission(),
                .slippage = p.getSlippage()};
  });
}

template <>
std::optional<Regime> tryAs<Regime>(const Event& event) {
  return readIf<Regime>(event, Which::REGIME, [](auto root, auto payload) {
    const auto p = payload.getRegime();
    return Regime{.symbol = toString(root.getSymbol()),
                  .time_ns = root.getEventTime(),
                  .classifier = toString(p.getClassifier()),
                  .regime = toString(p.getRegime()),
                  .confidence = p.getConfidence()};
  });
}

template <>
std::optional<PortfolioUpdate> tryAs<PortfolioUpdate>(const Event& event) {
  return readIf<PortfolioUpdate>(event, Which::PORTFOLIO, [](auto root, auto payload) {
    const auto p = payload.getPortfolio();
    return PortfolioUpdate{.symbol = toString(root.getSymbol()),
                           .time_ns = root.getEventTime(),
                           .portfolio = toString(p.getPortfolio()),
                           .cash = p.getCash(),
                           .equity = p.getEquity(),
                           .positions_value = p.getPositionsValue(),
                           .realized_pnl = p.getRealizedPnl(),
                           .unrealized_pnl = p.getUnrealizedPnl()};
  });
}

template <>
std::optional<EndOfData> tryAs<EndOfData>(const Event& event) {
  return readIf<EndOfData>(event, Which::END_OF_DATA, [](auto root, auto payload) {
    return EndOfData{.time_ns = root.getEventTime(),
                     .reason = toString(payload.getEndOfData().getReason())};
  });
}

template <>
std::optional<UserEvent> tryAs<UserEvent>(const Event& event) {
  return readIf<UserEvent>(event, Which::USER, [](auto root, auto payload) {
    const auto p = payload.getUser();
    UserEvent user{.name = toString(p.getName()),
                   .symbol = toString(root.getSymbol()),
                   .time_ns = root.getEventTime()};
    const auto fields = p.getFields();
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
    return user;
  });
}

namespace detail {

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
