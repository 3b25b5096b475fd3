// data_feed: replays daily OHLCV bars from CSV files (one per symbol, docs/demo.md) as BAR
// events, date by date, then END_OF_DATA. The first container of every demo organization.
//
// `--speed 0` replays as fast as the link takes it; `--speed N` paces it at N trading days per
// second, serving the link while it waits. A bad file stops it before anything is published, with
// FILE:LINE: and what is wrong.
#include <filesystem>
#include <iostream>
#include <set>

#include "common/container.hpp"
#include "common/csv_bars.hpp"

int main(int argc, char** argv) {
  CLI::App app{"demo container: replays OHLCV bars from CSV files as BAR events, then END_OF_DATA"};
  evr::examples::ContainerArgs args;
  evr::examples::addContainerOptions(app, args, "data");
  std::vector<std::filesystem::path> paths;
  std::size_t slice = 0;
  double speed = 0;
  app.add_option("--data", paths, "CSV files (SYMBOL.csv) or directories of them")->required();
  app.add_option("--slice", slice, "replay only the first N dates (0: all)")->capture_default_str();
  app.add_option("--speed", speed, "trading days per second (0: as fast as possible)")->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  CLI11_PARSE(app, argc, argv);

  std::vector<evr::Bar> bars;
  try {
    bars = evr::examples::readBars(paths, slice);
  } catch (const evr::examples::CsvError& e) {
    std::cerr << args.name << ": " << e.what() << std::endl;
    return 1;
  }
  std::size_t days = 0;
  std::set<std::string> symbols;
  for (std::size_t i = 0; i < bars.size(); ++i) {
    if (i == 0 || bars[i].time_ns != bars[i - 1].time_ns) ++days;
    symbols.insert(bars[i].symbol);
  }
  std::cout << args.name << ": replaying bars=" << bars.size() << " symbols=" << symbols.size() << " days=" << days
            << " from " << evr::examples::isoDate(bars.front().time_ns) << " to "
            << evr::examples::isoDate(bars.back().time_ns) << std::endl;

  evr::examples::Container container(args);
  const auto day = std::chrono::duration<double>(speed > 0 ? 1.0 / speed : 0.0);
  auto next = std::chrono::steady_clock::now();
  for (std::size_t i = 0; i < bars.size() && !container.interrupted(); ++i) {
    if (speed > 0 && i > 0 && bars[i].time_ns != bars[i - 1].time_ns) {
      next += std::chrono::duration_cast<std::chrono::steady_clock::duration>(day);
      for (auto now = std::chrono::steady_clock::now(); now < next && !container.interrupted();
           now = std::chrono::steady_clock::now()) {
        container.poll(std::chrono::ceil<std::chrono::milliseconds>(next - now));
      }
    }
    container.bus().publish(bars[i]);
    container.poll(std::chrono::milliseconds(0));  // acks flow while we publish
  }
  container.finish(bars.back().time_ns + evr::examples::kDayNs, "replay finished");
  std::cout << args.name << ": done bars=" << bars.size() << " days=" << days << std::endl;
  return container.run();
}
