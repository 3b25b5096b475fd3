#include <evr/connection.hpp>
#include "up_strategy.hpp"

int main() {
  zmq::context_t context;
  evr::Bus bus("strategy");                                       // this process's own bus
  evr::Connection link(context, bus, {.container = "strategy"});  // joins evrouterd
  setup(bus);
  link.run();  // until link.stop(); or poll(timeout) / fd() in your own loop
}
