#include "technical.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace evr::examples {

namespace {
std::size_t checkedPeriod(std::size_t period) {
  if (period == 0) throw std::invalid_argument("an indicator period must be at least 1");
  return period;
}
}  // namespace

Sma::Sma(std::size_t period) : period_(checkedPeriod(period)) {}

std::optional<double> Sma::update(double value) {
  window_.push_back(value);
  sum_ += value;
  if (window_.size() > period_) {
    sum_ -= window_.front();
    window_.pop_front();
  }
  if (window_.size() == period_) value_ = sum_ / static_cast<double>(period_);
  return value_;
}

Ema::Ema(std::size_t period) : period_(checkedPeriod(period)), seed_(period) {}

std::optional<double> Ema::update(double value) {
  if (!value_) {
    value_ = seed_.update(value);
    return value_;
  }
  const double alpha = 2.0 / (static_cast<double>(period_) + 1.0);
  value_ = *value_ + alpha * (value - *value_);
  return value_;
}

Rsi::Rsi(std::size_t period) : period_(checkedPeriod(period)) {}

std::optional<double> Rsi::update(double close) {
  if (!last_close_) {
    last_close_ = close;
    return value_;
  }
  const double change = close - *last_close_;
  last_close_ = close;
  const double gain = std::max(change, 0.0);
  const double loss = std::max(-change, 0.0);
  const auto n = static_cast<double>(period_);
  ++changes_;
  if (changes_ <= period_) {  // the first average is a plain mean of `period` changes
    avg_gain_ += gain / n;
    avg_loss_ += loss / n;
    if (changes_ < period_) return value_;
  } else {
    avg_gain_ = (avg_gain_ * (n - 1) + gain) / n;
    avg_loss_ = (avg_loss_ * (n - 1) + loss) / n;
  }
  value_ = avg_loss_ == 0 ? (avg_gain_ == 0 ? 50.0 : 100.0) : 100.0 - 100.0 / (1.0 + avg_gain_ / avg_loss_);
  return value_;
}

Atr::Atr(std::size_t period) : period_(checkedPeriod(period)) {}

std::optional<double> Atr::update(double high, double low, double close) {
  double range = high - low;
  if (last_close_) range = std::max({range, std::abs(high - *last_close_), std::abs(low - *last_close_)});
  last_close_ = close;
  const auto n = static_cast<double>(period_);
  ++bars_;
  if (bars_ <= period_) {
    sum_ += range;
    if (bars_ == period_) value_ = sum_ / n;
    return value_;
  }
  value_ = (*value_ * (n - 1) + range) / n;
  return value_;
}

}  // namespace evr::examples
