// Target `message`: the daemon's view of the messages on one container link. A real RelayLoop
// (the routing table of fuzz_support.cpp, a fixed clock, no journal) bound on inproc, and two
// DEALER links to it: link 1 has joined as container `a` (a valid HELLO, base seq 0), link 2 has
// not. The input is a sequence of messages the links send; after each one the loop takes a turn
// (turnForTest: the same receive path as run(), so the frame count check, decodeEnvelope, HELLO,
// EVENT and EVENTS handling, checkBatch and the record walk, checkFraming, the Cap'n Proto decode
// with peerReaderOptions, condition evaluation, transforms and delivery all run for real), and
// whatever the loop sent back is read and thrown away.
//
// Input layout (at most kMaxMessages messages; a truncated tail is used as far as it goes):
//   message := shape:u8 frame{1 + (shape & 3)}
//   frame   := length:u16 little-endian, then that many bytes (fewer if the input ends)
//   shape bit 0x40: send on link 2 (not joined) instead of link 1.
//
// Findings: an exception out of the loop's turn (it must not throw for any input), or a message
// whose handling failed with an exception (the loop counts it in handler_errors: a bug).
#include <zmq.hpp>

#include <atomic>
#include <chrono>
#include <string>

#include "evr/envelope.hpp"
#include "evr/frames.hpp"
#include "evr/link_messages.hpp"
#include "fuzz_support.hpp"
#include "fuzz_targets.hpp"
#include "transport/relay_loop.hpp"

namespace evr::fuzz {
namespace {

constexpr std::size_t kMaxMessages = 32;
constexpr unsigned kLinkTwo = 0x40;

zmq::context_t& context() {
  static zmq::context_t instance(1);
  return instance;
}

void drain(zmq::socket_t& link) {
  zmq::message_t frame;
  while (link.recv(frame, zmq::recv_flags::dontwait)) {
  }
}

struct Input {
  const std::uint8_t* data;
  std::size_t size;
  std::size_t at = 0;
  bool done() const { return at >= size; }
  std::uint8_t byte() { return at < size ? data[at++] : 0; }
  zmq::message_t frame() {
    std::size_t length = byte();
    length |= static_cast<std::size_t>(byte()) << 8;
    length = std::min(length, size - std::min(at, size));
    zmq::message_t out(data + at, length);
    at += length;
    return out;
  }
};

}  // namespace

int fuzzMessage(const std::uint8_t* data, std::size_t size) {
  static std::atomic<std::uint64_t> runs{0};
  const std::string endpoint = "inproc://evr-fuzz-message-" + std::to_string(runs++);
  config::RouterSettings settings;
  settings.max_message_size = 4096;  // small, so the fuzzer meets the oversized path
  transport::RelayLoop loop(context(), settings, {endpoint});
  loop.setClockForTest([] { return transport::Clock::time_point(std::chrono::hours(1)); });
  loop.installTable(routing().table);
  loop.bind();
  zmq::socket_t links[2] = {{context(), zmq::socket_type::dealer}, {context(), zmq::socket_type::dealer}};
  for (auto& link : links) {
    link.set(zmq::sockopt::linger, 0);
    link.connect(endpoint);
  }
  {
    const auto hello = encodeHello({kProtocolVersion, "a", 1, 0, 1, "fuzz"});
    Envelope envelope;
    envelope.kind = MessageKind::Hello;
    auto head = envelopeMessage(envelope);
    auto body = wordsMessage(hello);
    links[0].send(head, zmq::send_flags::sndmore);
    links[0].send(body, zmq::send_flags::none);
    loop.turnForTest();
    drain(links[0]);
  }
  Input input{data, size};
  for (std::size_t m = 0; m < kMaxMessages && !input.done(); ++m) {
    const std::uint8_t shape = input.byte();
    zmq::socket_t& link = links[(shape & kLinkTwo) ? 1 : 0];
    const int frames = 1 + (shape & 3);
    for (int f = 0; f < frames; ++f) {
      zmq::message_t frame = input.frame();
      link.send(frame, f + 1 < frames ? zmq::send_flags::sndmore : zmq::send_flags::none);
    }
    loop.turnForTest();
    for (auto& l : links) drain(l);
  }
  EVR_FUZZ_CHECK(loop.snapshot().handler_errors == 0, "a message's handling failed with an exception");
  return 0;
}

}  // namespace evr::fuzz
