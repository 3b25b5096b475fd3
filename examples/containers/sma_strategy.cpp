// sma_strategy: momentum by moving-average crossover. BAR in, SIGNAL out: the target is LONG
// while the fast SMA of closes is above the slow one, FLAT otherwise (long only). Typically run
// as `momentum`.
#include "common/bar_strategy.hpp"
#include "common/technical.hpp"

int main(int argc, char** argv) {
  CLI::App app{"demo strategy: momentum, moving-average crossover (LONG while fast SMA > slow SMA)"};
  evr::examples::ContainerArgs args;
  evr::examples::addContainerOptions(app, args, "momentum");
  std::size_t fast = 10, slow = 30;
  app.add_option("--fast", fast, "fast SMA period (bars)")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--slow", slow, "slow SMA period (bars)")->capture_default_str()->check(CLI::PositiveNumber);
  CLI11_PARSE(app, argc, argv);
  if (fast >= slow) {
    std::cerr << args.name << ": --fast must be shorter than --slow" << std::endl;
    return 1;
  }
  return evr::examples::runBarStrategy(args, [&]() -> evr::examples::Decide {
    return [fast_sma = evr::examples::Sma(fast), slow_sma = evr::examples::Sma(slow)](
               const evr::Bar& bar) mutable -> std::optional<evr::Direction> {
      const auto f = fast_sma.update(bar.close);
      const auto s = slow_sma.update(bar.close);
      if (!f || !s) return std::nullopt;
      return *f > *s ? evr::Direction::Long : evr::Direction::Flat;
    };
  });
}
