// sweep_book: the book keeper of an optimization sweep (docs/optimization.md). BARs from the
// data feed, SIGNALs from every strategy of the sweep; one paper book per strategy, all in this
// one process (common/sweep_books.hpp has the trading model). At the end it writes one CSV line
// per strategy (PnL, return, Sharpe, drawdown, trades) to --out and prints one summary line.
// Typically run as `book`.
//
// Why one process for every book rather than one per strategy: a book is a few maps and a
// curve, and its work per event is a few additions; 64 more processes would cost 64 more
// schedulable processes, links and copies of every bar on a 2-core machine and buy nothing,
// because the books never interact. The strategies stay separate processes: they are what a
// team writes and what the sweep varies.
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>

#include "common/container.hpp"
#include "common/csv_bars.hpp"
#include "common/sweep_books.hpp"

int main(int argc, char** argv) {
  CLI::App app{"sweep container: one paper book per strategy of a parameter sweep, Sharpe and PnL per strategy"};
  evr::examples::ContainerArgs args;
  evr::examples::addContainerOptions(app, args, "book");
  std::string feed = "data";
  std::filesystem::path out;
  evr::examples::SweepCosts costs;
  app.add_option("--feed", feed,
                 "the input that sends BARs; every other input (evrouterd says who) is a strategy with its own book")
      ->capture_default_str();
  app.add_option("--out", out, "the results CSV to write")->required();
  app.add_option("--capital", costs.capital, "capital per book (returns and Sharpe are against it)")
      ->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--notional", costs.notional, "value bought per LONG signal and symbol")->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--slippage-bps", costs.slippage_bps, "slippage per fill, basis points")->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  app.add_option("--commission-per-share", costs.commission_per_share, "commission per share")->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  app.add_option("--min-commission", costs.min_commission, "minimum commission per fill")->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  CLI11_PARSE(app, argc, argv);

  evr::examples::Container container(args);
  // The books are the container's inputs but the feed: evrouterd tells them (INPUTS) when this
  // container joins, before any event, so they are known at the first step.
  std::optional<evr::examples::SweepBooks> books;
  int code = 0;
  const auto openBooks = [&]() -> bool {
    if (books) return true;
    const auto& inputs = container.connection().inputs();
    std::vector<std::string> strategies;
    for (const auto& input : inputs) {
      if (input != feed) strategies.push_back(input);
    }
    if (strategies.size() == inputs.size()) {
      std::cerr << args.name << ": --feed '" << feed << "' does not route to this container" << std::endl;
      code = 1;
      return false;
    }
    books.emplace(strategies, costs);
    std::cout << args.name << ": books=" << strategies.size() << std::endl;
    return true;
  };
  container.onSteps(
      [&](std::int64_t time, const std::vector<evr::Event>& events) {
        if (openBooks()) books->onStep(time, events);
      },
      [&](std::int64_t last_time) {
        if (openBooks()) {
          const auto results = books->results();
          std::ofstream file(out, std::ios::binary | std::ios::trunc);
          file << evr::examples::sweepResultsCsv(results);
          file.close();
          if (!file) {
            std::cerr << args.name << ": cannot write " << out << std::endl;
            code = 1;
          }
          std::cout << args.name << ": done books=" << results.size() << " days=" << books->days()
                    << " ignored=" << books->ignored() << " out=" << out.string() << std::endl;
        }
        container.finish(last_time + evr::examples::kDayNs, args.name + " finished");
      });
  const int run_code = container.run();
  return run_code != 0 ? run_code : code;
}
