// Typed payloads (evr/events.hpp): build -> Event -> tryAs/as for every payload.
#include <boost/test/unit_test.hpp>
#include <capnp/schema.h>
#include <zmq.hpp>

#include <cstring>

#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "evr/bus.hpp"
#include "evr/events.hpp"

namespace {

// Publishes `payload` on a private bus and returns the Event its subscribers saw.
template <class Payload>
evr::Event roundTrip(const Payload& payload) {
  evr::Bus bus("test");
  evr::Event captured;
  bus.subscribeAll([&](const evr::Event& e) { captured = e; });
  bus.publish(payload);
  BOOST_REQUIRE(captured.valid());
  return captured;
}

template <class Payload>
void checkRoundTrip(const Payload& payload) {
  const evr::Event event = roundTrip(payload);
  BOOST_TEST((event.type() == Payload::kType));
  const auto back = evr::tryAs<Payload>(event);
  BOOST_REQUIRE(back.has_value());
  BOOST_TEST((*back == payload));
  BOOST_TEST((evr::as<Payload>(event) == payload));
}

}  // namespace

BOOST_AUTO_TEST_SUITE(events)

BOOST_AUTO_TEST_CASE(bar_round_trips_with_header_symbol_and_time) {
  const evr::Bar bar{.symbol = "AAPL",
                     .time_ns = 1'700'000'000'000'000'000,
                     .open = 100.0,
                     .high = 102.5,
                     .low = 99.25,
                     .close = 101.5,
                     .volume = 12345.0,
                     .period_seconds = 86400};
  const evr::Event event = roundTrip(bar);
  BOOST_TEST(event.symbol() == "AAPL");
  BOOST_TEST(event.eventTime() == 1'700'000'000'000'000'000);
  BOOST_TEST(event.source() == "test");
  BOOST_TEST(event.seq() == 1u);
  checkRoundTrip(bar);
}

BOOST_AUTO_TEST_CASE(every_payload_round_trips) {
  checkRoundTrip(evr::Tick{.symbol = "MSFT", .time_ns = 5, .bid = 1.5, .ask = 1.75, .price = 1.6,
                           .size = 300});
  checkRoundTrip(evr::Indicator{.symbol = "MSFT", .time_ns = 6, .name = "sma_20", .value = 42.5});
  checkRoundTrip(evr::Signal{.symbol = "AAPL",
                             .time_ns = 7,
                             .strategy = "momentum",
                             .direction = evr::Direction::Short,
                             .strength = 0.75,
                             .price = 99.5});
  checkRoundTrip(evr::Order{.symbol = "AAPL",
                            .time_ns = 8,
                            .order_id = "o-1",
                            .strategy = "momentum",
                            .portfolio = "main",
                            .side = evr::Side::Sell,
                            .order_kind = evr::OrderKind::Limit,
                            .quantity = 100,
                            .limit_price = 98.75});
  checkRoundTrip(evr::Fill{.symbol = "AAPL",
                           .time_ns = 9,
                           .order_id = "o-1",
                           .strategy = "momentum",
                           .portfolio = "main",
                           .side = evr::Side::Sell,
                           .quantity = 100,
                           .price = 98.8,
                           .commission = 1.25,
                           .slippage = 0.05});
  checkRoundTrip(evr::Regime{.symbol = "SPY",
                             .time_ns = 10,
                             .classifier = "hmm",
                             .regime = "BULL",
                             .confidence = 0.9});
  checkRoundTrip(evr::PortfolioUpdate{.symbol = "",
                                      .time_ns = 11,
                                      .portfolio = "main",
                                      .cash = 1000,
                                      .equity = 2500.5,
                                      .positions_value = 1500.5,
                                      .realized_pnl = -20,
                                      .unrealized_pnl = 30.25});
  checkRoundTrip(evr::EndOfData{.time_ns = 12, .reason = "replay finished"});
  checkRoundTrip(evr::UserEvent{.name = "rebalance",
                                .symbol = "AAPL",
                                .time_ns = 13,
                                .fields = {{"reason", "drift"},
                                           {"count", std::int64_t{3}},
                                           {"weight", 0.25},
                                           {"forced", true}}});
}

BOOST_AUTO_TEST_CASE(defaults_round_trip) {
  checkRoundTrip(evr::Bar{});
  checkRoundTrip(evr::Signal{});
  checkRoundTrip(evr::UserEvent{});
}

BOOST_AUTO_TEST_CASE(try_as_other_payload_is_nullopt) {
  const evr::Event bar = roundTrip(evr::Bar{.symbol = "AAPL", .close = 1});
  BOOST_TEST(!evr::tryAs<evr::Signal>(bar).has_value());
  BOOST_TEST(!evr::tryAs<evr::Tick>(bar).has_value());
  BOOST_TEST(!evr::tryAs<evr::UserEvent>(bar).has_value());
  BOOST_TEST(!evr::tryAs<evr::EndOfData>(bar).has_value());
  BOOST_TEST(evr::tryAs<evr::Bar>(bar).has_value());
}

BOOST_AUTO_TEST_CASE(try_as_on_empty_event_is_nullopt) {
  const evr::Event empty;
  BOOST_TEST(!evr::tryAs<evr::Bar>(empty).has_value());
  BOOST_CHECK_THROW(evr::as<evr::Bar>(empty), std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(as_other_payload_throws_naming_both_types) {
  const evr::Event signal = roundTrip(evr::Signal{.symbol = "AAPL", .strategy = "s"});
  try {
    (void)evr::as<evr::Bar>(signal);
    BOOST_FAIL("as<Bar> on a SIGNAL did not throw");
  } catch (const std::invalid_argument& e) {
    const std::string message = e.what();
    BOOST_TEST(message.find("BAR") != std::string::npos, message);
    BOOST_TEST(message.find("SIGNAL") != std::string::npos, message);
    BOOST_TEST(message.find("test") != std::string::npos, message);
  }
}

BOOST_AUTO_TEST_CASE(handler_reads_bar_and_publishes_signal) {
  // The usage the header promises: a strategy is a few readable lines.
  evr::Bus bus("strategy");
  std::vector<evr::Signal> signals;
  bus.subscribe(evr::EventType::BAR, [&](const evr::Event& e) {
    auto bar = evr::as<evr::Bar>(e);
    if (bar.close > bar.open) {
      bus.publish(evr::Signal{.symbol = bar.symbol,
                              .time_ns = bar.time_ns,
                              .strategy = "up",
                              .direction = evr::Direction::Long,
                              .strength = 1.0,
                              .price = bar.close});
    }
  });
  std::vector<evr::Event> signal_events;
  bus.subscribe(evr::EventType::SIGNAL, [&](const evr::Event& e) {
    signals.push_back(evr::as<evr::Signal>(e));
    signal_events.push_back(e);
  });
  bus.publish(evr::Bar{.symbol = "AAPL", .time_ns = 1, .open = 100, .close = 101});
  bus.publish(evr::Bar{.symbol = "AAPL", .time_ns = 2, .open = 101, .close = 100});
  BOOST_REQUIRE_EQUAL(signals.size(), 1u);
  BOOST_TEST(signals[0].symbol == "AAPL");
  BOOST_TEST(signals[0].time_ns == 1);
  BOOST_TEST((signals[0].direction == evr::Direction::Long));
  BOOST_TEST(signals[0].price == 101.0);
  // Published from the BAR handler: caused by the first bar.
  BOOST_TEST(signal_events[0].reader().getCausationId() == evr::makeEventId("strategy", 1));
}

BOOST_AUTO_TEST_CASE(enum_names_parse_case_insensitively) {
  BOOST_TEST(evr::directionName(evr::Direction::Long) == "LONG");
  BOOST_TEST(evr::sideName(evr::Side::Sell) == "SELL");
  BOOST_TEST(evr::orderKindName(evr::OrderKind::Limit) == "LIMIT");
  BOOST_TEST((evr::parseDirection("short") == evr::Direction::Short));
  BOOST_TEST((evr::parseDirection("Flat") == evr::Direction::Flat));
  BOOST_TEST((evr::parseSide("buy") == evr::Side::Buy));
  BOOST_TEST((evr::parseOrderKind("MARKET") == evr::OrderKind::Market));
  BOOST_TEST(!evr::parseDirection("up").has_value());
  BOOST_TEST(!evr::parseSide("").has_value());
}

BOOST_AUTO_TEST_CASE(user_event_field_finds_first_by_key) {
  const evr::UserEvent user{.name = "x", .fields = {{"a", "text"}, {"b", 2.5}, {"a", true}}};
  const evr::UserValue* a = user.field("a");
  BOOST_REQUIRE(a != nullptr);
  BOOST_REQUIRE(std::holds_alternative<std::string>(*a));
  BOOST_TEST(std::get<std::string>(*a) == "text");
  BOOST_TEST((user.field("missing") == nullptr));
}

// A handler may read an event as often as it likes: a kept BAR read 100,000 times, as published
// here and as received from the wire (Event::fromWire). Cap'n Proto's read budget used to run out
// after about 27 full reads.
BOOST_AUTO_TEST_CASE(an_event_can_be_read_any_number_of_times_built_or_received) {
  const evr::Bar bar{.symbol = "SPY", .time_ns = 7, .open = 1, .high = 2, .low = 0.5, .close = 1.5,
                     .volume = 10, .period_seconds = 60};
  const evr::Event built = roundTrip(bar);
  std::string error;
  const evr::Event received = evr::Event::fromWire(
      zmq::message_t(built.bytes().data(), built.bytes().size()), 0, error);
  BOOST_REQUIRE_MESSAGE(received.valid(), error);
  for (const evr::Event* event : {&built, &received}) {
    int equal = 0;
    for (int i = 0; i < 100'000; ++i) equal += evr::as<evr::Bar>(*event) == bar ? 1 : 0;
    BOOST_TEST(equal == 100'000);
  }
}

// What the traversal limit is for stays guarded: a received event whose symbol pointer is made to
// point at its source text (data reached twice) keeps the limit, so reading it again and again
// ends in an error instead of costing more than its size allows.
BOOST_AUTO_TEST_CASE(a_received_event_whose_pointers_share_data_keeps_the_read_limit) {
  evr::Bus bus(std::string(200, 's'));
  evr::Event captured;
  bus.subscribeAll([&](const evr::Event& e) { captured = e; });
  bus.publish(evr::Bar{.symbol = "X"});
  BOOST_REQUIRE(captured.valid());
  std::vector<std::uint64_t> words(captured.bytes().size() / 8);
  std::memcpy(words.data(), captured.bytes().data(), captured.bytes().size());
  BOOST_REQUIRE_EQUAL(words[0] & 0xffffffffu, 0u);  // one segment, which starts at word 1
  const std::uint64_t root = words[1];
  const std::size_t start = 2 + static_cast<std::size_t>(static_cast<std::int32_t>(root & 0xffffffffu) >> 2);
  const std::size_t pointers = start + ((root >> 32) & 0xffff);
  const auto slot = [](const char* field) {
    return capnp::Schema::from<evr::schema::Event>().getFieldByName(field).getProto().getSlot().getOffset();
  };
  const std::size_t source = pointers + slot("source");
  const std::size_t symbol = pointers + slot("symbol");
  // A list pointer's offset counts words from the end of the pointer: aim symbol at source's text.
  const std::int64_t target = static_cast<std::int64_t>(source) + 1 +
                              (static_cast<std::int32_t>(words[source] & 0xffffffffu) >> 2);
  const std::int64_t offset = target - static_cast<std::int64_t>(symbol) - 1;
  words[symbol] = (words[source] & ~0xffffffffull) |
                  (static_cast<std::uint32_t>(static_cast<std::int32_t>(offset) << 2)) | 1u;

  std::string error;
  const evr::Event shared = evr::Event::fromWire(zmq::message_t(words.data(), words.size() * 8), 0, error);
  BOOST_REQUIRE_MESSAGE(shared.valid(), error);
  BOOST_TEST(shared.symbol().size() == 200u);  // the symbol now reads the source's text
  int reads = 0;
  bool refused = false;
  for (; reads < 100'000 && !refused; ++reads) {
    try {
      (void)shared.reader().getSymbol().size();
    } catch (const kj::Exception&) {
      refused = true;
    }
  }
  BOOST_TEST(refused);
  BOOST_TEST(reads < 100);
}

BOOST_AUTO_TEST_SUITE_END()
