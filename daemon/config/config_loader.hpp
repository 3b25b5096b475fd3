// config_loader: YAML text -> Config values. Stage 1 of YAML -> Config -> Topology -> table.
//
// Checks shape and types only (unknown keys, duplicate keys, wrong types, bad event type names,
// value ranges, unknown adapter types, an adapter's required keys); names are resolved and
// cross-checked by topology compilation. This file reads the document and dispatches each
// top-level key to its section (config/sections.hpp: router_section.cpp, adapters_section.cpp,
// organization_section.cpp), all reading through config/yaml_reader.hpp. An adapter's own keys
// are read by its type (routing/<type>_adapter.cpp, found in routing/adapter_registry.hpp). The
// format is documented in docs/config.md.
//
// Never throws for bad input: every problem goes to `diagnostics` with file:line:col, and loading
// goes on to find more.

#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "config/config.hpp"
#include "config/diagnostics.hpp"

namespace evr::config {

// `file` is used for messages only. Returns a Config when there were no errors (warnings do not
// count, and only problems found by this call count).
std::optional<Config> loadConfigText(std::string_view yaml_text, const std::string& file,
                                     Diagnostics& diagnostics);

// Reads the file; an unreadable file is a diagnostic too.
std::optional<Config> loadConfigFile(const std::string& path, Diagnostics& diagnostics);

}  // namespace evr::config
