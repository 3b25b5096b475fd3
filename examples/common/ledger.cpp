#include "ledger.hpp"

#include <algorithm>
#include <cmath>

namespace evr::examples {

namespace {
double priceOf(const Prices& prices, const std::string& symbol) {
  const auto it = prices.find(symbol);
  return it == prices.end() ? 0.0 : it->second;
}
}  // namespace

void Ledger::trade(const LineKey& key, double signed_quantity, double price, double commission) {
  Line& line = lines_[key];
  if (line.quantity == 0) line.trip_start_cash = line.cash;
  const bool reduces = line.quantity != 0 && (line.quantity > 0) != (signed_quantity > 0);
  if (reduces) {
    // Close at most the open quantity at average cost; any excess opens the other side.
    const double closed = std::min(std::abs(signed_quantity), std::abs(line.quantity));
    const double average = line.cost / line.quantity;
    const double direction = line.quantity > 0 ? 1.0 : -1.0;
    line.realized += (price - average) * closed * direction;
    line.cost -= average * closed * direction;
    const double opened = std::abs(signed_quantity) - closed;
    if (opened > 0) line.cost = -direction * opened * price;
  } else {
    line.cost += signed_quantity * price;
  }
  line.quantity += signed_quantity;
  if (std::abs(line.quantity) < 1e-9) {
    line.quantity = 0;
    line.cost = 0;
  }
  line.cash -= signed_quantity * price + commission;
  line.commission += commission;
  ++line.fills;
  if (line.quantity == 0) {
    ++line.round_trips;
    if (line.cash - line.trip_start_cash > 0) ++line.winning_trips;
  }
}

double Ledger::quantity(const LineKey& key) const {
  const auto it = lines_.find(key);
  return it == lines_.end() ? 0.0 : it->second.quantity;
}

double Ledger::cash() const {
  double total = 0;
  for (const auto& [key, line] : lines_) total += line.cash;
  return total;
}

double Ledger::positionsValue(const Prices& prices) const {
  double total = 0;
  for (const auto& [key, line] : lines_) total += line.quantity * priceOf(prices, key.symbol);
  return total;
}

double Ledger::grossExposure(const Prices& prices) const {
  double total = 0;
  for (const auto& [key, line] : lines_) total += std::abs(line.quantity) * priceOf(prices, key.symbol);
  return total;
}

double Ledger::realized() const {
  double total = 0;
  for (const auto& [key, line] : lines_) total += line.realized;
  return total;
}

double Ledger::costBasis() const {
  double total = 0;
  for (const auto& [key, line] : lines_) total += line.cost;
  return total;
}

double linePnl(const LineKey& key, const Line& line, const Prices& prices) {
  return line.cash + line.quantity * priceOf(prices, key.symbol);
}

}  // namespace evr::examples
