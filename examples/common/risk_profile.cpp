#include "risk_profile.hpp"

#include <algorithm>
#include <cmath>

namespace evr::examples {

std::optional<RiskProfile> riskProfile(std::string_view name) {
  if (name == "conservative") return RiskProfile{"conservative", 0.005, 0.10, 0.30};
  if (name == "balanced") return RiskProfile{"balanced", 0.01, 0.20, 0.60};
  if (name == "aggressive") return RiskProfile{"aggressive", 0.02, 0.30, 1.00};
  return std::nullopt;
}

double positionSize(const RiskProfile& profile, double capital, double price, double atr, double gross_exposure) {
  if (price <= 0 || atr <= 0) return 0;
  const double by_risk = capital * profile.risk_per_trade / (profile.atr_multiple * atr);
  const double by_position = capital * profile.max_position / price;
  const double room = std::max(0.0, capital * profile.max_exposure - gross_exposure) / price;
  return std::floor(std::min({by_risk, by_position, room}));
}

}  // namespace evr::examples
