// rate_limiter: the token bucket of router.limits on a fake clock: a full bucket at start, refill
// at events_per_s up to burst, partial payment, reconfiguration without a fresh burst.

#include <boost/test/unit_test.hpp>

#include "fake_clock.hpp"
#include "transport/rate_limiter.hpp"

using namespace std::chrono_literals;
using evr::config::RateLimit;
using evr::transport::TokenBucket;

BOOST_AUTO_TEST_SUITE(rate_limiter)

BOOST_AUTO_TEST_CASE(an_unconfigured_bucket_is_unlimited) {
  evr::test::FakeClock clock;
  TokenBucket bucket;
  BOOST_TEST(bucket.unlimited());
  for (int i = 0; i < 1000; ++i) BOOST_TEST_REQUIRE(bucket.take(clock.now()));
  BOOST_TEST(bucket.takeUpTo(123456, clock.now()) == 123456u);
}

BOOST_AUTO_TEST_CASE(a_bucket_starts_full_and_refills_at_its_rate_up_to_its_burst) {
  evr::test::FakeClock clock;
  TokenBucket bucket;
  bucket.configure(RateLimit{100, 10}, clock.now());  // 100 events/s, burst 10
  for (int i = 0; i < 10; ++i) BOOST_TEST_REQUIRE(bucket.take(clock.now()));
  BOOST_TEST(!bucket.take(clock.now()));
  clock.advance(9ms);  // 0.9 of a token
  BOOST_TEST(!bucket.take(clock.now()));
  clock.advance(1ms);  // one token
  BOOST_TEST(bucket.take(clock.now()));
  BOOST_TEST(!bucket.take(clock.now()));
  clock.advance(10s);  // far more than the burst
  BOOST_TEST(bucket.available(clock.now()) == 10u);
}

BOOST_AUTO_TEST_CASE(take_up_to_pays_what_it_can_and_keeps_the_fraction) {
  evr::test::FakeClock clock;
  TokenBucket bucket;
  bucket.configure(RateLimit{1000, 1}, clock.now());
  BOOST_TEST(bucket.takeUpTo(5, clock.now()) == 1u);
  clock.advance(2500us);  // 2.5 tokens, but the burst holds one
  BOOST_TEST(bucket.takeUpTo(5, clock.now()) == 1u);
  bucket.configure(RateLimit{1000, 100}, clock.now());  // a reload: no fresh burst
  BOOST_TEST(bucket.takeUpTo(5, clock.now()) == 0u);
  clock.advance(3500us);
  BOOST_TEST(bucket.takeUpTo(5, clock.now()) == 3u);
  clock.advance(500us);  // the half token left over and this half make one
  BOOST_TEST(bucket.takeUpTo(5, clock.now()) == 1u);
}

BOOST_AUTO_TEST_CASE(configuring_zero_makes_it_unlimited_and_a_clock_set_back_adds_nothing) {
  evr::test::FakeClock clock;
  TokenBucket bucket;
  bucket.configure(RateLimit{10, 1}, clock.now());
  BOOST_TEST(bucket.take(clock.now()));
  BOOST_TEST(!bucket.take(clock.now() - 1s));
  bucket.configure(RateLimit{0, 0}, clock.now());
  BOOST_TEST(bucket.unlimited());
  BOOST_TEST(bucket.take(clock.now()));
}

BOOST_AUTO_TEST_SUITE_END()
