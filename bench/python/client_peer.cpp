// evr_client_peer: the C++ client's row of bench/python/python_bench.py (make bench), the same
// work as its Python publisher and consumer: typed BAR events (evr::Bar) through evrouterd.
//
//   evr_client_peer --role pub --as pub --events N [--endpoint EP] [--batch 1000]
//   evr_client_peer --role sub --as sub --events N [--endpoint EP]
//
// Prints one JSON line: {"role": ..., "events": N, "seconds": S}: the publisher from its first
// publish until evrouterd has acked every event, the consumer from its first event to its N-th.

#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <optional>
#include <zmq.hpp>

#include "evr/bus.hpp"
#include "evr/connection.hpp"
#include "evr/events.hpp"

int main(int argc, char** argv) {
  CLI::App app{"evrouter Python benchmark: the C++ client's publisher and consumer"};
  std::string role, name, endpoint;
  std::uint64_t events = 100000;
  std::size_t batch = 1000;
  double timeout_s = 120;
  app.add_option("--role", role, "pub or sub")->required()->check(CLI::IsMember({"pub", "sub"}));
  app.add_option("--as", name, "container name")->required();
  app.add_option("--endpoint", endpoint, "evrouterd endpoint");
  app.add_option("--events", events, "events to publish or receive");
  app.add_option("--batch", batch, "events per PublishBatch");
  app.add_option("--timeout", timeout_s, "give up after this many seconds (exit 3)");
  CLI11_PARSE(app, argc, argv);

  using Clock = std::chrono::steady_clock;
  zmq::context_t context;
  evr::Bus bus(name);
  evr::Connection link(context, bus, {.container = name, .endpoint = endpoint});
  const auto deadline = Clock::now() + std::chrono::duration<double>(timeout_s);
  Clock::time_point start;
  Clock::time_point end;
  std::uint64_t received = 0;
  double sum = 0;
  if (role == "sub") {
    // Subscribed before the link is first served: evrouterd delivers the backlog right after
    // WELCOME, and an event dispatched with no subscriber is handled (and acked) all the same.
    bus.subscribe(evr::EventType::BAR, [&](const evr::Event& e) {
      if (received++ == 0) start = Clock::now();
      sum += evr::as<evr::Bar>(e).close;
      if (received == events) {
        end = Clock::now();
        link.stop();
      }
    });
  }
  if (!link.waitJoined(std::chrono::seconds(10))) {
    std::cerr << name << ": could not join evrouterd\n";
    return 3;
  }
  if (role == "pub") {
    start = Clock::now();
    for (std::uint64_t i = 0; i < events;) {
      evr::PublishBatch scope(link);
      for (std::size_t k = 0; k < batch && i < events; ++k, ++i) {
        const double p = 100.0 + static_cast<double>(i % 100);
        bus.publish(evr::Bar{.symbol = "ACME", .time_ns = static_cast<std::int64_t>(i + 1), .open = p,
                             .high = p + 1, .low = p - 1, .close = p + 0.5, .volume = 1000,
                             .period_seconds = 60});
      }
    }
    if (!link.flush(std::chrono::seconds(60))) {
      std::cerr << name << ": not every event was acked\n";
      return 3;
    }
    end = Clock::now();
  } else {
    while (received < events) {
      if (Clock::now() > deadline) {
        const auto& s = link.stats();
        std::cerr << name << ": timed out at " << received << " of " << events << " (link: received "
                  << s.received << ", duplicates " << s.duplicates << ", malformed " << s.malformed
                  << ", interrupted " << s.interrupted << ", joins " << s.joins << ")\n";
        return 3;
      }
      link.poll(std::chrono::milliseconds(100));
    }
    if (sum <= 0) return 1;
  }
  std::printf("{\"role\": \"%s\", \"events\": %llu, \"seconds\": %.6f}\n", role.c_str(),
              static_cast<unsigned long long>(events), std::chrono::duration<double>(end - start).count());
  return 0;
}
