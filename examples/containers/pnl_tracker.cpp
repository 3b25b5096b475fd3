// pnl_tracker: FILL in; keeps cash and positions, prints every fill and, at END_OF_DATA, the
// realised PnL per symbol.
#include <cstdio>
#include <map>

#include "example_main.hpp"

int main(int argc, char** argv) {
  CLI::App app{"example container: fills and PnL"};
  evr::examples::ContainerArgs args;
  evr::examples::addContainerOptions(app, args, "tracker");
  CLI11_PARSE(app, argc, argv);

  zmq::context_t context(1);
  evr::Bus bus(args.name);
  evr::Connection connection(context, bus, {.container = args.name, .endpoint = args.endpoint});
  struct Book {
    double position = 0, cash = 0, last_price = 0;
    int fills = 0;
  };
  std::map<std::string, Book> books;

  bus.subscribe(evr::EventType::FILL, [&](const evr::Event& event) {
    const auto fill = evr::as<evr::Fill>(event);
    Book& book = books[fill.symbol];
    const double sign = fill.side == evr::Side::Buy ? 1.0 : -1.0;
    book.position += sign * fill.quantity;
    book.cash -= sign * fill.quantity * fill.price + fill.commission;
    book.last_price = fill.price;
    ++book.fills;
    std::printf("%s: FILL %-4s %-4s %6.0f @ %8.2f  (from %s via %s, %u hops)\n", args.name.c_str(),
                evr::sideName(fill.side).data(), fill.symbol.c_str(), fill.quantity, fill.price,
                fill.strategy.c_str(), std::string(event.source()).c_str(), event.hops());
    std::fflush(stdout);
  });
  bus.subscribe(evr::EventType::END_OF_DATA, [&](const evr::Event&) {
    double total = 0;
    for (const auto& [symbol, book] : books) {
      const double pnl = book.cash + book.position * book.last_price;
      total += pnl;
      std::printf("%s: %-5s fills=%d position=%.0f pnl=%.2f\n", args.name.c_str(), symbol.c_str(),
                  book.fills, book.position, pnl);
    }
    std::printf("%s: total PnL (open positions at their last fill price) %.2f; end of data\n", args.name.c_str(), total);
    std::fflush(stdout);
    connection.stop();
  });
  return evr::examples::runContainer(connection);
}
