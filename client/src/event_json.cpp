// Events as named fields (see evr/event_json.hpp). Every field comes from the event field table
// (evr/event_fields.hpp): JSON, text lines and --set all go through it.

#include "evr/event_json.hpp"

#include <kj/exception.h>

#include <span>
#include <stdexcept>

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

EventBuilder fromFields(EventType type, const FieldValues& field_values) {
  std::string error;
  auto builder = tryFromFields(type, field_values, error);
  if (!builder) throw std::invalid_argument(error);
  return std::move(*builder);
}

}  // namespace evr
