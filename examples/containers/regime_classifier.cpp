// regime_classifier: a trend and volatility rule over the indicator hub's INDICATORs. Per
// symbol and bar, once its three indicators are there:
//   trend      = fast / slow - 1          (e.g. ema_10 / sma_30 - 1)
//   volatility = atr / slow               (e.g. atr_14 / sma_30)
//   BEAR if trend < -threshold; BULL if trend > threshold and volatility <= max; else NEUTRAL
// It publishes its two features as INDICATOR events (`regime_trend`, `regime_volatility`) and
// then a REGIME (confidence: how far past the threshold the trend is). END_OF_DATA on at the end.
#include <cmath>
#include <iostream>
#include <map>

#include "common/container.hpp"
#include "common/csv_bars.hpp"

int main(int argc, char** argv) {
  CLI::App app{"demo container: regime classifier (trend and volatility rule) -> REGIME BULL, BEAR or NEUTRAL"};
  evr::examples::ContainerArgs args;
  evr::examples::addContainerOptions(app, args, "classifier");
  std::string fast = "ema_10", slow = "sma_30", atr = "atr_14";
  double threshold = 0.01, max_volatility = 0.035;
  app.add_option("--fast", fast, "INDICATOR name of the fast average")->capture_default_str();
  app.add_option("--slow", slow, "INDICATOR name of the slow average")->capture_default_str();
  app.add_option("--atr", atr, "INDICATOR name of the average true range")->capture_default_str();
  app.add_option("--trend-threshold", threshold, "|fast/slow - 1| beyond this is a trend")->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--max-volatility", max_volatility, "atr/slow above this is too volatile for BULL")->capture_default_str()
      ->check(CLI::PositiveNumber);
  CLI11_PARSE(app, argc, argv);

  evr::examples::Container container(args);
  std::map<std::string, std::uint64_t> days_in;  // regime -> symbol-days
  std::uint64_t changes = 0;
  std::map<std::string, std::string> current;  // symbol -> regime

  const auto on_step = [&](std::int64_t time, const std::vector<evr::Event>& events) {
    std::map<std::string, std::map<std::string, double>> values;  // symbol -> name -> value
    std::map<std::string, const evr::Event*> cause;                  // symbol -> its last indicator
    for (const auto& event : events) {
      if (const auto indicator = evr::tryAs<evr::Indicator>(event)) {
        values[indicator->symbol][indicator->name] = indicator->value;
        cause[indicator->symbol] = &event;
      }
    }
    for (const auto& [symbol, named] : values) {
      const auto f = named.find(fast), s = named.find(slow), a = named.find(atr);
      if (f == named.end() || s == named.end() || a == named.end() || s->second <= 0) continue;
      const double trend = f->second / s->second - 1;
      const double volatility = a->second / s->second;
      std::string regime = "NEUTRAL";
      double confidence = 1 - std::min(1.0, std::abs(trend) / threshold);
      if (trend < -threshold || (trend > threshold && volatility <= max_volatility)) {
        regime = trend < 0 ? "BEAR" : "BULL";
        confidence = std::min(1.0, std::abs(trend) / (2 * threshold));
      }
      auto& bus = container.bus();
      const evr::Event& why = *cause.at(symbol);
      bus.publish(evr::Indicator{.symbol = symbol, .time_ns = time, .name = "regime_trend", .value = trend}, why);
      bus.publish(evr::Indicator{.symbol = symbol, .time_ns = time, .name = "regime_volatility", .value = volatility},
                  why);
      bus.publish(evr::Regime{.symbol = symbol, .time_ns = time, .classifier = args.name, .regime = regime,
                              .confidence = confidence},
                  why);
      ++days_in[regime];
      auto& was = current[symbol];
      if (!was.empty() && was != regime) ++changes;
      was = regime;
    }
  };
  container.onSteps(on_step, [&](std::int64_t last) {
    std::cout << args.name << ": done symbol_days BULL=" << days_in["BULL"] << " NEUTRAL=" << days_in["NEUTRAL"]
              << " BEAR=" << days_in["BEAR"] << " regime_changes=" << changes << std::endl;
    container.finish(last + evr::examples::kDayNs, "classifier finished");
  });
  return container.run();
}
