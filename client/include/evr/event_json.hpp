// Events as named fields: JSON output, a one-line text form, and events built from
// `field=value` text (evrctl send --set).
//
// Reads and writes fields through the event field table (evr/event_fields.hpp), the one list of
// field names, kinds, getters and setters: toJson, toText and fromFields all use it, and so do
// routing conditions, so a name means the same thing everywhere. The names are the schema's
// camelCase names in snake_case (`periodSeconds` -> `period_seconds`), as routing conditions use
// them after `event.` (docs/events.md).
//
// The names per type are in docs/events.md; payloadFields() and settableFieldList() list them
// from the table, and `evrctl send --help` prints them.
//
// Enums are upper-case names ("LONG", "SELL", "LIMIT"); parsing is case-insensitive. Ids are
// unsigned 64-bit JSON numbers (exact in nlohmann/Python; JavaScript doubles round them).

#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "evr/event.hpp"
#include "evr/event_fields.hpp"
#include "evr/event_types.hpp"

namespace evr {

// The whole event as one JSON object: header fields, then the payload's fields at top level.
// Throws std::invalid_argument for an empty (!valid()) or unreadable event.
nlohmann::json toJson(const Event& event);

// The reverse of toJson: the event one JSON object describes (a line of `evrctl record`,
// `evrctl recv --json`, `evrctl tap`), header as given: type, source, seq, id, times,
// correlation and causation ids, hops, tags, payload; Origin::Router, as if evrouterd had
// delivered it. `type` is required; any other key left out is its field's zero value. The keys
// tap adds (`from`, `to`, `adapters`) are ignored; any other unknown key is an error. JSON has no
// NaN: a Number field that is null (how toJson writes NaN) reads back as NaN.
// Throws std::invalid_argument naming the field: "field 'close': 'abc' is not a number".
Event fromJson(const nlohmann::json& object);
std::optional<Event> tryFromJson(const nlohmann::json& object, std::string& error);
// The same object as something to publish again (evrctl replay): type, payload, symbol,
// event_time, correlation_id and tags. causation_id is cleared (the publisher decides it); what
// Bus::publish stamps (source, seq, id, publish_time, source_instance) is checked and then
// stamped over.
EventBuilder builderFromJson(const nlohmann::json& object);
std::optional<EventBuilder> tryBuilderFromJson(const nlohmann::json& object, std::string& error);

// One line of a JSON-lines file (`evrctl record`'s format): its number (from 1) and its object.
struct JsonLine {
  std::size_t line;
  nlohmann::json object;
};
// Reads a JSON-lines file, one JSON object per line, blank lines skipped. Throws
// std::invalid_argument "FILE: cannot open: ..." or "FILE:LINE: not JSON: ..."; what the objects
// say is checked by fromJson / builderFromJson (callers prefix "FILE:LINE: ").
std::vector<JsonLine> readJsonLines(const std::filesystem::path& path);

// A compact human line: `BAR seq=3 source=data symbol=AAPL open=100.0 ... close=101.5`.
// Text values with spaces, quotes or `=` are JSON-quoted. Throws like toJson.
std::string toText(const Event& event);

using FieldValues = std::vector<std::pair<std::string, std::string>>;

// Builds an event of `type` from `name=value` pairs, converting each value to its field's type
// (numbers, integers, enums by name, text). Header fields: symbol, event_time, correlation_id,
// tag.KEY. USER events: `name` is the event name; any other key (or `field.KEY`) becomes a user
// field: an integer if it parses as one, else a float if it parses as a number, `true`/`false` a
// bool, else text. Later pairs override earlier ones.
// Throws std::invalid_argument for an unknown field or an unparsable value; the message names the
// field and lists the valid field names for `type`.
EventBuilder fromFields(EventType type, const FieldValues& field_values);
// Same, with the message in `error` instead of an exception.
std::optional<EventBuilder> tryFromFields(EventType type, const FieldValues& field_values,
                                          std::string& error);

// The table's kinds: Number, Integer, Text, Bool, Enum.
using FieldKind = fields::FieldKind;

struct FieldInfo {
  std::string_view name;
  FieldKind kind;
};

// The payload fields of `type`, in schema order (empty for UNKNOWN). USER lists only `name`.
std::vector<FieldInfo> payloadFields(EventType type);
// The names fromFields accepts for `type`, header fields first: "symbol, event_time, ...".
std::string settableFieldList(EventType type);

}  // namespace evr
