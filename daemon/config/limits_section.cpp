// `router.limits:` (docs/config.md, "limits"): per-container inbound rate limits, a map by
// container name; the entry `default` applies to every name not listed. Each value is a map with
// `events_per_s` (0: unlimited) and `burst` (tokens; defaults to events_per_s, at least 1).
// Names the config does not declare are warned about by the topology (topology.cpp), which knows
// every container the adapters name.

#include <algorithm>
#include <limits>
#include <string>

#include "config/sections.hpp"
#include "evr/link_messages.hpp"

namespace evr::config {
namespace {

constexpr std::string_view kLimitKeys[] = {"burst", "events_per_s"};

std::optional<RateLimit> readLimit(YamlReader& reader, const YamlEntry& section) {
  Diagnostics& diagnostics = reader.diagnostics();
  if (!section.value.IsMap()) {
    diagnostics.error(section.value_mark,
                      "expected a map such as {events_per_s: 1000, burst: 100} for limits '" +
                          section.key + "', got " + describe(section.value));
    return std::nullopt;
  }
  constexpr std::int64_t kMaxU32 = std::numeric_limits<std::uint32_t>::max();
  RateLimit limit;
  bool ok = true;
  bool has_rate = false;
  std::optional<std::uint32_t> burst;
  std::optional<Mark> burst_mark;
  for (const auto& entry : reader.entries(section.value)) {
    if (entry.key == "events_per_s") {
      has_rate = true;
      if (const auto value = reader.readInteger(entry, 0, kMaxU32)) {
        limit.events_per_s = static_cast<std::uint32_t>(*value);
      } else {
        ok = false;
      }
    } else if (entry.key == "burst") {
      burst_mark = entry.key_mark;
      if (const auto value = reader.readInteger(entry, 1, kMaxU32)) {
        burst = static_cast<std::uint32_t>(*value);
      } else {
        ok = false;
      }
    } else {
      reader.unknownKey(entry, "key", "limits '" + section.key + "'", kLimitKeys);
    }
  }
  if (!has_rate) {
    diagnostics.error(section.key_mark, "limits '" + section.key +
                                            "' needs 'events_per_s' (0 for unlimited)");
    return std::nullopt;
  }
  if (!ok) return std::nullopt;
  if (limit.events_per_s == 0) {
    if (burst_mark) {
      diagnostics.error(*burst_mark, "limits '" + section.key +
                                         "': burst applies only with events_per_s above 0");
      return std::nullopt;
    }
    return limit;
  }
  limit.burst = burst.value_or(std::max<std::uint32_t>(limit.events_per_s, 1));
  return limit;
}

}  // namespace

void loadLimitsSection(YamlReader& reader, const YamlEntry& section, LimitsSettings& limits) {
  Diagnostics& diagnostics = reader.diagnostics();
  if (section.value.IsNull()) return;  // `limits:` with nothing: no limits
  if (!section.value.IsMap()) {
    diagnostics.error(section.value_mark,
                      "expected a map of container names to {events_per_s, burst} for 'limits', "
                      "got " + describe(section.value));
    return;
  }
  for (const auto& entry : reader.entries(section.value)) {
    if (entry.key != "default") {
      if (const std::string why = checkContainerName(entry.key); !why.empty()) {
        diagnostics.error(entry.key_mark, "limits: " + why);
        continue;
      }
    }
    const auto limit = readLimit(reader, entry);
    if (!limit) continue;
    if (entry.key == "default") {
      limits.default_limit = *limit;
    } else {
      limits.containers.emplace_back(Located<std::string>{entry.key, entry.key_mark}, *limit);
    }
  }
}

}  // namespace evr::config
