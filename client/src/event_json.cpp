// Events as named fields (see evr/event_json.hpp). The field table below is the only list of
// field names in the client: JSON, text lines and --set all go through it.

#include "evr/event_json.hpp"

#include <kj/exception.h>

#include <array>
#include <charconv>
#include <cmath>
#include <limits>
#include <span>
#include <stdexcept>
#include <type_traits>

#include "evr/events.hpp"

namespace evr {
namespace {

using nlohmann::json;
using Which = schema::Event::Payload::Which;

// ---- text -> value -----------------------------------------------------------------------------

// from_chars does not take a leading '+'; people type one.
std::string_view stripPlus(std::string_view text) {
  if (text.size() > 1 && text.front() == '+' && text[1] != '-') text.remove_prefix(1);
  return text;
}

std::optional<double> parseFloat(std::string_view text) {
  text = stripPlus(text);
  double value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || !std::isfinite(value)) {
    return std::nullopt;
  }
  return value;
}

template <class Int>
std::optional<Int> parseInteger(std::string_view text) {
  text = stripPlus(text);
  Int value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

// ---- schema enums by name ------------------------------------------------------------------------

// Names come from evr/events.hpp; "UNKNOWN" marks an ordinal past the last enumerant.
template <class Enum>
std::string enumChoices(std::string_view (*name)(Enum)) {
  std::string out;
  for (unsigned i = 0; i < 256; ++i) {
    const auto n = name(static_cast<Enum>(i));
    if (n == "UNKNOWN") break;
    if (!out.empty()) out += ", ";
    out += n;
  }
  return out;
}

template <class Enum, class SchemaEnum>
std::string_view schemaEnumName(SchemaEnum value, std::string_view (*name)(Enum)) {
  const auto ordinal = static_cast<unsigned>(value);
  return ordinal < 256 ? name(static_cast<Enum>(ordinal)) : std::string_view("UNKNOWN");
}

std::string_view nameOf(schema::Direction v) { return schemaEnumName(v, &directionName); }
std::string_view nameOf(schema::Side v) { return schemaEnumName(v, &sideName); }
std::string_view nameOf(schema::OrderKind v) { return schemaEnumName(v, &orderKindName); }

template <class SchemaEnum, class Enum>
std::optional<SchemaEnum> parseSchemaEnum(std::string_view text,
                                          std::optional<Enum> (*parse)(std::string_view),
                                          std::string_view (*name)(Enum), std::string& reason) {
  if (const auto value = parse(text)) {
    return static_cast<SchemaEnum>(static_cast<std::uint16_t>(*value));
  }
  reason = "'" + std::string(text) + "' is not one of " + enumChoices(name);
  return std::nullopt;
}

// ---- one field: value conversions by C++ type ---------------------------------------------------

template <class V>
constexpr FieldKind kindOf() {
  if constexpr (std::is_same_v<V, double>) {
    return FieldKind::Float;
  } else if constexpr (std::is_same_v<V, capnp::Text::Reader>) {
    return FieldKind::Text;
  } else if constexpr (std::is_enum_v<V>) {
    return FieldKind::Enum;
  } else if constexpr (std::is_signed_v<V>) {
    return FieldKind::Int;
  } else {
    return FieldKind::UInt;
  }
}

template <class V>
json toJsonValue(V value) {
  if constexpr (std::is_same_v<V, capnp::Text::Reader>) {
    return std::string(value.cStr(), value.size());
  } else if constexpr (std::is_enum_v<V>) {
    return std::string(nameOf(value));
  } else {
    return value;
  }
}

// `text` outlives the returned value (Text::Reader points into it).
template <class V>
std::optional<V> parseValue(const std::string& text, std::string& reason) {
  if constexpr (std::is_same_v<V, capnp::Text::Reader>) {
    return capnp::Text::Reader(text.c_str(), text.size());
  } else if constexpr (std::is_same_v<V, double>) {
    auto value = parseFloat(text);
    if (!value) reason = "'" + text + "' is not a number";
    return value;
  } else if constexpr (std::is_same_v<V, schema::Direction>) {
    return parseSchemaEnum<V>(text, &parseDirection, &directionName, reason);
  } else if constexpr (std::is_same_v<V, schema::Side>) {
    return parseSchemaEnum<V>(text, &parseSide, &sideName, reason);
  } else if constexpr (std::is_same_v<V, schema::OrderKind>) {
    return parseSchemaEnum<V>(text, &parseOrderKind, &orderKindName, reason);
  } else {
    static_assert(std::is_integral_v<V>, "add a parser for this field type");
    auto value = parseInteger<V>(text);
    if (!value) {
      reason = "'" + text + "' is not an integer in [" +
               std::to_string(std::numeric_limits<V>::min()) + ", " +
               std::to_string(std::numeric_limits<V>::max()) + "]";
    }
    return value;
  }
}

// ---- the field table -------------------------------------------------------------------------

// Where a schema struct lives in an event: the payload member, or the event itself (header).
template <class S>
struct Access;

template <>
struct Access<schema::Event> {
  static schema::Event::Reader get(schema::Event::Reader e) { return e; }
  static schema::Event::Builder get(schema::Event::Builder e) { return e; }
};

#define EVR_PAYLOAD_ACCESS(Struct, Member)                                                     \
  template <>                                                                                  \
  struct Access<schema::Struct> {                                                              \
    static schema::Struct::Reader get(schema::Event::Reader e) {                               \
      return e.getPayload().get##Member();                                                     \
    }                                                                                          \
    static schema::Struct::Builder get(schema::Event::Builder e) {                             \
      return e.getPayload().get##Member();                                                     \
    }                                                                                          \
  };
EVR_PAYLOAD_ACCESS(Bar, Bar)
EVR_PAYLOAD_ACCESS(Tick, Tick)
EVR_PAYLOAD_ACCESS(Indicator, Indicator)
EVR_PAYLOAD_ACCESS(Signal, Signal)
EVR_PAYLOAD_ACCESS(Order, Order)
EVR_PAYLOAD_ACCESS(Fill, Fill)
EVR_PAYLOAD_ACCESS(Regime, Regime)
EVR_PAYLOAD_ACCESS(Portfolio, Portfolio)
EVR_PAYLOAD_ACCESS(EndOfData, EndOfData)
EVR_PAYLOAD_ACCESS(UserEvent, User)
#undef EVR_PAYLOAD_ACCESS

struct FieldSpec {
  std::string_view name;
  FieldKind kind;
  json (*get)(schema::Event::Reader event);
  // False with `reason` set when `text` does not convert to the field's type.
  bool (*set)(schema::Event::Builder event, const std::string& text, std::string& reason);
};

// A field of schema struct S, read by Get and written by Set (the generated accessors).
template <class S, auto Get, auto Set>
constexpr FieldSpec field(std::string_view name) {
  using V = std::remove_cvref_t<decltype((std::declval<typename S::Reader>().*Get)())>;
  return FieldSpec{
      name,
      kindOf<V>(),
      [](schema::Event::Reader event) -> json {
        return toJsonValue<V>((Access<S>::get(event).*Get)());
      },
      [](schema::Event::Builder event, const std::string& text, std::string& reason) -> bool {
        auto value = parseValue<V>(text, reason);
        if (!value) return false;
        (Access<S>::get(event).*Set)(*value);
        return true;
      },
  };
}

namespace s = schema;

// Header fields that --set may write (the rest are stamped by Bus::publish).
constexpr std::array kHeaderFields = {
    field<s::Event, &s::Event::Reader::getSymbol, &s::Event::Builder::setSymbol>("symbol"),
    field<s::Event, &s::Event::Reader::getEventTime, &s::Event::Builder::setEventTime>("event_time"),
    field<s::Event, &s::Event::Reader::getCorrelationId, &s::Event::Builder::setCorrelationId>(
        "correlation_id"),
};

constexpr std::array kBarFields = {
    field<s::Bar, &s::Bar::Reader::getOpen, &s::Bar::Builder::setOpen>("open"),
    field<s::Bar, &s::Bar::Reader::getHigh, &s::Bar::Builder::setHigh>("high"),
    field<s::Bar, &s::Bar::Reader::getLow, &s::Bar::Builder::setLow>("low"),
    field<s::Bar, &s::Bar::Reader::getClose, &s::Bar::Builder::setClose>("close"),
    field<s::Bar, &s::Bar::Reader::getVolume, &s::Bar::Builder::setVolume>("volume"),
    field<s::Bar, &s::Bar::Reader::getPeriodSeconds, &s::Bar::Builder::setPeriodSeconds>(
        "period_seconds"),
};

constexpr std::array kTickFields = {
    field<s::Tick, &s::Tick::Reader::getBid, &s::Tick::Builder::setBid>("bid"),
    field<s::Tick, &s::Tick::Reader::getAsk, &s::Tick::Builder::setAsk>("ask"),
    field<s::Tick, &s::Tick::Reader::getPrice, &s::Tick::Builder::setPrice>("price"),
    field<s::Tick, &s::Tick::Reader::getSize, &s::Tick::Builder::setSize>("size"),
};

constexpr std::array kIndicatorFields = {
    field<s::Indicator, &s::Indicator::Reader::getName, &s::Indicator::Builder::setName>("name"),
    field<s::Indicator, &s::Indicator::Reader::getValue, &s::Indicator::Builder::setValue>("value"),
};

constexpr std::array kSignalFields = {
    field<s::Signal, &s::Signal::Reader::getStrategy, &s::Signal::Builder::setStrategy>("strategy"),
    field<s::Signal, &s::Signal::Reader::getDirection, &s::Signal::Builder::setDirection>(
        "direction"),
    field<s::Signal, &s::Signal::Reader::getStrength, &s::Signal::Builder::setStrength>("strength"),
    field<s::Signal, &s::Signal::Reader::getPrice, &s::Signal::Builder::setPrice>("price"),
};

constexpr std::array kOrderFields = {
    field<s::Order, &s::Order::Reader::getOrderId, &s::Order::Builder::setOrderId>("order_id"),
    field<s::Order, &s::Order::Reader::getStrategy, &s::Order::Builder::setStrategy>("strategy"),
    field<s::Order, &s::Order::Reader::getPortfolio, &s::Order::Builder::setPortfolio>("portfolio"),
    field<s::Order, &s::Order::Reader::getSide, &s::Order::Builder::setSide>("side"),
    field<s::Order, &s::Order::Reader::getOrderKind, &s::Order::Builder::setOrderKind>(
        "order_kind"),
    field<s::Order, &s::Order::Reader::getQuantity, &s::Order::Builder::setQuantity>("quantity"),
    field<s::Order, &s::Order::Reader::getLimitPrice, &s::Order::Builder::setLimitPrice>(
        "limit_price"),
};

constexpr std::array kFillFields = {
    field<s::Fill, &s::Fill::Reader::getOrderId, &s::Fill::Builder::setOrderId>("order_id"),
    field<s::Fill, &s::Fill::Reader::getStrategy, &s::Fill::Builder::setStrategy>("strategy"),
    field<s::Fill, &s::Fill::Reader::getPortfolio, &s::Fill::Builder::setPortfolio>("portfolio"),
    field<s::Fill, &s::Fill::Reader::getSide, &s::Fill::Builder::setSide>("side"),
    field<s::Fill, &s::Fill::Reader::getQuantity, &s::Fill::Builder::setQuantity>("quantity"),
    field<s::Fill, &s::Fill::Reader::getPrice, &s::Fill::Builder::setPrice>("price"),
    field<s::Fill, &s::Fill::Reader::getCommission, &s::Fill::Builder::setCommission>("commission"),
    field<s::Fill, &s::Fill::Reader::getSlippage, &s::Fill::Builder::setSlippage>("slippage"),
};

constexpr std::array kRegimeFields = {
    field<s::Regime, &s::Regime::Reader::getClassifier, &s::Regime::Builder::setClassifier>(
        "classifier"),
    field<s::Regime, &s::Regime::Reader::getRegime, &s::Regime::Builder::setRegime>("regime"),
    field<s::Regime, &s::Regime::Reader::getConfidence, &s::Regime::Builder::setConfidence>(
        "confidence"),
};

constexpr std::array kPortfolioFields = {
    field<s::Portfolio, &s::Portfolio::Reader::getPortfolio, &s::Portfolio::Builder::setPortfolio>(
        "portfolio"),
    field<s::Portfolio, &s::Portfolio::Reader::getCash, &s::Portfolio::Builder::setCash>("cash"),
    field<s::Portfolio, &s::Portfolio::Reader::getEquity, &s::Portfolio::Builder::setEquity>(
        "equity"),
    field<s::Portfolio, &s::Portfolio::Reader::getPositionsValue,
          &s::Portfolio::Builder::setPositionsValue>("positions_value"),
    field<s::Portfolio, &s::Portfolio::Reader::getRealizedPnl,
          &s::Portfolio::Builder::setRealizedPnl>("realized_pnl"),
    field<s::Portfolio, &s::Portfolio::Reader::getUnrealizedPnl,
          &s::Portfolio::Builder::setUnrealizedPnl>("unrealized_pnl"),
};

constexpr std::array kEndOfDataFields = {
    field<s::EndOfData, &s::EndOfData::Reader::getReason, &s::EndOfData::Builder::setReason>(
        "reason"),
};

// USER: the name only; its key/value fields are a list, handled beside the table.
constexpr std::array kUserFields = {
    field<s::UserEvent, &s::UserEvent::Reader::getName, &s::UserEvent::Builder::setName>("name"),
};

std::span<const FieldSpec> payloadTable(EventType type) {
  switch (type) {
    case EventType::BAR: return kBarFields;
    case EventType::TICK: return kTickFields;
    case EventType::INDICATOR: return kIndicatorFields;
    case EventType::SIGNAL: return kSignalFields;
    case EventType::ORDER: return kOrderFields;
    case EventType::FILL: return kFillFields;
    case EventType::REGIME: return kRegimeFields;
    case EventType::PORTFOLIO: return kPortfolioFields;
    case EventType::END_OF_DATA: return kEndOfDataFields;
    case EventType::USER: return kUserFields;
    default: return {};
  }
}

// The payload union decides what is read, whatever the header's type says.
std::span<const FieldSpec> payloadTable(Which which) {
  switch (which) {
    case Which::BAR: return kBarFields;
    case Which::TICK: return kTickFields;
    case Which::INDICATOR: return kIndicatorFields;
    case Which::SIGNAL: return kSignalFields;
    case Which::ORDER: return kOrderFields;
    case Which::FILL: return kFillFields;
    case Which::REGIME: return kRegimeFields;
    case Which::PORTFOLIO: return kPortfolioFields;
    case Which::END_OF_DATA: return kEndOfDataFields;
    case Which::USER: return kUserFields;
    default: return {};
  }
}

const FieldSpec* findField(std::span<const FieldSpec> table, std::string_view name) {
  for (const auto& f : table) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

constexpr std::string_view kTagPrefix = "tag.";
constexpr std::string_view kUserFieldPrefix = "field.";

// ---- user event fields -------------------------------------------------------------------------

json userValueJson(schema::UserEvent::Field::Value::Reader value) {
  switch (value.which()) {
    case schema::UserEvent::Field::Value::TEXT: {
      const auto text = value.getText();
      return std::string(text.cStr(), text.size());
    }
    case schema::UserEvent::Field::Value::INT: return value.getInt();
    case schema::UserEvent::Field::Value::FLOAT: return value.getFloat();
    case schema::UserEvent::Field::Value::BOOL: return value.getBool();
  }
  return nullptr;  // a value kind from a newer schema
}

UserValue inferUserValue(const std::string& text) {
  if (auto i = parseInteger<std::int64_t>(text)) return *i;
  if (auto f = parseFloat(text)) return *f;
  if (text == "true") return true;
  if (text == "false") return false;
  return text;
}

// Replaces the value of `key` if present (keeping its position), else appends.
template <class Value>
void upsert(std::vector<std::pair<std::string, Value>>& pairs, std::string key, Value value) {
  for (auto& [k, v] : pairs) {
    if (k == key) {
      v = std::move(value);
      return;
    }
  }
  pairs.emplace_back(std::move(key), std::move(value));
}

std::string str(capnp::Text::Reader text) { return std::string(text.cStr(), text.size()); }

// ---- one-line text -----------------------------------------------------------------------------

bool needsQuotes(std::string_view text) {
  if (text.empty()) return true;
  for (const unsigned char c : text) {
    if (c <= ' ' || c == '"' || c == '=' || c == '\\' || c >= 0x7f) return true;
  }
  return false;
}

void appendPair(std::string& out, std::string_view name, const json& value) {
  out += ' ';
  out += name;
  out += '=';
  if (value.is_string()) {
    const auto& text = value.get_ref<const std::string&>();
    // Text from other processes need not be valid UTF-8: replace, never throw.
    out += needsQuotes(text) ? value.dump(-1, ' ', false, json::error_handler_t::replace) : text;
  } else {
    out += value.dump();
  }
}

[[noreturn]] void rethrowUnreadable(const kj::Exception& e) {
  const auto description = e.getDescription();
  throw std::invalid_argument("unreadable event: " +
                              std::string(description.cStr(), description.size()));
}

std::string fieldError(EventType type, std::string_view message) {
  std::string out(message);
  out += "; valid fields for ";
  out += eventTypeName(type);
  out += ": ";
  out += settableFieldList(type);
  return out;
}

}  // namespace

// ---- public ------------------------------------------------------------------------------------

std::vector<FieldInfo> payloadFields(EventType type) {
  std::vector<FieldInfo> out;
  for (const auto& f : payloadTable(type)) out.push_back(FieldInfo{f.name, f.kind});
  return out;
}

std::string settableFieldList(EventType type) {
  std::string out;
  for (const auto& f : kHeaderFields) {
    out += f.name;
    out += ", ";
  }
  out += kTagPrefix;
  out += "KEY";
  for (const auto& f : payloadTable(type)) {
    out += ", ";
    out += f.name;
  }
  if (type == EventType::USER) {
    out += ", ";
    out += kUserFieldPrefix;
    out += "KEY (or any other KEY)";
  }
  return out;
}

json toJson(const Event& event) {
  if (!event.valid()) throw std::invalid_argument("toJson: empty event");
  try {
    const auto root = event.reader();
    json out = json::object();
    out["type"] = std::string(eventTypeName(root.getType()));
    out["id"] = root.getId();
    out["source"] = str(root.getSource());
    out["seq"] = root.getSeq();
    out["publish_time"] = root.getPublishTime();
    out["causation_id"] = root.getCausationId();
    for (const auto& f : kHeaderFields) out[std::string(f.name)] = f.get(root);
    json tags = json::object();
    for (const auto tag : root.getTags()) tags[str(tag.getKey())] = str(tag.getValue());
    out["tags"] = std::move(tags);
    out["hops"] = event.hops();

    const auto payload = root.getPayload();
    for (const auto& f : payloadTable(payload.which())) out[std::string(f.name)] = f.get(root);
    if (payload.which() == Which::USER) {
      json fields = json::object();
      for (const auto field : payload.getUser().getFields()) {
        fields[str(field.getKey())] = userValueJson(field.getValue());
      }
      out["fields"] = std::move(fields);
    }
    return out;
  } catch (const kj::Exception& e) {
    rethrowUnreadable(e);
  }
}

std::string toText(const Event& event) {
  if (!event.valid()) throw std::invalid_argument("toText: empty event");
  try {
    const auto root = event.reader();
    std::string out(eventTypeName(root.getType()));
    appendPair(out, "seq", root.getSeq());
    appendPair(out, "source", str(root.getSource()));
    if (root.hasSymbol() && root.getSymbol().size() > 0) appendPair(out, "symbol", str(root.getSymbol()));
    if (root.getEventTime() != 0) appendPair(out, "event_time", root.getEventTime());
    const auto payload = root.getPayload();
    for (const auto& f : payloadTable(payload.which())) appendPair(out, f.name, f.get(root));
    if (payload.which() == Which::USER) {
      for (const auto field : payload.getUser().getFields()) {
        appendPair(out, str(field.getKey()), userValueJson(field.getValue()));
      }
    }
    for (const auto tag : root.getTags()) {
      appendPair(out, std::string(kTagPrefix) + str(tag.getKey()), str(tag.getValue()));
    }
    return out;
  } catch (const kj::Exception& e) {
    rethrowUnreadable(e);
  }
}

std::optional<EventBuilder> tryFromFields(EventType type, const FieldValues& field_values,
                                          std::string& error) {
  if (!isKnownEventType(static_cast<std::uint8_t>(type))) {
    error = "cannot build an event of type " + std::string(eventTypeName(type));
    return std::nullopt;
  }
  const auto payload_table = payloadTable(type);
  const auto is_header = [](std::string_view name) {
    return name.starts_with(kTagPrefix) || findField(kHeaderFields, name) != nullptr;
  };

  // USER: the name and the key/value list are written in one go (a capnp list has a fixed
  // size), so collect them first; header fields follow in the common pass below.
  FieldValues rest;
  std::optional<EventBuilder> built;
  if (type == EventType::USER) {
    UserEvent user;
    for (const auto& [name, text] : field_values) {
      if (is_header(name)) {
        rest.emplace_back(name, text);
      } else if (name == "name") {
        user.name = text;
      } else {
        std::string key = name.starts_with(kUserFieldPrefix)
                              ? name.substr(kUserFieldPrefix.size())
                              : name;
        if (key.empty()) {
          error = fieldError(type, "empty user field name in '" + name + "'");
          return std::nullopt;
        }
        upsert(user.fields, std::move(key), inferUserValue(text));
      }
    }
    built.emplace(build(user));
  } else {
    rest = field_values;
    built.emplace(type);
  }

  auto root = built->root();
  std::vector<std::pair<std::string, std::string>> tags;
  for (const auto& [name, text] : rest) {
    if (name.starts_with(kTagPrefix)) {
      std::string key = name.substr(kTagPrefix.size());
      if (key.empty()) {
        error = fieldError(type, "empty tag name in '" + name + "'");
        return std::nullopt;
      }
      upsert(tags, std::move(key), text);
      continue;
    }
    const FieldSpec* f = findField(kHeaderFields, name);
    if (f == nullptr) f = findField(payload_table, name);
    if (f == nullptr) {
      error = fieldError(type, "unknown field '" + name + "'");
      return std::nullopt;
    }
    std::string reason;
    if (!f->set(root, text, reason)) {
      error = fieldError(type, "bad value for field '" + name + "': " + reason);
      return std::nullopt;
    }
  }
  for (const auto& [key, value] : tags) built->tag(key, value);
  return built;
}

EventBuilder fromFields(EventType type, const FieldValues& field_values) {
  std::string error;
  auto builder = tryFromFields(type, field_values, error);
  if (!builder) throw std::invalid_argument(error);
  return std::move(*builder);
}

}  // namespace evr
