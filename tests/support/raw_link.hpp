// RawLink: a DEALER that speaks the link protocol by hand (docs/protocol.md), for tests that
// drive a RelayLoop turn by turn and must see exactly what it sends. Header-only.
#pragma once

#include <boost/test/unit_test.hpp>
#include <zmq.hpp>
#include <zmq_addon.hpp>

#include <chrono>
#include <iterator>
#include <string>
#include <vector>

#include "evr/envelope.hpp"
#include "evr/frames.hpp"
#include "evr/link_messages.hpp"

namespace evr::test {

// One message from the loop: its envelope and every frame.
struct Received {
  Envelope envelope;
  std::vector<zmq::message_t> frames;
};

struct RawLink {
  RawLink(zmq::context_t& context, const std::string& endpoint) : socket(context, zmq::socket_type::dealer) {
    socket.set(zmq::sockopt::linger, 0);
    socket.set(zmq::sockopt::rcvtimeo, 5000);  // a bound on a message that must already be there
    socket.connect(endpoint);
  }
  void send(MessageKind kind, std::uint64_t seq, const kj::Array<capnp::word>* body, std::uint8_t event_type = 0) {
    Envelope envelope;
    envelope.kind = kind;
    envelope.seq = seq;
    envelope.event_type = event_type;
    auto head = envelopeMessage(envelope);
    if (body == nullptr) {
      socket.send(head, zmq::send_flags::none);
      return;
    }
    socket.send(head, zmq::send_flags::sndmore);
    socket.send(wordsMessage(*body), zmq::send_flags::none);
  }
  // An EVENTS message: `count` records in `body` (evr/batch.hpp), the first at link seq `seq`.
  void events(std::uint64_t seq, std::size_t count, zmq::message_t body) {
    Envelope envelope;
    envelope.kind = MessageKind::Events;
    envelope.seq = seq;
    envelope.flags = static_cast<std::uint16_t>(count);
    auto head = envelopeMessage(envelope);
    socket.send(head, zmq::send_flags::sndmore);
    socket.send(body, zmq::send_flags::none);
  }
  // An ACK of the daemon's link up to `ack`.
  void ack(std::uint64_t ack) {
    Envelope envelope;
    envelope.kind = MessageKind::Ack;
    envelope.ack = ack;
    auto head = envelopeMessage(envelope);
    socket.send(head, zmq::send_flags::none);
  }
  void hello(const std::string& name, std::uint64_t instance = 1) {
    const auto hello = encodeHello({kProtocolVersion, name, instance, 0, 1, "test"});
    send(MessageKind::Hello, 0, &hello);
  }
  // The next message the loop sent; it must have been sent by the last turn. INPUTS messages
  // (event-time ordering, docs/determinism.md) are set aside in `inputs`, not returned: tests
  // of other things see exactly what they saw before them.
  Received receive() {
    if (!stash.empty()) {
      Received out = std::move(stash.front());
      stash.erase(stash.begin());
      return out;
    }
    for (;;) {
      Received out = receiveAny();
      if (out.envelope.kind != MessageKind::Inputs) return out;
      inputs.push_back(std::move(out));
    }
  }
  // True when a message from the loop other than INPUTS is waiting (the loop sends on the test's
  // thread, so anything it sent in the last turn is there already).
  bool pending() {
    while (stash.empty()) {
      zmq::pollitem_t item{socket.handle(), 0, ZMQ_POLLIN, 0};
      if (zmq::poll(&item, 1, std::chrono::milliseconds(0)) <= 0) return false;
      Received out = receiveAny();
      if (out.envelope.kind == MessageKind::Inputs) {
        inputs.push_back(std::move(out));
      } else {
        stash.push_back(std::move(out));
      }
    }
    return true;
  }
  // Everything waiting, in order (INPUTS aside).
  std::vector<Received> drain() {
    std::vector<Received> out;
    while (pending()) out.push_back(receive());
    return out;
  }
  Received receiveAny() {
    Received out;
    BOOST_REQUIRE(zmq::recv_multipart(socket, std::back_inserter(out.frames)));
    const auto decoded = decodeEnvelope(bytesOf(out.frames[0]));
    BOOST_REQUIRE(decoded.ok());
    out.envelope = decoded.envelope;
    return out;
  }
  std::vector<Received> stash;   // taken by pending(), returned by receive()
  std::vector<Received> inputs;  // INPUTS messages received so far
  zmq::socket_t socket;
};

}  // namespace evr::test
