// evr::EventOrder (client/include/evr/event_order.hpp): what an ordered container's handlers see
// depends on the events and the watermarks, never on the order in which they arrived.
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "evr/bus.hpp"
#include "evr/event_order.hpp"

namespace {

// An event as it arrives from the router: published by `source` at event time `time`.
evr::Event fromRouter(const std::string& source, std::int64_t time, evr::EventType type = evr::EventType::SIGNAL) {
  evr::Bus publisher(source);
  evr::Event local;
  publisher.subscribeAll([&](const evr::Event& e) { local = e; });
  publisher.publish(evr::EventBuilder(type).eventTime(time));
  const auto bytes = local.bytes();
  std::string why;
  auto received = evr::Event::fromWire(zmq::message_t(bytes.data(), bytes.size()), 1, why);
  BOOST_REQUIRE_MESSAGE(received.valid(), why);
  return received;
}

// Everything releasable now, as "step:time:source" per event.
std::vector<std::string> drain(evr::EventOrder& order) {
  std::vector<std::string> out;
  while (auto step = order.release()) {
    for (const auto& entry : step->entries) {
      out.push_back(std::to_string(step->time) + ":" + std::to_string(entry.event.eventTime()) + ":" +
                    std::string(entry.event.source()));
    }
  }
  return out;
}

evr::EventOrder::Added add(evr::EventOrder& order, const std::string& source, std::int64_t time) {
  static std::uint64_t ticket = 0;
  auto event = fromRouter(source, time);
  return order.add(event, ++ticket);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(event_order)

BOOST_AUTO_TEST_CASE(a_step_waits_for_every_forward_input_then_goes_in_input_order) {
  evr::EventOrder order;
  order.setInputs({{"data", false}, {"strategy", false}});
  BOOST_TEST((add(order, "strategy", 1) == evr::EventOrder::Added::Buffered));
  BOOST_TEST((add(order, "data", 1) == evr::EventOrder::Added::Buffered));
  BOOST_TEST(drain(order).empty());  // no input has said it is complete at 1
  order.advance("data", 1);
  BOOST_TEST(drain(order).empty());  // the strategy has not
  BOOST_TEST(order.progress() == evr::kNoWatermark);
  order.advance("strategy", 5);
  const std::vector<std::string> step1{"1:1:data", "1:1:strategy"};  // input order, not arrival
  const auto got = drain(order);
  BOOST_TEST(got == step1, boost::test_tools::per_element());
  BOOST_TEST(order.progress() == 1);  // min of the watermarks, nothing buffered
}

BOOST_AUTO_TEST_CASE(a_silent_input_stalls_nothing_once_its_watermark_moves) {
  evr::EventOrder order;
  order.setInputs({{"data", false}, {"quiet", false}});
  for (int day = 1; day <= 5; ++day) add(order, "data", day);
  order.advance("data", 5);
  BOOST_TEST(drain(order).empty());
  order.advance("quiet", 3);  // publishes nothing, but says how far it is
  BOOST_TEST(drain(order).size() == 3u);
  order.advance("quiet", evr::kEndWatermark);
  BOOST_TEST(drain(order).size() == 2u);
  BOOST_TEST(!order.ended());  // data has not ended
  order.advance("data", evr::kEndWatermark);
  BOOST_TEST(order.ended());
}

BOOST_AUTO_TEST_CASE(the_order_does_not_depend_on_arrival) {
  // Two inputs, events at times 1..30 (several per time), fed in 50 random interleavings with
  // watermarks at random moments: the released sequence is the same every time.
  std::vector<std::pair<std::string, std::int64_t>> events;
  for (std::int64_t t = 1; t <= 30; ++t) {
    events.emplace_back("a", t);
    if (t % 3 != 0) events.emplace_back("b", t);
    if (t % 5 == 0) events.emplace_back("b", t);
  }
  std::vector<std::string> first;
  std::mt19937 random(42);
  for (int run = 0; run < 50; ++run) {
    evr::EventOrder order;
    order.setInputs({{"a", false}, {"b", false}});
    // Keep each source's own order, interleave the two at random.
    std::vector<std::pair<std::string, std::int64_t>> a, b;
    for (const auto& e : events) (e.first == "a" ? a : b).push_back(e);
    std::size_t ia = 0, ib = 0;
    std::vector<std::string> got;
    while (ia < a.size() || ib < b.size()) {
      const bool take_a = ib == b.size() || (ia < a.size() && random() % 2 == 0);
      auto& [source, time] = take_a ? a[ia++] : b[ib++];
      add(order, source, time);
      if (random() % 4 == 0) order.advance(source, time - 1);  // a watermark after some events
      const auto released = drain(order);
      got.insert(got.end(), released.begin(), released.end());
    }
    order.advance("a", evr::kEndWatermark);
    order.advance("b", evr::kEndWatermark);
    const auto rest = drain(order);
    got.insert(got.end(), rest.begin(), rest.end());
    BOOST_TEST_REQUIRE(got.size() == events.size());
    if (run == 0) first = got;
    BOOST_TEST(got == first, boost::test_tools::per_element());
  }
}

BOOST_AUTO_TEST_CASE(a_feedback_input_is_handed_on_one_step_late_and_never_waited_for) {
  // The parent hears data (forward) and its child (feedback). The child's report for day 1 comes
  // only after the parent has handled day 1 — waiting for it would deadlock.
  evr::EventOrder order;
  order.setInputs({{"child", true}, {"data", false}});
  add(order, "data", 1);
  add(order, "data", 2);
  order.advance("data", 2);
  auto got = drain(order);
  BOOST_TEST(got == std::vector<std::string>{"1:1:data"}, boost::test_tools::per_element());
  // Day 2 waits until the child has handled day 1: its watermark reaches 1.
  add(order, "child", 1);
  BOOST_TEST(drain(order).empty());
  order.advance("child", 1);
  got = drain(order);
  const std::vector<std::string> day2{"2:1:child", "2:2:data"};  // the report first, then the step
  BOOST_TEST(got == day2, boost::test_tools::per_element());
  BOOST_TEST(order.progress() == 2);
  // After the forward inputs end, the rest of the feedback goes in time order as it completes.
  order.advance("data", evr::kEndWatermark);
  add(order, "child", 2);
  BOOST_TEST(drain(order).empty());
  order.advance("child", evr::kEndWatermark);
  BOOST_TEST(drain(order) == std::vector<std::string>{"2:2:child"}, boost::test_tools::per_element());
  BOOST_TEST(order.ended());
}

BOOST_AUTO_TEST_CASE(late_and_foreign_events_are_told_apart) {
  evr::EventOrder order;
  order.setInputs({{"data", false}});
  BOOST_TEST((add(order, "stranger", 1) == evr::EventOrder::Added::NotAnInput));
  add(order, "data", 2);
  order.advance("data", 2);
  BOOST_TEST(drain(order).size() == 1u);
  // Back in time after the input said it was complete up to 2: the source broke the contract.
  BOOST_TEST((add(order, "data", 2) == evr::EventOrder::Added::Late));
  BOOST_TEST((add(order, "data", 1) == evr::EventOrder::Added::Late));
}

BOOST_AUTO_TEST_CASE(a_reload_keeps_what_stays_and_returns_what_left) {
  evr::EventOrder order;
  order.setInputs({{"a", false}, {"b", false}});
  add(order, "a", 1);
  add(order, "b", 1);
  order.advance("a", 4);
  const auto orphans = order.setInputs({{"a", false, 2}, {"c", false}});
  BOOST_TEST_REQUIRE(orphans.size() == 1u);
  BOOST_TEST(orphans[0].event.source() == "b");
  BOOST_TEST(drain(order).empty());  // c, new, is not complete at 1 yet
  order.advance("c", 1);
  BOOST_TEST(drain(order) == std::vector<std::string>{"1:1:a"}, boost::test_tools::per_element());
  BOOST_TEST(order.progress() == 1);  // a kept its watermark 4 (not the 2 it was given); c is at 1
}

BOOST_AUTO_TEST_SUITE_END()
