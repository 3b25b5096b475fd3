#include "performance.hpp"

#include <algorithm>
#include <cmath>

namespace evr::examples {

double annualisedSharpe(const std::vector<double>& daily_returns) {
  const auto n = daily_returns.size();
  if (n < 2) return 0;
  double mean = 0;
  for (double r : daily_returns) mean += r;
  mean /= static_cast<double>(n);
  double variance = 0;
  for (double r : daily_returns) variance += (r - mean) * (r - mean);
  variance /= static_cast<double>(n - 1);
  if (variance <= 0) return 0;
  return mean / std::sqrt(variance) * std::sqrt(kTradingDaysPerYear);
}

std::vector<double> dailyReturns(const std::vector<double>& curve, double base) {
  std::vector<double> returns;
  for (std::size_t i = 1; i < curve.size(); ++i) {
    if (base > 0) {
      returns.push_back((curve[i] - curve[i - 1]) / base);
    } else if (curve[i - 1] != 0) {
      returns.push_back(curve[i] / curve[i - 1] - 1);
    }
  }
  return returns;
}

Drawdown maxDrawdown(const std::vector<double>& curve) {
  Drawdown worst;
  if (curve.empty()) return worst;
  double peak = curve.front();
  for (double value : curve) {
    peak = std::max(peak, value);
    const double fall = peak - value;
    if (fall > worst.amount) worst = {fall, peak > 0 ? fall / peak : 0.0};
  }
  return worst;
}

}  // namespace evr::examples
