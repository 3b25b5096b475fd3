// HELLO, WELCOME and ERROR bodies as plain values, and their Cap'n Proto encoding
// (schemas/protocol.capnp). Shared by the client's Connection and the daemon's relay loop.
// Decoders take untrusted bytes and never throw: they return nullopt and say why.

#pragma once

#include <capnp/common.h>
#include <kj/array.h>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>
#include <climits>

#include "event.capnp.h"
#include "protocol.capnp.h"

namespace evr {

struct HelloInfo {
  std::uint16_t protocol_version = 0;
  std::string container;
  std::uint64_t client_instance = 0;
  std::uint64_t base_seq = 0;
  std::uint32_t pid = 0;
  std::string client_version;
  bool ordered = false;  // protocol v4: the container orders its inputs by event time
};

struct WelcomeInfo {
  std::uint16_t protocol_version = 0;
  std::uint64_t daemon_instance = 0;
  std::uint64_t ack_seq = 0;
  std::uint32_t heartbeat_ms = 0;
  std::uint32_t max_message_size = 0;
  std::string daemon_version;
  std::uint32_t replay_limit = 0;  // 0: not said
};

// INPUTS (protocol v4): who routes to a container, and whether anyone it routes to is ordered.
struct InputInfo {
  std::string name;
  bool feedback = false;
  std::int64_t watermark = INT64_MIN;  // acked progress on this input; INT64_MIN: none
  friend bool operator==(const InputInfo&, const InputInfo&) = default;
};
struct InputsInfo {
  std::vector<InputInfo> inputs;
  bool want_watermarks = false;
  friend bool operator==(const InputsInfo&, const InputsInfo&) = default;
};

struct ErrorInfo {
  schema::ErrorCode code = schema::ErrorCode::UNKNOWN;
  std::string message;
  std::uint64_t seq = 0;
};

kj::Array<capnp::word> encodeHello(const HelloInfo& hello);
kj::Array<capnp::word> encodeWelcome(const WelcomeInfo& welcome);
kj::Array<capnp::word> encodeError(const ErrorInfo& error);
kj::Array<capnp::word> encodeInputs(const InputsInfo& inputs);

std::optional<HelloInfo> decodeHello(std::span<const std::byte> bytes, std::string& why);
std::optional<WelcomeInfo> decodeWelcome(std::span<const std::byte> bytes, std::string& why);
std::optional<ErrorInfo> decodeError(std::span<const std::byte> bytes, std::string& why);
std::optional<InputsInfo> decodeInputs(std::span<const std::byte> bytes, std::string& why);

// A watermark record's body (the event bytes of an EVENTS record of type kWatermarkType): a
// schema::Event with only type, source, eventTime (and sourceInstance) set; nullopt when unreadable.
// evrouterd sets `instance` (sourceInstance) to the source connection's clientInstance.
kj::Array<capnp::word> encodeWatermark(std::string_view source, std::int64_t time, std::uint64_t instance = 0);
struct WatermarkInfo {
  std::string source;
  std::int64_t time = 0;
  std::uint64_t instance = 0;
};
std::optional<WatermarkInfo> decodeWatermark(std::span<const std::byte> bytes, std::string& why);

// A container name is 1..128 characters of [A-Za-z0-9_.-]. Empty string when valid, else why not.
std::string checkContainerName(std::string_view name);

}  // namespace evr
