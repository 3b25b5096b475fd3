// paper_execution: a simulated broker. SIGNAL in, FILL out: LONG buys --quantity at the signal
// price plus slippage, FLAT sells the position; passes END_OF_DATA on.
#include <map>

#include "example_main.hpp"

int main(int argc, char** argv) {
  CLI::App app{"example container: simulated execution"};
  evr::examples::ContainerArgs args;
  evr::examples::addContainerOptions(app, args, "execution");
  double quantity = 100, commission = 1.0, slippage_bps = 5;
  app.add_option("--quantity", quantity, "shares per entry")->capture_default_str();
  app.add_option("--commission", commission, "per fill")->capture_default_str();
  app.add_option("--slippage-bps", slippage_bps, "basis points against us")->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  zmq::context_t context(1);
  evr::Bus bus(args.name);
  evr::Connection connection(context, bus, {.container = args.name, .endpoint = args.endpoint});
  std::map<std::string, double> positions;
  std::uint64_t orders = 0;

  bus.subscribe(evr::EventType::SIGNAL, [&](const evr::Event& event) {
    const auto signal = evr::as<evr::Signal>(event);
    double& position = positions[signal.symbol];
    const bool buy = signal.direction == evr::Direction::Long;
    const double size = buy ? quantity : position;
    if (size <= 0 || (buy && position > 0)) return;  // nothing to do
    const double slip = signal.price * slippage_bps / 10000.0;
    position += buy ? size : -size;
    bus.publish(evr::Fill{.symbol = signal.symbol, .time_ns = signal.time_ns,
                          .order_id = args.name + "-" + std::to_string(++orders),
                          .strategy = signal.strategy, .portfolio = "demo",
                          .side = buy ? evr::Side::Buy : evr::Side::Sell, .quantity = size,
                          .price = buy ? signal.price + slip : signal.price - slip,
                          .commission = commission, .slippage = slip * size});
  });
  bus.subscribe(evr::EventType::END_OF_DATA, [&](const evr::Event& event) {
    std::cout << args.name << ": " << orders << " fills; end of data" << std::endl;
    bus.publish(evr::as<evr::EndOfData>(event));
    connection.stop();
  }, evr::Origin::Router);  // not our own END_OF_DATA, or we would pass it on forever
  return evr::examples::runContainer(connection);
}
