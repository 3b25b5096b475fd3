#include "performance_report.hpp"

#include <fmt/format.h>

#include <cmath>
#include <fstream>
#include <stdexcept>

#include "common/csv_bars.hpp"
#include "common/performance.hpp"

namespace evr::examples {

namespace {

struct GroupStats {
  double commission = 0;
  int fills = 0, trades = 0, wins = 0, open = 0;
};

// Per-group figures from the ledger's lines: `group_of` picks portfolio or strategy.
template <typename GroupOf>
nlohmann::json groups(const TrackerResults& r, const std::map<std::string, std::vector<double>>& curves, GroupOf group_of) {
  std::map<std::string, GroupStats> stats;
  for (const auto& [key, line] : r.ledger.lines()) {
    auto& s = stats[group_of(key)];
    s.commission += line.commission;
    s.fills += line.fills;
    s.trades += line.round_trips;
    s.wins += line.winning_trips;
    s.open += line.quantity != 0 ? 1 : 0;
  }
  nlohmann::json list = nlohmann::json::array();
  for (const auto& [name, curve] : curves) {
    const auto& s = stats[name];
    list.push_back({{"name", name},
                    {"pnl", curve.empty() ? 0.0 : curve.back()},
                    {"sharpe", annualisedSharpe(dailyReturns(curve, r.capital))},
                    {"max_drawdown", maxDrawdown(curve).amount},
                    {"trades", s.trades},
                    {"winning_trades", s.wins},
                    {"fills", s.fills},
                    {"commission", s.commission},
                    {"open_positions", s.open}});
  }
  return list;
}

std::string money(double value) { return fmt::format("{:.2f}", value); }
std::string percent(double fraction) { return fmt::format("{:.2f}%", 100 * fraction); }
std::string winRate(int wins, int trades) { return trades == 0 ? "-" : percent(static_cast<double>(wins) / trades); }

std::string markdown(const nlohmann::json& s) {
  std::string md;
  md += "| capital | final equity | PnL | return | buy & hold | Sharpe | max drawdown | trades | win rate | fills | commissions |\n";
  md += "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n";
  md += fmt::format("| {} | {} | {} | {} | {} | {:.2f} | {} ({}) | {} | {} | {} | {} |\n", money(s["capital"]),
                    money(s["final_equity"]), money(s["pnl"]), percent(s["return"]), percent(s["buy_and_hold_return"]),
                    s["sharpe"].get<double>(), money(s["max_drawdown"]), percent(s["max_drawdown_fraction"]),
                    s["trades"].get<int>(), winRate(s["winning_trades"], s["trades"]), s["fills"].get<int>(),
                    money(s["commission"]));
  for (const auto& [title, key] : {std::pair{"portfolio", "portfolios"}, std::pair{"strategy", "strategies"}}) {
    md += fmt::format("\n| {} | PnL | Sharpe | max drawdown | trades | win rate | fills | commissions | open positions |\n", title);
    md += "|---|---:|---:|---:|---:|---:|---:|---:|---:|\n";
    for (const auto& g : s[key]) {
      md += fmt::format("| {} | {} | {:.2f} | {} | {} | {} | {} | {} | {} |\n", g["name"].get<std::string>(),
                        money(g["pnl"]), g["sharpe"].get<double>(), money(g["max_drawdown"]), g["trades"].get<int>(),
                        winRate(g["winning_trades"], g["trades"]), g["fills"].get<int>(), money(g["commission"]),
                        g["open_positions"].get<int>());
    }
  }
  return md;
}

std::ofstream create(const std::filesystem::path& path) {
  std::ofstream out(path);
  if (!out) throw std::runtime_error("cannot write " + path.string());
  return out;
}

void writeCurves(const std::filesystem::path& path, const TrackerResults& r,
                 const std::map<std::string, std::vector<double>>& curves) {
  auto out = create(path);
  out << "date";
  for (const auto& [name, curve] : curves) out << ',' << name;
  out << '\n';
  for (std::size_t i = 0; i < r.dates.size(); ++i) {
    out << isoDate(r.dates[i]);
    for (const auto& [name, curve] : curves) out << ',' << money(curve[i]);
    out << '\n';
  }
}

}  // namespace

nlohmann::json summarize(const TrackerResults& r) {
  const double final_equity = r.equity.empty() ? r.capital : r.equity.back();
  const auto drawdown = maxDrawdown(r.equity);
  int trades = 0, wins = 0, fills = 0;
  double commission = 0;
  nlohmann::json lines = nlohmann::json::array();
  for (const auto& [key, line] : r.ledger.lines()) {
    trades += line.round_trips;
    wins += line.winning_trips;
    fills += line.fills;
    commission += line.commission;
    lines.push_back({{"portfolio", key.portfolio}, {"strategy", key.strategy}, {"symbol", key.symbol},
                     {"quantity", line.quantity}, {"pnl", linePnl(key, line, r.closes)}, {"trades", line.round_trips},
                     {"fills", line.fills}, {"commission", line.commission}});
  }
  double buy_and_hold = 0;
  for (const auto& [symbol, first] : r.first_close) buy_and_hold += r.closes.at(symbol) / first - 1;
  if (!r.first_close.empty()) buy_and_hold /= static_cast<double>(r.first_close.size());
  return {{"capital", r.capital},
          {"final_equity", final_equity},
          {"pnl", final_equity - r.capital},
          {"return", final_equity / r.capital - 1},
          {"buy_and_hold_return", buy_and_hold},
          {"sharpe", annualisedSharpe(dailyReturns(r.equity))},
          {"max_drawdown", drawdown.amount},
          {"max_drawdown_fraction", drawdown.fraction},
          {"trades", trades},
          {"winning_trades", wins},
          {"fills", fills},
          {"commission", commission},
          {"days", r.dates.size()},
          {"bars", r.bars},
          {"first_date", r.dates.empty() ? "" : isoDate(r.dates.front())},
          {"last_date", r.dates.empty() ? "" : isoDate(r.dates.back())},
          {"statement_checks", r.statement_checks},
          {"statement_mismatches", r.statement_mismatches},
          {"portfolios", groups(r, r.pnl_by_portfolio, [](const LineKey& k) { return k.portfolio; })},
          {"strategies", groups(r, r.pnl_by_strategy, [](const LineKey& k) { return k.strategy; })},
          {"lines", lines}};
}

void writeResults(const std::filesystem::path& dir, const TrackerResults& r, const nlohmann::json& summary) {
  std::filesystem::create_directories(dir);
  create(dir / "summary.json") << summary.dump(2) << '\n';
  create(dir / "metrics.md") << markdown(summary);
  {
    auto out = create(dir / "equity.csv");
    out << "date,equity,cash,positions_value,drawdown_pct\n";
    double peak = r.capital;
    for (std::size_t i = 0; i < r.dates.size(); ++i) {
      peak = std::max(peak, r.equity[i]);
      out << isoDate(r.dates[i]) << ',' << money(r.equity[i]) << ',' << money(r.cash[i]) << ','
          << money(r.positions_value[i]) << ',' << fmt::format("{:.4f}", peak > 0 ? 100 * (r.equity[i] / peak - 1) : 0.0)
          << '\n';
    }
  }
  writeCurves(dir / "pnl_by_portfolio.csv", r, r.pnl_by_portfolio);
  writeCurves(dir / "pnl_by_strategy.csv", r, r.pnl_by_strategy);
  auto out = create(dir / "fills.csv");
  out << "date,order_id,portfolio,strategy,symbol,side,quantity,price,commission\n";
  for (const auto& f : r.fills) {
    out << isoDate(f.time_ns) << ',' << f.order_id << ',' << f.portfolio << ',' << f.strategy << ',' << f.symbol << ','
        << sideName(f.side) << ',' << f.quantity << ',' << fmt::format("{:.6f}", f.price) << ','
        << fmt::format("{:.6f}", f.commission) << '\n';
  }
}

}  // namespace evr::examples
