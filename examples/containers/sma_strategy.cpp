// sma_strategy: a moving-average crossover per symbol. BAR in, SIGNAL out (LONG when the fast
// average crosses above the slow one, FLAT when it crosses below); passes END_OF_DATA on.
#include <deque>
#include <map>
#include <numeric>

#include "example_main.hpp"

namespace {

struct Averages {
  std::deque<double> closes;
  int state = 0;  // +1 fast above slow, -1 below, 0 unknown
};

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"example container: moving-average crossover strategy"};
  evr::examples::ContainerArgs args;
  evr::examples::addContainerOptions(app, args, "strategy");
  std::size_t fast = 5, slow = 20;
  app.add_option("--fast", fast, "fast window (bars)")->capture_default_str();
  app.add_option("--slow", slow, "slow window (bars)")->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  zmq::context_t context(1);
  evr::Bus bus(args.name);
  evr::Connection connection(context, bus, {.container = args.name, .endpoint = args.endpoint});
  std::map<std::string, Averages> by_symbol;
  std::uint64_t signals = 0;

  bus.subscribe(evr::EventType::BAR, [&](const evr::Event& event) {
    const auto bar = evr::as<evr::Bar>(event);
    auto& averages = by_symbol[bar.symbol];
    averages.closes.push_back(bar.close);
    if (averages.closes.size() > slow) averages.closes.pop_front();
    if (averages.closes.size() < slow) return;
    const auto mean = [&](std::size_t n) {
      return std::accumulate(averages.closes.end() - static_cast<std::ptrdiff_t>(n), averages.closes.end(), 0.0) / static_cast<double>(n);
    };
    const int state = mean(fast) > mean(slow) ? 1 : -1;
    if (averages.state != 0 && state != averages.state) {
      bus.publish(evr::Signal{.symbol = bar.symbol, .time_ns = bar.time_ns, .strategy = args.name,
                              .direction = state > 0 ? evr::Direction::Long : evr::Direction::Flat,
                              .strength = 1.0, .price = bar.close});
      ++signals;
    }
    averages.state = state;
  });
  bus.subscribe(evr::EventType::END_OF_DATA, [&](const evr::Event& event) {
    std::cout << args.name << ": " << signals << " signals; end of data" << std::endl;
    bus.publish(evr::as<evr::EndOfData>(event));  // tell the next stage
    connection.stop();
  }, evr::Origin::Router);  // not our own END_OF_DATA, or we would pass it on forever
  return evr::examples::runContainer(connection);
}
