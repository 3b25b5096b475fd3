// `organization:` and the organization sections (docs/config.md, "organization"): the
// containers a config declares, with their roles, nesting and `produces:`.

#include <algorithm>
#include <string>
#include <utility>

#include "config/sections.hpp"
#include "evr/link_messages.hpp"

namespace evr::config {
namespace {

constexpr std::string_view kOrganizations[] = {"strategy_first", "classifier_first", "risk_first",
                                               "portfolio_first"};
// Sections an organization entry may nest, whatever its own section.
constexpr std::string_view kNestedSections[] = {"portfolios", "risk_profiles", "strategies"};
constexpr std::string_view kContainerKeys[] = {"name", "produces", "role"};
// Roles a `containers:` entry may give: the organization roles, and the infrastructure roles the
// generated default adapters look for (topology/organization.hpp).
constexpr std::string_view kRoles[] = {"classifier", "data",      "execution",
                                       "indicators", "performance_tracker", "portfolio",
                                       "risk",       "risk_manager", "strategy"};

std::string roleOfSection(std::string_view section) {
  if (section == "strategies") return "strategy";
  if (section == "classifiers") return "classifier";
  if (section == "risk_profiles") return "risk";
  if (section == "portfolios") return "portfolio";
  return "";
}

std::string sectionNoun(std::string_view section) {
  if (section == "strategies") return "strategies";
  if (section == "classifiers") return "classifiers";
  if (section == "risk_profiles") return "risk profiles";
  if (section == "portfolios") return "portfolios";
  return "containers";
}

// Reads the entries of one section (top-level or nested) into config.containers.
class SectionLoader {
 public:
  SectionLoader(YamlReader& reader, Config& config) : reader_(reader), config_(config) {}

  // `parent`: the nearest named entry this section is nested in ("" at the top level).
  void loadEntries(const YamlEntry& section, const std::string& parent, bool top_level) {
    if (section.value.IsNull()) return;  // `strategies:` with nothing in it
    if (!section.value.IsSequence()) {
      reader_.diagnostics().error(section.value_mark, "expected a list of " +
                                                          sectionNoun(section.key) + " for '" +
                                                          section.key + "', got " +
                                                          describe(section.value));
      return;
    }
    for (const auto& item : section.value) {
      loadEntry(section.key, item, reader_.itemMark(item, section.value_mark), parent, top_level);
    }
  }

 private:
  void loadEntry(const std::string& section, const YAML::Node& node, const Mark& mark,
                 const std::string& parent, bool top_level) {
    Diagnostics& diagnostics = reader_.diagnostics();
    ContainerDecl decl;
    decl.role = roleOfSection(section);
    decl.parent = parent;
    const bool strict = section == "containers";
    // Grouping levels of the spec's nested shape (a classifier's risk profiles, their
    // portfolios) may be unnamed; a top-level entry or a strategy must have a name.
    const bool name_required = top_level || section == "strategies";

    if (node.IsScalar()) {  // `- strategy_a`: a name alone
      if (const auto name = reader_.readContainerName(YamlEntry{section, node, mark, mark})) {
        decl.name = *name;
        declare(std::move(decl));
      }
      return;
    }
    if (!node.IsMap()) {
      diagnostics.error(mark, "expected a name or a map with 'name' in '" + section + "', got " +
                                  describe(node));
      return;
    }
    const std::vector<YamlEntry> keys = reader_.entries(node);
    bool named = false;
    for (const auto& entry : keys) {
      if (entry.key == "name") {
        if (auto name = reader_.readContainerName(entry)) {
          decl.name = std::move(*name);
          named = true;
        }
      } else if (entry.key == "produces") {
        decl.produces = reader_.readEventTypes(entry, true);
      } else if (strict && entry.key == "role") {
        if (const auto role = reader_.readString(entry, "a role")) {
          if (contains(kRoles, *role)) {
            decl.role = *role;
          } else {
            diagnostics.error(entry.value_mark, "unknown role '" + *role + "'; expected one of: " +
                                                    join(kRoles) + didYouMean(*role, kRoles));
          }
        }
      } else if (strict) {
        reader_.unknownKey(entry, "key", "containers", kContainerKeys);
      }
      // Other keys of organization entries are the container's own parameters (the spec's
      // "# ... classifier config"): evrouterd does not read them.
    }
    const bool name_missing = std::none_of(keys.begin(), keys.end(),
                                           [](const YamlEntry& e) { return e.key == "name"; });
    if (name_missing && name_required) {
      diagnostics.error(mark, "an entry of '" + section + "' needs a 'name'");
    }
    const std::string nested_parent = named ? decl.name.value : parent;
    if (named) declare(std::move(decl));
    if (strict) return;
    for (const auto& entry : keys) {
      if (contains(kNestedSections, entry.key)) loadEntries(entry, nested_parent, false);
    }
  }

  // Adds a declared container; a name declared twice, or one no container could join under, is
  // an error.
  void declare(ContainerDecl decl) {
    Diagnostics& diagnostics = reader_.diagnostics();
    if (const std::string why = checkContainerName(decl.name.value); !why.empty()) {
      diagnostics.error(decl.name.mark, "'" + decl.name.value + "': " + why);
      return;
    }
    const auto same = std::find_if(config_.containers.begin(), config_.containers.end(),
                                   [&](const ContainerDecl& other) {
                                     return other.name.value == decl.name.value;
                                   });
    if (same != config_.containers.end()) {
      diagnostics.error(decl.name.mark, "container '" + decl.name.value +
                                            "' is declared twice (first at " +
                                            lineColumn(same->name.mark) + ")");
      return;
    }
    config_.containers.push_back(std::move(decl));
  }

  YamlReader& reader_;
  Config& config_;
};

}  // namespace

void loadOrganizationName(YamlReader& reader, const YamlEntry& entry, Config& config) {
  const auto name = reader.readString(entry, "an organization name");
  if (!name) return;
  if (!contains(kOrganizations, *name)) {
    reader.diagnostics().error(entry.value_mark, "unknown organization '" + *name +
                                                     "'; expected one of: " + join(kOrganizations) +
                                                     didYouMean(*name, kOrganizations));
    return;
  }
  config.organization = Located<std::string>{*name, entry.value_mark};
}

void loadOrganizationSection(YamlReader& reader, const YamlEntry& section, Config& config) {
  SectionLoader(reader, config).loadEntries(section, "", true);
}

}  // namespace evr::config
