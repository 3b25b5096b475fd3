// What the performance tracker hands over at the end of a run, and the files it becomes:
//
//   summary.json   every figure below, machine-readable (tests read it)
//   metrics.md     the same as Markdown tables, for report.md
//   equity.csv     date,equity,cash,positions_value,drawdown_pct (one row per trading day)
//   pnl_by_portfolio.csv, pnl_by_strategy.csv   date, then cumulative PnL per portfolio/strategy
//   fills.csv      every fill in the order the tracker booked it
//
// Definitions (docs/demo.md): PnL includes commissions and slippage; Sharpe is annualised from
// daily returns (equity returns for the account; daily PnL changes over the account capital for a
// strategy or portfolio); max drawdown is the largest fall from a running peak; a trade is a
// round trip of one book line (portfolio, strategy, symbol) from flat back to flat.

#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "common/ledger.hpp"
#include "evr/events.hpp"

namespace evr::examples {

struct TrackerResults {
  double capital = 0;
  std::vector<std::int64_t> dates;  // one per trading day the tracker processed
  std::vector<double> equity;       // capital + PnL, at each day's close
  std::vector<double> cash;
  std::vector<double> positions_value;
  // Cumulative PnL per day, by portfolio and by strategy (zero before a name's first fill).
  std::map<std::string, std::vector<double>> pnl_by_portfolio;
  std::map<std::string, std::vector<double>> pnl_by_strategy;
  Ledger ledger;
  Prices closes;
  std::map<std::string, double> first_close;  // per symbol: buy-and-hold benchmark
  std::vector<evr::Fill> fills;
  std::uint64_t bars = 0;
  std::uint64_t statement_checks = 0;      // days compared with the broker's own account
  std::uint64_t statement_mismatches = 0;  // of those, days where the two disagree
};

nlohmann::json summarize(const TrackerResults& results);

// Writes the files above into `dir` (created if needed). Throws std::runtime_error naming the
// file it could not write.
void writeResults(const std::filesystem::path& dir, const TrackerResults& results, const nlohmann::json& summary);

}  // namespace evr::examples
