// evr::testing::Harness: a container's handlers on a real Bus with no daemon; events fed in by
// hand or from a recording (JSON lines), and what the handlers published read back.
#include <boost/test/unit_test.hpp>

#include <nlohmann/json.hpp>

#include <fstream>
#include <stdexcept>
#include <string>
#include <thread>

#include "evr/event_json.hpp"
#include "evr/events.hpp"
#include "evr/testing/harness.hpp"
#include "temp_dir.hpp"

namespace {

using evr::testing::Harness;

// A container: a SIGNAL per BAR whose close is above its open, and on END_OF_DATA from the
// router an END_OF_DATA of its own.
void momentum(evr::Bus& bus) {
  bus.subscribe(evr::EventType::BAR, [&bus](const evr::Event& e) {
    const auto bar = evr::as<evr::Bar>(e);
    if (bar.close > bar.open) {
      bus.publish(evr::Signal{.symbol = bar.symbol, .time_ns = bar.time_ns, .strategy = "up",
                              .direction = evr::Direction::Long, .strength = 1.0, .price = bar.close});
    }
  });
  bus.subscribe(evr::EventType::SIGNAL, [&bus](const evr::Event& e) {  // its own signals
    const auto signal = evr::as<evr::Signal>(e);
    bus.publish(evr::Order{.symbol = signal.symbol, .time_ns = signal.time_ns, .order_id = "o1",
                           .strategy = signal.strategy, .side = evr::Side::Buy, .quantity = 1});
  }, evr::Origin::Local);
  bus.subscribe(evr::EventType::END_OF_DATA, [&bus](const evr::Event&) {
    bus.publish(evr::EndOfData{.reason = "done"});
  }, evr::Origin::Router);
}

std::string write(const evr::test::TempDir& dir, const std::string& text) {
  return dir.write("events.jsonl", text);
}

// The message of the std::invalid_argument feedFile throws ("" when it does not throw).
std::string feedFileError(Harness& harness, const std::string& path) {
  try {
    harness.feedFile(path);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}

}  // namespace

BOOST_AUTO_TEST_SUITE(harness)

BOOST_AUTO_TEST_CASE(fed_events_look_delivered_and_outputs_come_back_in_publish_order) {
  Harness h("momentum");
  momentum(h.bus());
  const auto first = h.feed(evr::Bar{.symbol = "AAPL", .time_ns = 100, .open = 1, .close = 2}, "data");
  const auto second = h.feed(evr::Bar{.symbol = "MSFT", .time_ns = 200, .open = 2, .close = 3}, "data");
  const auto other = h.feed(evr::Bar{.symbol = "AAPL", .time_ns = 300, .open = 3, .close = 1}, "feed2");

  // As evrouterd would deliver them: router origin, the source given, seq per source, its id.
  BOOST_TEST((first.origin() == evr::Origin::Router));
  BOOST_TEST(first.source() == "data");
  BOOST_TEST(first.seq() == 1u);
  BOOST_TEST(second.seq() == 2u);
  BOOST_TEST(other.seq() == 1u);
  BOOST_TEST(second.id() == evr::makeEventId("data", 2));
  BOOST_TEST(first.eventTime() == 100);
  BOOST_TEST(first.reader().getPublishTime() == 100);
  BOOST_TEST(first.hops() == 1u);

  // Signal, then the order its handler publishes, per rising bar; nothing for the falling one.
  const auto out = h.published();
  BOOST_TEST_REQUIRE(out.size() == 4u);
  const evr::EventType types[] = {evr::EventType::SIGNAL, evr::EventType::ORDER, evr::EventType::SIGNAL,
                                  evr::EventType::ORDER};
  for (std::size_t i = 0; i < out.size(); ++i) {
    BOOST_TEST((out[i].type() == types[i]));
    BOOST_TEST(out[i].source() == "momentum");
    BOOST_TEST(out[i].seq() == i + 1);
    BOOST_TEST((out[i].origin() == evr::Origin::Local));
  }
  // Causation: each signal answers its bar, each order its signal; one correlation per chain.
  BOOST_TEST(out[0].reader().getCausationId() == first.id());
  BOOST_TEST(out[1].reader().getCausationId() == out[0].id());
  BOOST_TEST(out[1].reader().getCorrelationId() == first.id());
  BOOST_TEST(out[2].reader().getCausationId() == second.id());
  BOOST_TEST(evr::as<evr::Signal>(out[2]).symbol == "MSFT");

  BOOST_TEST(h.published(evr::EventType::ORDER).size() == 2u);
  BOOST_TEST(h.published(evr::EventType::FILL).empty());
  h.clear();
  BOOST_TEST(h.published().empty());
  h.feed(evr::Bar{.symbol = "AAPL", .time_ns = 400, .open = 1, .close = 5}, "data");
  BOOST_TEST_REQUIRE(h.published().size() == 2u);
  BOOST_TEST(h.published()[0].seq() == 5u);  // the bus goes on counting
}

BOOST_AUTO_TEST_CASE(origin_filters_work_as_live) {
  Harness h("momentum");
  momentum(h.bus());
  h.feed(evr::EndOfData{.reason = "upstream"}, "data");
  const auto out = h.published();
  // Its own END_OF_DATA is not handled again (the handler takes router events only).
  BOOST_TEST_REQUIRE(out.size() == 1u);
  BOOST_TEST(evr::as<evr::EndOfData>(out[0]).reason == "done");
}

BOOST_AUTO_TEST_CASE(a_whole_event_keeps_its_header_and_harnesses_chain) {
  Harness strategy("momentum");
  momentum(strategy.bus());
  strategy.feed(evr::Bar{.symbol = "AAPL", .time_ns = 100, .open = 1, .close = 2}, "data");

  // The next container downstream gets what the first published, header as published.
  Harness risk("risk");
  std::vector<evr::Event> seen;
  risk.bus().subscribeAll([&](const evr::Event& e) { seen.push_back(e); });
  for (const auto& event : strategy.published()) risk.feed(event);
  BOOST_TEST_REQUIRE(seen.size() == 2u);
  BOOST_TEST((seen[0].origin() == evr::Origin::Router));
  BOOST_TEST(seen[0].source() == "momentum");
  BOOST_TEST(seen[0].id() == strategy.published()[0].id());
  BOOST_TEST(seen[1].reader().getCausationId() == seen[0].id());
  BOOST_TEST(risk.published().empty());  // fed events are never its own
}

BOOST_AUTO_TEST_CASE(a_builder_is_fed_with_its_own_fields) {
  Harness h("momentum");
  std::vector<evr::Event> seen;
  h.bus().subscribeAll([&](const evr::Event& e) { seen.push_back(e); });
  const auto fed = h.feed(evr::EventBuilder(evr::EventType::USER).symbol("X").eventTime(7).tag("k", "v"), "ops");
  BOOST_TEST_REQUIRE(seen.size() == 1u);
  BOOST_TEST(seen[0].symbol() == "X");
  BOOST_TEST(fed.source() == "ops");
  BOOST_TEST(evr::toJson(seen[0])["tags"]["k"] == "v");
}

BOOST_AUTO_TEST_CASE(feed_file_replays_a_recording_header_as_recorded) {
  // Lines as `evrctl record` writes them (evr::toJson), from events a bus published.
  evr::Bus data("data");
  std::string lines;
  data.subscribeAll([&](const evr::Event& e) { lines += evr::toJson(e).dump() + "\n"; });
  data.publish(evr::Bar{.symbol = "AAPL", .time_ns = 10, .open = 1, .close = 2});
  data.publish(evr::Bar{.symbol = "AAPL", .time_ns = 20, .open = 2, .close = 1});
  lines += "\n";  // blank lines are skipped
  data.publish(evr::Bar{.symbol = "MSFT", .time_ns = 30, .open = 1, .close = 3});
  evr::test::TempDir dir;
  const auto path = write(dir, lines);

  Harness h("momentum");
  momentum(h.bus());
  BOOST_TEST(h.feedFile(path) == 3u);
  const auto signals = h.published(evr::EventType::SIGNAL);
  BOOST_TEST_REQUIRE(signals.size() == 2u);
  BOOST_TEST(signals[0].reader().getCausationId() == evr::makeEventId("data", 1));
  BOOST_TEST(signals[1].reader().getCausationId() == evr::makeEventId("data", 3));
  BOOST_TEST(evr::as<evr::Signal>(signals[1]).price == 3.0);
  BOOST_TEST(signals[1].eventTime() == 30);
}

BOOST_AUTO_TEST_CASE(a_bad_line_names_file_line_and_field_and_feeds_nothing) {
  evr::test::TempDir dir;
  Harness h("momentum");
  std::size_t handled = 0;
  h.bus().subscribeAll([&](const evr::Event&) { ++handled; });
  const std::string good = R"({"type":"BAR","source":"data","seq":1,"symbol":"AAPL","open":1,"close":2})";

  auto path = write(dir, good + "\n" + R"({"type":"BAR","close":"abc"})" + "\n");
  auto error = feedFileError(h, path);
  BOOST_TEST(error.find(path + ":2: field 'close': ") == 0u, error);
  BOOST_TEST(error.find("not a number") != std::string::npos, error);

  path = write(dir, good + "\n\n" + R"({"type":"BAR","clsoe":2})" + "\n");
  error = feedFileError(h, path);
  BOOST_TEST(error.find(path + ":3: unknown field 'clsoe'") == 0u, error);
  BOOST_TEST(error.find("close") != std::string::npos, error);  // the valid names are listed

  path = write(dir, R"({"type":"BRA"})" "\n");
  error = feedFileError(h, path);
  BOOST_TEST(error.find(path + ":1: field 'type': 'BRA' is not one of") == 0u, error);

  path = write(dir, R"({"symbol":"AAPL"})" "\n");
  BOOST_TEST(feedFileError(h, path) == path + ":1: field 'type' is missing");

  path = write(dir, good + "\n{\"type\": \"BAR\",\n");
  error = feedFileError(h, path);
  BOOST_TEST(error.find(path + ":2: not JSON") == 0u, error);

  path = write(dir, R"({"type":"SIGNAL","direction":"SIDEWAYS"})" "\n");
  error = feedFileError(h, path);
  BOOST_TEST(error.find(path + ":1: field 'direction': ") == 0u, error);

  path = write(dir, R"({"type":"BAR","seq":-1})" "\n");
  error = feedFileError(h, path);
  BOOST_TEST(error.find(path + ":1: field 'seq': ") == 0u, error);

  error = feedFileError(h, (dir.path() / "missing.jsonl").string());
  BOOST_TEST(error.find("missing.jsonl: cannot open") != std::string::npos, error);

  BOOST_TEST(handled == 0u);  // a file with a bad line feeds nothing
}

BOOST_AUTO_TEST_CASE(events_published_from_another_thread_are_drained_by_feed) {
  Harness h("momentum");
  h.bus().subscribe(evr::EventType::BAR, [&h](const evr::Event&) {
    std::thread([&h] { h.bus().publish(evr::Indicator{.symbol = "X", .name = "late", .value = 1}); }).join();
  });
  h.feed(evr::Bar{.symbol = "X"}, "data");
  BOOST_TEST_REQUIRE(h.published().size() == 1u);
  BOOST_TEST(evr::as<evr::Indicator>(h.published()[0]).name == "late");
}

BOOST_AUTO_TEST_SUITE_END()
