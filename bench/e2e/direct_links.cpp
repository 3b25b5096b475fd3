// "direct": two processes on ZeroMQ with no hop, the transport limit the others are measured
// against. The consumer binds a PULL socket, the publisher connects a PUSH socket; one ZeroMQ
// message per event, the 128 payload bytes and nothing else. A full pipe blocks the publisher's
// send (PUSH's own backpressure), so nothing is dropped. High-water marks are the evr link's
// (100,000 messages) so both buffer alike.

#include <array>
#include <zmq.hpp>

#include "roles.hpp"
#include "zmq_roles.hpp"

namespace evr::bench {
namespace {

constexpr int kHighWaterMark = 100000;
constexpr std::size_t kReceiveBurst = 1024;

class DirectPublisher final : public PublisherLink {
 public:
  explicit DirectPublisher(const RoleOptions& options)
      : context_(1), socket_(context_, zmq::socket_type::push) {
    socket_.set(zmq::sockopt::sndhwm, kHighWaterMark);
    socket_.connect(options.endpoint);
  }

  // The consumer has bound before the driver starts us; the first send waits for the connection.
  bool connect(std::chrono::steady_clock::time_point) override { return true; }

  void publish(std::uint64_t, const Payload& payload) override {
    (void)socket_.send(zmq::buffer(payload.data(), payload.size()), zmq::send_flags::none);
  }

  void serve() override {}

  // Closing with a linger up to the deadline sends whatever is still queued in the pipe.
  bool finish(std::chrono::steady_clock::time_point deadline) override {
    closeSending(socket_, context_, deadline);
    return true;
  }

 private:
  zmq::context_t context_;
  zmq::socket_t socket_;
};

class DirectConsumer final : public ConsumerLink {
 public:
  DirectConsumer(const RoleOptions& options, ConsumerTally& tally)
      : context_(1), socket_(context_, zmq::socket_type::pull), endpoint_(options.endpoint), tally_(tally) {
    socket_.set(zmq::sockopt::rcvhwm, kHighWaterMark);
  }

  bool subscribe(std::chrono::steady_clock::time_point) override {
    socket_.bind(endpoint_);
    return true;
  }

  void receive(std::chrono::milliseconds timeout) override {
    receiveBurst(socket_, timeout, kReceiveBurst, [this](const zmq::message_t& message) {
      tally_.onPayload({static_cast<const char*>(message.data()), message.size()});
    });
  }

 private:
  zmq::context_t context_;
  zmq::socket_t socket_;
  std::string endpoint_;
  ConsumerTally& tally_;
};

}  // namespace

std::unique_ptr<PublisherLink> makeDirectPublisher(const RoleOptions& options) {
  return std::make_unique<DirectPublisher>(options);
}

std::unique_ptr<ConsumerLink> makeDirectConsumer(const RoleOptions& options, ConsumerTally& tally) {
  return std::make_unique<DirectConsumer>(options, tally);
}

}  // namespace evr::bench
