// AdapterYaml: one entry of `event_communication.adapters` as its type's parse function sees it.
//
// Stage 1 of YAML -> Config -> Topology -> RoutingTable -> relay loop. The adapters section
// (config/adapters_section.cpp) reads what every adapter has (`type`, `name`, `events`), checks
// the keys against the type's declared AdapterKeys (unknown keys, required keys, fewest list
// items: routing/adapter_registry.hpp), then calls the type's parse function with an AdapterYaml.
// The parse function reads its own keys through it into its own value (a `<Type>Config` in
// routing/<type>_adapter.hpp), which the loader keeps in AdapterConfig::settings.
//
// Whatever the parse function reports while reading a key takes that key's place in document
// order, so the messages of one adapter come out in file order whichever order its keys are
// read in; problems of the adapter as a whole (error()) follow those of its keys.

#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "config/config.hpp"
#include "config/diagnostics.hpp"
#include "config/yaml_reader.hpp"

namespace evr::config {

class AdapterYaml {
 public:
  // `entries`: the adapter's mapping, in document order.
  AdapterYaml(YamlReader& reader, const AdapterConfig& adapter, std::vector<YamlEntry> entries);

  // type, name and marks, for messages. The name is final (`name:` or "<type>#<n>").
  const AdapterConfig& adapter() const { return adapter_; }
  YamlReader& reader() const { return reader_; }

  bool has(std::string_view key) const { return indexOf(key) != kAbsent; }
  const YamlEntry* find(std::string_view key) const {
    const std::size_t index = indexOf(key);
    return index == kAbsent ? nullptr : &entries_[index];
  }

  // Runs `read(entry)` on the entry of `key` when the mapping has it and returns its result;
  // a value-initialised result when it does not. What `read` reports through reader() is kept
  // in the entry's place.
  template <typename Read>
  std::invoke_result_t<Read&, const YamlEntry&> read(std::string_view key, Read&& read) {
    const std::size_t index = indexOf(key);
    if (index == kAbsent) return {};
    const Redirect redirect(reader_, reports_[index]);
    return read(entries_[index]);
  }

  // The usual value shapes (YamlReader), absent when the mapping does not have the key.
  std::optional<Located<std::string>> containerName(std::string_view key);
  std::vector<Located<std::string>> containerNames(std::string_view key);
  // Not empty (an empty filter would route nothing).
  std::optional<Located<EventTypeSet>> eventTypes(std::string_view key);

  // A problem of the adapter as a whole, e.g. a combination of keys it lacks.
  void error(const Mark& mark, std::string message) { whole_.error(mark, std::move(message)); }

  // For the adapters section: reports through `diagnostics` what was found, in order.
  Diagnostics& reportsOf(std::size_t entry) { return reports_[entry]; }
  const std::vector<YamlEntry>& entries() const { return entries_; }
  void flush(Diagnostics& diagnostics) const;

 private:
  static constexpr std::size_t kAbsent = static_cast<std::size_t>(-1);

  class Redirect {
   public:
    Redirect(YamlReader& reader, Diagnostics& target)
        : reader_(reader), previous_(reader.redirect(target)) {}
    ~Redirect() { reader_.redirect(*previous_); }
    Redirect(const Redirect&) = delete;
    Redirect& operator=(const Redirect&) = delete;

   private:
    YamlReader& reader_;
    Diagnostics* previous_;
  };

  std::size_t indexOf(std::string_view key) const;

  YamlReader& reader_;
  const AdapterConfig& adapter_;
  std::vector<YamlEntry> entries_;
  std::vector<Diagnostics> reports_;  // one per entry
  Diagnostics whole_;
};

}  // namespace evr::config
