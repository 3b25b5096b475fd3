// SweepBooks: the optimization sweep's book keeping (docs/optimization.md). One paper book per
// strategy of a parameter sweep, all kept in one process, and the performance of each.
//
// Where it sits: the sweep_book container (containers/sweep_book.cpp) hears the data feed's BARs
// and every strategy's SIGNALs, and hands them here one time step (one trading day) at a time.
// How the steps are formed (the client library's event-time ordering, docs/determinism.md) is the
// container's business; this class only needs each step's events, steps in increasing
// event time, and treats a step's events as a set: the result does not depend on their order
// within the step (bars are applied before signals; a strategy signals a symbol at most once
// per step, and a later repeat only replaces an earlier one).
//
// The trading model, the same for every book: a SIGNAL at the close sets the book's target for
// the symbol (LONG: `notional` worth of whole shares, FLAT: none); the book trades to its target
// at the symbol's next bar's open, paying slippage and commission; positions are marked at the
// close. Each book's PnL is recorded once per step, so every book's curve has one point per
// trading day and books are comparable.
//
// A value type; owner thread only (the bus's), like every handler.

#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/ledger.hpp"
#include "evr/event.hpp"
#include "evr/events.hpp"

namespace evr::examples {

struct SweepCosts {
  double notional = 25000;             // per LONG position
  double capital = 100000;             // what returns and Sharpe are measured against
  double slippage_bps = 5;             // paid on every fill, against the trade
  double commission_per_share = 0.005;
  double min_commission = 1;
};

struct SweepResult {
  std::string strategy;
  std::size_t days = 0;
  int signals = 0;
  int fills = 0;
  int round_trips = 0;
  double pnl = 0;           // after costs, positions at the last close
  double return_pct = 0;    // pnl / capital
  double sharpe = 0;        // annualised, daily PnL over capital
  double max_drawdown_pct = 0;  // of capital + PnL
};

class SweepBooks {
 public:
  // One book per name in `strategies`; signals from any other source are counted as ignored.
  SweepBooks(std::vector<std::string> strategies, SweepCosts costs);

  // One time step: every BAR and SIGNAL with event time `time_ns`. Other events are ignored.
  void onStep(std::int64_t time_ns, const std::vector<evr::Event>& events);
  // The same, for already decoded events (tests, and any other way of forming steps).
  void onStep(std::int64_t time_ns, const std::vector<evr::Bar>& bars,
              const std::vector<std::pair<std::string, evr::Signal>>& signals);

  // Results per strategy, in the order the strategies were given.
  std::vector<SweepResult> results() const;
  std::size_t days() const { return days_; }
  std::uint64_t ignored() const { return ignored_; }

 private:
  struct Book {
    std::string name;
    Ledger ledger;
    std::map<std::string, double> target;  // symbol -> target quantity sign (1 long, 0 flat)
    std::vector<double> pnl_curve;         // one point per step
    int signals = 0;
  };

  std::vector<Book> books_;
  std::map<std::string, std::size_t> index_;  // strategy -> books_ index
  SweepCosts costs_;
  Prices closes_;
  std::size_t days_ = 0;
  std::uint64_t ignored_ = 0;
};

// The results as CSV: a header line, then one line per strategy, fixed decimals (byte-stable).
std::string sweepResultsCsv(const std::vector<SweepResult>& results);

}  // namespace evr::examples
