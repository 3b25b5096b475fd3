// Publishing from other threads while the connection's loop runs (evr/bus.hpp, evr/connection.hpp:
// publish() and stop() are safe from any thread), against a real evrouterd. The case make
// test-tsan exists for: producers on their own threads, Connection::run() on a loop thread, stop()
// from a third (docs/sanitizers.md).
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <thread>
#include <vector>

#include "daemon_fixture.hpp"
#include "evr/bus.hpp"
#include "evr/connection.hpp"

using namespace evr::test;

namespace {

constexpr const char* kConfig = R"(router:
  heartbeat_ms: 200
event_communication:
  adapters:
    - type: pipeline
      containers: [src, sink]
)";

}  // namespace

BOOST_AUTO_TEST_SUITE(threaded_publish)

BOOST_AUTO_TEST_CASE(events_published_from_four_threads_while_run_serves_the_link_all_arrive_once) {
  RunningDaemon daemon(kConfig);
  constexpr int kThreads = 4;
  constexpr int kPerThread = 500;
  constexpr int kTotal = kThreads * kPerThread;
  // The sink checks there are no duplicates and no gaps in the source's seqs (exit 0 only then).
  auto sink = daemon.peer({"--as", "sink", "--expect", std::to_string(kTotal), "--timeout", "120"});
  BOOST_REQUIRE(sink->waitForLine("joined", 30s));

  zmq::context_t context(1);
  evr::Bus bus("src");
  evr::Connection link(context, bus, {.container = "src", .endpoint = daemon.endpoint()});
  BOOST_REQUIRE(link.waitJoined(20s));

  std::thread loop([&]() { link.run(); });  // the loop thread owns the bus from here
  std::atomic<int> queued{0};
  std::vector<std::thread> producers;
  for (int t = 0; t < kThreads; ++t) {
    producers.emplace_back([&, t]() {
      for (int i = 0; i < kPerThread; ++i) {
        // From a non-owner thread publish() queues the event and returns 0 (it gets its seq when
        // the owner drains).
        if (bus.publish(evr::EventBuilder(evr::EventType::BAR).symbol("P" + std::to_string(t))) == 0) {
          queued.fetch_add(1, std::memory_order_relaxed);
        }
      }
    });
  }
  for (auto& producer : producers) producer.join();
  link.stop();  // from this thread, while the loop may still be sending
  loop.join();
  BOOST_CHECK_EQUAL(queued.load(), kTotal);

  // This thread owns the link again: whatever the loop had not drained or sent goes now.
  link.poll(0ms);
  BOOST_REQUIRE(link.flush(60s));
  BOOST_CHECK_EQUAL(link.stats().published, static_cast<std::uint64_t>(kTotal));
  BOOST_CHECK_EQUAL(bus.lastSeq(), static_cast<std::uint64_t>(kTotal));

  BOOST_REQUIRE_EQUAL(sink->waitFor(120s).value_or(-1), 0);
  const auto summary = parseFields(sink->seen(Process::Stream::Stdout) + sink->readAllStdout(2s));
  BOOST_CHECK_EQUAL(summary.at("received"), std::to_string(kTotal));
  BOOST_CHECK_EQUAL(summary.at("ok"), "1");
  BOOST_CHECK_EQUAL(statsOf(daemon.controlEndpoint()).events_in, static_cast<std::uint64_t>(kTotal));
  BOOST_CHECK_EQUAL(daemon.stop(), 0);
}

BOOST_AUTO_TEST_SUITE_END()
