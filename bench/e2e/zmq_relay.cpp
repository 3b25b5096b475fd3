// "zmq-relay": the ceiling of any router built on ZeroMQ on this machine. A relay process with one
// ROUTER socket, as evrouterd has, and publishers and consumers on DEALER sockets, as our client
// has; a publisher packs the 128-byte payloads into messages of up to kBatchTargetBytes (128 KiB),
// as our client batches, with the heap kept as our client and evrouterd keep it (evr/heap.hpp)
// (unpaced: until the batch is full or the publisher serves its link every few hundred events;
// paced: each event at once), and the relay hands each message on as it came, to one consumer
// (pipeline) or, sharing the one buffer, to every consumer (broadcast). No protocol, no event
// encoding, no acks, no routing decision: what is left is ZeroMQ's own work per message and per
// hop. A message's body is records of a 2-byte little-endian length and the payload.
//
// A consumer joins by sending "S"; the relay answers "R" once it will forward to it, and the
// consumer is ready then. The relay sets ZMQ_ROUTER_MANDATORY and sends blocking, so a full
// consumer pipe holds the relay back, whose full inbound pipe holds the publisher back: nothing
// is dropped. SIGTERM or SIGINT stops it (exit 0).

#include <zmq.hpp>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <iostream>
#include <vector>

#include <CLI/CLI.hpp>

#include "evr/batch.hpp"
#include "evr/heap.hpp"
#include "roles.hpp"
#include "zmq_roles.hpp"

namespace evr::bench {
namespace {

constexpr int kHighWaterMark = 100000;  // as direct's, and the evr link's
constexpr std::size_t kBatchLimit = kBatchTargetBytes;  // as our client's EVENTS messages
constexpr std::size_t kRecordHeader = 2;
constexpr std::size_t kReceiveBurst = 1024;
constexpr char kJoin = 'S';
constexpr char kJoined = 'R';

std::atomic<bool> relay_stop{false};
void onStopSignal(int) { relay_stop.store(true); }

bool isJoin(const zmq::message_t& body) { return body.size() == 1 && *body.data<char>() == kJoin; }

class RelayPublisher final : public PublisherLink {
 public:
  explicit RelayPublisher(const RoleOptions& options)
      : context_(1), socket_(context_, zmq::socket_type::dealer), batching_(options.rate <= 0) {
    keepFreedHeap();
    socket_.set(zmq::sockopt::sndhwm, kHighWaterMark);
    socket_.connect(options.endpoint);
    batch_.reserve(kBatchLimit);
  }

  bool connect(std::chrono::steady_clock::time_point) override { return true; }

  void publish(std::uint64_t, const Payload& payload) override {
    if (batch_.size() + kRecordHeader + payload.size() > kBatchLimit) send();
    const auto size = static_cast<std::uint16_t>(payload.size());
    const char header[kRecordHeader] = {static_cast<char>(size & 0xff), static_cast<char>(size >> 8)};
    batch_.insert(batch_.end(), header, header + kRecordHeader);
    batch_.insert(batch_.end(), payload.begin(), payload.end());
    if (!batching_) send();
  }

  void serve() override { send(); }

  bool finish(std::chrono::steady_clock::time_point deadline) override {
    send();
    closeSending(socket_, context_, deadline);
    return true;
  }

 private:
  void send() {
    if (batch_.empty()) return;
    (void)socket_.send(zmq::buffer(batch_.data(), batch_.size()), zmq::send_flags::none);
    batch_.clear();
  }

  zmq::context_t context_;
  zmq::socket_t socket_;
  bool batching_;
  std::vector<char> batch_;
};

class RelayConsumer final : public ConsumerLink {
 public:
  RelayConsumer(const RoleOptions& options, ConsumerTally& tally)
      : context_(1), socket_(context_, zmq::socket_type::dealer), tally_(tally) {
    keepFreedHeap();
    socket_.set(zmq::sockopt::rcvhwm, kHighWaterMark);
    socket_.connect(options.endpoint);
  }

  bool subscribe(std::chrono::steady_clock::time_point deadline) override {
    (void)socket_.send(zmq::buffer(&kJoin, 1), zmq::send_flags::none);
    socket_.set(zmq::sockopt::rcvtimeo, static_cast<int>(timeLeft(deadline).count()));
    zmq::message_t answer;
    const bool joined = socket_.recv(answer).has_value() && answer.size() == 1 && *answer.data<char>() == kJoined;
    socket_.set(zmq::sockopt::rcvtimeo, -1);
    return joined;
  }

  void receive(std::chrono::milliseconds timeout) override {
    receiveBurst(socket_, timeout, kReceiveBurst, [this](const zmq::message_t& message) {
      std::span<const char> body(message.data<char>(), message.size());
      while (body.size() >= kRecordHeader) {
        const std::size_t size = static_cast<unsigned char>(body[0]) | static_cast<std::size_t>(static_cast<unsigned char>(body[1])) << 8;
        body = body.subspan(kRecordHeader);
        if (size > body.size()) break;
        tally_.onPayload(body.first(size));
        body = body.subspan(size);
      }
      if (!body.empty()) tally_.onPayload({});  // a torn record: counted as unreadable
    });
  }

 private:
  zmq::context_t context_;
  zmq::socket_t socket_;
  ConsumerTally& tally_;
};

}  // namespace

std::unique_ptr<PublisherLink> makeZmqRelayPublisher(const RoleOptions& options) {
  return std::make_unique<RelayPublisher>(options);
}

std::unique_ptr<ConsumerLink> makeZmqRelayConsumer(const RoleOptions& options, ConsumerTally& tally) {
  return std::make_unique<RelayConsumer>(options, tally);
}

int zmqRelayMain(int argc, char** argv) {
  CLI::App app{"evr_e2e_bench relay: the zmq-relay system's router (started by the driver)"};
  std::string role, endpoint;
  app.add_option("--role", role)->required();
  app.add_option("--endpoint", endpoint)->required();
  CLI11_PARSE(app, argc, argv);
  std::signal(SIGTERM, onStopSignal);
  std::signal(SIGINT, onStopSignal);
  keepFreedHeap();
  useOneArena();  // as evrouterd (evr/heap.hpp)
  try {
    zmq::context_t context(1);
    zmq::socket_t socket(context, zmq::socket_type::router);
    socket.set(zmq::sockopt::router_mandatory, 1);
    socket.set(zmq::sockopt::sndhwm, kHighWaterMark);
    socket.set(zmq::sockopt::rcvhwm, kHighWaterMark);
    socket.set(zmq::sockopt::linger, 0);
    socket.bind(endpoint);
    std::cout << "ready" << std::endl;
    std::vector<zmq::message_t> consumers;  // their routing ids
    std::uint64_t forwarded = 0;
    while (!relay_stop.load()) {
      std::array<zmq::pollitem_t, 1> items{{{socket.handle(), 0, ZMQ_POLLIN, 0}}};
      try {
        if (zmq::poll(items.data(), items.size(), std::chrono::milliseconds(100)) == 0) continue;
      } catch (const zmq::error_t& e) {
        if (e.num() == EINTR) continue;  // the stop signal: the loop's condition decides
        throw;
      }
      for (std::size_t i = 0; i < kReceiveBurst; ++i) {
        zmq::message_t from, body;
        if (!socket.recv(from, zmq::recv_flags::dontwait)) break;
        if (!socket.recv(body, zmq::recv_flags::none)) break;
        if (isJoin(body)) {
          consumers.emplace_back(from.data(), from.size());
          (void)socket.send(from, zmq::send_flags::sndmore);
          (void)socket.send(zmq::buffer(&kJoined, 1), zmq::send_flags::none);
          continue;
        }
        for (std::size_t c = 0; c < consumers.size(); ++c) {
          zmq::message_t to;
          to.copy(consumers[c]);
          zmq::message_t shared;
          if (c + 1 < consumers.size()) shared.copy(body);  // a reference to the same buffer
          (void)socket.send(to, zmq::send_flags::sndmore);
          (void)socket.send(c + 1 < consumers.size() ? shared : body, zmq::send_flags::none);
          ++forwarded;
        }
      }
    }
    std::cerr << "zmq relay: forwarded " << forwarded << " messages to " << consumers.size() << " consumers\n";
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "zmq relay: " << e.what() << '\n';
    return 1;
  }
}

}  // namespace evr::bench
