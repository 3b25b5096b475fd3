#include "sweep_books.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "common/performance.hpp"

namespace evr::examples {

SweepBooks::SweepBooks(std::vector<std::string> strategies, SweepCosts costs) : costs_(costs) {
  books_.reserve(strategies.size());
  for (auto& name : strategies) {
    if (index_.count(name) != 0) continue;
    index_.emplace(name, books_.size());
    Book book;
    book.name = std::move(name);
    books_.push_back(std::move(book));
  }
}

void SweepBooks::onStep(std::int64_t time_ns, const std::vector<evr::Event>& events) {
  std::vector<evr::Bar> bars;
  std::vector<std::pair<std::string, evr::Signal>> signals;
  for (const auto& event : events) {
    if (auto bar = evr::tryAs<evr::Bar>(event)) {
      bars.push_back(std::move(*bar));
    } else if (auto signal = evr::tryAs<evr::Signal>(event)) {
      signals.emplace_back(std::string(event.source()), std::move(*signal));
    } else {
      ++ignored_;
    }
  }
  onStep(time_ns, bars, signals);
}

void SweepBooks::onStep(std::int64_t, const std::vector<evr::Bar>& bars,
                        const std::vector<std::pair<std::string, evr::Signal>>& signals) {
  // Bars in symbol order, so the step's arrival order cannot change the books' arithmetic.
  std::vector<const evr::Bar*> sorted;
  for (const auto& bar : bars) sorted.push_back(&bar);
  std::stable_sort(sorted.begin(), sorted.end(), [](const auto* a, const auto* b) { return a->symbol < b->symbol; });

  // The open: every book trades to the target its strategy set at an earlier close.
  for (const auto* bar : sorted) {
    for (auto& book : books_) {
      const auto target = book.target.find(bar->symbol);
      if (target == book.target.end()) continue;
      const LineKey key{"sweep", book.name, bar->symbol};
      const double held = book.ledger.quantity(key);
      double trade = 0;
      if (target->second > 0 && held == 0) {
        trade = std::floor(costs_.notional / bar->open);
      } else if (target->second == 0 && held != 0) {
        trade = -held;
      }
      if (trade == 0) continue;
      const double slip = bar->open * costs_.slippage_bps / 10000.0;
      const double price = trade > 0 ? bar->open + slip : bar->open - slip;
      const double commission = std::max(costs_.min_commission, costs_.commission_per_share * std::fabs(trade));
      book.ledger.trade(key, trade, price, commission);
    }
  }
  // The close: marks, then the signals the strategies gave on it.
  for (const auto* bar : sorted) closes_[bar->symbol] = bar->close;
  for (const auto& [source, signal] : signals) {
    const auto it = index_.find(source);
    if (it == index_.end()) {
      ++ignored_;
      continue;
    }
    auto& book = books_[it->second];
    book.target[signal.symbol] = signal.direction == evr::Direction::Long ? 1.0 : 0.0;  // long only
    ++book.signals;
  }
  if (sorted.empty()) return;  // not a trading day: nothing to mark
  ++days_;
  for (auto& book : books_) book.pnl_curve.push_back(book.ledger.pnl(closes_));
}

std::vector<SweepResult> SweepBooks::results() const {
  std::vector<SweepResult> results;
  for (const auto& book : books_) {
    SweepResult r;
    r.strategy = book.name;
    r.days = book.pnl_curve.size();
    r.signals = book.signals;
    for (const auto& [key, line] : book.ledger.lines()) {
      r.fills += line.fills;
      r.round_trips += line.round_trips;
    }
    std::vector<double> curve{0.0};
    curve.insert(curve.end(), book.pnl_curve.begin(), book.pnl_curve.end());
    std::vector<double> equity;
    for (const double pnl : curve) equity.push_back(costs_.capital + pnl);
    r.pnl = curve.back();
    r.return_pct = r.pnl / costs_.capital * 100.0;
    r.sharpe = annualisedSharpe(dailyReturns(curve, costs_.capital));
    r.max_drawdown_pct = maxDrawdown(equity).fraction * 100.0;
    results.push_back(std::move(r));
  }
  return results;
}

std::string sweepResultsCsv(const std::vector<SweepResult>& results) {
  std::string text = "strategy,days,signals,fills,trades,pnl,return_pct,sharpe,max_drawdown_pct\n";
  char line[256];
  for (const auto& r : results) {
    // -0.0 prints as "-0.00": normalise so equal results print equal.
    const auto z = [](double v) { return v == 0 ? 0.0 : v; };
    std::snprintf(line, sizeof line, "%s,%zu,%d,%d,%d,%.2f,%.4f,%.4f,%.4f\n", r.strategy.c_str(), r.days, r.signals,
                  r.fills, r.round_trips, z(r.pnl), z(r.return_pct), z(r.sharpe), z(r.max_drawdown_pct));
    text += line;
  }
  return text;
}

}  // namespace evr::examples
