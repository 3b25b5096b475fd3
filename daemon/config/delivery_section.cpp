// `event_communication.delivery` (docs/config.md, "delivery"; docs/delivery.md, section 2): the
// default policy, per-type policies, the bound of lossy queues, and per-target overrides. Names
// of targets are checked against the topology later (topology/topology.cpp), where the set of
// containers is known.

#include <limits>
#include <string>

#include "config/sections.hpp"

namespace evr::config {
namespace {

constexpr std::string_view kDeliveryKeys[] = {"default", "limit", "targets", "types"};
constexpr std::string_view kTargetKeys[] = {"default", "limit", "types"};
constexpr std::int64_t kMaxLimit = std::numeric_limits<std::uint32_t>::max();

std::optional<PolicyValue> readPolicy(YamlReader& reader, const YamlEntry& entry) {
  const auto name = reader.readString(entry, "a delivery policy");
  if (!name) return std::nullopt;
  const auto policy = parsePolicy(*name);
  if (!policy) {
    reader.diagnostics().error(entry.value_mark, "unknown delivery policy '" + *name +
                                                     "'; expected one of: " + join(kPolicyNames) +
                                                     didYouMean(*name, kPolicyNames));
    return std::nullopt;
  }
  return PolicyValue{*policy, entry.value_mark};
}

// `types: {TICK: conflate, ...}`: event type name -> policy.
void readTypes(YamlReader& reader, const YamlEntry& section, PolicyByType& types) {
  if (!section.value.IsMap()) {
    reader.diagnostics().error(section.value_mark,
                               "expected a map of event type -> policy for 'types', got " +
                                   describe(section.value));
    return;
  }
  for (const auto& entry : reader.entries(section.value)) {
    const auto type = reader.readEventType(YAML::Node(entry.key), entry.key_mark);
    const auto policy = readPolicy(reader, entry);
    if (!type || !policy) continue;
    auto& slot = types[static_cast<std::size_t>(*type)];
    if (slot) {
      // REGIME and CLASSIFICATION are one type: the key check above cannot see that.
      reader.diagnostics().error(entry.key_mark, "event type " +
                                                     std::string(eventTypeName(*type)) +
                                                     " is given twice (first at " +
                                                     lineColumn(slot->mark) + ")");
      continue;
    }
    slot = *policy;
  }
}

std::optional<std::uint32_t> readLimit(YamlReader& reader, const YamlEntry& entry) {
  const auto value = reader.readInteger(entry, 1, kMaxLimit);
  if (!value) return std::nullopt;
  return static_cast<std::uint32_t>(*value);
}

void readTarget(YamlReader& reader, const YamlEntry& section, DeliveryConfig& delivery) {
  if (!section.value.IsMap()) {
    reader.diagnostics().error(section.value_mark,
                               "expected a map with 'default', 'types' or 'limit' for target '" +
                                   section.key + "', got " + describe(section.value));
    return;
  }
  // Built in place: GCC 12 at -O2 warns (maybe-uninitialized, wrongly) when a TargetDelivery
  // local is moved into the vector.
  TargetDelivery& target = delivery.targets.emplace_back();
  target.name = section.key;
  target.name_mark = section.key_mark;
  for (const auto& entry : reader.entries(section.value)) {
    if (entry.key == "default") {
      target.default_policy = readPolicy(reader, entry);
    } else if (entry.key == "types") {
      readTypes(reader, entry, target.types);
    } else if (entry.key == "limit") {
      target.limit = readLimit(reader, entry);
      target.limit_mark = entry.value_mark;
    } else {
      reader.unknownKey(entry, "key", "delivery target '" + section.key + "'", kTargetKeys);
    }
  }
}

void readTargets(YamlReader& reader, const YamlEntry& section, DeliveryConfig& delivery) {
  if (!section.value.IsMap()) {
    reader.diagnostics().error(section.value_mark,
                               "expected a map of target container -> policies for 'targets', "
                               "got " + describe(section.value));
    return;
  }
  // entries() reports duplicate keys and returns the first occurrence only, so names are unique.
  for (const auto& entry : reader.entries(section.value)) readTarget(reader, entry, delivery);
}

}  // namespace

void loadDeliverySection(YamlReader& reader, const YamlEntry& section, DeliveryConfig& delivery) {
  delivery.present = true;
  delivery.mark = section.key_mark;
  delivery.default_policy.mark = section.key_mark;
  if (!section.value.IsMap()) {
    reader.diagnostics().error(section.value_mark,
                               "expected a map with 'default', 'types', 'limit' or 'targets' for "
                               "'delivery', got " + describe(section.value));
    return;
  }
  for (const auto& entry : reader.entries(section.value)) {
    if (entry.key == "default") {
      if (const auto policy = readPolicy(reader, entry)) delivery.default_policy = *policy;
    } else if (entry.key == "types") {
      readTypes(reader, entry, delivery.types);
    } else if (entry.key == "limit") {
      if (const auto limit = readLimit(reader, entry)) delivery.limit = *limit;
    } else if (entry.key == "targets") {
      readTargets(reader, entry, delivery);
    } else {
      reader.unknownKey(entry, "key", "delivery", kDeliveryKeys);
    }
  }
}

}  // namespace evr::config
