// The demo's StepMerger (examples/common/step_merger.hpp): what a container sees of its inputs
// depends on the events, not on the order in which the processes' events happened to arrive.
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "common/step_merger.hpp"
#include "evr/bus.hpp"

namespace {

// An event as it arrives from the router: published by `source` at event time `time`.
evr::Event fromRouter(const std::string& source, evr::EventType type, std::int64_t time) {
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

// What the merger released: "time:source/type" per event, "end@time" at the end.
struct Released {
  std::vector<std::string> log;
  evr::examples::StepMerger attach(evr::Bus& bus, std::vector<std::string> inputs) {
    return evr::examples::StepMerger(
        bus, std::move(inputs),
        [this](std::int64_t time, const std::vector<evr::Event>& events) {
          for (const auto& e : events) {
            log.push_back(std::to_string(time) + ":" + std::string(e.source()) + "/" +
                          std::string(evr::eventTypeName(e.type())));
          }
        },
        [this](std::int64_t last) { log.push_back("end@" + std::to_string(last)); });
  }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(step_merger)

BOOST_AUTO_TEST_CASE(a_step_is_released_once_every_input_has_moved_past_it_in_input_order) {
  evr::Bus bus("risk");
  Released released;
  auto merger = released.attach(bus, {"data", "strategy"});
  bus.deliver(fromRouter("strategy", evr::EventType::SIGNAL, 1));
  bus.deliver(fromRouter("data", evr::EventType::BAR, 1));
  BOOST_TEST(released.log.empty());  // nobody is past day 1 yet
  bus.deliver(fromRouter("data", evr::EventType::BAR, 2));
  BOOST_TEST(released.log.empty());  // the strategy is not past day 1
  bus.deliver(fromRouter("strategy", evr::EventType::SIGNAL, 2));
  const std::vector<std::string> day1{"1:data/BAR", "1:strategy/SIGNAL"};  // input order, not arrival
  BOOST_TEST(released.log == day1, boost::test_tools::per_element());
  BOOST_TEST(merger.stepsReleased() == 1u);
}

BOOST_AUTO_TEST_CASE(end_of_data_from_every_input_releases_the_rest_and_ends_once) {
  evr::Bus bus("tracker");
  Released released;
  auto merger = released.attach(bus, {"data", "execution"});
  bus.deliver(fromRouter("data", evr::EventType::BAR, 5));
  bus.deliver(fromRouter("execution", evr::EventType::FILL, 5));
  bus.deliver(fromRouter("data", evr::EventType::END_OF_DATA, 6));
  BOOST_TEST(!merger.ended());
  bus.deliver(fromRouter("execution", evr::EventType::END_OF_DATA, 6));
  BOOST_TEST(merger.ended());
  bus.deliver(fromRouter("data", evr::EventType::BAR, 7));  // after the end: ignored, counted
  const std::vector<std::string> expected{"5:data/BAR", "5:execution/FILL", "end@5"};
  BOOST_TEST(released.log == expected, boost::test_tools::per_element());
  BOOST_TEST(merger.ignored() == 1u);
}

BOOST_AUTO_TEST_CASE(events_from_containers_that_are_not_inputs_are_ignored) {
  evr::Bus bus("portfolio");
  Released released;
  auto merger = released.attach(bus, {"data"});
  bus.deliver(fromRouter("child", evr::EventType::PORTFOLIO, 1));
  bus.deliver(fromRouter("data", evr::EventType::BAR, 1));
  bus.deliver(fromRouter("data", evr::EventType::END_OF_DATA, 2));
  const std::vector<std::string> expected{"1:data/BAR", "end@1"};
  BOOST_TEST(released.log == expected, boost::test_tools::per_element());
  BOOST_TEST(merger.ignored() == 1u);
}

BOOST_AUTO_TEST_CASE(any_interleaving_of_the_inputs_gives_the_same_sequence) {
  // Three inputs, each publishing days 1..20 in order (some days twice) and then END_OF_DATA.
  std::vector<std::vector<evr::Event>> streams(3);
  const std::vector<std::string> names{"data", "classifier", "strategy"};
  for (std::size_t i = 0; i < names.size(); ++i) {
    for (std::int64_t day = 1; day <= 20; ++day) {
      for (std::int64_t k = 0; k <= (day + static_cast<std::int64_t>(i)) % 2; ++k) {
        streams[i].push_back(fromRouter(names[i], evr::EventType::USER, day));
      }
    }
    streams[i].push_back(fromRouter(names[i], evr::EventType::END_OF_DATA, 21));
  }
  std::mt19937 random(11);
  std::vector<std::string> first;
  for (int trial = 0; trial < 50; ++trial) {
    evr::Bus bus("risk");
    Released released;
    auto merger = released.attach(bus, names);
    std::vector<std::size_t> next(streams.size(), 0);
    for (;;) {  // deliver a random input's next event: per-input order kept, interleaving random
      std::vector<std::size_t> open;
      for (std::size_t i = 0; i < streams.size(); ++i) {
        if (next[i] < streams[i].size()) open.push_back(i);
      }
      if (open.empty()) break;
      const std::size_t pick = open[random() % open.size()];
      bus.deliver(streams[pick][next[pick]++]);
    }
    BOOST_REQUIRE(merger.ended());
    if (trial == 0) {
      first = released.log;
      BOOST_TEST(first.size() == 91u);  // 3 inputs x 30 events (1 or 2 a day) + the end
    } else {
      BOOST_REQUIRE(released.log == first);
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()
