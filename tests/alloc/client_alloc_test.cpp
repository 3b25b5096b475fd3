// A warm container publishes and receives without allocating per event (issue 16; docs/
// performance.md, "Publishing allocates nothing"): counted by alloc_counter.hpp, which replaces
// malloc and operator new, so this is its own executable. Only the test's own thread is counted: the Bus and Connection
// run on it, while a second thread plays evrouterd on a real ROUTER socket (inproc), answering
// HELLO with WELCOME, acking every EVENTS message and, for the receive case, sending batches.
//
// What may still allocate is per message, not per event: an EVENTS batch's buffer and libzmq's
// record of it. So each case checks allocations against both: well under one per ten events, and
// at most a few per message.
#define BOOST_TEST_MODULE client_alloc
#define BOOST_TEST_DYN_LINK
#include <boost/test/unit_test.hpp>
#include <spdlog/spdlog.h>
#include <zmq_addon.hpp>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <new>
#include <string>
#include <thread>
#include <vector>

#include "evr/batch.hpp"
#include "evr/bus.hpp"
#include "evr/connection.hpp"
#include "evr/envelope.hpp"
#include "evr/frames.hpp"
#include "evr/link_messages.hpp"
#include "alloc_counter.hpp"
#include "event_storage.hpp"  // client/src: storages made and freed
#include "time_scale.hpp"

namespace {

using namespace std::chrono_literals;
using evr::MessageKind;

// A publisher faster than the link fills its resend buffer (ConnectionOptions::max_unacked) with
// events not sent yet, and that many events' storage is live; a warm publisher is one that has
// been there. A smaller buffer than the default gets there within the warm-up.
constexpr std::size_t kResendBuffer = 8192;

// The bench's event (bench/e2e/evr_links.cpp): a REGIME with a 128-byte tag.
void publishBenchEvent(evr::Bus& bus, const std::string& payload) {
  evr::EventBuilder event(evr::EventType::REGIME);
  event.symbol("BENCH");
  auto regime = event.root().getPayload().getRegime();
  regime.setClassifier("bench");
  regime.setRegime("BULL");
  regime.setConfidence(0.5);
  event.tag("payload", payload);
  bus.publish(std::move(event));
}

// evrouterd, as far as one container needs: WELCOME, then an ACK for every EVENTS message and
// HEARTBEAT; and after send(), that many EVENTS batches of `events_per_batch` copies of
// `event` to the container, keeping at most `window` events unacked by it.
class FakeDaemon {
 public:
  FakeDaemon(zmq::context_t& context, std::string endpoint) : socket_(context, zmq::socket_type::router) {
    socket_.set(zmq::sockopt::linger, 0);
    socket_.set(zmq::sockopt::rcvhwm, 100);  // evrouterd's (kReceiveHighWaterMark)
    socket_.set(zmq::sockopt::sndhwm, 100);
    socket_.bind(endpoint);
  }

  // From now on, send up to `batches` EVENTS batches in all (counting those sent before).
  void send(std::vector<std::byte> event, std::uint64_t batches, std::uint64_t events_per_batch) {
    event_ = std::move(event);
    events_per_batch_ = events_per_batch;
    batches_.store(batches);
  }
  void sendUpTo(std::uint64_t batches) { batches_.store(batches); }
  // While held, it reads nothing (so acks nothing): the container's resend buffer fills.
  void hold(bool held) { held_.store(held); }

  void start() {
    thread_ = std::thread([this] { serve(); });
  }
  void stop() {
    stop_.store(true);
    if (thread_.joinable()) thread_.join();
  }
  ~FakeDaemon() { stop(); }

  std::uint64_t eventsAcked() const { return events_acked_.load(); }

 private:
  void serve() {
    // Fewer unacked batches than the link's pipe holds (a ROUTER drops what is over sndhwm), more
    // events than the container acks at once (4,096).
    const std::uint64_t kWindow = 90 * std::max<std::uint64_t>(events_per_batch_, 1);
    std::uint64_t sent_batches = 0, tx_seq = 0, tx_acked = 0;
    std::string peer;
    while (!stop_.load()) {
      if (held_.load()) {
        std::this_thread::yield();
        continue;
      }
      std::vector<zmq::message_t> frames;
      zmq::pollitem_t item{socket_.handle(), 0, ZMQ_POLLIN, 0};
      const bool can_send = !peer.empty() && sent_batches < batches_ && tx_seq - tx_acked < kWindow;
      if (!can_send) zmq::poll(&item, 1, 5ms);
      if (zmq::recv_multipart(socket_, std::back_inserter(frames), zmq::recv_flags::dontwait) &&
          frames.size() >= 2) {
        const auto decoded = evr::decodeEnvelope(evr::bytesOf(frames[1]));
        if (!decoded.ok()) continue;
        const auto in = decoded.envelope;
        tx_acked = std::max<std::uint64_t>(tx_acked, in.ack);
        // Let go of what came before answering it, as a daemon in another process does (there the
        // container's I/O thread has freed a message before its ack can come back; the resend
        // buffer reuses the message's chunk only then, evr/byte_log.hpp).
        const std::string who = frames[0].to_string();
        frames.clear();
        evr::Envelope answer;
        zmq::message_t body;
        switch (in.kind) {
          case MessageKind::Hello:
            peer = who;
            answer.kind = MessageKind::Welcome;
            body = evr::wordsMessage(evr::encodeWelcome({evr::kProtocolVersion, 7, 0, 1000, 1 << 20, "test"}));
            break;
          case MessageKind::Events:
            rx_seq_ = in.seq + in.flags - 1;
            events_acked_.store(rx_seq_);
            [[fallthrough]];
          case MessageKind::Heartbeat:
            answer.kind = MessageKind::Ack;
            answer.ack = rx_seq_;
            break;
          default:
            continue;
        }
        socket_.send(zmq::buffer(who), zmq::send_flags::sndmore);
        auto head = evr::envelopeMessage(answer);
        if (body.size() > 0) {
          socket_.send(head, zmq::send_flags::sndmore);
          socket_.send(body, zmq::send_flags::none);
        } else {
          socket_.send(head, zmq::send_flags::none);
        }
      }
      if (!peer.empty() && sent_batches < batches_ && tx_seq - tx_acked < kWindow) {
        evr::BatchWriter batch;
        for (std::uint64_t i = 0; i < events_per_batch_; ++i) {
          batch.append(event_, static_cast<std::uint8_t>(evr::EventType::REGIME), 1);
        }
        evr::Envelope events;
        events.kind = MessageKind::Events;
        events.seq = tx_seq + 1;
        events.flags = static_cast<std::uint16_t>(events_per_batch_);
        auto head = evr::envelopeMessage(events);
        auto body = batch.take();
        socket_.send(zmq::buffer(peer), zmq::send_flags::sndmore);
        socket_.send(head, zmq::send_flags::sndmore);
        socket_.send(body, zmq::send_flags::none);
        tx_seq += events_per_batch_;
        ++sent_batches;
      }
    }
  }

  zmq::socket_t socket_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> held_{false};
  std::atomic<std::uint64_t> events_acked_{0};
  std::uint64_t rx_seq_ = 0;
  std::vector<std::byte> event_;
  std::atomic<std::uint64_t> batches_{0};
  std::uint64_t events_per_batch_ = 0;
};

// Warm: the resend buffer full once, with evrouterd holding its acks, so the thread's free list
// has as many event storages as a publisher can have live (the rings grow to their size too).
// After that no event needs a new one; before it, each new high of live events makes some.
void warmUp(FakeDaemon& daemon, evr::Bus& bus, evr::Connection& connection, const std::string& payload) {
  daemon.hold(true);
  while (connection.canPublish()) publishBenchEvent(bus, payload);
  daemon.hold(false);
  BOOST_REQUIRE(connection.flush(evr::test::bound(10s)));
}

}  // namespace

// The connection says once per join, at info, that publish waits for acks (its resend buffer is
// full), which a loaded machine can make happen inside a counting window: formatting that line,
// and spdlog's first use, allocate (13 times, seen under load). Allocations in the event path
// are what these tests count, so they run at warn, and spdlog is set up before any window.
struct QuietLog {
  QuietLog() { spdlog::set_level(spdlog::level::warn); }
};
BOOST_TEST_GLOBAL_FIXTURE(QuietLog);

BOOST_AUTO_TEST_SUITE(client_alloc)

BOOST_AUTO_TEST_CASE(the_counter_sees_new_and_malloc) {
  Counting counting;
  auto* object = new std::string(100, 'x');
  delete object;
  void* raw = std::malloc(64);
  std::free(raw);
  BOOST_TEST(counting.allocations() == (EVR_COUNT_MALLOC ? 3u : 2u));  // string: object + text
}

BOOST_AUTO_TEST_CASE(a_warm_publisher_allocates_per_message_not_per_event) {
  zmq::context_t context{1};
  FakeDaemon daemon(context, "inproc://client-alloc-publish");
  daemon.start();
  evr::Bus bus("bench");
  evr::Connection connection(context, bus, {.container = "bench", .endpoint = "inproc://client-alloc-publish", .heartbeat = std::chrono::milliseconds(1000), .max_unacked = kResendBuffer});
  BOOST_REQUIRE(connection.waitJoined(evr::test::bound(10s)));
  const std::string payload(128, 'p');

  // A feed replaying a file: 256 events per PublishBatch, then a poll (bench/e2e/evr_links.cpp).
  const auto publishRounds = [&](int rounds) {
    for (int round = 0; round < rounds; ++round) {
      {
        evr::PublishBatch batch(connection);
        for (int i = 0; i < 256; ++i) publishBenchEvent(bus, payload);
      }
      connection.poll(0ms);
    }
  };
  warmUp(daemon, bus, connection, payload);
  publishRounds(100);
  BOOST_REQUIRE(connection.flush(evr::test::bound(10s)));

  constexpr int kRounds = 400;
  const auto batches_before = connection.stats().batches;
  const auto made_before = evr::detail::EventStorage::made(), freed_before = evr::detail::EventStorage::freed();
  std::size_t allocations = 0;
  {
    Counting counting;
    publishRounds(kRounds);
    allocations = counting.allocations();
  }
  BOOST_TEST(evr::detail::EventStorage::made() == made_before);  // every event reused a storage
  BOOST_TEST(evr::detail::EventStorage::freed() == freed_before);
  const auto batches = connection.stats().batches - batches_before;
  const std::uint64_t events = kRounds * 256;
  BOOST_REQUIRE(connection.flush(evr::test::bound(10s)));
  BOOST_TEST_MESSAGE(events << " events in " << batches << " EVENTS messages: " << allocations << " allocations");
  BOOST_TEST(daemon.eventsAcked() >= 100 * 256 + events);  // they went out
  BOOST_TEST(batches > 0u);
  BOOST_TEST(allocations * 10 < events);
  // One per message: libzmq's record of it. The body is a span of the resend buffer's chunk.
  BOOST_TEST(allocations <= batches + 4);
  daemon.stop();
}

BOOST_AUTO_TEST_CASE(a_warm_publisher_of_single_events_allocates_per_message_not_per_event) {
  // Paced: each event leaves in its own EVENTS message, so per message is per event here; what
  // must not come on top is the event's own storage.
  zmq::context_t context{1};
  FakeDaemon daemon(context, "inproc://client-alloc-single");
  daemon.start();
  evr::Bus bus("bench");
  evr::Connection connection(context, bus, {.container = "bench", .endpoint = "inproc://client-alloc-single", .heartbeat = std::chrono::milliseconds(1000), .max_unacked = kResendBuffer});
  BOOST_REQUIRE(connection.waitJoined(evr::test::bound(10s)));
  const std::string payload(128, 'p');
  const auto publishSome = [&](int count) {
    for (int i = 0; i < count; ++i) {
      publishBenchEvent(bus, payload);
      connection.poll(0ms);
    }
  };
  warmUp(daemon, bus, connection, payload);
  publishSome(5000);
  BOOST_REQUIRE(connection.flush(evr::test::bound(10s)));
  constexpr int kEvents = 20000;
  const auto batches_before = connection.stats().batches;
  std::size_t allocations = 0;
  {
    Counting counting;
    publishSome(kEvents);
    allocations = counting.allocations();
  }
  const auto batches = connection.stats().batches - batches_before;
  BOOST_TEST_MESSAGE(kEvents << " events in " << batches << " EVENTS messages: " << allocations << " allocations");
  BOOST_TEST(batches > 0u);
  // One per message (libzmq's record of it; the body is a span of the resend buffer), plus a few
  // at the window's edges, however many events: a batch the link refused (full, on a loaded
  // machine) is kept as made and counts in `batches` only once sent, maybe after the window (seen
  // under load when a batch was two allocations: 2 and 3 over, all libzmq's records and bodies).
  BOOST_TEST(allocations <= batches + 4);
  BOOST_REQUIRE(connection.flush(evr::test::bound(10s)));
  daemon.stop();
}

BOOST_AUTO_TEST_CASE(a_warm_receiver_allocates_per_message_not_per_event) {
  // One REGIME event's bytes, as a publisher built it.
  evr::Bus source("data");
  std::vector<std::byte> event;
  source.subscribeAll([&](const evr::Event& e) { event.assign(e.bytes().begin(), e.bytes().end()); });
  publishBenchEvent(source, std::string(128, 'p'));
  BOOST_REQUIRE(!event.empty());

  constexpr std::uint64_t kPerBatch = 64, kWarmBatches = 200, kBatches = 1000;
  zmq::context_t context{1};
  FakeDaemon daemon(context, "inproc://client-alloc-receive");
  daemon.send(event, kWarmBatches, kPerBatch);
  evr::Bus bus("strategy");
  std::uint64_t handled = 0;
  std::size_t tag_bytes = 0;
  bus.subscribe(evr::EventType::REGIME, [&](const evr::Event& e) {
    ++handled;
    tag_bytes += e.reader().getTags()[0].getValue().size();
  });
  evr::Connection connection(context, bus, {.container = "strategy", .endpoint = "inproc://client-alloc-receive"});
  daemon.start();
  BOOST_REQUIRE(connection.waitJoined(evr::test::bound(10s)));
  const auto receiveUntil = [&](std::uint64_t count) {
    const auto deadline = std::chrono::steady_clock::now() + evr::test::bound(30s);
    while (handled < count && std::chrono::steady_clock::now() < deadline) connection.poll(5ms);
  };
  receiveUntil(kWarmBatches * kPerBatch);
  BOOST_REQUIRE_EQUAL(handled, kWarmBatches * kPerBatch);
  std::size_t allocations = 0;
  {
    Counting counting;
    daemon.sendUpTo(kWarmBatches + kBatches);
    receiveUntil((kWarmBatches + kBatches) * kPerBatch);
    allocations = counting.allocations();
  }
  const std::uint64_t events = kBatches * kPerBatch;
  BOOST_REQUIRE_EQUAL(handled, (kWarmBatches + kBatches) * kPerBatch);
  BOOST_TEST(tag_bytes == handled * 128);
  BOOST_TEST_MESSAGE(events << " events received in " << kBatches << " EVENTS messages: " << allocations
                            << " allocations");
  BOOST_TEST(allocations * 10 < events);
  BOOST_TEST(allocations <= 4 * kBatches);
  daemon.stop();
}

BOOST_AUTO_TEST_SUITE_END()
