// Technical indicators of the demo, one small value type each, fed one bar at a time:
// SMA and EMA of closes, RSI (Wilder's smoothing) and ATR (Wilder's smoothing of the true range).
//
// Shared by every container that needs them (the indicators hub publishes them as INDICATOR
// events; strategies, the classifier and risk compute their own from BARs so that their parameters
// stay on their own command line). Each `update` returns the new value, or nullopt while the
// indicator is still warming up. Pure arithmetic: same bars in, same values out.

#pragma once

#include <cstddef>
#include <deque>
#include <optional>

namespace evr::examples {

// Simple moving average of the last `period` values.
class Sma {
 public:
  explicit Sma(std::size_t period);
  std::optional<double> update(double value);
  std::optional<double> value() const { return value_; }

 private:
  std::size_t period_;
  std::deque<double> window_;
  double sum_ = 0;
  std::optional<double> value_;
};

// Exponential moving average, alpha = 2 / (period + 1), seeded with the SMA of the first
// `period` values.
class Ema {
 public:
  explicit Ema(std::size_t period);
  std::optional<double> update(double value);
  std::optional<double> value() const { return value_; }

 private:
  std::size_t period_;
  Sma seed_;
  std::optional<double> value_;
};

// Relative strength index, 0..100, Wilder's smoothing over `period` close-to-close changes.
class Rsi {
 public:
  explicit Rsi(std::size_t period);
  std::optional<double> update(double close);
  std::optional<double> value() const { return value_; }

 private:
  std::size_t period_;
  std::optional<double> last_close_;
  std::size_t changes_ = 0;
  double avg_gain_ = 0;
  double avg_loss_ = 0;
  std::optional<double> value_;
};

// Average true range, Wilder's smoothing over `period` bars.
class Atr {
 public:
  explicit Atr(std::size_t period);
  std::optional<double> update(double high, double low, double close);
  std::optional<double> value() const { return value_; }

 private:
  std::size_t period_;
  std::optional<double> last_close_;
  std::size_t bars_ = 0;
  double sum_ = 0;
  std::optional<double> value_;
};

}  // namespace evr::examples
