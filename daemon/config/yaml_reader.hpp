// YamlReader: how config_loader reads YAML nodes into config values, shared by its sections
// (config/sections.hpp) and by the adapter types' parse functions (config/adapter_yaml.hpp).
//
// Stage 1 of YAML -> Config -> Topology -> RoutingTable -> relay loop. It turns yaml-cpp marks
// into 1-based file:line:col, reads the value shapes the config format uses (a name, a list of
// container names, event types, a bounded integer), and reports every problem to a Diagnostics
// instead of throwing. Reading goes on after an error so that one run shows all of them.

#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"
#include "config/diagnostics.hpp"

namespace evr::config {

// One key of a mapping, with where its key and its value are.
struct YamlEntry {
  std::string key;
  YAML::Node value;
  Mark key_mark;
  Mark value_mark;  // an absent value (`key:`) is reported at the key
};

// "a map", "a list", "'text'", "nothing": what a node is, for "expected X, got Y".
std::string describe(const YAML::Node& node);
// "line:col", for "(first at 3:7)".
std::string lineColumn(const Mark& mark);
bool contains(std::span<const std::string_view> list, std::string_view word);
// "a, b, c"
std::string join(std::span<const std::string_view> words);

class YamlReader {
 public:
  // `text` is the document's text: it tells where a quoted or block scalar's text starts. It must
  // outlive the reader.
  YamlReader(std::string file, std::string_view text, Diagnostics& diagnostics);

  const std::string& file() const { return file_; }
  // Where problems go. An adapter's keys are read with their own target for a while
  // (config/adapter_yaml.hpp), so that they are reported in document order.
  Diagnostics& diagnostics() const { return *diagnostics_; }
  Diagnostics* redirect(Diagnostics& target) {
    Diagnostics* previous = diagnostics_;
    diagnostics_ = &target;
    return previous;
  }

  Mark markOf(const YAML::Mark& mark) const;
  Mark markOf(const YAML::Node& node) const { return markOf(node.Mark()); }
  // A list item's place; a null item (`- ` with nothing) has none, so it is the list's.
  Mark itemMark(const YAML::Node& item, const Mark& list_mark) const {
    return item.IsNull() ? list_mark : markOf(item);
  }
  // Where the text of a scalar starts: yaml-cpp marks a quoted scalar at its opening quote, a
  // tagged one at its tag and a block scalar at its `|` or `>`. Condition errors are reported at
  // an offset from this place, so it must be the text's first character.
  Mark textMark(const YAML::Node& node) const;

  // The entries of a mapping in document order. Reports keys that are not plain names and
  // duplicate keys (yaml-cpp 0.7 keeps both); only the first occurrence of a key is returned.
  std::vector<YamlEntry> entries(const YAML::Node& map);

  // "unknown <what> '<key>' [in <where>]; expected one of: ... (did you mean ...?)"
  void unknownKey(const YamlEntry& entry, std::string_view what, std::string_view where,
                  std::span<const std::string_view> expected);

  // A scalar; "expected <what> for '<key>', got ..." otherwise.
  std::optional<std::string> readString(const YamlEntry& entry, std::string_view what);
  // A decimal integer in [min, max], quoted or not.
  std::optional<std::int64_t> readInteger(const YamlEntry& entry, std::int64_t min,
                                          std::int64_t max);
  // A value that may be given as one scalar or as a list: `one` "an endpoint", `many`
  // "endpoints".
  std::optional<std::vector<YAML::Node>> scalarOrList(const YamlEntry& entry,
                                                      const std::string& one,
                                                      const std::string& many);

  // A non-empty container name.
  std::optional<Located<std::string>> readContainerName(const YamlEntry& entry);
  // A list of container names; returns the well-formed ones, the others are reported.
  std::vector<Located<std::string>> readContainerList(const YamlEntry& entry);
  // One event type name or a list of them. `allow_empty`: whether `[]` is a valid (empty) set;
  // for a routing filter it is not, since it would route nothing.
  std::optional<Located<EventTypeSet>> readEventTypes(const YamlEntry& entry, bool allow_empty);
  // One event type name (case-insensitive; CLASSIFICATION is REGIME); reported when bad.
  std::optional<EventType> readEventType(const YAML::Node& item, const Mark& mark);

 private:
  std::string file_;
  std::string_view text_;
  Diagnostics* diagnostics_;
};

}  // namespace evr::config
