// The optimization sweep's books (examples/common/sweep_books.hpp): one paper book per strategy,
// trading at the next open, marked at the close; results independent of a step's event order.
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "common/csv_bars.hpp"
#include "common/sweep_books.hpp"
#include "evr/bus.hpp"

namespace {

using evr::examples::kDayNs;

// `payload` as it arrives from the router, published by `source`.
template <class T>
evr::Event fromRouter(const std::string& source, const T& payload) {
  evr::Bus publisher(source);
  evr::Event local;
  publisher.subscribeAll([&](const evr::Event& e) { local = e; });
  publisher.publish(payload);
  const auto bytes = local.bytes();
  std::string why;
  auto received = evr::Event::fromWire(zmq::message_t(bytes.data(), bytes.size()), 1, why);
  BOOST_REQUIRE_MESSAGE(received.valid(), why);
  return received;
}

evr::Bar bar(const std::string& symbol, std::int64_t day, double open, double close) {
  return {.symbol = symbol, .time_ns = day * kDayNs, .open = open, .high = std::max(open, close),
          .low = std::min(open, close), .close = close, .volume = 1000, .period_seconds = 86400};
}

evr::Signal signal(const std::string& strategy, const std::string& symbol, std::int64_t day, evr::Direction d) {
  return {.symbol = symbol, .time_ns = day * kDayNs, .strategy = strategy, .direction = d,
          .strength = d == evr::Direction::Long ? 1.0 : 0.0, .price = 0};
}

const evr::examples::SweepCosts kCosts{.notional = 1000, .capital = 10000, .slippage_bps = 10,
                                       .commission_per_share = 0.01, .min_commission = 1};

}  // namespace

BOOST_AUTO_TEST_SUITE(sweep_books)

BOOST_AUTO_TEST_CASE(long_signal_buys_at_the_next_open_and_flat_sells) {
  evr::examples::SweepBooks books({"fast", "slow"}, kCosts);
  books.onStep(1 * kDayNs, {fromRouter("data", bar("ACME", 1, 100, 100)),
                            fromRouter("fast", signal("fast", "ACME", 1, evr::Direction::Long))});
  books.onStep(2 * kDayNs, {fromRouter("data", bar("ACME", 2, 100, 110)),
                            fromRouter("fast", signal("fast", "ACME", 2, evr::Direction::Flat))});
  books.onStep(3 * kDayNs, {fromRouter("data", bar("ACME", 3, 120, 125))});

  const auto results = books.results();
  BOOST_REQUIRE_EQUAL(results.size(), 2u);
  const auto& fast = results[0];
  BOOST_TEST(fast.strategy == "fast");
  BOOST_TEST(fast.days == 3u);
  BOOST_TEST(fast.signals == 2);
  BOOST_TEST(fast.fills == 2);
  BOOST_TEST(fast.round_trips == 1);
  // 10 shares bought at 100.10 (10 bp slippage), sold at 119.88; 1.00 commission each.
  const double expected = 10 * (119.88 - 100.10) - 2.0;
  BOOST_TEST(std::fabs(fast.pnl - expected) < 1e-9);
  BOOST_TEST(std::fabs(fast.return_pct - expected / 10000 * 100) < 1e-9);
  BOOST_TEST(fast.sharpe != 0.0);
  // The other book never traded: flat curve, Sharpe 0.
  BOOST_TEST(results[1].strategy == "slow");
  BOOST_TEST(results[1].fills == 0);
  BOOST_TEST(results[1].pnl == 0.0);
  BOOST_TEST(results[1].sharpe == 0.0);
  BOOST_TEST(results[1].days == 3u);
}

BOOST_AUTO_TEST_CASE(a_steps_event_order_does_not_change_the_results) {
  std::vector<std::vector<evr::Event>> steps;
  for (std::int64_t day = 1; day <= 30; ++day) {
    const double a = 100 + 10 * std::sin(day * 0.4), b = 50 + 5 * std::cos(day * 0.3);
    std::vector<evr::Event> events{fromRouter("data", bar("ACME", day, a - 0.5, a)),
                                   fromRouter("data", bar("BOLT", day, b + 0.25, b))};
    for (const std::string s : {"s1", "s2", "s3"}) {
      const bool up = (day + static_cast<int>(s.back())) % 3 != 0;
      events.push_back(fromRouter(s, signal(s, "ACME", day, up ? evr::Direction::Long : evr::Direction::Flat)));
      events.push_back(fromRouter(s, signal(s, "BOLT", day, up ? evr::Direction::Flat : evr::Direction::Long)));
    }
    steps.push_back(std::move(events));
  }
  evr::examples::SweepBooks forward({"s1", "s2", "s3"}, kCosts);
  evr::examples::SweepBooks backward({"s1", "s2", "s3"}, kCosts);
  for (auto& events : steps) {
    forward.onStep(events.front().eventTime(), events);
    std::reverse(events.begin(), events.end());
    backward.onStep(events.front().eventTime(), events);
  }
  const auto text = evr::examples::sweepResultsCsv(forward.results());
  BOOST_TEST(text == evr::examples::sweepResultsCsv(backward.results()));
  BOOST_TEST(forward.results()[0].fills > 0);
}

BOOST_AUTO_TEST_CASE(signals_from_a_source_without_a_book_are_counted_not_booked) {
  evr::examples::SweepBooks books({"mine"}, kCosts);
  books.onStep(1 * kDayNs, {fromRouter("data", bar("ACME", 1, 100, 100)),
                            fromRouter("stranger", signal("mine", "ACME", 1, evr::Direction::Long))});
  books.onStep(2 * kDayNs, {fromRouter("data", bar("ACME", 2, 100, 100))});
  BOOST_TEST(books.ignored() == 1u);
  BOOST_TEST(books.results()[0].fills == 0);
  BOOST_TEST(books.results()[0].signals == 0);
}

BOOST_AUTO_TEST_CASE(results_csv_has_fixed_decimals_and_no_negative_zero) {
  evr::examples::SweepResult r;
  r.strategy = "sma_3_30";
  r.days = 5;
  r.pnl = -0.0;
  r.return_pct = 1.0 / 3;
  const auto text = evr::examples::sweepResultsCsv({r});
  BOOST_TEST(text ==
             "strategy,days,signals,fills,trades,pnl,return_pct,sharpe,max_drawdown_pct\n"
             "sma_3_30,5,0,0,0,0.00,0.3333,0.0000,0.0000\n");
}

BOOST_AUTO_TEST_SUITE_END()
