// ZeroMQ frame helpers for both ends of the link: a frame's bytes as a span, and envelope and
// Cap'n Proto bodies as frames. Header-only; the envelope layout itself is in envelope.hpp.

#pragma once

#include <capnp/common.h>
#include <kj/array.h>

#include <span>
#include <zmq.hpp>

#include "evr/envelope.hpp"

namespace evr {

inline std::span<const std::byte> bytesOf(const zmq::message_t& message) {
  return {static_cast<const std::byte*>(message.data()), message.size()};
}

// A 24-byte envelope frame (small enough to live inside zmq_msg_t: no allocation).
inline zmq::message_t envelopeMessage(const Envelope& envelope) {
  zmq::message_t message(kEnvelopeSize);
  envelope.encodeTo(
      std::span<std::byte, kEnvelopeSize>(static_cast<std::byte*>(message.data()), kEnvelopeSize));
  return message;
}

// A copy of a flat Cap'n Proto message as a frame (HELLO, WELCOME and ERROR bodies).
inline zmq::message_t wordsMessage(const kj::Array<capnp::word>& words) {
  const auto bytes = words.asBytes();
  return zmq::message_t(bytes.begin(), bytes.size());
}

}  // namespace evr
