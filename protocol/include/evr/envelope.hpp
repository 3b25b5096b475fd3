// evr::Envelope — the fixed 24-byte header frame that starts every message on a
// container <-> evrouterd link (docs/protocol.md, "Envelope").
//
// Sits under both ends of the link: the client library and the daemon's relay loop encode and
// decode it; nothing else does. The event bytes travel in the next frame and are never touched
// here. Layout (little-endian):
//
//   0  2  magic 'E','R'
//   2  1  protocol version (kProtocolVersion)
//   3  1  kind (MessageKind)
//   4  1  hops: how many times evrouterd has forwarded this event or its causal ancestors
//   5  1  event type (schema::EventType ordinal; 0 for non-event messages)
//   6  2  flags: EVENTS: the number of events in the body; other kinds: 0, receivers ignore
//   8  8  seq: the sender's per-link sequence number of this EVENT, or of the first event of an
//         EVENTS message (0 for other kinds)
//  16  8  ack: highest contiguous seq the sender has taken from the other side

#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace evr {

// Version 2 added EVENTS (several events in one message). Version 3: acks mean "handled", the
// daemon resends what a container had not acked when it joins again, events carry sourceInstance.
// Version 4: event-time ordering (docs/determinism.md): INPUTS, watermark records, HELLO.ordered.
inline constexpr std::uint8_t kProtocolVersion = 4;
inline constexpr std::size_t kEnvelopeSize = 24;

enum class MessageKind : std::uint8_t {
  Hello = 1,      // container -> daemon, body: schema::Hello
  Welcome = 2,    // daemon -> container, body: schema::Welcome
  Event = 3,      // both ways, body: a schema::Event message (flat array, unpacked)
  Ack = 4,        // both ways, no body; the ack field carries the news
  Error = 5,      // daemon -> container, body: schema::Error
  Heartbeat = 6,  // both ways, no body
  Bye = 7,        // container -> daemon, no body: clean leave
  Events = 8,     // both ways, body: records of several events (batch.hpp); flags = count
  Inputs = 9,     // daemon -> container, body: schema::Inputs (protocol v4)
};

std::string_view messageKindName(MessageKind kind);

struct Envelope {
  MessageKind kind = MessageKind::Event;
  std::uint8_t hops = 0;
  std::uint8_t event_type = 0;
  std::uint16_t flags = 0;
  std::uint64_t seq = 0;
  std::uint64_t ack = 0;

  // Writes exactly kEnvelopeSize bytes.
  void encodeTo(std::span<std::byte, kEnvelopeSize> out) const;
};

enum class EnvelopeError : std::uint8_t {
  None,
  WrongSize,
  BadMagic,
  VersionMismatch,
  UnknownKind,
};

std::string_view envelopeErrorName(EnvelopeError error);

struct DecodedEnvelope {
  EnvelopeError error = EnvelopeError::None;
  std::uint8_t version = 0;  // the version byte as received (meaningful for VersionMismatch)
  Envelope envelope;
  bool ok() const { return error == EnvelopeError::None; }
};

// Never throws: outside input.
DecodedEnvelope decodeEnvelope(std::span<const std::byte> frame);

}  // namespace evr
