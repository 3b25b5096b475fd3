#include "bar_strategy.hpp"

#include <iostream>
#include <map>

#include "common/csv_bars.hpp"

namespace evr::examples {

int runBarStrategy(const ContainerArgs& args, const DecideFactory& make_decide) {
  Container container(args);
  std::map<std::string, Decide> by_symbol;
  std::map<std::string, evr::Direction> last;
  std::uint64_t signals = 0;
  std::uint64_t changes = 0;

  const auto on_step = [&](std::int64_t, const std::vector<evr::Event>& events) {
    for (const auto& event : events) {
      const auto bar = tryAs<evr::Bar>(event);
      if (!bar) continue;
      auto it = by_symbol.find(bar->symbol);
      if (it == by_symbol.end()) it = by_symbol.emplace(bar->symbol, make_decide()).first;
      const auto direction = it->second(*bar);
      if (!direction) continue;
      container.bus().publish(evr::Signal{.symbol = bar->symbol, .time_ns = bar->time_ns, .strategy = args.name,
                                          .direction = *direction,
                                          .strength = *direction == evr::Direction::Flat ? 0.0 : 1.0,
                                          .price = bar->close},
                              event);  // answers this BAR (its lineage, docs/operations.md)
      ++signals;
      const auto previous = last.find(bar->symbol);
      if (previous != last.end() && previous->second != *direction) ++changes;
      last[bar->symbol] = *direction;
    }
  };
  container.onSteps(on_step, [&](std::int64_t last_time) {
    std::cout << args.name << ": done signals=" << signals << " target_changes=" << changes << std::endl;
    container.finish(last_time + kDayNs, args.name + " finished");
  });
  return container.run();
}

}  // namespace evr::examples
