// pnl_tracker: the performance tracker. FILL and the broker's PORTFOLIO from execution, BAR from
// data; in event-time order (Container::onSteps), per trading day: book the day's fills (they happened at
// the open), mark every position to the close, record equity and PnL per portfolio and strategy,
// and compare its account with the broker's. At the end it writes the results
// (common/performance_report.hpp) into --out and prints one summary line. Typically run as
// `performance_tracker`.
#include <cmath>
#include <cstdio>
#include <iostream>

#include "common/container.hpp"
#include "common/csv_bars.hpp"
#include "common/performance_report.hpp"

namespace {

// Appends today's value for every name, zero-padding names seen for the first time.
void record(std::map<std::string, std::vector<double>>& curves, const std::map<std::string, double>& today,
            std::size_t day) {
  for (const auto& [name, value] : today) {
    auto& curve = curves[name];
    curve.resize(day, 0.0);
    curve.push_back(value);
  }
  for (auto& [name, curve] : curves) curve.resize(day + 1, curve.empty() ? 0.0 : curve.back());
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"demo container: performance tracker (positions, cash, equity, PnL, Sharpe, drawdown, trades)"};
  evr::examples::ContainerArgs args;
  evr::examples::addContainerOptions(app, args, "performance_tracker");
  std::filesystem::path out;
  std::size_t progress_every = 25;
  evr::examples::TrackerResults results;
  results.capital = 100000;
  app.add_option("--capital", results.capital, "account capital: the sum of the books' capital")->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--out", out, "directory for summary.json, metrics.md, equity.csv, ...")->required();
  app.add_option("--progress-every", progress_every, "print a progress line every N trading days")->capture_default_str()
      ->check(CLI::PositiveNumber);
  CLI11_PARSE(app, argc, argv);

  evr::examples::Container container(args);
  auto& r = results;
  const auto on_step = [&](std::int64_t time, const std::vector<evr::Event>& events) {
    std::optional<evr::PortfolioUpdate> statement;
    for (const auto& event : events) {  // fills happened at the open
      if (const auto fill = evr::tryAs<evr::Fill>(event)) {
        const double sign = fill->side == evr::Side::Buy ? 1.0 : -1.0;
        r.ledger.trade({fill->portfolio, fill->strategy, fill->symbol}, sign * fill->quantity, fill->price, fill->commission);
        r.fills.push_back(*fill);
      } else if (const auto update = evr::tryAs<evr::PortfolioUpdate>(event)) {
        statement = update;
      }
    }
    for (const auto& event : events) {  // then the close
      if (const auto bar = evr::tryAs<evr::Bar>(event)) {
        r.closes[bar->symbol] = bar->close;
        r.first_close.try_emplace(bar->symbol, bar->close);
        ++r.bars;
      }
    }
    if (statement) {
      ++r.statement_checks;
      if (std::abs(statement->equity - r.ledger.pnl(r.closes)) > 1e-6 * r.capital) ++r.statement_mismatches;
    }
    const std::size_t day = r.dates.size();
    r.dates.push_back(time);
    r.cash.push_back(r.capital + r.ledger.cash());
    r.positions_value.push_back(r.ledger.positionsValue(r.closes));
    r.equity.push_back(r.cash.back() + r.positions_value.back());
    std::map<std::string, double> by_portfolio, by_strategy;
    for (const auto& [key, line] : r.ledger.lines()) {
      const double pnl = evr::examples::linePnl(key, line, r.closes);
      by_portfolio[key.portfolio] += pnl;
      by_strategy[key.strategy] += pnl;
    }
    record(r.pnl_by_portfolio, by_portfolio, day);
    record(r.pnl_by_strategy, by_strategy, day);
    if ((day + 1) % progress_every == 0) {
      std::printf("%s: progress bars=%llu days=%zu date=%s equity=%.2f\n", args.name.c_str(),
                  static_cast<unsigned long long>(r.bars), day + 1, evr::examples::isoDate(time).c_str(), r.equity.back());
      std::fflush(stdout);
    }
  };
  int code = 0;
  container.onSteps(on_step, [&](std::int64_t last) {
    const auto summary = evr::examples::summarize(r);
    try {
      evr::examples::writeResults(out, r, summary);
    } catch (const std::exception& e) {
      std::cerr << args.name << ": " << e.what() << std::endl;
      code = 1;
    }
    std::printf("%s: done bars=%llu days=%zu equity=%.2f return=%.2f%% sharpe=%.2f max_drawdown=%.2f%% trades=%d "
                "fills=%d statement_mismatches=%llu\n",
                args.name.c_str(), static_cast<unsigned long long>(r.bars), r.dates.size(),
                summary["final_equity"].get<double>(), 100 * summary["return"].get<double>(),
                summary["sharpe"].get<double>(), 100 * summary["max_drawdown_fraction"].get<double>(),
                summary["trades"].get<int>(), summary["fills"].get<int>(),
                static_cast<unsigned long long>(r.statement_mismatches));
    std::fflush(stdout);
    container.finish(last + evr::examples::kDayNs, "tracker finished");
  });
  const int run_code = container.run();
  return code != 0 ? code : run_code;
}
