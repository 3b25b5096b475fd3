// The sections of a config file, each read by its own file under config/: `router:`
// (router_section.cpp), `event_communication:` and its adapters (adapters_section.cpp),
// `organization:` and the organization sections (organization_section.cpp). config_loader.cpp
// reads the document and hands each top-level key to one of these. Internal to config/.

#pragma once

#include "config/config.hpp"
#include "config/yaml_reader.hpp"

namespace evr::routing {
class AdapterRegistry;
}

namespace evr::config {

// `router:`: how the daemon runs.
void loadRouterSection(YamlReader& reader, const YamlEntry& section, RouterSettings& router);

// `router.security:` and `router.permissions:` (security_section.cpp, docs/security.md).
void loadSecurity(YamlReader& reader, const YamlEntry& section, RouterSettings& router);
void loadPermissions(YamlReader& reader, const YamlEntry& section, RouterSettings& router);

// A path written in the config file: absolute as is, relative to the file's directory.
std::string resolveAgainstConfig(const std::string& config_file, const std::string& path);
// `router.limits:` (config/limits_section.cpp): per-container inbound rate limits.
void loadLimitsSection(YamlReader& reader, const YamlEntry& section, LimitsSettings& limits);

// `event_communication:`: `pattern` and `adapters`; each adapter's own keys are read by its
// type's parse function, found in `registry`.
void loadEventCommunicationSection(YamlReader& reader, const YamlEntry& section,
                                   const routing::AdapterRegistry& registry, Config& config);

// `event_communication.delivery`: delivery policies (config/delivery.hpp).
void loadDeliverySection(YamlReader& reader, const YamlEntry& section, DeliveryConfig& delivery);

// `organization: <name>`.
void loadOrganizationName(YamlReader& reader, const YamlEntry& entry, Config& config);
// `strategies:`, `classifiers:`, `risk_profiles:`, `portfolios:`, `containers:`: the containers
// the config declares.
void loadOrganizationSection(YamlReader& reader, const YamlEntry& section, Config& config);

}  // namespace evr::config
