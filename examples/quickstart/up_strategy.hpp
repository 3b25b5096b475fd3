// The container's logic, on whichever bus it is given: live, or a test's evr::testing::Harness.
#pragma once
#include <evr/bus.hpp>
#include <evr/events.hpp>

inline void setup(evr::Bus& bus) {
  bus.subscribe(evr::EventType::BAR, [&bus](const evr::Event& e) {
    auto bar = evr::as<evr::Bar>(e);
    if (bar.close > bar.open)
      bus.publish(evr::Signal{.symbol = bar.symbol, .time_ns = bar.time_ns, .strategy = "up",
                              .direction = evr::Direction::Long, .strength = 1.0, .price = bar.close});
  });
}
