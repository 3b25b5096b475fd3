// Typed payloads (evr/events.hpp): build -> Event -> tryAs/as for every payload.
#include <boost/test/unit_test.hpp>

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

BOOST_AUTO_TEST_SUITE_END()
