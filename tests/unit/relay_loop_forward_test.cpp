// RelayLoop's cheap hop (docs/performance.md, "A batch goes on as it came"): an EVENTS body whose
// events all go by plain routes to the same targets is sent on as it came, hops moved on in place;
// anything else in it (another route, a bad record, a second small batch in the same burst that
// fits in a small message with the first) takes the event-by-event path, and what each target
// receives is the same either way. A target with something queued ahead of it, or away, queues
// the body as one entry, and it leaves the queue as it came. Driven turn by turn over inproc on a fake clock; no sleeps.
#include <boost/test/unit_test.hpp>
#include <zmq_addon.hpp>

#include <atomic>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "evr/batch.hpp"
#include "evr/bus.hpp"
#include "evr/envelope.hpp"
#include "evr/frames.hpp"
#include "evr/link_messages.hpp"
#include "compile_yaml.hpp"
#include "fake_clock.hpp"
#include "raw_link.hpp"
#include "transport/relay_loop.hpp"

using evr::MessageKind;

namespace {

using Link = evr::test::RawLink;
constexpr auto BAR = static_cast<std::uint8_t>(evr::EventType::BAR);
constexpr auto ORDER = static_cast<std::uint8_t>(evr::EventType::ORDER);

std::string endpoint() {
  static std::atomic<int> next{0};
  return "inproc://relay-loop-forward-test-" + std::to_string(next++);
}

struct Loop {
  explicit Loop(const std::string& yaml, evr::config::RouterSettings settings = {})
      : loop(context, settings, {endpoint()}) {
    loop.setClockForTest(clock.source());
    loop.bind();
    const auto compiled = evr::test::compileYaml(yaml);
    BOOST_TEST_REQUIRE(compiled.table != nullptr);
    loop.installTable(compiled.table);
  }
  std::unique_ptr<Link> join(const std::string& name) {
    auto link = std::make_unique<Link>(context, loop.endpoints()[0]);
    link->hello(name);
    loop.turnForTest();
    BOOST_REQUIRE((link->receive().envelope.kind == MessageKind::Welcome));
    return link;
  }
  std::optional<evr::stats::ContainerSnapshot> container(const std::string& name) const {
    for (const auto& c : loop.snapshot().containers) {
      if (c.name == name) return c;
    }
    return std::nullopt;
  }
  zmq::context_t context{1};
  evr::test::FakeClock clock;
  evr::transport::RelayLoop loop;
};

// An event as `source`'s Bus publishes it: its bytes.
std::vector<std::byte> published(const std::string& source, evr::EventType type, const std::string& symbol) {
  std::vector<std::byte> out;
  evr::Bus bus(source);
  bus.subscribeAll([&](const evr::Event& e) { out.assign(e.bytes().begin(), e.bytes().end()); });
  bus.publish(evr::EventBuilder(type).symbol(symbol));
  return out;
}

struct Record {
  std::vector<std::byte> event;
  std::uint8_t type = 0;
  std::uint8_t hops = 0;
};

// A BAR for `symbol` as src publishes it, with the hops its record carries.
Record srcBar(const std::string& symbol, std::uint8_t hops = 0) {
  return {published("src", evr::EventType::BAR, symbol), BAR, hops};
}

zmq::message_t body(const std::vector<Record>& records) {
  evr::BatchWriter writer;
  for (const auto& r : records) writer.append(r.event, r.type, r.hops);
  return writer.take();
}

// Every record of every EVENTS message `link` has waiting, in order; `messages`: how many
// EVENTS messages carried them.
std::vector<Record> receivedRecords(Link& link, std::size_t* messages = nullptr) {
  std::vector<Record> out;
  std::size_t count = 0;
  for (auto& message : link.drain()) {
    if (message.envelope.kind != MessageKind::Events) continue;
    ++count;
    BOOST_TEST_REQUIRE(message.frames.size() == 2u);
    const auto bytes = evr::bytesOf(message.frames[1]);
    BOOST_TEST_REQUIRE((evr::checkBatch(bytes, message.envelope.flags) == evr::BatchError::None));
    evr::BatchRecord record;
    for (evr::BatchReader reader(bytes); reader.next(record);) {
      out.push_back(Record{{record.event.begin(), record.event.end()}, record.event_type, record.hops});
    }
  }
  if (messages != nullptr) *messages = count;
  return out;
}

// `records` as a target must receive them: the same events, one hop further.
std::vector<Record> onward(std::vector<Record> records) {
  for (auto& r : records) ++r.hops;
  return records;
}

bool same(const std::vector<Record>& a, const std::vector<Record>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (a[i].event != b[i].event || a[i].type != b[i].type || a[i].hops != b[i].hops) return false;
  }
  return true;
}

// `src` sends `first` and then `second`, taken by the loop in one receive burst; `target` must
// receive both, in order, one hop further. Returns how many EVENTS messages carried them.
std::size_t twoBatchesInOneBurst(Loop& t, Link& src, Link& target, const std::vector<Record>& first,
                                 const std::vector<Record>& second) {
  src.events(1, first.size(), body(first));
  src.events(1 + first.size(), second.size(), body(second));
  t.loop.turnForTest();
  std::vector<Record> all = first;
  all.insert(all.end(), second.begin(), second.end());
  std::size_t messages = 0;
  BOOST_TEST(same(receivedRecords(target, &messages), onward(all)));
  return messages;
}

const char* const kBroadcastToAB = R"(
event_communication:
  adapters:
    - type: broadcast
      source: src
      targets: [a, b]
)";
const char* const kPipelineToA = R"(
event_communication:
  adapters:
    - type: pipeline
      containers: [src, a]
)";

}  // namespace

BOOST_AUTO_TEST_SUITE(relay_loop_forward)

BOOST_AUTO_TEST_CASE(a_batch_with_one_route_reaches_every_target_as_it_came_one_hop_further) {
  Loop t(kBroadcastToAB);
  auto a = t.join("a");
  auto b = t.join("b");
  auto src = t.join("src");
  const std::vector<Record> sent{srcBar("X"), srcBar("Y", 3),
                                 {published("src", evr::EventType::ORDER, "Z"), ORDER, 0}};
  src->events(1, sent.size(), body(sent));
  t.loop.turnForTest();
  for (Link* target : {a.get(), b.get()}) {
    std::size_t messages = 0;
    BOOST_TEST(same(receivedRecords(*target, &messages), onward(sent)));
    BOOST_TEST(messages == 1u);
  }
  const auto snapshot = t.loop.snapshot();
  BOOST_TEST(snapshot.events_in == 3u);
  BOOST_TEST(snapshot.deliveries == 6u);
  BOOST_TEST(snapshot.forwarded == 6u);  // both targets got the body itself
  BOOST_TEST(t.container("src")->counters.events_in == 3u);
  BOOST_TEST(t.container("a")->counters.events_out == 3u);
  BOOST_TEST(t.container("b")->counters.bytes_out == t.container("src")->counters.bytes_in);
  // Taken: the same seqs again are duplicates, routed nowhere.
  src->events(1, sent.size(), body(sent));
  t.loop.turnForTest();
  BOOST_TEST(receivedRecords(*a).empty());
  BOOST_TEST(t.loop.snapshot().events_in == 3u);
}

BOOST_AUTO_TEST_CASE(a_batch_whose_events_go_two_ways_goes_event_by_event) {
  Loop t(R"(
event_communication:
  adapters:
    - type: broadcast
      source: src
      targets: [a]
      events: [BAR]
    - type: broadcast
      source: src
      targets: [b]
      events: [ORDER]
)");
  auto a = t.join("a");
  auto b = t.join("b");
  auto src = t.join("src");
  const Record bar = srcBar("X");
  const Record order{published("src", evr::EventType::ORDER, "X"), ORDER, 0};
  src->events(1, 3, body({bar, order, bar}));
  t.loop.turnForTest();
  BOOST_TEST(same(receivedRecords(*a), onward({bar, bar})));
  BOOST_TEST(same(receivedRecords(*b), onward({order})));
  BOOST_TEST(t.loop.snapshot().deliveries == 3u);
  BOOST_TEST(t.loop.snapshot().forwarded == 0u);
}

BOOST_AUTO_TEST_CASE(a_bad_record_sends_the_batch_event_by_event_and_only_it_is_dropped) {
  evr::config::RouterSettings settings;
  settings.max_hops = 4;
  Loop t(kPipelineToA, settings);
  auto a = t.join("a");
  auto src = t.join("src");
  const Record good = srcBar("X");
  const Record last_hop = srcBar("Y", 3);
  const Record looping = srcBar("Z", 4);  // at router.max_hops
  Record unframed = good;
  unframed.event.resize(8);  // a segment table that promises more than it has
  src->events(1, 4, body({good, looping, last_hop, unframed}));
  t.loop.turnForTest();
  // Checked before anything changed: the events that pass go on one hop further, once.
  BOOST_TEST(same(receivedRecords(*a), onward({good, last_hop})));
  const auto snapshot = t.loop.snapshot();
  BOOST_TEST(snapshot.forwarded == 0u);
  BOOST_TEST(snapshot.drops[static_cast<std::size_t>(evr::stats::DropReason::HopLimit)] == 1u);
  BOOST_TEST(snapshot.drops[static_cast<std::size_t>(evr::stats::DropReason::Malformed)] == 1u);
}

BOOST_AUTO_TEST_CASE(two_batches_in_one_burst_reach_the_target_in_order_in_one_message) {
  Loop t(kPipelineToA);
  auto a = t.join("a");
  auto src = t.join("src");
  const std::size_t messages =
      twoBatchesInOneBurst(t, *src, *a, {srcBar("1"), srcBar("2")}, {srcBar("3"), srcBar("4"), srcBar("5")});
  BOOST_TEST(messages == 1u);  // the second joined the first, as single events would
  BOOST_TEST(t.loop.snapshot().forwarded == 0u);
}

BOOST_AUTO_TEST_CASE(two_batches_in_one_burst_too_big_for_one_message_both_go_as_they_came) {
  Loop t(kPipelineToA);
  auto a = t.join("a");
  auto src = t.join("src");
  // Two events of about 9/32 of a batch's bytes in each batch: one batch fits in an EVENTS message,
  // two do not.
  const std::string wide(evr::kBatchTargetBytes * 9 / 32, 'w');
  const std::vector<Record> first{srcBar(wide + "1"), srcBar(wide + "2")};
  BOOST_TEST_REQUIRE(body(first).size() < evr::kBatchTargetBytes);
  BOOST_TEST_REQUIRE(2 * body(first).size() > evr::kBatchTargetBytes);
  BOOST_TEST(twoBatchesInOneBurst(t, *src, *a, first, {srcBar(wide + "3"), srcBar(wide + "4")}) == 2u);
  BOOST_TEST(t.loop.snapshot().forwarded == 4u);  // the first went early, the second in its place
}

BOOST_AUTO_TEST_CASE(a_batch_for_a_target_that_is_away_is_queued_and_delivered_when_it_joins) {
  Loop t(kBroadcastToAB);
  auto a = t.join("a");
  auto src = t.join("src");
  const std::vector<Record> sent{srcBar("X"), srcBar("Y")};
  src->events(1, sent.size(), body(sent));
  t.loop.turnForTest();
  BOOST_TEST(same(receivedRecords(*a), onward(sent)));  // a: the body itself
  BOOST_TEST(t.container("b")->queue_depth == 2u);      // b: the body, queued whole
  BOOST_TEST(t.loop.snapshot().forwarded == 2u);
  auto b = t.join("b");
  t.loop.turnForTest();
  std::size_t messages = 0;
  BOOST_TEST(same(receivedRecords(*b, &messages), onward(sent)));
  BOOST_TEST(messages == 1u);
  BOOST_TEST(t.loop.snapshot().deliveries == 4u);
  BOOST_TEST(t.loop.snapshot().forwarded == 4u);  // b's went on as it came, from the queue
}

BOOST_AUTO_TEST_CASE(a_batch_queued_behind_an_event_leaves_after_it_as_it_came) {
  Loop t(kPipelineToA);
  auto src = t.join("src");
  // a is away: a batch of one event (copied into the queue) and then a batch of three (queued as
  // one entry), in separate bursts.
  const std::vector<Record> lone{srcBar("1")};
  const std::vector<Record> three{srcBar("2"), srcBar("3"), srcBar("4")};
  src->events(1, lone.size(), body(lone));
  t.loop.turnForTest();
  src->events(2, three.size(), body(three));
  t.loop.turnForTest();
  BOOST_TEST(t.container("a")->queue_depth == 4u);
  auto a = t.join("a");
  t.loop.turnForTest();
  std::vector<Record> all = lone;
  all.insert(all.end(), three.begin(), three.end());
  std::size_t messages = 0;
  BOOST_TEST(same(receivedRecords(*a, &messages), onward(all)));
  BOOST_TEST(messages == 2u);  // the lone event in a batch of its own, then the three as they came
  BOOST_TEST(t.loop.snapshot().forwarded == 3u);
  BOOST_TEST(t.container("a")->counters.events_out == 4u);
  BOOST_TEST(t.container("a")->counters.bytes_out == t.container("src")->counters.bytes_in);
}

// A target that stops reading: once its pipe is full, the batches for it wait in its queue, whole
// (the one whose send was refused, and those behind it), and all of them reach it, in order, once
// it reads again.
BOOST_AUTO_TEST_CASE(batches_that_find_the_pipe_full_wait_whole_and_all_arrive) {
  Loop t(kPipelineToA);
  auto a = t.join("a");
  auto src = t.join("src");
  // More messages than the pipe holds (the loop's send mark and a's receive mark), one per burst
  // so that none joins another.
  constexpr std::size_t kBatches = 3000;
  std::vector<Record> all;
  std::uint64_t seq = 1;
  for (std::size_t sent = 0; sent < kBatches; ++sent) {
    const std::vector<Record> batch{srcBar(std::to_string(sent) + "a"), srcBar(std::to_string(sent) + "b")};
    src->events(seq, batch.size(), body(batch));
    seq += batch.size();
    all.insert(all.end(), batch.begin(), batch.end());
    t.loop.turnForTest();
  }
  BOOST_TEST_REQUIRE(t.container("a")->queue_depth > 0u);  // the pipe was full
  std::vector<Record> got;
  for (int turn = 0; turn < 1000 && got.size() < all.size(); ++turn) {
    const auto more = receivedRecords(*a);
    got.insert(got.end(), more.begin(), more.end());
    t.loop.turnForTest();
  }
  BOOST_TEST(same(got, onward(all)));
  BOOST_TEST(t.container("a")->queue_depth == 0u);
  BOOST_TEST(t.loop.snapshot().forwarded == all.size());  // none copied on the way
}

BOOST_AUTO_TEST_SUITE_END()
