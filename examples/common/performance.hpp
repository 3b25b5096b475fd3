// Performance statistics of an equity or PnL curve sampled once per time step (one trading day):
// annualised Sharpe ratio and maximum drawdown. Pure functions; the performance tracker reports
// them per strategy, per portfolio and for the whole account (docs/demo.md defines each figure).

#pragma once

#include <vector>

namespace evr::examples {

inline constexpr double kTradingDaysPerYear = 252.0;

// Sharpe ratio of daily returns, annualised: mean / sample standard deviation * sqrt(252), with
// a zero risk-free rate. 0 when there are fewer than two returns or they do not vary.
double annualisedSharpe(const std::vector<double>& daily_returns);

// Daily returns of a curve: (v[i] - v[i-1]) / base when base > 0 (a PnL curve measured against
// the capital), else v[i] / v[i-1] - 1 (an equity curve).
std::vector<double> dailyReturns(const std::vector<double>& curve, double base = 0);

struct Drawdown {
  double amount = 0;    // largest fall from a running peak, in currency (>= 0)
  double fraction = 0;  // that fall divided by its peak (0 when the peak is not positive)
};

// The largest peak-to-trough fall of `curve` (the curve's first value is the first peak).
Drawdown maxDrawdown(const std::vector<double>& curve);

}  // namespace evr::examples
