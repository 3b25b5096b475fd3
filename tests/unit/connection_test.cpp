// Connection's link timers on a fake clock: heartbeats, the ack delay, HELLO retries and the
// silence that marks the link lost. The test plays evrouterd on an inproc ROUTER and drives the
// connection with poll(0ms); time moves only when the test advances it. No sleeps.
#include <boost/test/unit_test.hpp>
#include <zmq_addon.hpp>

#include <algorithm>
#include <atomic>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include "evr/batch.hpp"
#include "evr/bus.hpp"
#include "evr/connection.hpp"
#include "evr/envelope.hpp"
#include "evr/frames.hpp"
#include "evr/link_messages.hpp"
#include "fake_clock.hpp"
#include "temp_dir.hpp"
#include "time_scale.hpp"

using namespace std::chrono_literals;
using evr::MessageKind;

namespace {

// A fake daemon (ROUTER) and one Connection to it, on a fake clock.
struct LinkOnFakeClock {
  LinkOnFakeClock()
      : daemon(context, zmq::socket_type::router),
        bound(bindDaemon()),
        connection(context, bus,
                   {.container = "strategy", .endpoint = bound, .heartbeat = 1000ms}) {
    connection.setClockForTest(clock.source());
  }

  std::string bindDaemon() {
    static std::atomic<int> next{0};
    const std::string endpoint = "inproc://connection-test-" + std::to_string(next++);
    daemon.set(zmq::sockopt::linger, 0);
    daemon.set(zmq::sockopt::rcvtimeo, 5000);  // a bound on a message that must already be there
    daemon.bind(endpoint);
    return endpoint;
  }

  struct Received {
    evr::Envelope envelope;
    std::vector<zmq::message_t> frames;  // routing id, envelope, body...
  };
  Received receive() {
    Received out;
    BOOST_REQUIRE(zmq::recv_multipart(daemon, std::back_inserter(out.frames)));
    BOOST_REQUIRE_GE(out.frames.size(), 2u);
    const auto decoded = evr::decodeEnvelope(evr::bytesOf(out.frames[1]));
    BOOST_REQUIRE(decoded.ok());
    out.envelope = decoded.envelope;
    routing_id = out.frames[0].to_string();
    return out;
  }
  // Moves the clock on by `by` and lets the connection run its timers; true when it sent
  // something.
  bool tick(std::chrono::milliseconds by) {
    clock.advance(by);
    connection.poll(0ms);
    return pending();
  }
  // True when the connection has sent something (it sends on this thread: it is there already).
  bool pending() {
    zmq::pollitem_t item{daemon.handle(), 0, ZMQ_POLLIN, 0};
    return zmq::poll(&item, 1, 0ms) > 0;
  }
  void sendToClient(const evr::Envelope& envelope, zmq::message_t* body) {
    daemon.send(zmq::buffer(routing_id), zmq::send_flags::sndmore);
    auto head = evr::envelopeMessage(envelope);
    daemon.send(head, body ? zmq::send_flags::sndmore : zmq::send_flags::none);
    if (body != nullptr) daemon.send(*body, zmq::send_flags::none);
  }

  // Takes the HELLO, answers WELCOME (heartbeat 1000 ms), and lets the connection read it.
  void join() {
    BOOST_REQUIRE((receive().envelope.kind == MessageKind::Hello));
    evr::Envelope welcome;
    welcome.kind = MessageKind::Welcome;
    auto body = evr::wordsMessage(
        evr::encodeWelcome({evr::kProtocolVersion, 77, 0, 1000, 1 << 20, "test"}));
    sendToClient(welcome, &body);
    connection.poll(0ms);
    BOOST_REQUIRE(connection.joined());
  }

  zmq::context_t context{1};
  zmq::socket_t daemon;
  std::string bound;
  std::string routing_id;
  evr::test::FakeClock clock;
  evr::Bus bus{"strategy"};
  evr::Connection connection;
};

}  // namespace

BOOST_AUTO_TEST_SUITE(connection_clock)

BOOST_AUTO_TEST_CASE(a_heartbeat_goes_out_after_one_quiet_interval_of_fake_time) {
  LinkOnFakeClock t;
  t.join();
  BOOST_TEST(!t.tick(999ms));
  BOOST_TEST_REQUIRE(t.tick(1ms));
  BOOST_TEST((t.receive().envelope.kind == MessageKind::Heartbeat));
}

BOOST_AUTO_TEST_CASE(received_events_are_acked_once_the_ack_delay_has_passed) {
  LinkOnFakeClock t;
  t.join();
  // One BAR from "data", as evrouterd would relay it: an EVENTS batch at link seq 1.
  evr::Bus data("data");
  std::vector<evr::Event> published;
  data.subscribeAll([&](const evr::Event& e) { published.push_back(e); });
  data.publish(evr::EventBuilder(evr::EventType::BAR).symbol("SPY"));
  BOOST_REQUIRE_EQUAL(published.size(), 1u);
  evr::BatchWriter batch;
  batch.append(published[0].bytes(), static_cast<std::uint8_t>(evr::EventType::BAR), 1);
  auto body = batch.take();
  evr::Envelope events;
  events.kind = MessageKind::Events;
  events.seq = 1;
  events.flags = 1;
  t.sendToClient(events, &body);

  t.connection.poll(0ms);
  BOOST_TEST(t.connection.stats().received == 1u);
  BOOST_TEST(!t.pending());  // one event is not worth an ACK of its own yet
  BOOST_TEST(!t.tick(49ms));
  BOOST_TEST_REQUIRE(t.tick(1ms));  // the ack delay (50 ms) has passed
  const auto ack = t.receive().envelope;
  BOOST_TEST((ack.kind == MessageKind::Ack));
  BOOST_TEST(ack.ack == 1u);
}

BOOST_AUTO_TEST_CASE(three_silent_heartbeat_intervals_mark_the_link_lost_and_it_says_hello_again) {
  LinkOnFakeClock t;
  t.join();
  for (int i = 0; i < 2; ++i) {  // the connection keeps talking; the daemon never answers
    BOOST_TEST_REQUIRE(t.tick(1000ms));
    BOOST_TEST((t.receive().envelope.kind == MessageKind::Heartbeat));
  }
  BOOST_TEST(!t.tick(999ms));
  BOOST_TEST(t.connection.joined());

  BOOST_TEST_REQUIRE(t.tick(1ms));  // 3000 ms since the daemon last said anything
  BOOST_TEST(!t.connection.joined());
  BOOST_TEST((t.receive().envelope.kind == MessageKind::Hello));
}

BOOST_AUTO_TEST_CASE(an_unanswered_hello_is_retried_after_100_ms_then_backs_off_to_one_a_second) {
  LinkOnFakeClock t;
  BOOST_TEST((t.receive().envelope.kind == MessageKind::Hello));  // sent by the constructor
  for (const auto wait : {100ms, 200ms, 400ms, 800ms, 1000ms, 1000ms}) {
    BOOST_TEST(!t.tick(wait - 1ms));
    BOOST_TEST_REQUIRE(t.tick(1ms));
    BOOST_TEST((t.receive().envelope.kind == MessageKind::Hello));
  }
  BOOST_TEST(!t.connection.joined());
  BOOST_TEST_REQUIRE(t.tick(1000ms));
  t.join();  // a WELCOME for that HELLO at last: after the next loss, retries start at 100 ms again
  for (int i = 0; i < 3; ++i) {
    BOOST_TEST_REQUIRE(t.tick(1000ms));
    (void)t.receive();  // heartbeats, then the HELLO that follows three silent intervals
  }
  BOOST_TEST(!t.connection.joined());
  BOOST_TEST(!t.tick(99ms));
  BOOST_TEST_REQUIRE(t.tick(1ms));
  BOOST_TEST((t.receive().envelope.kind == MessageKind::Hello));
}

// A restarted container's HELLO can reach evrouterd before it has seen the last process's
// connection close: "nameInUse" is taken as final only after a second of trying.
BOOST_AUTO_TEST_CASE(name_in_use_is_retried_for_a_second_then_is_final) {
  LinkOnFakeClock t;
  BOOST_TEST((t.receive().envelope.kind == MessageKind::Hello));
  const auto nameInUse = [&] {
    evr::Envelope error;
    error.kind = MessageKind::Error;
    auto body = evr::wordsMessage(
        evr::encodeError({evr::schema::ErrorCode::NAME_IN_USE, "held by another live connection", 0}));
    t.sendToClient(error, &body);
  };
  nameInUse();
  t.connection.poll(0ms);  // not thrown: the holder may be going
  BOOST_TEST_REQUIRE(t.tick(100ms));
  BOOST_TEST((t.receive().envelope.kind == MessageKind::Hello));  // asked again
  nameInUse();
  t.clock.advance(900ms);  // a second since it began to join
  BOOST_CHECK_THROW(t.connection.poll(0ms), evr::ConnectionError);
}

BOOST_AUTO_TEST_SUITE_END()

// evrouterd killed while it sends: the container's socket loses its connection with messages of
// several frames still arriving. libzmq aborts the reading process (`!_more`, fq.cpp) when that
// connection's pipe is ended between two frames of the message being read, which ZMQ_IMMEDIATE
// does on every lost connection; 30 rounds of three-frame messages hit that window nearly every
// time. Real ipc sockets, a ROUTER in the test playing the daemon, the connection on this thread.
BOOST_AUTO_TEST_SUITE(connection_link_loss)

namespace {

// The next message from the connection on a daemon socket, answering it as a daemon that knows
// nobody would: HELLO gets a WELCOME from daemon instance `instance`, the rest notJoined.
// Returns the routing id once a WELCOME went out.
std::string serveUntilJoined(zmq::socket_t& daemon, evr::Connection& connection, std::uint64_t instance) {
  const auto deadline = std::chrono::steady_clock::now() + evr::test::bound(10s);
  while (std::chrono::steady_clock::now() < deadline) {
    connection.poll(5ms);
    std::vector<zmq::message_t> frames;
    if (!zmq::recv_multipart(daemon, std::back_inserter(frames), zmq::recv_flags::dontwait)) continue;
    BOOST_REQUIRE_GE(frames.size(), 2u);
    const auto decoded = evr::decodeEnvelope(evr::bytesOf(frames[1]));
    BOOST_REQUIRE(decoded.ok());
    evr::Envelope answer;
    zmq::message_t body;
    if (decoded.envelope.kind == MessageKind::Hello) {
      answer.kind = MessageKind::Welcome;
      body = evr::wordsMessage(evr::encodeWelcome({evr::kProtocolVersion, instance, 0, 1000, 1 << 20, "test"}));
    } else {
      answer.kind = MessageKind::Error;
      body = evr::wordsMessage(
          evr::encodeError({evr::schema::ErrorCode::NOT_JOINED, "say HELLO first", decoded.envelope.seq}));
    }
    const std::string routing_id = frames[0].to_string();
    daemon.send(zmq::buffer(routing_id), zmq::send_flags::sndmore);
    auto head = evr::envelopeMessage(answer);
    daemon.send(head, zmq::send_flags::sndmore);
    daemon.send(body, zmq::send_flags::none);
    if (answer.kind == MessageKind::Welcome) {
      const auto joined_by = std::chrono::steady_clock::now() + evr::test::bound(10s);
      while (!connection.joined() && std::chrono::steady_clock::now() < joined_by) connection.poll(5ms);
      BOOST_REQUIRE(connection.joined());
      return routing_id;
    }
  }
  BOOST_FAIL("the connection did not join the daemon");
  return {};
}

}  // namespace

BOOST_AUTO_TEST_CASE(a_daemon_lost_while_it_sends_does_not_abort_the_reader_and_the_next_one_is_joined) {
  evr::test::TempDir dir;
  const std::string endpoint = dir.ipc("daemon.sock");
  zmq::context_t context{1};
  evr::Bus bus{"strategy"};
  std::uint64_t handled = 0;
  bus.subscribeAll([&](const evr::Event&) { ++handled; });
  evr::Connection connection(context, bus, {.container = "strategy", .endpoint = endpoint});

  evr::Bus data("data");
  std::vector<evr::Event> published;
  data.subscribeAll([&](const evr::Event& e) { published.push_back(e); });
  constexpr int kRounds = 30;
  for (int round = 0; round < kRounds; ++round) {
    zmq::socket_t daemon(context, zmq::socket_type::router);
    daemon.set(zmq::sockopt::linger, 0);
    daemon.set(zmq::sockopt::router_mandatory, 1);
    daemon.bind(endpoint);
    const std::string routing_id = serveUntilJoined(daemon, connection, 1000 + round);

    // EVENTS of one BAR each, at link seq 1, 2, ..., with a third frame (ignored by the client,
    // as frames a later protocol minor version may add), until the link is full.
    std::uint64_t seq = 0;
    for (;;) {
      published.clear();
      data.publish(evr::EventBuilder(evr::EventType::BAR).symbol("SPY"));
      evr::BatchWriter batch;
      batch.append(published.at(0).bytes(), static_cast<std::uint8_t>(evr::EventType::BAR), 1);
      auto body = batch.take();
      evr::Envelope events;
      events.kind = MessageKind::Events;
      events.seq = ++seq;
      events.flags = 1;
      auto head = evr::envelopeMessage(events);
      if (!daemon.send(zmq::buffer(routing_id), zmq::send_flags::sndmore | zmq::send_flags::dontwait)) break;
      daemon.send(head, zmq::send_flags::sndmore);
      daemon.send(body, zmq::send_flags::sndmore);
      daemon.send(zmq::str_buffer("extra"), zmq::send_flags::none);
    }
    BOOST_TEST_REQUIRE(seq > 1u);
    // The link is full (the connection has not read yet): the daemon goes with messages on their
    // way and more waiting in the connection's socket.
    const std::uint64_t before = handled;
    daemon.close();
    // Read on through the loss until nothing more comes.
    const auto deadline = std::chrono::steady_clock::now() + evr::test::bound(10s);
    int quiet = 0;
    while (quiet < 20 && std::chrono::steady_clock::now() < deadline) {
      const std::uint64_t was = handled;
      connection.poll(1ms);
      quiet = handled == was ? quiet + 1 : 0;
    }
    BOOST_TEST_MESSAGE("round " << round << ": " << seq - 1 << " sent, " << handled - before << " handled");
  }
  BOOST_TEST(handled > 0u);
  BOOST_TEST(connection.stats().joins == static_cast<std::uint64_t>(kRounds));
}

BOOST_AUTO_TEST_SUITE_END()

// A handler that publishes into a full resend buffer serves the link until acks come, and takes
// the next batch from it meanwhile. Every event of the batch being taken when that happens must
// still be handled, once, in order (they were once dropped as resends of what the later batch
// moved the link past). The test's daemon runs on a thread of its own: it acks what it is sent.
BOOST_AUTO_TEST_SUITE(connection_batches)

BOOST_AUTO_TEST_CASE(a_handler_waiting_for_acks_in_the_middle_of_a_batch_loses_none_of_it) {
  zmq::context_t context{1};
  zmq::socket_t daemon(context, zmq::socket_type::router);
  daemon.set(zmq::sockopt::linger, 0);
  static std::atomic<int> next{0};
  const std::string endpoint = "inproc://connection-batches-" + std::to_string(next++);
  daemon.bind(endpoint);

  // Two EVENTS batches of three BARs from "data": seqs 1-3 and 4-6.
  evr::Bus data("data");
  std::vector<evr::Event> published;
  data.subscribeAll([&](const evr::Event& e) { published.push_back(e); });
  for (int i = 0; i < 6; ++i) data.publish(evr::EventBuilder(evr::EventType::BAR).symbol("SPY"));
  const auto batch = [&](std::size_t first) {
    evr::BatchWriter writer;
    for (std::size_t i = first; i < first + 3; ++i) {
      writer.append(published.at(i).bytes(), static_cast<std::uint8_t>(evr::EventType::BAR), 1);
    }
    return writer.take();
  };

  std::promise<void> both_sent;
  auto both_sent_future = both_sent.get_future();
  std::atomic<bool> stop{false};
  std::thread fake([&] {
    const auto send = [&](const std::string& to, const evr::Envelope& envelope, zmq::message_t* body) {
      daemon.send(zmq::buffer(to), zmq::send_flags::sndmore);
      auto head = evr::envelopeMessage(envelope);
      daemon.send(head, body ? zmq::send_flags::sndmore : zmq::send_flags::none);
      if (body != nullptr) daemon.send(*body, zmq::send_flags::none);
    };
    bool welcomed = false;
    while (!stop.load()) {
      zmq::pollitem_t item{daemon.handle(), 0, ZMQ_POLLIN, 0};
      if (zmq::poll(&item, 1, 10ms) <= 0) continue;
      std::vector<zmq::message_t> frames;
      if (!zmq::recv_multipart(daemon, std::back_inserter(frames))) continue;
      const auto decoded = evr::decodeEnvelope(evr::bytesOf(frames.at(1)));
      const std::string from = frames[0].to_string();
      evr::Envelope answer;
      if (decoded.envelope.kind == MessageKind::Hello) {
        // WELCOME and both batches at once: the second is there while the first is taken.
        answer.kind = MessageKind::Welcome;
        auto welcome = evr::wordsMessage(evr::encodeWelcome({evr::kProtocolVersion, 5, 0, 1000, 1 << 20, "test"}));
        send(from, answer, &welcome);
        if (welcomed) continue;  // a HELLO again (a retry): the batches went with the first
        welcomed = true;
        for (std::uint64_t first : {0, 3}) {
          evr::Envelope events;
          events.kind = MessageKind::Events;
          events.seq = first + 1;
          events.flags = 3;
          auto body = batch(first);
          send(from, events, &body);
        }
        both_sent.set_value();
      } else if (decoded.envelope.kind == MessageKind::Events || decoded.envelope.kind == MessageKind::Event) {
        answer.kind = MessageKind::Ack;
        answer.ack = decoded.envelope.seq + std::max<std::uint64_t>(decoded.envelope.flags, 1) - 1;
        send(from, answer, nullptr);
      }
    }
  });

  evr::Bus bus{"strategy"};
  std::vector<std::uint64_t> handled;  // the seqs of data's events, as handlers saw them
  bus.subscribeAll([&](const evr::Event& e) {
    if (e.origin() != evr::Origin::Router) return;
    handled.push_back(e.seq());
    bus.publish(evr::EventBuilder(evr::EventType::SIGNAL).symbol(e.symbol()));  // one unacked at most
  });
  evr::Connection connection(context, bus, {.container = "strategy", .endpoint = endpoint, .max_unacked = 1});
  const bool sent = both_sent_future.wait_for(evr::test::bound(10s)) == std::future_status::ready;
  const auto deadline = std::chrono::steady_clock::now() + evr::test::bound(10s);
  while (sent && handled.size() < 6 && std::chrono::steady_clock::now() < deadline) connection.poll(5ms);
  stop.store(true);
  fake.join();
  BOOST_TEST_REQUIRE(sent);
  BOOST_TEST(handled == (std::vector<std::uint64_t>{1, 2, 3, 4, 5, 6}), boost::test_tools::per_element());
  BOOST_TEST(connection.stats().duplicates == 0u);
}

BOOST_AUTO_TEST_SUITE_END()
