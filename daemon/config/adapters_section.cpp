// `event_communication:` (docs/config.md): `pattern`, and `adapters`, each read here as far as
// every adapter goes (`type`, `name`, `events`, and its keys checked against its type's declared
// AdapterKeys) and then by its type's own parse function (config/adapter_yaml.hpp).

#include <algorithm>
#include <string>
#include <utility>

#include "config/adapter_yaml.hpp"
#include "config/sections.hpp"
#include "routing/adapter_registry.hpp"

namespace evr::config {
namespace {

constexpr std::string_view kEventCommunicationKeys[] = {"adapters", "delivery", "pattern"};
constexpr std::string_view kPatterns[] = {"flexible"};

class AdapterLoader {
 public:
  AdapterLoader(YamlReader& reader, const routing::AdapterRegistry& registry)
      : reader_(reader), registry_(registry) {}

  AdapterConfig load(const YAML::Node& node, std::size_t index, const Mark& mark) {
    Diagnostics& diagnostics = reader_.diagnostics();
    AdapterConfig adapter;
    adapter.mark = mark;
    adapter.type_mark = mark;
    adapter.name_mark = mark;
    AdapterYaml yaml(reader_, adapter, reader_.entries(node));
    const std::vector<YamlEntry>& keys = yaml.entries();

    // The type decides which other keys are allowed, wherever `type:` is in the mapping.
    const routing::AdapterKind* kind = nullptr;
    if (const YamlEntry* type_entry = yaml.find("type"); type_entry == nullptr) {
      diagnostics.error(mark, "adapter #" + std::to_string(index) + " has no 'type'; known types: " +
                                  join(registry_.typeNames()));
    } else if (const auto type = reader_.readString(*type_entry, "an adapter type")) {
      adapter.type = *type;
      adapter.type_mark = type_entry->value_mark;
      kind = registry_.find(adapter.type);
      if (kind == nullptr || kind->compile == nullptr || kind->parse == nullptr) {
        diagnostics.error(adapter.type_mark, registry_.unknownTypeMessage(adapter.type));
        kind = nullptr;
      }
    }

    // What every adapter has; the other keys only as far as the type declares them.
    for (std::size_t i = 0; i < keys.size(); ++i) {
      const YamlEntry& entry = keys[i];
      Diagnostics& reports = yaml.reportsOf(i);
      Diagnostics* previous = reader_.redirect(reports);
      if (entry.key == "name") {
        if (const auto name = reader_.readString(entry, "an adapter name")) {
          if (name->empty()) {
            reports.error(entry.value_mark, "an adapter name must not be empty");
          } else {
            adapter.name = *name;
            adapter.name_mark = entry.value_mark;
          }
        }
      } else if (entry.key == "events") {
        adapter.events = reader_.readEventTypes(entry, false);
      } else if (entry.key != "type" && kind != nullptr && kind->findKey(entry.key) == nullptr) {
        reader_.unknownKey(entry, "key", adapter.type + " adapter", kind->acceptedKeys());
      }
      // Unknown or missing type: its keys cannot be judged, and the type is reported already.
      reader_.redirect(*previous);
    }
    if (adapter.name.empty()) {
      adapter.name = (adapter.type.empty() ? std::string("adapter") : adapter.type) + "#" +
                     std::to_string(index);
    }

    if (kind != nullptr) adapter.settings = kind->parse(yaml);
    yaml.flush(diagnostics);
    if (kind != nullptr) checkDeclaredKeys(*kind, adapter, yaml);
    return adapter;
  }

 private:
  // The rules a type declares for its keys: required ones are there, lists are long enough.
  void checkDeclaredKeys(const routing::AdapterKind& kind, const AdapterConfig& adapter,
                         const AdapterYaml& yaml) {
    for (const auto& key : kind.keys) {
      const YamlEntry* entry = yaml.find(key.name);
      if (entry == nullptr) {
        if (key.required) {
          reader_.diagnostics().error(adapter.mark, routing::missingKeyMessage(adapter, key.name));
        }
        continue;
      }
      if (entry->value.IsSequence() && entry->value.size() < key.min_items) {
        reader_.diagnostics().error(
            entry->value_mark,
            routing::tooFewItemsMessage(adapter, key.name, key.min_items, entry->value.size()));
      }
    }
  }

  YamlReader& reader_;
  const routing::AdapterRegistry& registry_;
};

void loadAdapters(YamlReader& reader, const YamlEntry& entry,
                  const routing::AdapterRegistry& registry, Config& config) {
  if (!entry.value.IsSequence()) {
    reader.diagnostics().error(entry.value_mark,
                               "expected a list of adapters, got " + describe(entry.value));
    return;
  }
  AdapterLoader loader(reader, registry);
  std::size_t index = 0;
  for (const auto& item : entry.value) {
    ++index;
    const Mark mark = reader.itemMark(item, entry.value_mark);
    if (!item.IsMap()) {
      reader.diagnostics().error(mark, "expected an adapter (a map with 'type:'), got " +
                                           describe(item));
      continue;
    }
    config.adapters.push_back(loader.load(item, index, mark));
  }
}

}  // namespace

void loadEventCommunicationSection(YamlReader& reader, const YamlEntry& section,
                                   const routing::AdapterRegistry& registry, Config& config) {
  if (!section.value.IsMap()) {
    reader.diagnostics().error(section.value_mark,
                               "expected a map with 'pattern', 'adapters' and 'delivery' for "
                               "'event_communication', got " + describe(section.value));
    return;
  }
  for (const auto& entry : reader.entries(section.value)) {
    if (entry.key == "pattern") {
      if (const auto pattern = reader.readString(entry, "a pattern name")) {
        if (contains(kPatterns, *pattern)) {
          config.pattern = *pattern;
        } else {
          reader.diagnostics().error(entry.value_mark, "unknown pattern '" + *pattern +
                                                           "'; accepted: " + join(kPatterns));
        }
      }
    } else if (entry.key == "adapters") {
      config.adapters_present = true;
      config.adapters_mark = entry.key_mark;
      loadAdapters(reader, entry, registry, config);
    } else if (entry.key == "delivery") {
      loadDeliverySection(reader, entry, config.delivery);
    } else {
      reader.unknownKey(entry, "key", "event_communication", kEventCommunicationKeys);
    }
  }
}

}  // namespace evr::config
