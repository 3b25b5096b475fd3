// RelayLoop's timers on a fake clock: the loop is driven turn by turn on the test's thread
// (turnForTest) over inproc, and time moves only when the test advances it. No sleeps.
#include <boost/test/unit_test.hpp>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>
#include <zmq_addon.hpp>

#include <atomic>
#include <cstring>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "evr/bus.hpp"
#include "evr/envelope.hpp"
#include "evr/frames.hpp"
#include "evr/link_messages.hpp"
#include "compile_yaml.hpp"
#include "fake_clock.hpp"
#include "raw_capnp.hpp"
#include "raw_link.hpp"
#include "transport/relay_loop.hpp"

using namespace std::chrono_literals;
using evr::MessageKind;

namespace {

// A loop with heartbeat_ms 1000 (its timer resolution is 250 ms) on a fake clock, and one raw
// DEALER that speaks the link protocol to it.
struct LoopOnFakeClock {
  LoopOnFakeClock()
      : loop(context, settings(), {endpoint()}), link(context, bound(loop)) {}

  static evr::config::RouterSettings settings() {
    evr::config::RouterSettings out;
    out.heartbeat_ms = 1000;
    return out;
  }
  static std::string endpoint() {
    static std::atomic<int> next{0};
    return "inproc://relay-loop-test-" + std::to_string(next++);
  }

  void send(MessageKind kind, std::uint64_t seq, const kj::Array<capnp::word>* body,
            std::uint8_t event_type = 0) {
    link.send(kind, seq, body, event_type);
  }
  // The next message the loop sent us; it must have been sent by the last turn.
  evr::Envelope receive() { return link.receive().envelope; }
  bool pending() { return link.pending(); }

  void join(const std::string& name) {
    const auto hello = evr::encodeHello({evr::kProtocolVersion, name, 1, 0, 1, "test"});
    send(MessageKind::Hello, 0, &hello);
    loop.turnForTest();
    BOOST_REQUIRE(receive().kind == MessageKind::Welcome);
  }

  // Compiles `yaml` and installs its routing table in the loop.
  void install(const std::string& yaml) {
    const auto compiled = evr::test::compileYaml(yaml);
    BOOST_TEST_INFO(compiled.diagnostics.toString());
    BOOST_TEST_REQUIRE(compiled.table != nullptr);
    loop.installTable(compiled.table);
  }

  std::optional<evr::stats::ContainerSnapshot> container(const std::string& name) const {
    for (const auto& c : loop.snapshot().containers) {
      if (c.name == name) return c;
    }
    return std::nullopt;
  }

  // The loop on the fake clock, bound: what the link connects to.
  const std::string& bound(evr::transport::RelayLoop& relay) {
    relay.setClockForTest(clock.source());
    relay.bind();
    return relay.endpoints()[0];
  }

  zmq::context_t context{1};
  evr::test::FakeClock clock;
  evr::transport::RelayLoop loop;
  evr::test::RawLink link;
};

// An event as `source`'s Bus publishes it, as the words a container sends.
kj::Array<capnp::word> publishedWords(const std::string& source, evr::EventBuilder&& builder) {
  std::vector<evr::Event> events;
  evr::Bus bus(source);
  bus.subscribeAll([&](const evr::Event& e) { events.push_back(e); });
  bus.publish(std::move(builder));
  const auto bytes = events.at(0).bytes();
  auto words = kj::heapArray<capnp::word>(bytes.size() / sizeof(capnp::word));
  std::memcpy(words.begin(), bytes.data(), bytes.size());
  return words;
}

// A tap that fails every copy: a failure inside per-message handling that no input check catches.
class FailingTap final : public evr::transport::EventTap {
 public:
  bool active() const override { return true; }
  void publish(const std::string&, const std::vector<std::string>&,
               const std::vector<std::string>&, unsigned, zmq::message_t&) override {
    throw std::runtime_error("tap failed");
  }
};

// Sends the default logger's output to a string while it lives.
class CapturedLog {
 public:
  CapturedLog() : previous_(spdlog::default_logger()) {
    auto logger = std::make_shared<spdlog::logger>(
        "captured", std::make_shared<spdlog::sinks::ostream_sink_st>(text_));
    spdlog::set_default_logger(logger);
  }
  ~CapturedLog() { spdlog::set_default_logger(previous_); }
  std::size_t count(const std::string& part) const {
    const std::string text = text_.str();
    std::size_t n = 0;
    for (auto at = text.find(part); at != std::string::npos; at = text.find(part, at + 1)) ++n;
    return n;
  }

 private:
  std::ostringstream text_;
  std::shared_ptr<spdlog::logger> previous_;
};

}  // namespace

BOOST_AUTO_TEST_SUITE(relay_loop)

BOOST_AUTO_TEST_CASE(a_failure_while_handling_messages_is_counted_and_logged_at_a_limited_rate) {
  LoopOnFakeClock t;
  t.install(R"(
event_communication:
  adapters:
    - type: pipeline
      containers: [src, sink]
)");
  FailingTap tap;
  t.loop.setTap(&tap);
  t.join("src");
  const auto event = evr::encodeHello({evr::kProtocolVersion, "any-capnp-message", 1, 0, 1, "x"});
  {
    CapturedLog log;
    for (std::uint64_t seq = 1; seq <= 5; ++seq) {
      t.send(MessageKind::Event, seq, &event, static_cast<std::uint8_t>(evr::EventType::BAR));
    }
    t.loop.turnForTest();  // five failures within one second: logged once
    BOOST_TEST(log.count("error while handling a message: tap failed") == 1u);
  }
  const auto snapshot = t.loop.snapshot();
  BOOST_TEST(snapshot.handler_errors == 5u);
  BOOST_TEST(snapshot.events_in == 5u);
  BOOST_TEST(snapshot.summary().find("handler_errors=5") != std::string::npos);
  // The loop goes on: a heartbeat is answered.
  t.send(MessageKind::Heartbeat, 0, nullptr);
  t.loop.turnForTest();
  BOOST_TEST((t.receive().kind == MessageKind::Heartbeat));
}


BOOST_AUTO_TEST_CASE(a_restricted_source_cannot_publish_other_types_nor_relabel_them) {
  LoopOnFakeClock t;
  t.install(R"(
event_communication:
  adapters:
    - type: pipeline
      containers: [risk, sink]
)");
  evr::config::Diagnostics diagnostics;
  const auto config = evr::test::loadOrFail("router:\n  permissions:\n    risk: {publish: [ORDER]}\n", diagnostics);
  t.loop.setPermissions(config.router.permissions);
  t.join("risk");
  // Real events: an ORDER, and a BAR; the BAR also sent with ORDER in its header (the type
  // routing reads), as a container dressing it up would.
  std::vector<evr::Event> events;
  evr::Bus bus("risk");
  bus.subscribeAll([&](const evr::Event& e) { events.push_back(e); });
  bus.publish(evr::EventBuilder(evr::EventType::ORDER).symbol("X"));
  bus.publish(evr::EventBuilder(evr::EventType::BAR).symbol("X"));
  const auto words = [&](std::size_t i) {
    const auto bytes = events.at(i).bytes();
    auto out = kj::heapArray<capnp::word>(bytes.size() / sizeof(capnp::word));
    std::memcpy(out.begin(), bytes.data(), bytes.size());
    return out;
  };
  const auto order = words(0);
  const auto bar = words(1);
  const auto ORDER = static_cast<std::uint8_t>(evr::EventType::ORDER);
  const auto BAR = static_cast<std::uint8_t>(evr::EventType::BAR);
  t.send(MessageKind::Event, 1, &order, ORDER);
  t.send(MessageKind::Event, 2, &bar, BAR);
  t.send(MessageKind::Event, 3, &bar, ORDER);
  t.send(MessageKind::Event, 4, &bar, BAR);
  t.loop.turnForTest();
  // Only the ORDER was routed (queued for sink, which has not joined); two denied, each told once
  // per type: the BAR (seq 2), and the relabelled BAR (seq 3, under ORDER).
  BOOST_TEST(t.container("sink")->queue_depth == 1u);
  const auto denied = static_cast<std::size_t>(evr::stats::DropReason::Denied);
  BOOST_TEST(t.container("risk")->counters.drops_from[denied] == 3u);
  std::vector<std::uint64_t> told;
  for (const auto& message : t.link.drain()) {
    if (message.envelope.kind == MessageKind::Error) told.push_back(message.envelope.seq);
  }
  BOOST_TEST(told == (std::vector<std::uint64_t>{2, 3}), boost::test_tools::per_element());
  // A reload that lifts the permission lets BARs through.
  t.loop.setPermissions({});
  t.send(MessageKind::Event, 5, &bar, BAR);
  t.loop.turnForTest();
  BOOST_TEST(t.container("sink")->queue_depth == 2u);
}

// Watermark records (event-time ordering, docs/determinism.md) ride in EVENTS batches beside the
// events, but they are the link's own: deliveries and a target's events_out count events only.
BOOST_AUTO_TEST_CASE(watermark_records_beside_events_are_not_counted_as_deliveries) {
  LoopOnFakeClock t;
  t.install(R"(
event_communication:
  adapters:
    - type: pipeline
      containers: [src, dst]
)");
  evr::test::RawLink dst(t.context, t.loop.endpoints()[0]);
  const auto hello = evr::encodeHello({evr::kProtocolVersion, "dst", 2, 0, 1, "test", /*ordered=*/true});
  dst.send(MessageKind::Hello, 0, &hello);
  t.loop.turnForTest();
  BOOST_REQUIRE(dst.receive().envelope.kind == MessageKind::Welcome);
  t.join("src");

  const auto bar = publishedWords("src", evr::EventBuilder(evr::EventType::BAR).symbol("X").eventTime(100));
  const auto watermark = evr::encodeWatermark("src", 100);
  t.send(MessageKind::Event, 1, &bar, static_cast<std::uint8_t>(evr::EventType::BAR));
  t.send(MessageKind::Event, 2, &watermark, evr::kWatermarkType);
  t.loop.turnForTest();

  std::size_t records = 0;
  for (const auto& message : dst.drain()) {
    if (message.envelope.kind == MessageKind::Events) records += message.envelope.flags;
  }
  BOOST_TEST(records == 2u);  // the BAR and the watermark both reached dst
  BOOST_TEST(t.loop.snapshot().deliveries == 1u);
  BOOST_TEST(t.container("dst")->counters.events_out == 1u);
}

// Every rule of a selective adapter reads the event: 1,024 rules read it 1,024 times. Cap'n
// Proto's traversal budget once ran out after about 250 and the rest matched nothing.
BOOST_AUTO_TEST_CASE(the_last_of_1024_selective_rules_still_reads_the_event) {
  LoopOnFakeClock t;
  std::string yaml = R"(
event_communication:
  adapters:
    - type: selective
      source: src
      rules:
)";
  for (int i = 0; i < 1023; ++i) {
    yaml += "        - {condition: \"event.symbol == 'S" + std::to_string(i) + "'\", target: a}\n";
  }
  yaml += "        - {condition: \"event.symbol == 'X'\", target: b}\n";
  t.install(yaml);
  t.join("src");
  const auto bar = publishedWords("src", evr::EventBuilder(evr::EventType::BAR).symbol("X"));
  t.send(MessageKind::Event, 1, &bar, static_cast<std::uint8_t>(evr::EventType::BAR));
  t.loop.turnForTest();
  BOOST_TEST(t.container("b")->queue_depth == 1u);  // b has not joined: queued for it
  BOOST_TEST(t.container("a")->queue_depth == 0u);
  BOOST_TEST(t.loop.snapshot().unmatched == 0u);
}

// A route that reads an event a few times (here a transform's copy) reads it under the peer
// limit, with no walk first: an event whose pointers share their target 50 levels deep is dropped
// as unreadable once the copy has spent that limit, not copied 2^50 times.
BOOST_AUTO_TEST_CASE(an_event_whose_pointers_share_is_dropped_by_a_transform_not_copied_forever) {
  LoopOnFakeClock t;
  t.install(R"(
event_communication:
  adapters:
    - type: pipeline
      containers: [src, dst]
      transform:
        retype: {SIGNAL: ORDER}
)");
  t.join("src");
  const auto shared = evr::test::sharedTargets(50);
  t.send(MessageKind::Event, 1, &shared, static_cast<std::uint8_t>(evr::EventType::SIGNAL));
  t.loop.turnForTest();
  const auto snapshot = t.loop.snapshot();
  BOOST_TEST(snapshot.drops[static_cast<std::size_t>(evr::stats::DropReason::Malformed)] == 1u);
  BOOST_TEST(snapshot.deliveries == 0u);
  BOOST_TEST(t.container("dst")->queue_depth == 0u);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(relay_loop_clock)

BOOST_AUTO_TEST_CASE(a_peer_silent_for_three_heartbeats_is_disconnected_on_the_fake_clock) {
  LoopOnFakeClock t;
  t.join("quiet");
  BOOST_TEST_REQUIRE(t.container("quiet").has_value());
  BOOST_TEST(t.container("quiet")->connected);

  t.clock.advance(3000ms);  // exactly three intervals: not yet
  t.loop.turnForTest();
  BOOST_TEST(t.container("quiet")->connected);
  BOOST_TEST(t.container("quiet")->idle_ms.value_or(0) == 3000u);

  t.clock.advance(250ms);  // past it, at the next timer tick
  t.loop.turnForTest();
  BOOST_TEST(!t.container("quiet")->connected);
}

BOOST_AUTO_TEST_CASE(a_heartbeat_keeps_a_peer_connected_and_is_answered_at_once) {
  LoopOnFakeClock t;
  t.join("alive");
  for (int i = 0; i < 4; ++i) {
    t.clock.advance(2000ms);  // 8 s in all: more than three intervals, but never silent that long
    t.send(MessageKind::Heartbeat, 0, nullptr);
    t.loop.turnForTest();
    BOOST_TEST((t.receive().kind == MessageKind::Heartbeat));
  }
  BOOST_TEST(t.container("alive")->connected);
}

BOOST_AUTO_TEST_CASE(the_ack_timer_acks_a_quiet_link_when_the_clock_says_so) {
  LoopOnFakeClock t;
  t.join("src");
  // One event (unrouted: no table names src); a lone event is not acked at the end of its burst.
  const auto event = evr::encodeHello({evr::kProtocolVersion, "any-capnp-message", 1, 0, 1, "x"});
  t.send(MessageKind::Event, 1, &event, static_cast<std::uint8_t>(evr::EventType::BAR));
  t.loop.turnForTest();
  BOOST_TEST(t.loop.snapshot().events_in == 1u);
  BOOST_TEST(!t.pending());

  t.clock.advance(249ms);  // the timer ticks every heartbeat_ms / 4
  t.loop.turnForTest();
  BOOST_TEST(!t.pending());

  t.clock.advance(1ms);
  t.loop.turnForTest();
  BOOST_TEST_REQUIRE(t.pending());
  const auto ack = t.receive();
  BOOST_TEST((ack.kind == MessageKind::Ack));
  BOOST_TEST(ack.ack == 1u);
}

BOOST_AUTO_TEST_CASE(a_lossless_target_that_acks_nothing_is_reported_stalled_once) {
  LoopOnFakeClock t;
  t.install(R"(
event_communication:
  adapters:
    - type: pipeline
      containers: [src, sink]
)");
  t.join("src");
  // A real event for sink, which never joins: queued, lossless work pending.
  const auto words = publishedWords("src", evr::EventBuilder(evr::EventType::BAR).symbol("X"));
  t.send(MessageKind::Event, 1, &words, static_cast<std::uint8_t>(evr::EventType::BAR));
  t.loop.turnForTest();
  BOOST_TEST_REQUIRE(t.container("sink").has_value());
  BOOST_TEST(t.container("sink")->queue_depth == 1u);

  CapturedLog log;
  // The timer tick of the turn that queued it saw the work first: its clock started then.
  t.clock.advance(4750ms);  // 4.75 s after: not yet (router.stall_timeout_ms 5000)
  t.loop.turnForTest();
  BOOST_TEST(!t.container("sink")->stalled);
  t.clock.advance(250ms);
  t.loop.turnForTest();
  BOOST_TEST(t.container("sink")->stalled);
  t.clock.advance(2000ms);
  t.loop.turnForTest();
  BOOST_TEST(log.count("target 'sink' is stalled") == 1u);
  BOOST_TEST(log.count("not connected") == 1u);
  BOOST_TEST(t.loop.snapshot().stalls == 1u);
  BOOST_TEST(t.container("src")->stalled == false);  // a source with nothing pending is not
}

BOOST_AUTO_TEST_CASE(periodic_tasks_run_on_the_fake_clock) {
  LoopOnFakeClock t;
  int runs = 0;
  t.loop.addPeriodic(1000ms, [&runs]() { ++runs; });
  t.loop.turnForTest();  // the first tick runs every task once
  BOOST_TEST(runs == 1);
  t.clock.advance(750ms);
  t.loop.turnForTest();
  BOOST_TEST(runs == 1);
  t.clock.advance(250ms);
  t.loop.turnForTest();
  BOOST_TEST(runs == 2);
}

BOOST_AUTO_TEST_SUITE_END()
