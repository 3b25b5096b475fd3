// The demo's risk profiles: how a book sizes a new position and how much it may hold.
//
//   quantity = floor(min(capital * risk_per_trade / (atr_multiple * ATR),   volatility sizing
//                        capital * max_position / price))                   position cap
//   then cut so that gross exposure (sum of |quantity| * close) stays <= capital * max_exposure.
//
// conservative risks 0.5% of capital per trade, caps a position at 10% and exposure at 30%;
// balanced 1% / 20% / 60%; aggressive 2% / 30% / 100%. Read by risk_manager.

#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace evr::examples {

struct RiskProfile {
  std::string name;
  double risk_per_trade = 0;  // fraction of capital lost if price moves atr_multiple * ATR against
  double max_position = 0;    // fraction of capital in one position
  double max_exposure = 0;    // gross exposure / capital
  double atr_multiple = 2;
};

// The named profile, or nullopt for an unknown name.
std::optional<RiskProfile> riskProfile(std::string_view name);

// Shares for a new position (0 when nothing fits): the formula above.
double positionSize(const RiskProfile& profile, double capital, double price, double atr, double gross_exposure);

}  // namespace evr::examples
