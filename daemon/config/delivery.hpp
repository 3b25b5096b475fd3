// Delivery policies: what the router may do with an event a target cannot take yet
// (docs/delivery.md, section 2). The one place the policy enum and its names live; config
// (`event_communication.delivery`), the routing table's compiled lookup, `--check` and stats all
// use these.
//
// Stage 1 of YAML -> Config -> Topology -> RoutingTable -> relay loop: DeliveryConfig is the value
// config_loader reads, with marks; routing_table.hpp resolves it per (target, type).

#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/diagnostics.hpp"
#include "evr/event_types.hpp"

namespace evr {

// Lossless: queued until delivered (the relay loop holds sources when it lags). Conflate: a newer
// event with the same (source, type, symbol) replaces a queued one in place. DropOldest /
// DropNewest: a bounded queue that loses its oldest / refuses the newest event when full.
enum class DeliveryPolicy : std::uint8_t { Lossless, Conflate, DropOldest, DropNewest };

inline constexpr std::size_t kDeliveryPolicyCount = 4;

// "lossless", "conflate", "drop_oldest", "drop_newest": the spelling of config, --check and stats.
constexpr std::string_view policyName(DeliveryPolicy policy) {
  switch (policy) {
    case DeliveryPolicy::Lossless: return "lossless";
    case DeliveryPolicy::Conflate: return "conflate";
    case DeliveryPolicy::DropOldest: return "drop_oldest";
    case DeliveryPolicy::DropNewest: return "drop_newest";
  }
  return "lossless";
}

// Exact (lower-case) names only; nullopt for anything else.
constexpr std::optional<DeliveryPolicy> parsePolicy(std::string_view name) {
  for (std::size_t i = 0; i < kDeliveryPolicyCount; ++i) {
    const auto policy = static_cast<DeliveryPolicy>(i);
    if (policyName(policy) == name) return policy;
  }
  return std::nullopt;
}

// The four names, in enum order, for "expected one of" messages.
inline constexpr std::string_view kPolicyNames[] = {"lossless", "conflate", "drop_oldest",
                                                    "drop_newest"};

constexpr bool isLossy(DeliveryPolicy policy) {
  return policy == DeliveryPolicy::DropOldest || policy == DeliveryPolicy::DropNewest;
}

}  // namespace evr

namespace evr::config {

inline constexpr std::uint32_t kDefaultLossyLimit = 10000;

// A policy as written, with the place of its value.
struct PolicyValue {
  DeliveryPolicy policy = DeliveryPolicy::Lossless;
  Mark mark;
};

// Policies per event type ordinal (index 0, UNKNOWN, is never set).
using PolicyByType = std::array<std::optional<PolicyValue>, kEventTypeCount>;

// One entry of `delivery.targets`: overrides for one target container.
struct TargetDelivery {
  std::string name;
  Mark name_mark;                               // of the target's key
  std::optional<PolicyValue> default_policy;    // `default:`
  PolicyByType types;                           // `types:`
  std::optional<std::uint32_t> limit;           // `limit:`; the section's when absent
  Mark limit_mark;
};

// `event_communication.delivery`. Absent: every type lossless to every target.
struct DeliveryConfig {
  bool present = false;
  Mark mark;                                    // of the `delivery:` key
  PolicyValue default_policy;                   // `default:` (lossless)
  PolicyByType types;                           // `types:`
  std::uint32_t limit = kDefaultLossyLimit;     // `limit:`: bound of lossy events per target
  std::vector<TargetDelivery> targets;          // in file order, names unique
};

}  // namespace evr::config
