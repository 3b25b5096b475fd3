#include "evr/envelope.hpp"

#include <cstring>

#include "evr/little_endian.hpp"

namespace evr {
namespace {

constexpr std::byte kMagic0{'E'};
constexpr std::byte kMagic1{'R'};

}  // namespace

std::string_view messageKindName(MessageKind kind) {
  switch (kind) {
    case MessageKind::Hello: return "HELLO";
    case MessageKind::Welcome: return "WELCOME";
    case MessageKind::Event: return "EVENT";
    case MessageKind::Ack: return "ACK";
    case MessageKind::Error: return "ERROR";
    case MessageKind::Heartbeat: return "HEARTBEAT";
    case MessageKind::Bye: return "BYE";
    case MessageKind::Events: return "EVENTS";
    case MessageKind::Inputs: return "INPUTS";
  }
  return "?";
}

std::string_view envelopeErrorName(EnvelopeError error) {
  switch (error) {
    case EnvelopeError::None: return "none";
    case EnvelopeError::WrongSize: return "envelope frame is not 24 bytes";
    case EnvelopeError::BadMagic: return "envelope magic is not 'ER'";
    case EnvelopeError::VersionMismatch: return "protocol version mismatch";
    case EnvelopeError::UnknownKind: return "unknown message kind";
  }
  return "?";
}

void Envelope::encodeTo(std::span<std::byte, kEnvelopeSize> out) const {
  std::byte* p = out.data();
  p[0] = kMagic0;
  p[1] = kMagic1;
  p[2] = std::byte{kProtocolVersion};
  p[3] = static_cast<std::byte>(kind);
  p[4] = std::byte{hops};
  p[5] = std::byte{event_type};
  le::store<std::uint16_t>(p + 6, flags);
  le::store<std::uint64_t>(p + 8, seq);
  le::store<std::uint64_t>(p + 16, ack);
}

DecodedEnvelope decodeEnvelope(std::span<const std::byte> frame) {
  DecodedEnvelope result;
  if (frame.size() != kEnvelopeSize) {
    result.error = EnvelopeError::WrongSize;
    return result;
  }
  const std::byte* p = frame.data();
  if (p[0] != kMagic0 || p[1] != kMagic1) {
    result.error = EnvelopeError::BadMagic;
    return result;
  }
  result.version = std::to_integer<std::uint8_t>(p[2]);
  const auto kind = std::to_integer<std::uint8_t>(p[3]);
  if (kind < static_cast<std::uint8_t>(MessageKind::Hello) ||
      kind > static_cast<std::uint8_t>(MessageKind::Inputs)) {
    result.error = EnvelopeError::UnknownKind;
  }
  // A version mismatch outranks an unknown kind: a newer peer may use kinds we do not know.
  if (result.version != kProtocolVersion) result.error = EnvelopeError::VersionMismatch;
  Envelope& e = result.envelope;
  e.kind = static_cast<MessageKind>(kind);
  e.hops = std::to_integer<std::uint8_t>(p[4]);
  e.event_type = std::to_integer<std::uint8_t>(p[5]);
  e.flags = le::load<std::uint16_t>(p + 6);
  e.seq = le::load<std::uint64_t>(p + 8);
  e.ack = le::load<std::uint64_t>(p + 16);
  return result;
}

}  // namespace evr
