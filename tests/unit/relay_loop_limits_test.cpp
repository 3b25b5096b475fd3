// RelayLoop's limits (docs/delivery.md, "Limits") on a fake clock, driven turn by turn over
// inproc: router.max_connections (ERROR overloaded), the per-container rate limit (acks held at
// the budget, paid as tokens return, nothing dropped), and router.queue_bytes_limit (the same
// paths as queue_limit: a lossless source held, lossy events shed and counted). No sleeps.
#include <boost/test/unit_test.hpp>
#include <zmq_addon.hpp>

#include <atomic>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "evr/bus.hpp"
#include "evr/envelope.hpp"
#include "evr/frames.hpp"
#include "evr/link_messages.hpp"
#include "compile_yaml.hpp"
#include "fake_clock.hpp"
#include "raw_link.hpp"
#include "transport/relay_loop.hpp"

using namespace std::chrono_literals;
using evr::MessageKind;

namespace {

using Link = evr::test::RawLink;
using evr::test::Received;

std::string endpoint() {
  static std::atomic<int> next{0};
  return "inproc://relay-loop-limits-test-" + std::to_string(next++);
}

struct Loop {
  explicit Loop(const evr::config::RouterSettings& settings) : loop(context, settings, {endpoint()}) {
    loop.setClockForTest(clock.source());
    loop.bind();
  }
  std::unique_ptr<Link> link() { return std::make_unique<Link>(context, loop.endpoints()[0]); }
  // `link` says HELLO as `name`; the loop must answer WELCOME.
  void join(Link& link, const std::string& name) {
    link.hello(name);
    loop.turnForTest();
    BOOST_REQUIRE((link.receive().envelope.kind == MessageKind::Welcome));
  }
  std::optional<evr::stats::ContainerSnapshot> container(const std::string& name) const {
    for (const auto& c : loop.snapshot().containers) {
      if (c.name == name) return c;
    }
    return std::nullopt;
  }
  // Routes src -> sink (a pipeline, every type lossless).
  void installPipeline() {
    const auto compiled = evr::test::compileYaml(R"(
event_communication:
  adapters:
    - type: pipeline
      containers: [src, sink]
)");
    BOOST_TEST_REQUIRE(compiled.table != nullptr);
    loop.installTable(compiled.table);
  }
  zmq::context_t context{1};
  evr::test::FakeClock clock;
  evr::transport::RelayLoop loop;
};

evr::config::RouterSettings baseSettings() {
  evr::config::RouterSettings out;
  out.heartbeat_ms = 1000;  // timer every 250 ms
  return out;
}

std::optional<evr::ErrorInfo> errorOf(const Received& received) {
  if (received.envelope.kind != MessageKind::Error || received.frames.size() < 2) return std::nullopt;
  std::string why;
  return evr::decodeError(evr::bytesOf(received.frames[1]), why);
}

// A real BAR event of `source` as the wire carries it.
kj::Array<capnp::word> barEvent(const std::string& source) {
  std::vector<evr::Event> events;
  evr::Bus bus(source);
  bus.subscribeAll([&](const evr::Event& e) { events.push_back(e); });
  bus.publish(evr::EventBuilder(evr::EventType::BAR).symbol("X"));
  const auto bytes = events.at(0).bytes();
  auto words = kj::heapArray<capnp::word>(bytes.size() / sizeof(capnp::word));
  std::memcpy(words.begin(), bytes.data(), bytes.size());
  return words;
}

constexpr auto kBar = static_cast<std::uint8_t>(evr::EventType::BAR);

}  // namespace

BOOST_AUTO_TEST_SUITE(relay_loop_limits)

BOOST_AUTO_TEST_CASE(a_hello_over_max_connections_gets_error_overloaded_until_one_leaves) {
  auto settings = baseSettings();
  settings.max_connections = 2;
  Loop t(settings);
  auto a = t.link();
  auto b = t.link();
  auto c = t.link();
  t.join(*a, "a");
  t.join(*b, "b");

  c->hello("c");
  t.loop.turnForTest();
  const auto refused = errorOf(c->receive());
  BOOST_TEST_REQUIRE(refused.has_value());
  BOOST_TEST((refused->code == evr::schema::ErrorCode::OVERLOADED));
  BOOST_TEST(refused->message.find("max_connections (2)") != std::string::npos);
  BOOST_TEST(t.loop.snapshot().hellos_refused_overloaded == 1u);
  BOOST_TEST(t.loop.snapshot().connections == 2u);
  BOOST_TEST(t.loop.snapshot().connections_limit == 2u);
  BOOST_TEST(!t.container("c").has_value());  // refused before it became a peer

  // A joined container saying HELLO again on its connection needs no new slot.
  t.join(*a, "a");
  BOOST_TEST(t.loop.snapshot().hellos_refused_overloaded == 1u);

  b->send(MessageKind::Bye, 0, nullptr);
  t.loop.turnForTest();
  BOOST_TEST(t.loop.snapshot().connections == 1u);
  t.join(*c, "c");
  BOOST_TEST(t.loop.snapshot().connections == 2u);
  BOOST_TEST(t.container("c")->connected);
}

BOOST_AUTO_TEST_CASE(a_reload_changes_max_connections_for_the_next_hello) {
  auto settings = baseSettings();
  settings.max_connections = 1;
  Loop t(settings);
  auto a = t.link();
  auto b = t.link();
  t.join(*a, "a");
  b->hello("b");
  t.loop.turnForTest();
  BOOST_TEST_REQUIRE(errorOf(b->receive()).has_value());
  settings.max_connections = 2;
  t.loop.applyLimits(settings);
  t.join(*b, "b");
  BOOST_TEST(t.loop.snapshot().connections_limit == 2u);
}

BOOST_AUTO_TEST_CASE(an_over_rate_source_is_acked_only_within_its_budget_and_released_as_tokens_return) {
  auto settings = baseSettings();
  settings.limits.containers.emplace_back(evr::config::Located<std::string>{"src", {}},
                                          evr::config::RateLimit{10, 2});  // 10/s, burst 2
  Loop t(settings);
  t.installPipeline();
  auto src = t.link();
  auto sink = t.link();
  t.join(*src, "src");
  t.join(*sink, "sink");
  const auto event = barEvent("src");
  for (std::uint64_t seq = 1; seq <= 5; ++seq) src->send(MessageKind::Event, seq, &event, kBar);
  t.loop.turnForTest();
  // Every event is routed (none dropped); two were within the burst, three waited.
  std::size_t delivered = 0;
  for (const auto& received : sink->drain()) {
    if (received.envelope.kind == MessageKind::Events) delivered += received.envelope.flags;
  }
  BOOST_TEST(delivered == 5u);
  BOOST_TEST(t.container("src")->counters.rate_limited == 3u);
  BOOST_TEST(t.container("src")->rate_limited);
  // A heartbeat asks for the ack: it stops at the budget.
  src->send(MessageKind::Heartbeat, 0, nullptr);
  t.loop.turnForTest();
  auto reply = src->receive();
  BOOST_TEST((reply.envelope.kind == MessageKind::Heartbeat));
  BOOST_TEST(reply.envelope.ack == 2u);

  // The source sends nothing more; the refilled bucket pays for the rest and acks move on.
  t.clock.advance(100ms);  // one token
  t.loop.turnForTest();
  auto ack = src->receive();
  BOOST_TEST((ack.envelope.kind == MessageKind::Ack));
  BOOST_TEST(ack.envelope.ack == 3u);
  BOOST_TEST(t.container("src")->rate_limited);
  t.clock.advance(200ms);  // two more: all paid
  t.loop.turnForTest();
  std::uint64_t last_ack = 0;
  for (const auto& received : src->drain()) last_ack = std::max(last_ack, received.envelope.ack);
  BOOST_TEST(last_ack == 5u);
  BOOST_TEST(!t.container("src")->rate_limited);
  BOOST_TEST(t.container("src")->counters.rate_limited == 3u);
  const auto snapshot = t.loop.snapshot();
  BOOST_TEST(snapshot.drops[static_cast<std::size_t>(evr::stats::DropReason::QueueFull)] == 0u);
  BOOST_TEST(snapshot.deliveries == 5u);
}

BOOST_AUTO_TEST_CASE(a_reload_that_lifts_a_rate_limit_releases_the_source_at_once) {
  auto settings = baseSettings();
  settings.limits.default_limit = evr::config::RateLimit{1, 1};
  Loop t(settings);
  auto src = t.link();
  t.join(*src, "src");
  const auto event = barEvent("src");
  for (std::uint64_t seq = 1; seq <= 4; ++seq) src->send(MessageKind::Event, seq, &event, kBar);
  t.loop.turnForTest();
  BOOST_TEST(t.container("src")->rate_limited);
  settings.limits.default_limit = evr::config::RateLimit{};
  t.loop.applyLimits(settings);
  t.loop.turnForTest();
  std::uint64_t last_ack = 0;
  for (const auto& received : src->drain()) last_ack = std::max(last_ack, received.envelope.ack);
  BOOST_TEST(last_ack == 4u);
  BOOST_TEST(!t.container("src")->rate_limited);
}

BOOST_AUTO_TEST_CASE(queue_bytes_limit_holds_a_lossless_source_and_caps_the_queue) {
  const auto event = barEvent("src");
  const std::size_t size = event.asBytes().size();
  auto settings = baseSettings();
  settings.queue_bytes_limit = 20 * size;  // pause at a quarter: 5 events; hard at 20
  Loop t(settings);
  t.installPipeline();
  auto src = t.link();
  t.join(*src, "src");
  for (std::uint64_t seq = 1; seq <= 30; ++seq) src->send(MessageKind::Event, seq, &event, kBar);
  t.loop.turnForTest();
  // sink never joined: its lossless queue holds src back from the fifth event on.
  BOOST_TEST(t.container("src")->held);
  src->send(MessageKind::Heartbeat, 0, nullptr);
  t.loop.turnForTest();
  BOOST_TEST(src->receive().envelope.ack == 4u);
  // What src sent anyway stops at the hard limit: counted drops, never past it.
  const auto sink = t.container("sink");
  BOOST_TEST_REQUIRE(sink.has_value());
  BOOST_TEST(sink->queue_depth == 20u);
  BOOST_TEST(sink->queue_bytes == 20 * size);
  BOOST_TEST(sink->counters.drops_to[static_cast<std::size_t>(evr::stats::DropReason::QueueFull)] == 10u);

  // sink joins and drains its queue; the hold lifts.
  auto sink_link = t.link();
  t.join(*sink_link, "sink");
  t.loop.turnForTest();
  BOOST_TEST(t.container("sink")->queue_bytes == 0u);
  BOOST_TEST(!t.container("src")->held);
}

BOOST_AUTO_TEST_CASE(queue_bytes_limit_sheds_drop_oldest_events_and_counts_them) {
  const auto event = barEvent("src");
  const std::size_t size = event.asBytes().size();
  auto settings = baseSettings();
  settings.queue_bytes_limit = 8 * size;
  Loop t(settings);
  const auto compiled = evr::test::compileYaml(R"(
event_communication:
  delivery:
    default: drop_oldest
    limit: 1000
  adapters:
    - type: pipeline
      containers: [src, sink]
)");
  BOOST_TEST_REQUIRE(compiled.table != nullptr);
  t.loop.installTable(compiled.table);
  auto src = t.link();
  t.join(*src, "src");
  for (std::uint64_t seq = 1; seq <= 30; ++seq) src->send(MessageKind::Event, seq, &event, kBar);
  t.loop.turnForTest();
  const auto sink = t.container("sink");
  BOOST_TEST_REQUIRE(sink.has_value());
  BOOST_TEST(sink->queue_depth == 8u);  // by bytes, well under the count limit of 1000
  BOOST_TEST(sink->queue_bytes == 8 * size);
  BOOST_TEST(sink->counters.drops_to[static_cast<std::size_t>(evr::stats::DropReason::Policy)] == 22u);
  BOOST_TEST(!t.container("src")->held);  // a lossy policy never holds its source
}

BOOST_AUTO_TEST_CASE(replay_bytes_limit_keeps_the_rest_queued_until_the_target_acks) {
  const auto event = barEvent("src");
  // Each turn routes one event: one EVENTS message of one record to sink.
  const std::size_t batch = evr::kBatchRecordHeader + event.asBytes().size();
  auto settings = baseSettings();
  settings.replay_bytes_limit = 1024;
  const std::size_t fit = (settings.replay_bytes_limit + batch - 1) / batch;  // the last one crosses it
  BOOST_TEST_REQUIRE(fit < 10u);
  Loop t(settings);
  t.installPipeline();
  auto src = t.link();
  t.join(*src, "src");
  auto sink = t.link();
  t.join(*sink, "sink");
  for (std::uint64_t seq = 1; seq <= 30; ++seq) {
    src->send(MessageKind::Event, seq, &event, kBar);
    t.loop.turnForTest();
  }
  // sink acks nothing: what was sent stops at the byte limit (far under replay_limit's 100,000).
  BOOST_TEST(t.container("sink")->unacked == fit);
  BOOST_TEST(t.container("sink")->queue_depth == 30 - fit);
  std::size_t events_received = 0;
  for (const auto& received : sink->drain()) events_received += received.envelope.kind == MessageKind::Events;
  BOOST_TEST(events_received == fit);

  // Its ack makes room: the queue goes next, in order, as one batch (a message may cross the
  // limit; the next waits for the next ack).
  sink->ack(fit);
  t.loop.turnForTest();
  BOOST_TEST(t.container("sink")->queue_depth == 0u);
  BOOST_TEST(t.container("sink")->unacked == 30 - fit);
  const auto after_ack = sink->drain();
  BOOST_TEST_REQUIRE(after_ack.size() == 1u);
  BOOST_TEST((after_ack[0].envelope.kind == MessageKind::Events));
  BOOST_TEST(after_ack[0].envelope.seq == fit + 1);
  BOOST_TEST(after_ack[0].envelope.flags == 30 - fit);
}

BOOST_AUTO_TEST_SUITE_END()
