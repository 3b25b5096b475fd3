// data_feed: publishes daily OHLCV bars for a few symbols (a seeded random walk, so every run is
// the same), then END_OF_DATA. `--rate` paces it so the demo can be watched.
#include <cmath>
#include <random>

#include "example_main.hpp"

int main(int argc, char** argv) {
  CLI::App app{"example container: replays bars"};
  evr::examples::ContainerArgs args;
  evr::examples::addContainerOptions(app, args, "data");
  int bars = 120;
  double rate = 200;
  std::vector<std::string> symbols{"AAPL", "MSFT", "SPY"};
  app.add_option("--bars", bars, "bars per symbol")->capture_default_str();
  app.add_option("--rate", rate, "bars per second, all symbols (0: as fast as possible)")->capture_default_str();
  app.add_option("--symbols", symbols, "symbols")->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  zmq::context_t context(1);
  evr::Bus bus(args.name);
  evr::Connection connection(context, bus, {.container = args.name, .endpoint = args.endpoint});

  std::mt19937_64 random(42);
  std::normal_distribution<double> move(0.0004, 0.015);
  std::vector<double> prices(symbols.size(), 100.0);
  const std::int64_t day_ns = 86'400'000'000'000;
  const std::int64_t start_ns = 1'704'067'200'000'000'000;  // 2024-01-01
  const auto interval = std::chrono::duration<double>(rate > 0 ? 1.0 / rate : 0.0);
  auto next = std::chrono::steady_clock::now();

  for (int day = 0; day < bars; ++day) {
    for (std::size_t s = 0; s < symbols.size(); ++s) {
      const double open = prices[s];
      const double close = open * std::exp(move(random));
      prices[s] = close;
      bus.publish(evr::Bar{.symbol = symbols[s], .time_ns = start_ns + day * day_ns, .open = open,
                           .high = std::max(open, close) * 1.004, .low = std::min(open, close) * 0.996,
                           .close = close, .volume = 1e6, .period_seconds = 86400});
      // Serve the link while pacing: acks, heartbeats, and a stop request all get through.
      next += std::chrono::duration_cast<std::chrono::steady_clock::duration>(interval);
      while (std::chrono::steady_clock::now() < next) {
        connection.poll(std::chrono::duration_cast<std::chrono::milliseconds>(next - std::chrono::steady_clock::now()));
      }
    }
  }
  bus.publish(evr::EndOfData{.time_ns = start_ns + bars * day_ns, .reason = "replay finished"});
  std::cout << args.name << ": published " << bars * symbols.size() << " bars and END_OF_DATA" << std::endl;
  return connection.flush(std::chrono::seconds(10)) ? 0 : 1;
}
