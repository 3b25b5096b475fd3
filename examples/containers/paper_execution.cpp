// paper_execution: a simulated broker. ORDER in (or SIGNAL with --signal-notional), FILL out.
//
// A market order decided on bar t fills at the open of the symbol's next bar, moved against the
// order by --slippage-bps, paying max(--min-commission, --commission-per-share * shares). Orders
// still open when the data ends are cancelled (and counted). Every bar it publishes the broker
// account as a PORTFOLIO event (cash flows and positions at the close, all books together).
//
// With --signal-notional N (Strategy-First, where strategies talk to execution directly) a
// strategy's LONG target buys floor(N / signal price) shares when it holds none, and FLAT sells
// what it holds; FILL.portfolio is then the strategy's name.
#include <cmath>
#include <iostream>
#include <map>

#include "common/container.hpp"
#include "common/csv_bars.hpp"
#include "common/ledger.hpp"

int main(int argc, char** argv) {
  CLI::App app{"demo container: simulated broker, fills orders at the next bar's open with slippage and commission"};
  evr::examples::ContainerArgs args;
  evr::examples::addContainerOptions(app, args, "execution");
  double slippage_bps = 5, per_share = 0.005, min_commission = 1.0, signal_notional = 0;
  app.add_option("--slippage-bps", slippage_bps, "basis points against the order")->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  app.add_option("--commission-per-share", per_share, "commission per share")->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  app.add_option("--min-commission", min_commission, "minimum commission per fill")->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  app.add_option("--signal-notional", signal_notional, "trade SIGNALs directly, this much per position (0: orders only)")
      ->capture_default_str()->check(CLI::NonNegativeNumber);
  CLI11_PARSE(app, argc, argv);

  evr::examples::Container container(args);
  // symbol -> orders waiting for its next bar, each with the event it came from (the FILL's cause)
  std::map<std::string, std::vector<std::pair<evr::Order, evr::Event>>> pending;
  evr::examples::Prices closes;
  evr::examples::Ledger account;  // the broker's view: every fill
  evr::examples::Ledger targets;  // --signal-notional: what signals asked for
  std::uint64_t fills = 0, signal_orders = 0;
  double commissions = 0;

  const auto fill = [&](const evr::Order& order, const evr::Bar& bar, const evr::Event& cause) {
    const double sign = order.side == evr::Side::Buy ? 1.0 : -1.0;
    const double price = bar.open * (1 + sign * slippage_bps / 10000.0);
    const double commission = std::max(min_commission, per_share * order.quantity);
    account.trade({order.portfolio, order.strategy, order.symbol}, sign * order.quantity, price, commission);
    container.bus().publish(evr::Fill{.symbol = order.symbol, .time_ns = bar.time_ns, .order_id = order.order_id,
                                      .strategy = order.strategy, .portfolio = order.portfolio, .side = order.side,
                                      .quantity = order.quantity, .price = price, .commission = commission,
                                      .slippage = std::abs(price - bar.open) * order.quantity},
                            cause);
    ++fills;
    commissions += commission;
  };
  const auto fromSignal = [&](const evr::Signal& signal, const evr::Event& cause) {
    const evr::examples::LineKey key{signal.strategy, signal.strategy, signal.symbol};
    const double held = targets.quantity(key);
    double quantity = 0;
    if (signal.direction == evr::Direction::Long && held == 0 && signal.price > 0) {
      quantity = std::floor(signal_notional / signal.price);
    } else if (signal.direction != evr::Direction::Long && held > 0) {
      quantity = -held;
    }
    if (std::abs(quantity) < 1) return;
    targets.trade(key, quantity, signal.price);
    pending[signal.symbol].emplace_back(
        evr::Order{.symbol = signal.symbol, .time_ns = signal.time_ns,
                   .order_id = args.name + "-" + std::to_string(++signal_orders), .strategy = signal.strategy,
                   .portfolio = signal.strategy, .side = quantity > 0 ? evr::Side::Buy : evr::Side::Sell,
                   .quantity = std::abs(quantity)},
        cause);
  };

  const auto on_step = [&](std::int64_t time, const std::vector<evr::Event>& events) {
    for (const auto& event : events) {  // the open comes first: fill what earlier bars decided
      const auto bar = evr::tryAs<evr::Bar>(event);
      if (!bar) continue;
      closes[bar->symbol] = bar->close;
      auto waiting = std::move(pending[bar->symbol]);
      pending[bar->symbol].clear();
      for (const auto& [order, cause] : waiting) fill(order, *bar, cause);
    }
    for (const auto& event : events) {
      if (const auto order = evr::tryAs<evr::Order>(event)) {
        pending[order->symbol].emplace_back(*order, event);
      } else if (const auto signal = evr::tryAs<evr::Signal>(event); signal && signal_notional > 0) {
        fromSignal(*signal, event);
      }
    }
    container.bus().publish(evr::PortfolioUpdate{
        .time_ns = time, .portfolio = args.name, .cash = account.cash(), .equity = account.pnl(closes),
        .positions_value = account.positionsValue(closes), .realized_pnl = account.realized(),
        .unrealized_pnl = account.unrealized(closes)});
  };
  container.onSteps(on_step, [&](std::int64_t last) {
    std::size_t cancelled = 0;
    for (const auto& [symbol, orders] : pending) cancelled += orders.size();
    std::printf("%s: done fills=%llu cancelled_at_end=%zu commissions=%.2f\n", args.name.c_str(),
                static_cast<unsigned long long>(fills), cancelled, commissions);
    std::fflush(stdout);
    container.finish(last + evr::examples::kDayNs, "execution finished");
  });
  return container.run();
}
