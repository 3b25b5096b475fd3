// risk_manager: a book with a risk profile (common/risk_profile.hpp). Used for the risk
// profiles of classifier_first, the risk manager of risk_first, and the portfolios and the
// risk manager of portfolio_first.
//
//   BAR     latest close and ATR per symbol (sizing and exposure)
//   REGIME  with --regimes, whether this book is in charge of the symbol on this bar: only when
//           a REGIME for it arrived on this bar with a listed label (`any`: any label, for
//           books that a selective adapter sends only the regimes they are in charge of)
//   SIGNAL  a strategy's target: LONG opens a position sized by the profile (when in charge),
//           FLAT, or losing charge, closes it -> ORDER (market, filled at the next open)
//   ORDER   from a portfolio: vetted against the exposure limit (buys cut to fit, sells capped at
//           what was let through) -> ORDER
// Every bar it publishes its book as a PORTFOLIO event (positions at the orders' reference
// prices: a paper book, not fills). END_OF_DATA on when its inputs have ended.
#include <cmath>
#include <iostream>
#include <map>
#include <set>

#include "common/container.hpp"
#include "common/csv_bars.hpp"
#include "common/ledger.hpp"
#include "common/risk_profile.hpp"
#include "common/technical.hpp"

namespace {

using evr::examples::LineKey;

struct Counts {
  std::uint64_t orders = 0, cut = 0, refused = 0, vetted = 0;
};

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"demo container: risk profile book: SIGNAL -> sized ORDER, ORDER -> vetted ORDER, PORTFOLIO per bar"};
  evr::examples::ContainerArgs args;
  evr::examples::addContainerOptions(app, args, "risk_manager");
  std::string profile_name = "balanced";
  double capital = 100000;
  std::size_t atr_period = 14;
  std::vector<std::string> regimes;
  app.add_option("--profile", profile_name, "conservative, balanced or aggressive")->capture_default_str();
  app.add_option("--capital", capital, "capital of this book")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--atr-period", atr_period, "ATR period for sizing")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--regimes", regimes, "trade only on bars whose REGIME is one of these (`any`: any REGIME)")
      ->delimiter(',');
  CLI11_PARSE(app, argc, argv);
  const auto profile = evr::examples::riskProfile(profile_name);
  if (!profile) {
    std::cerr << args.name << ": unknown --profile '" << profile_name << "' (conservative, balanced, aggressive)" << std::endl;
    return 1;
  }
  const bool gated = !regimes.empty();
  const bool any_regime = gated && regimes == std::vector<std::string>{"any"};

  evr::examples::Container container(args);
  evr::examples::Prices closes;
  std::map<std::string, evr::examples::Atr> atrs;
  evr::examples::Ledger book;    // what this book's own orders hold
  evr::examples::Ledger passed;  // what vetted orders let through (portfolio_first)
  Counts counts;

  const auto publishOrder = [&](const LineKey& key, const std::string& order_id, double quantity, std::int64_t time,
                                const evr::Event& cause) {
    container.bus().publish(evr::Order{.symbol = key.symbol, .time_ns = time, .order_id = order_id,
                                       .strategy = key.strategy, .portfolio = key.portfolio,
                                       .side = quantity > 0 ? evr::Side::Buy : evr::Side::Sell,
                                       .order_kind = evr::OrderKind::Market, .quantity = std::abs(quantity)},
                            cause);
  };
  const auto onSignal = [&](const evr::Signal& signal, bool in_charge, const evr::Event& cause) {
    const LineKey key{args.name, signal.strategy, signal.symbol};
    const double held = book.quantity(key);
    const bool want = signal.direction == evr::Direction::Long && in_charge;
    const double price = closes[signal.symbol];
    double quantity = 0;
    if (want && held == 0) {
      const auto atr = atrs.at(signal.symbol).value();
      if (!atr) return;  // not enough bars to size yet
      const double unconstrained = evr::examples::positionSize(*profile, capital, price, *atr, 0);
      quantity = evr::examples::positionSize(*profile, capital, price, *atr, book.grossExposure(closes));
      if (quantity < unconstrained) ++(quantity < 1 ? counts.refused : counts.cut);
      if (quantity < 1) return;
    } else if (!want && held > 0) {
      quantity = -held;
    } else {
      return;
    }
    book.trade(key, quantity, price);
    publishOrder(key, args.name + "-" + std::to_string(++counts.orders), quantity, signal.time_ns, cause);
  };
  const auto onOrder = [&](const evr::Order& order, const evr::Event& cause) {
    const LineKey key{order.portfolio, order.strategy, order.symbol};
    double quantity = order.side == evr::Side::Buy ? order.quantity : -order.quantity;
    const double price = closes[order.symbol];
    if (quantity > 0) {
      const double room = std::max(0.0, capital * profile->max_exposure - passed.grossExposure(closes));
      const double fits = price > 0 ? std::floor(room / price) : 0;
      if (fits < quantity) ++(fits < 1 ? counts.refused : counts.cut);
      quantity = std::min(quantity, fits);
    } else {
      quantity = -std::min(-quantity, passed.quantity(key));
    }
    if (std::abs(quantity) < 1) return;
    passed.trade(key, quantity, price);
    ++counts.vetted;
    publishOrder(key, order.order_id, quantity, order.time_ns, cause);
  };

  const auto on_step = [&](std::int64_t time, const std::vector<evr::Event>& events) {
    std::set<std::string> in_charge;
    for (const auto& event : events) {
      if (const auto bar = evr::tryAs<evr::Bar>(event)) {
        closes[bar->symbol] = bar->close;
        atrs.try_emplace(bar->symbol, atr_period).first->second.update(bar->high, bar->low, bar->close);
      } else if (const auto regime = evr::tryAs<evr::Regime>(event)) {
        if (any_regime || std::find(regimes.begin(), regimes.end(), regime->regime) != regimes.end()) {
          in_charge.insert(regime->symbol);
        }
      }
    }
    for (const auto& event : events) {
      if (const auto signal = evr::tryAs<evr::Signal>(event)) {
        if (closes.contains(signal->symbol)) onSignal(*signal, !gated || in_charge.contains(signal->symbol), event);
      } else if (const auto order = evr::tryAs<evr::Order>(event)) {
        onOrder(*order, event);
      }
    }
    const double cash = capital + book.cash() + passed.cash();
    const double positions = book.positionsValue(closes) + passed.positionsValue(closes);
    container.bus().publish(evr::PortfolioUpdate{
        .time_ns = time, .portfolio = args.name, .cash = cash, .equity = cash + positions,
        .positions_value = positions, .realized_pnl = book.realized() + passed.realized(),
        .unrealized_pnl = book.unrealized(closes) + passed.unrealized(closes)});
  };
  container.onSteps(on_step, [&](std::int64_t last) {
    std::cout << args.name << ": done profile=" << profile->name << " orders=" << counts.orders
              << " vetted=" << counts.vetted << " cut_by_limits=" << counts.cut << " refused_by_limits=" << counts.refused
              << std::endl;
    container.finish(last + evr::examples::kDayNs, args.name + " finished");
  });
  return container.run();
}
