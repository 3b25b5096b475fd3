// Events as named fields (see evr/event_json.hpp). Every field comes from the event field table
// (evr/event_fields.hpp): JSON, text lines and --set all go through it.

#include "evr/event_json.hpp"

#include <kj/exception.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <limits>
#include <span>
#include <stdexcept>
#include <utility>

#include "evr/event_fields.hpp"
#include "evr/events.hpp"

namespace evr {
namespace {

using nlohmann::json;
using fields::FieldValue;
using fields::SchemaField;

json toJsonValue(const FieldValue& value) {
  switch (value.type()) {
    case FieldValue::Type::Number: return value.asNumber();
    case FieldValue::Type::Integer: return value.asInteger();
    case FieldValue::Type::Unsigned: return value.asUnsigned();
    case FieldValue::Type::Bool: return value.asBool();
    case FieldValue::Type::Text:
    case FieldValue::Type::Enum: return std::string(value.asText());  // an enum by its name
    case FieldValue::Type::Absent: break;
  }
  return nullptr;
}

json toJsonValue(const SchemaField& field, schema::Event::Reader event, std::uint8_t hops) {
  return toJsonValue(field.read(event, hops));
}

// The fields --set may write: the header fields Bus::publish does not stamp.
const SchemaField* findSettable(std::span<const SchemaField> table, std::string_view name) {
  for (const auto& f : table) {
    if (f.name == name && f.write != nullptr) return &f;
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
  if (auto i = fields::parseInteger(text)) return *i;
  if (auto f = fields::parseNumber(text)) return *f;
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

// ---- reading JSON back ------------------------------------------------------------------------

// The keys `evrctl tap` adds to an event's object (where it came from and went): not fields.
constexpr std::array<std::string_view, 3> kTapKeys = {"from", "to", "adapters"};
constexpr std::string_view kTagsKey = "tags";
constexpr std::string_view kUserFieldsKey = "fields";

std::string jsonFieldError(std::string_view name, std::string_view reason) {
  return "field '" + std::string(name) + "': " + std::string(reason);
}

// The keys fromJson reads for `type`, for messages.
std::string jsonKeyList(EventType type) {
  std::string out;
  for (const auto& f : fields::headerFields()) {
    out += f.name;
    out += ", ";
  }
  out += kTagsKey;
  for (const auto& f : fields::payloadFields(type)) {
    out += ", ";
    out += f.name;
  }
  if (type == EventType::USER) {
    out += ", ";
    out += kUserFieldsKey;
  }
  return out;
}

// A JSON scalar as the table's FieldValue (text borrows from `value`). nullopt, with `reason`,
// for what no field takes: objects, arrays, and null except as a Number's NaN.
std::optional<FieldValue> fieldValueOf(const json& value, FieldKind kind, std::string& reason) {
  switch (value.type()) {
    case json::value_t::string: return FieldValue::text(value.get_ref<const std::string&>());
    case json::value_t::number_integer: return FieldValue::integer(value.get<std::int64_t>());
    case json::value_t::number_unsigned: return FieldValue::unsignedInteger(value.get<std::uint64_t>());
    case json::value_t::number_float: return FieldValue::number(value.get<double>());
    case json::value_t::boolean: return FieldValue::boolean(value.get<bool>());
    case json::value_t::null:
      if (kind == FieldKind::Number) return FieldValue::number(std::numeric_limits<double>::quiet_NaN());
      break;
    default: break;
  }
  // What the field takes, in JSON's words.
  const char* wanted = "a string";
  switch (kind) {
    case FieldKind::Number: wanted = "a number"; break;
    case FieldKind::Integer: wanted = "an integer"; break;
    case FieldKind::Bool: wanted = "true or false"; break;
    case FieldKind::Enum: wanted = "a name (string)"; break;
    case FieldKind::Text: break;
  }
  reason = value.dump() + " is not " + wanted;
  return std::nullopt;
}

std::optional<UserValue> userValueOf(const json& value) {
  switch (value.type()) {
    case json::value_t::string: return value.get<std::string>();
    case json::value_t::number_integer: return value.get<std::int64_t>();
    case json::value_t::number_unsigned: {
      const auto number = value.get<std::uint64_t>();
      if (!std::in_range<std::int64_t>(number)) return std::nullopt;
      return static_cast<std::int64_t>(number);
    }
    case json::value_t::number_float: return value.get<double>();
    case json::value_t::boolean: return value.get<bool>();
    default: return std::nullopt;
  }
}

// The event an object describes, every field written as given (SchemaField::restore), and its
// hops. nullopt with `error` naming the field.
std::optional<std::pair<EventBuilder, std::uint8_t>> readJsonEvent(const json& object,
                                                                   std::string& error) {
  if (!object.is_object()) {
    error = "not a JSON object";
    return std::nullopt;
  }
  const auto type_it = object.find("type");
  if (type_it == object.end()) {
    error = "field 'type' is missing";
    return std::nullopt;
  }
  if (!type_it->is_string()) {
    error = jsonFieldError("type", type_it->dump() + " is not an event type name");
    return std::nullopt;
  }
  const auto type = parseEventType(type_it->get_ref<const std::string&>());
  if (!type || !isKnownEventType(static_cast<std::uint8_t>(*type)) || *type == EventType::UNKNOWN) {
    error = jsonFieldError("type", "'" + type_it->get<std::string>() + "' is not one of " +
                                       eventTypeNameList());
    return std::nullopt;
  }

  std::optional<EventBuilder> built;
  if (*type == EventType::USER) {
    UserEvent user;
    if (const auto it = object.find(kUserFieldsKey); it != object.end()) {
      if (!it->is_object()) {
        error = jsonFieldError(kUserFieldsKey, it->dump() + " is not an object");
        return std::nullopt;
      }
      for (const auto& [key, value] : it->items()) {
        auto user_value = userValueOf(value);
        if (!user_value) {
          error = jsonFieldError(std::string(kUserFieldsKey) + "." + key,
                                 value.dump() + " is not text, an int64, a number or a bool");
          return std::nullopt;
        }
        user.fields.emplace_back(key, std::move(*user_value));
      }
    }
    built.emplace(build(user));
  } else {
    built.emplace(*type);
  }

  const auto header_table = fields::headerFields();
  const auto payload_table = fields::payloadFields(*type);
  const auto find = [](std::span<const SchemaField> table, std::string_view name) -> const SchemaField* {
    for (const auto& f : table) {
      if (f.name == name) return &f;
    }
    return nullptr;
  };
  auto root = built->root();
  std::uint8_t hops = 0;
  for (const auto& [key, value] : object.items()) {
    if (key == kUserFieldsKey && *type == EventType::USER) continue;
    if (std::find(kTapKeys.begin(), kTapKeys.end(), key) != kTapKeys.end()) continue;
    if (key == kTagsKey) {
      if (!value.is_object()) {
        error = jsonFieldError(kTagsKey, value.dump() + " is not an object");
        return std::nullopt;
      }
      for (const auto& [tag, text] : value.items()) {
        if (!text.is_string()) {
          error = jsonFieldError(std::string(kTagPrefix) + tag, text.dump() + " is not text");
          return std::nullopt;
        }
        built->tag(tag, text.get_ref<const std::string&>());
      }
      continue;
    }
    const SchemaField* f = find(header_table, key);
    if (f == nullptr) f = find(payload_table, key);
    if (f == nullptr) {
      error = "unknown field '" + key + "'; fields of " + std::string(eventTypeName(*type)) +
              ": " + jsonKeyList(*type);
      return std::nullopt;
    }
    std::string reason;
    const auto field_value = fieldValueOf(value, f->kind, reason);
    if (!field_value) {
      error = jsonFieldError(key, reason);
      return std::nullopt;
    }
    if (f->restore == nullptr) {  // hops: the link's, not the event's
      if (field_value->type() == FieldValue::Type::Unsigned && field_value->asUnsigned() <= 255) {
        hops = static_cast<std::uint8_t>(field_value->asUnsigned());
        continue;
      }
      if (field_value->type() == FieldValue::Type::Integer && field_value->asInteger() >= 0 &&
          field_value->asInteger() <= 255) {
        hops = static_cast<std::uint8_t>(field_value->asInteger());
        continue;
      }
      error = jsonFieldError(key, value.dump() + " is not an integer in [0, 255]");
      return std::nullopt;
    }
    if (!f->restore(root, *field_value, reason)) {
      error = jsonFieldError(key, reason);
      return std::nullopt;
    }
  }
  return std::pair<EventBuilder, std::uint8_t>{std::move(*built), hops};
}

}  // namespace

// ---- public ------------------------------------------------------------------------------------

std::vector<FieldInfo> payloadFields(EventType type) {
  std::vector<FieldInfo> out;
  for (const auto& f : fields::payloadFields(type)) out.push_back(FieldInfo{f.name, f.kind});
  return out;
}

std::string settableFieldList(EventType type) {
  std::string out;
  for (const auto& f : fields::headerFields()) {
    if (f.write == nullptr) continue;
    out += f.name;
    out += ", ";
  }
  out += kTagPrefix;
  out += "KEY";
  for (const auto& f : fields::payloadFields(type)) {
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
    const auto hops = event.hops();
    json out = json::object();
    for (const auto& f : fields::headerFields()) {
      out[std::string(f.name)] = toJsonValue(f, root, hops);
    }
    json tags = json::object();
    for (const auto tag : root.getTags()) tags[str(tag.getKey())] = str(tag.getValue());
    out["tags"] = std::move(tags);

    const auto payload_type = fields::payloadType(root);
    for (const auto& f : fields::payloadFields(payload_type)) {
      out[std::string(f.name)] = toJsonValue(f, root, hops);
    }
    if (payload_type == EventType::USER) {
      json fields = json::object();
      for (const auto field : root.getPayload().getUser().getFields()) {
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
    const auto payload_type = fields::payloadType(root);
    for (const auto& f : fields::payloadFields(payload_type)) {
      appendPair(out, f.name, toJsonValue(f, root, event.hops()));
    }
    if (payload_type == EventType::USER) {
      for (const auto field : root.getPayload().getUser().getFields()) {
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
  const auto header_table = fields::headerFields();
  const auto payload_table = fields::payloadFields(type);
  const auto is_header = [&](std::string_view name) {
    return name.starts_with(kTagPrefix) || findSettable(header_table, name) != nullptr;
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
    const SchemaField* f = findSettable(header_table, name);
    if (f == nullptr) f = findSettable(payload_table, name);
    if (f == nullptr) {
      error = fieldError(type, "unknown field '" + name + "'");
      return std::nullopt;
    }
    std::string reason;
    if (!f->write(root, FieldValue::text(text), reason)) {
      error = fieldError(type, "bad value for field '" + name + "': " + reason);
      return std::nullopt;
    }
  }
  for (const auto& [key, value] : tags) built->tag(key, value);
  return built;
}

std::optional<Event> tryFromJson(const json& object, std::string& error) {
  auto read = readJsonEvent(object, error);
  if (!read) return std::nullopt;
  return Event::fromBuilder(std::move(read->first), Origin::Router, read->second);
}

Event fromJson(const json& object) {
  std::string error;
  auto event = tryFromJson(object, error);
  if (!event) throw std::invalid_argument(error);
  return std::move(*event);
}

std::optional<EventBuilder> tryBuilderFromJson(const json& object, std::string& error) {
  auto read = readJsonEvent(object, error);
  if (!read) return std::nullopt;
  read->first.root().setCausationId(0);
  return std::move(read->first);
}

EventBuilder builderFromJson(const json& object) {
  std::string error;
  auto builder = tryBuilderFromJson(object, error);
  if (!builder) throw std::invalid_argument(error);
  return std::move(*builder);
}

std::vector<JsonLine> readJsonLines(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) throw std::invalid_argument(path.string() + ": cannot open: " + std::strerror(errno));
  std::vector<JsonLine> out;
  std::string text;
  std::size_t number = 0;
  while (std::getline(in, text)) {
    ++number;
    if (text.find_first_not_of(" \t\r") == std::string::npos) continue;
    try {
      out.push_back({number, json::parse(text)});
    } catch (const json::exception& e) {
      throw std::invalid_argument(path.string() + ":" + std::to_string(number) + ": not JSON: " + e.what());
    }
  }
  if (in.bad()) throw std::invalid_argument(path.string() + ": read error");
  return out;
}

EventBuilder fromFields(EventType type, const FieldValues& field_values) {
  std::string error;
  auto builder = tryFromFields(type, field_values, error);
  if (!builder) throw std::invalid_argument(error);
  return std::move(*builder);
}

}  // namespace evr
