// Ledger: positions and cash per book line, where a line is (portfolio, strategy, symbol).
//
// One accounting model for every container that keeps positions: risk keeps its intended
// positions (to size and limit the next order), execution keeps the broker's account, and the
// performance tracker keeps the book it reports. Long and short quantities are signed; cash is
// the sum of trade cash flows (buying spends, selling receives, commissions cost); a line's PnL is
// its cash plus its position valued at the latest price; realized PnL uses average cost. A round
// trip is a line going from flat
// to a position and back to flat; its PnL is the line's cash change over that span.
//
// A value type: plain data, deterministic iteration (ordered maps).

#pragma once

#include <compare>
#include <map>
#include <string>

namespace evr::examples {

struct LineKey {
  std::string portfolio;
  std::string strategy;
  std::string symbol;
  auto operator<=>(const LineKey&) const = default;
};

struct Line {
  double quantity = 0;    // signed: > 0 long
  double cash = 0;        // trade cash flows, commissions included
  double commission = 0;
  double cost = 0;        // average-cost basis of the open position (signed like quantity)
  double realized = 0;    // PnL of what was closed, before commissions
  int fills = 0;
  int round_trips = 0;    // closed: flat -> position -> flat
  int winning_trips = 0;
  double trip_start_cash = 0;
};

using Prices = std::map<std::string, double>;  // symbol -> latest price

class Ledger {
 public:
  // Applies a trade of `signed_quantity` (> 0 buys) at `price`, paying `commission`.
  void trade(const LineKey& key, double signed_quantity, double price, double commission = 0);

  double quantity(const LineKey& key) const;
  const std::map<LineKey, Line>& lines() const { return lines_; }

  double cash() const;
  // Sum of quantity * price over every line (a symbol without a price counts 0).
  double positionsValue(const Prices& prices) const;
  // Sum of |quantity| * price: what an exposure limit bounds.
  double grossExposure(const Prices& prices) const;
  double realized() const;
  // Sum of quantity * price - cost basis: the PnL of open positions.
  double unrealized(const Prices& prices) const { return positionsValue(prices) - costBasis(); }
  double costBasis() const;
  // cash + positionsValue: the PnL of everything, for a ledger that starts with no cash.
  double pnl(const Prices& prices) const { return cash() + positionsValue(prices); }

 private:
  std::map<LineKey, Line> lines_;
};

// A line's PnL: its cash plus its position at `prices`.
double linePnl(const LineKey& key, const Line& line, const Prices& prices);

}  // namespace evr::examples
