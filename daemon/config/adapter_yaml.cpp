#include "config/adapter_yaml.hpp"

namespace evr::config {

AdapterYaml::AdapterYaml(YamlReader& reader, const AdapterConfig& adapter,
                         std::vector<YamlEntry> entries)
    : reader_(reader),
      adapter_(adapter),
      entries_(std::move(entries)),
      reports_(entries_.size()) {}

std::size_t AdapterYaml::indexOf(std::string_view key) const {
  for (std::size_t i = 0; i < entries_.size(); ++i) {
    if (entries_[i].key == key) return i;
  }
  return kAbsent;
}

std::optional<Located<std::string>> AdapterYaml::containerName(std::string_view key) {
  return read(key, [&](const YamlEntry& entry) { return reader_.readContainerName(entry); });
}

std::vector<Located<std::string>> AdapterYaml::containerNames(std::string_view key) {
  return read(key, [&](const YamlEntry& entry) { return reader_.readContainerList(entry); });
}

std::optional<Located<EventTypeSet>> AdapterYaml::eventTypes(std::string_view key) {
  return read(key, [&](const YamlEntry& entry) { return reader_.readEventTypes(entry, false); });
}

void AdapterYaml::flush(Diagnostics& diagnostics) const {
  const auto copy = [&](const Diagnostics& from) {
    for (const auto& d : from.all()) {
      if (d.severity == Severity::Error) {
        diagnostics.error(d.mark, d.message);
      } else {
        diagnostics.warning(d.mark, d.message);
      }
    }
  };
  for (const auto& reports : reports_) copy(reports);
  copy(whole_);
}

}  // namespace evr::config
