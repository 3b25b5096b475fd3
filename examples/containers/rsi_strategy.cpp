// rsi_strategy: mean reversion on the RSI. BAR in, SIGNAL out: the target turns LONG when the
// RSI falls below --oversold and stays LONG until the RSI rises above --exit, then FLAT (long
// only). Typically run as `mean_reversion`.
#include "common/bar_strategy.hpp"
#include "common/technical.hpp"

int main(int argc, char** argv) {
  CLI::App app{"demo strategy: mean reversion (LONG from RSI < oversold until RSI > exit)"};
  evr::examples::ContainerArgs args;
  evr::examples::addContainerOptions(app, args, "mean_reversion");
  std::size_t period = 14;
  double oversold = 30, exit = 55;
  app.add_option("--period", period, "RSI period (bars)")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--oversold", oversold, "enter LONG below this RSI")->capture_default_str();
  app.add_option("--exit", exit, "go FLAT above this RSI")->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  if (oversold >= exit) {
    std::cerr << args.name << ": --oversold must be below --exit" << std::endl;
    return 1;
  }
  return evr::examples::runBarStrategy(args, [&]() -> evr::examples::Decide {
    return [rsi = evr::examples::Rsi(period), long_ = false, oversold, exit](
               const evr::Bar& bar) mutable -> std::optional<evr::Direction> {
      const auto value = rsi.update(bar.close);
      if (!value) return std::nullopt;
      if (!long_ && *value < oversold) long_ = true;
      else if (long_ && *value > exit) long_ = false;
      return long_ ? evr::Direction::Long : evr::Direction::Flat;
    };
  });
}
