// At-least-once from evrouterd to containers (protocol v3, docs/delivery.md): what a container
// had not acked when its process went away goes to the next process under its name, handlers
// never see an event twice within one process (not even across a daemon restart), and with a
// position file not even across the container's own crash.
//
// A real evrouterd; the containers are Connections in this process (their handlers run on this
// thread) and raw DEALER sockets where a test needs a container that vanishes without a word.
#include <boost/test/unit_test.hpp>
#include <zmq_addon.hpp>

#include <csignal>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "daemon_fixture.hpp"
#include "evr/batch.hpp"
#include "evr/bus.hpp"
#include "evr/connection.hpp"
#include "evr/envelope.hpp"
#include "evr/frames.hpp"
#include "evr/link_messages.hpp"

using namespace std::chrono_literals;
using evr::test::RunningDaemon;
using evr::test::statsOf;
using evr::test::bound;

namespace {

constexpr const char* kConfig = R"(router:
  heartbeat_ms: 200
event_communication:
  adapters:
    - type: pipeline
      containers: [src, sink]
)";

// A raw link: speaks the protocol by hand, so a test decides what it acks and when it vanishes.
class RawLink {
 public:
  RawLink(zmq::context_t& context, const std::string& endpoint, const std::string& name,
          std::uint64_t instance)
      : socket_(context, zmq::socket_type::dealer) {
    socket_.set(zmq::sockopt::linger, 0);
    socket_.set(zmq::sockopt::rcvtimeo, 10000);  // a bound; messages are expected
    socket_.connect(endpoint);
    const auto hello = evr::encodeHello({evr::kProtocolVersion, name, instance, 0, 1, "test"});
    evr::Envelope envelope;
    envelope.kind = evr::MessageKind::Hello;
    send(envelope, evr::wordsMessage(hello));
    const auto welcome = receive();
    BOOST_REQUIRE(welcome.envelope.kind == evr::MessageKind::Welcome);
    welcome_seq = welcome.envelope.seq;
  }

  struct Message {
    evr::Envelope envelope;
    std::optional<zmq::message_t> body;
  };
  Message receive() {
    std::vector<zmq::message_t> frames;
    BOOST_REQUIRE(zmq::recv_multipart(socket_, std::back_inserter(frames)));
    auto decoded = evr::decodeEnvelope(evr::bytesOf(frames[0]));
    BOOST_REQUIRE(decoded.ok());
    if (decoded.envelope.kind == evr::MessageKind::Inputs) return receive();  // follows WELCOME
    Message out{decoded.envelope, std::nullopt};
    if (frames.size() > 1) out.body.emplace(std::move(frames[1]));
    return out;
  }
  // The events of the next EVENTS messages until `count` have come: (link seq, source seq).
  std::vector<std::pair<std::uint64_t, std::uint64_t>> receiveEvents(std::size_t count) {
    std::vector<std::pair<std::uint64_t, std::uint64_t>> out;
    while (out.size() < count) {
      auto message = receive();
      if (message.envelope.kind != evr::MessageKind::Events) continue;
      evr::BatchRecord record;
      std::uint64_t seq = message.envelope.seq;
      std::string why;
      auto batch = std::make_shared<const zmq::message_t>(std::move(*message.body));
      evr::BatchReader again(evr::bytesOf(*batch));
      while (again.next(record)) {
        const auto event = evr::Event::fromWireRecord(batch, record.event, record.hops, why);
        BOOST_REQUIRE(event.valid());
        out.emplace_back(seq++, event.seq());
      }
    }
    return out;
  }
  void ack(std::uint64_t seq) {
    evr::Envelope envelope;
    envelope.kind = evr::MessageKind::Ack;
    envelope.ack = seq;
    auto head = evr::envelopeMessage(envelope);
    socket_.send(head, zmq::send_flags::none);
  }
  // Goes away without BYE, as a killed process does.
  void vanish() { socket_.close(); }

  std::uint64_t welcome_seq = 0;

 private:
  void send(const evr::Envelope& envelope, zmq::message_t body) {
    auto head = evr::envelopeMessage(envelope);
    socket_.send(head, zmq::send_flags::sndmore);
    socket_.send(body, zmq::send_flags::none);
  }
  zmq::socket_t socket_;
};

// Publishes `count` BARs as container `src` and waits until evrouterd has acked them all.
void publish(zmq::context_t& context, const std::string& endpoint, int count) {
  evr::Bus bus("src");
  evr::Connection link(context, bus, {.container = "src", .endpoint = endpoint});
  for (int i = 0; i < count; ++i) bus.publish(evr::EventBuilder(evr::EventType::BAR).symbol("ACME"));
  BOOST_REQUIRE(link.flush(20s));
}

// A container `sink` in this process that records the source seqs its handlers saw.
struct Sink {
  Sink(zmq::context_t& context, const std::string& endpoint, std::string position_file = {})
      : bus("sink"),
        link(context, bus,
             {.container = "sink", .endpoint = endpoint, .position_file = std::move(position_file)}) {
    bus.subscribeAll([this](const evr::Event& e) {
      if (e.origin() == evr::Origin::Router) seen.push_back(e.seq());
    });
  }
  // Serves the link until the handlers have seen `count` events in all (or 20 s).
  bool serveUntil(std::size_t count) {
    const auto deadline = std::chrono::steady_clock::now() + bound(20s);
    while (seen.size() < count && std::chrono::steady_clock::now() < deadline) link.poll(50ms);
    return seen.size() >= count;
  }
  std::set<std::uint64_t> distinct() const { return {seen.begin(), seen.end()}; }

  evr::Bus bus;
  evr::Connection link;
  std::vector<std::uint64_t> seen;
};

}  // namespace

BOOST_AUTO_TEST_SUITE(redelivery)

BOOST_AUTO_TEST_CASE(what_a_vanished_container_had_not_acked_goes_to_the_next_process) {
  RunningDaemon daemon(kConfig);
  zmq::context_t context(1);
  {
    RawLink first(context, daemon.endpoint(), "sink", 11);
    BOOST_CHECK_EQUAL(first.welcome_seq, 0u);
    publish(context, daemon.endpoint(), 100);
    const auto got = first.receiveEvents(100);
    BOOST_REQUIRE_EQUAL(got.size(), 100u);
    BOOST_CHECK_EQUAL(got.front().first, 1u);
    first.ack(40);  // handled 40, then killed
    // The ack is in before the link goes.
    const auto acked = evr::test::statsWhen(daemon.controlEndpoint(), [](const evr::test::DaemonStats& s) {
      const auto* sink = s.container("sink");
      return sink != nullptr && sink->unacked == 60;
    });
    BOOST_REQUIRE(acked.container("sink") != nullptr);
    BOOST_CHECK_EQUAL(acked.container("sink")->unacked, 60u);
    first.vanish();
  }
  Sink second(context, daemon.endpoint());
  BOOST_REQUIRE(second.serveUntil(60));
  BOOST_CHECK_EQUAL(second.link.stats().joins, 1u);
  // Exactly 41..100, in order, once each.
  std::vector<std::uint64_t> expected;
  for (std::uint64_t seq = 41; seq <= 100; ++seq) expected.push_back(seq);
  BOOST_CHECK_EQUAL_COLLECTIONS(second.seen.begin(), second.seen.end(), expected.begin(),
                                expected.end());
  // The batch that held 40 and 41 came again whole: the part below the WELCOME's seq is dropped.
  // The sink acks what it handled 50 ms after its last message, while its link is served.
  const auto deadline = std::chrono::steady_clock::now() + bound(20s);
  auto stats = statsOf(daemon.controlEndpoint());
  while (stats.container("sink")->unacked != 0 && std::chrono::steady_clock::now() < deadline) {
    second.link.poll(20ms);
    stats = statsOf(daemon.controlEndpoint());
  }
  BOOST_CHECK_EQUAL(stats.container("sink")->unacked, 0u);
  BOOST_CHECK_GE(stats.container("sink")->redelivered, 60u);
  BOOST_CHECK_EQUAL(daemon.stop(), 0);
}

BOOST_AUTO_TEST_CASE(a_position_file_keeps_a_restarted_container_from_handling_anything_twice) {
  RunningDaemon daemon(kConfig);
  zmq::context_t context(1);
  const std::string positions = (daemon.dir().path() / "sink.positions").string();
  publish(context, daemon.endpoint(), 50);
  {
    // Handles all 50 but acks none of them (as if killed before its first ack): the daemon keeps
    // them all and sends them to the next process.
    Sink first(context, daemon.endpoint(), positions);
    first.link.stopAcking();
    BOOST_REQUIRE(first.serveUntil(50));
  }
  publish(context, daemon.endpoint(), 10);  // source seqs 1..10 of a new src process
  Sink second(context, daemon.endpoint(), positions);
  BOOST_REQUIRE(second.serveUntil(10));
  // Only the new process's 10 reach the handlers; the 50 come again and are dropped.
  BOOST_CHECK_EQUAL(second.seen.size(), 10u);
  const auto drained = [&] {
    const auto deadline = std::chrono::steady_clock::now() + bound(20s);
    while (second.link.stats().duplicates < 50 && std::chrono::steady_clock::now() < deadline) {
      second.link.poll(50ms);
    }
    return second.link.stats().duplicates;
  };
  BOOST_CHECK_EQUAL(drained(), 50u);
  BOOST_CHECK_EQUAL(second.seen.size(), 10u);
  BOOST_CHECK_EQUAL(daemon.stop(), 0);
}

BOOST_AUTO_TEST_CASE(without_a_position_file_a_restarted_container_gets_what_it_had_not_acked) {
  RunningDaemon daemon(kConfig);
  zmq::context_t context(1);
  publish(context, daemon.endpoint(), 30);
  {
    Sink first(context, daemon.endpoint());
    first.link.stopAcking();
    BOOST_REQUIRE(first.serveUntil(30));
  }
  Sink second(context, daemon.endpoint());
  BOOST_REQUIRE(second.serveUntil(30));
  BOOST_CHECK_EQUAL(second.distinct().size(), 30u);
  BOOST_CHECK_EQUAL(second.seen.size(), 30u);
  BOOST_CHECK_EQUAL(daemon.stop(), 0);
}

BOOST_AUTO_TEST_CASE(handlers_never_see_an_event_twice_across_a_daemon_restart) {
  // A source resends to a new daemon what the old one had not acked; the old one may have
  // delivered it already. Here a raw source sends events 1..5, the daemon is killed and started
  // again, and the source sends 3..7 (its link seqs start again): the sink's handlers must see
  // 1..7 once each.
  RunningDaemon daemon(kConfig);
  zmq::context_t context(1);
  std::vector<evr::Event> events;
  evr::Bus bus("src");
  bus.setSourceInstance(42);
  bus.subscribeAll([&](const evr::Event& e) { events.push_back(e); });
  for (int i = 0; i < 7; ++i) bus.publish(evr::EventBuilder(evr::EventType::BAR).symbol("X"));
  const auto sendRaw = [&](std::size_t first, std::size_t last) {
    zmq::socket_t raw(context, zmq::socket_type::dealer);
    raw.set(zmq::sockopt::linger, 2000);
    raw.set(zmq::sockopt::rcvtimeo, 10000);
    raw.connect(daemon.endpoint());
    evr::Envelope hello;
    hello.kind = evr::MessageKind::Hello;
    auto head = evr::envelopeMessage(hello);
    raw.send(head, zmq::send_flags::sndmore);
    raw.send(evr::wordsMessage(evr::encodeHello({evr::kProtocolVersion, "src", 42, 0, 1, "test"})),
             zmq::send_flags::none);
    std::vector<zmq::message_t> welcome;
    BOOST_REQUIRE(zmq::recv_multipart(raw, std::back_inserter(welcome)));
    evr::BatchWriter writer;
    for (std::size_t i = first; i <= last; ++i) {
      writer.append(events[i - 1].bytes(), static_cast<std::uint8_t>(evr::EventType::BAR), 0);
    }
    evr::Envelope batch;
    batch.kind = evr::MessageKind::Events;
    batch.seq = 1;
    batch.flags = static_cast<std::uint16_t>(last - first + 1);
    auto batch_head = evr::envelopeMessage(batch);
    raw.send(batch_head, zmq::send_flags::sndmore);
    raw.send(writer.take(), zmq::send_flags::none);
    // Wait for the daemon's ack of the batch before going (a HEARTBEAT is answered at once).
    evr::Envelope ping;
    ping.kind = evr::MessageKind::Heartbeat;
    auto ping_head = evr::envelopeMessage(ping);
    raw.send(ping_head, zmq::send_flags::none);
    while (true) {
      std::vector<zmq::message_t> frames;
      BOOST_REQUIRE(zmq::recv_multipart(raw, std::back_inserter(frames)));
      const auto decoded = evr::decodeEnvelope(evr::bytesOf(frames[0]));
      if (decoded.ok() && decoded.envelope.ack >= batch.flags) break;
    }
  };
  Sink sink(context, daemon.endpoint());
  BOOST_REQUIRE(sink.link.waitJoined(20s));
  sendRaw(1, 5);
  BOOST_REQUIRE(sink.serveUntil(5));
  daemon.process().signal(SIGKILL);
  BOOST_REQUIRE(daemon.process().waitFor(10s).has_value());
  daemon.restart();
  // The sink rejoins the new daemon by itself (its link goes silent, or the daemon says NOT_JOINED).
  const auto deadline = std::chrono::steady_clock::now() + bound(20s);
  const auto joins_before = sink.link.stats().joins;
  while (sink.link.stats().joins == joins_before && std::chrono::steady_clock::now() < deadline) {
    sink.link.poll(50ms);
  }
  BOOST_REQUIRE_GT(sink.link.stats().joins, joins_before);
  sendRaw(3, 7);
  BOOST_REQUIRE(sink.serveUntil(7));
  const std::vector<std::uint64_t> expected{1, 2, 3, 4, 5, 6, 7};
  BOOST_CHECK_EQUAL_COLLECTIONS(sink.seen.begin(), sink.seen.end(), expected.begin(), expected.end());
  BOOST_CHECK_EQUAL(sink.link.stats().duplicates, 3u);
  BOOST_CHECK_EQUAL(daemon.stop(), 0);
}

BOOST_AUTO_TEST_SUITE_END()
