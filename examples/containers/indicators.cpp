// indicators: the indicator hub. BAR in; per symbol and bar, an INDICATOR event for each
// configured SMA, EMA, RSI and ATR once it has warmed up (names `sma_30`, `ema_10`, `rsi_14`,
// `atr_14`: kind and period); END_OF_DATA on when its inputs have ended.
#include <iostream>
#include <map>
#include <memory>

#include "common/container.hpp"
#include "common/csv_bars.hpp"
#include "common/technical.hpp"

namespace {

// Every indicator of one symbol, in the order they are published.
struct SymbolIndicators {
  std::vector<std::pair<std::string, evr::examples::Sma>> sma;
  std::vector<std::pair<std::string, evr::examples::Ema>> ema;
  std::vector<std::pair<std::string, evr::examples::Rsi>> rsi;
  std::vector<std::pair<std::string, evr::examples::Atr>> atr;
};

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"demo container: SMA, EMA, RSI and ATR per symbol from BARs, as INDICATOR events"};
  evr::examples::ContainerArgs args;
  evr::examples::addContainerOptions(app, args, "indicators");
  std::vector<std::size_t> sma{30}, ema{10}, rsi{14}, atr{14};
  app.add_option("--sma", sma, "SMA periods")->delimiter(',')->capture_default_str();
  app.add_option("--ema", ema, "EMA periods")->delimiter(',')->capture_default_str();
  app.add_option("--rsi", rsi, "RSI periods")->delimiter(',')->capture_default_str();
  app.add_option("--atr", atr, "ATR periods")->delimiter(',')->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  const auto make = [&] {
    SymbolIndicators set;
    for (auto p : sma) set.sma.emplace_back("sma_" + std::to_string(p), evr::examples::Sma(p));
    for (auto p : ema) set.ema.emplace_back("ema_" + std::to_string(p), evr::examples::Ema(p));
    for (auto p : rsi) set.rsi.emplace_back("rsi_" + std::to_string(p), evr::examples::Rsi(p));
    for (auto p : atr) set.atr.emplace_back("atr_" + std::to_string(p), evr::examples::Atr(p));
    return set;
  };
  evr::examples::Container container(args);
  std::map<std::string, SymbolIndicators> by_symbol;
  std::uint64_t published = 0;

  const auto on_step = [&](std::int64_t, const std::vector<evr::Event>& events) {
    for (const auto& event : events) {
      const auto bar = evr::tryAs<evr::Bar>(event);
      if (!bar) continue;
      auto it = by_symbol.find(bar->symbol);
      if (it == by_symbol.end()) it = by_symbol.emplace(bar->symbol, make()).first;
      auto& set = it->second;
      const auto emit = [&](const std::string& name, std::optional<double> value) {
        if (!value) return;
        container.bus().publish(
            evr::Indicator{.symbol = bar->symbol, .time_ns = bar->time_ns, .name = name, .value = *value}, event);
        ++published;
      };
      for (auto& [name, i] : set.sma) emit(name, i.update(bar->close));
      for (auto& [name, i] : set.ema) emit(name, i.update(bar->close));
      for (auto& [name, i] : set.rsi) emit(name, i.update(bar->close));
      for (auto& [name, i] : set.atr) emit(name, i.update(bar->high, bar->low, bar->close));
    }
  };
  container.onSteps(on_step, [&](std::int64_t last) {
    std::cout << args.name << ": done symbols=" << by_symbol.size() << " indicators=" << published << std::endl;
    container.finish(last + evr::examples::kDayNs, "indicators finished");
  });
  return container.run();
}
