#include "config/yaml_reader.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <map>
#include <utility>

namespace evr::config {

std::string describe(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map:
      return "a map";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Scalar:
      return "'" + node.Scalar() + "'";
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      break;
  }
  return "nothing";
}

std::string lineColumn(const Mark& mark) {
  return std::to_string(mark.line) + ":" + std::to_string(mark.column);
}

bool contains(std::span<const std::string_view> list, std::string_view word) {
  return std::find(list.begin(), list.end(), word) != list.end();
}

std::string join(std::span<const std::string_view> words) {
  std::string out;
  for (const auto word : words) {
    if (!out.empty()) out += ", ";
    out += word;
  }
  return out;
}

YamlReader::YamlReader(std::string file, std::string_view text, Diagnostics& diagnostics)
    : file_(std::move(file)), text_(text), diagnostics_(&diagnostics) {
  // yaml-cpp's positions do not count a UTF-8 byte order mark.
  if (text_.starts_with("\xEF\xBB\xBF")) text_.remove_prefix(3);
}

Mark YamlReader::markOf(const YAML::Mark& mark) const {
  if (mark.is_null() || mark.line < 0 || mark.column < 0) return Mark{file_, 0, 0};
  return Mark{file_, static_cast<std::uint32_t>(mark.line) + 1,
              static_cast<std::uint32_t>(mark.column) + 1};
}

Mark YamlReader::textMark(const YAML::Node& node) const {
  Mark mark = markOf(node);
  const YAML::Mark raw = node.Mark();
  if (mark.line == 0 || raw.pos < 0 || static_cast<std::size_t>(raw.pos) >= text_.size()) {
    // No text to look at: yaml-cpp 0.7 tags quoted (and block) scalars "!", plain ones "?".
    if (node.Tag() == "!") ++mark.column;
    return mark;
  }
  std::size_t pos = static_cast<std::size_t>(raw.pos);
  const auto skip = [&](auto&& predicate) {
    while (pos < text_.size() && predicate(text_[pos])) {
      ++pos;
      ++mark.column;
    }
  };
  if (text_[pos] == '!' || text_[pos] == '&') {  // a tag or an anchor before the scalar
    skip([](char c) { return c != ' ' && c != '\t' && c != '\n' && c != '\r'; });
    skip([](char c) { return c == ' ' || c == '\t'; });
  }
  if (pos >= text_.size()) return mark;
  if (text_[pos] == '"' || text_[pos] == '\'') {
    ++mark.column;
  } else if (text_[pos] == '|' || text_[pos] == '>') {
    // A block scalar's text starts on the first non-blank line after the indicator line.
    std::size_t line_start = text_.find('\n', pos);
    std::uint32_t line = mark.line;
    while (line_start != std::string_view::npos) {
      ++line_start;
      ++line;
      std::size_t first = line_start;
      while (first < text_.size() && text_[first] == ' ') ++first;
      if (first < text_.size() && text_[first] != '\n' && text_[first] != '\r') {
        mark.line = line;
        mark.column = static_cast<std::uint32_t>(first - line_start) + 1;
        break;
      }
      line_start = text_.find('\n', line_start);
    }
  }
  return mark;
}

std::vector<YamlEntry> YamlReader::entries(const YAML::Node& map) {
  std::vector<YamlEntry> out;
  std::map<std::string, Mark> seen;
  // By value: yaml-cpp's iterator_value is a temporary, and `it->first` would dangle.
  for (const auto& pair : map) {
    const YAML::Node key = pair.first;
    const Mark key_mark = markOf(key);
    if (!key.IsScalar()) {
      diagnostics_->error(key_mark, "expected a key name, got " + describe(key));
      continue;
    }
    const auto [first, inserted] = seen.emplace(key.Scalar(), key_mark);
    if (!inserted) {
      diagnostics_->error(key_mark, "duplicate key '" + key.Scalar() + "' (first at " +
                                        lineColumn(first->second) + ")");
      continue;
    }
    const YAML::Node value = pair.second;
    out.push_back(YamlEntry{key.Scalar(), value, key_mark,
                            value.IsNull() ? key_mark : markOf(value)});
  }
  return out;
}

void YamlReader::unknownKey(const YamlEntry& entry, std::string_view what, std::string_view where,
                            std::span<const std::string_view> expected) {
  std::string message = "unknown " + std::string(what) + " '" + entry.key + "'";
  if (!where.empty()) message += " in " + std::string(where);
  message += "; expected one of: " + join(expected) + didYouMean(entry.key, expected);
  diagnostics_->error(entry.key_mark, std::move(message));
}

std::optional<std::string> YamlReader::readString(const YamlEntry& entry, std::string_view what) {
  if (!entry.value.IsScalar()) {
    diagnostics_->error(entry.value_mark, "expected " + std::string(what) + " for '" + entry.key +
                                              "', got " + describe(entry.value));
    return std::nullopt;
  }
  return entry.value.Scalar();
}

std::optional<std::int64_t> YamlReader::readInteger(const YamlEntry& entry, std::int64_t min,
                                                    std::int64_t max) {
  const std::string range = entry.key + " must be an integer in " + std::to_string(min) + ".." +
                            std::to_string(max) + ", got ";
  if (!entry.value.IsScalar()) {
    diagnostics_->error(entry.value_mark, range + describe(entry.value));
    return std::nullopt;
  }
  const std::string& text = entry.value.Scalar();
  std::string_view digits = text;
  if (!digits.empty() && digits.front() == '+') digits.remove_prefix(1);
  std::int64_t value = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size() ||
      value < min || value > max) {
    diagnostics_->error(entry.value_mark, range + text);
    return std::nullopt;
  }
  return value;
}

std::optional<std::vector<YAML::Node>> YamlReader::scalarOrList(const YamlEntry& entry,
                                                                const std::string& one,
                                                                const std::string& many) {
  std::vector<YAML::Node> items;
  if (entry.value.IsScalar()) {
    items.push_back(entry.value);
  } else if (entry.value.IsSequence()) {
    for (const auto& item : entry.value) items.push_back(item);
  } else {
    diagnostics_->error(entry.value_mark, "expected " + one + " or a list of " + many + " for '" +
                                              entry.key + "', got " + describe(entry.value));
    return std::nullopt;
  }
  return items;
}

std::optional<Located<std::string>> YamlReader::readContainerName(const YamlEntry& entry) {
  const auto name = readString(entry, "a container name");
  if (!name) return std::nullopt;
  if (name->empty()) {
    diagnostics_->error(entry.value_mark, "empty container name");
    return std::nullopt;
  }
  return Located<std::string>{*name, entry.value_mark};
}

std::vector<Located<std::string>> YamlReader::readContainerList(const YamlEntry& entry) {
  std::vector<Located<std::string>> out;
  if (!entry.value.IsSequence()) {
    diagnostics_->error(entry.value_mark, "expected a list of container names for '" + entry.key +
                                              "', got " + describe(entry.value));
    return out;
  }
  for (const auto& item : entry.value) {
    const Mark mark = itemMark(item, entry.value_mark);
    if (!item.IsScalar()) {
      diagnostics_->error(mark, "expected a container name, got " + describe(item));
    } else if (item.Scalar().empty()) {
      diagnostics_->error(mark, "empty container name");
    } else {
      out.push_back(Located<std::string>{item.Scalar(), mark});
    }
  }
  return out;
}

std::optional<Located<EventTypeSet>> YamlReader::readEventTypes(const YamlEntry& entry,
                                                                bool allow_empty) {
  const auto listed = scalarOrList(entry, "an event type", "event types");
  if (!listed) return std::nullopt;
  const std::vector<YAML::Node>& items = *listed;
  if (items.empty() && !allow_empty) {
    diagnostics_->error(entry.value_mark, "an empty '" + entry.key +
                                              "' filter would route nothing; leave '" +
                                              entry.key + "' out to route every type");
    return std::nullopt;
  }
  EventTypeSet types;
  bool ok = true;
  for (const auto& item : items) {
    const auto type = readEventType(item, itemMark(item, entry.value_mark));
    if (type) {
      types.add(*type);
    } else {
      ok = false;
    }
  }
  if (!ok) return std::nullopt;
  return Located<EventTypeSet>{types, entry.value_mark};
}

namespace {

std::vector<std::string_view> eventTypeNames() {
  std::vector<std::string_view> names;
  for (unsigned i = 1; i < kEventTypeCount; ++i) {
    names.push_back(eventTypeName(static_cast<EventType>(i)));
  }
  names.push_back("CLASSIFICATION");
  return names;
}

}  // namespace

std::optional<EventType> YamlReader::readEventType(const YAML::Node& item, const Mark& mark) {
  if (!item.IsScalar()) {
    diagnostics_->error(mark, "expected an event type name, got " + describe(item));
    return std::nullopt;
  }
  const auto type = parseEventType(item.Scalar());
  if (!type) {
    std::string upper = item.Scalar();
    std::transform(upper.begin(), upper.end(), upper.begin(),
                   [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    diagnostics_->error(mark, "unknown event type '" + item.Scalar() + "'; expected one of: " +
                                  eventTypeNameList() + " (CLASSIFICATION = REGIME)" +
                                  didYouMean(upper, eventTypeNames()));
  }
  return type;
}

}  // namespace evr::config
