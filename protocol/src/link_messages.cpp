#include "evr/link_messages.hpp"

#include <capnp/message.h>
#include <capnp/serialize.h>

#include "evr/framing.hpp"

namespace evr {
namespace {

std::string toString(capnp::Text::Reader text) { return {text.begin(), text.size()}; }

// Runs `read` on the root of `bytes` as T; nullopt with `why` on any malformation.
template <typename T, typename Info, typename Read>
std::optional<Info> decodeBody(std::span<const std::byte> bytes, std::string& why, Read read) {
  if (const FramingError framing = checkFraming(bytes); framing != FramingError::None) {
    why = std::string(framingErrorName(framing));
    return std::nullopt;
  }
  AlignedWords words(bytes);
  std::optional<Info> result;
  kj::Maybe<kj::Exception> failure = kj::runCatchingExceptions([&]() {
    capnp::FlatArrayMessageReader message(words.words(), peerReaderOptions(bytes.size()));
    result = read(message.getRoot<T>());
  });
  KJ_IF_MAYBE(exception, failure) {
    why = exception->getDescription().cStr();
    return std::nullopt;
  }
  return result;
}

}  // namespace

kj::Array<capnp::word> encodeHello(const HelloInfo& hello) {
  capnp::MallocMessageBuilder message(64);
  auto root = message.initRoot<schema::Hello>();
  root.setProtocolVersion(hello.protocol_version);
  root.setContainer(hello.container);
  root.setClientInstance(hello.client_instance);
  root.setBaseSeq(hello.base_seq);
  root.setPid(hello.pid);
  root.setClientVersion(hello.client_version);
  root.setOrdered(hello.ordered);
  return capnp::messageToFlatArray(message);
}

kj::Array<capnp::word> encodeWelcome(const WelcomeInfo& welcome) {
  capnp::MallocMessageBuilder message(64);
  auto root = message.initRoot<schema::Welcome>();
  root.setProtocolVersion(welcome.protocol_version);
  root.setDaemonInstance(welcome.daemon_instance);
  root.setAckSeq(welcome.ack_seq);
  root.setHeartbeatMs(welcome.heartbeat_ms);
  root.setMaxMessageSize(welcome.max_message_size);
  root.setDaemonVersion(welcome.daemon_version);
  root.setReplayLimit(welcome.replay_limit);
  return capnp::messageToFlatArray(message);
}

kj::Array<capnp::word> encodeError(const ErrorInfo& error) {
  capnp::MallocMessageBuilder message(64);
  auto root = message.initRoot<schema::Error>();
  root.setCode(error.code);
  root.setMessage(error.message);
  root.setSeq(error.seq);
  return capnp::messageToFlatArray(message);
}

kj::Array<capnp::word> encodeInputs(const InputsInfo& inputs) {
  capnp::MallocMessageBuilder message(64);
  auto root = message.initRoot<schema::Inputs>();
  root.setWantWatermarks(inputs.want_watermarks);
  auto list = root.initInputs(static_cast<unsigned>(inputs.inputs.size()));
  for (unsigned i = 0; i < inputs.inputs.size(); ++i) {
    list[i].setName(inputs.inputs[i].name);
    list[i].setFeedback(inputs.inputs[i].feedback);
    list[i].setWatermark(inputs.inputs[i].watermark);
  }
  return capnp::messageToFlatArray(message);
}

kj::Array<capnp::word> encodeWatermark(std::string_view source, std::int64_t time, std::uint64_t instance) {
  capnp::MallocMessageBuilder message(16);
  auto root = message.initRoot<schema::Event>();
  root.setType(schema::EventType::WATERMARK);
  root.setSource(capnp::Text::Reader(source.data(), source.size()));
  root.setEventTime(time);
  root.setSourceInstance(instance);
  return capnp::messageToFlatArray(message);
}

std::optional<HelloInfo> decodeHello(std::span<const std::byte> bytes, std::string& why) {
  return decodeBody<schema::Hello, HelloInfo>(bytes, why, [](schema::Hello::Reader r) {
    return HelloInfo{r.getProtocolVersion(), toString(r.getContainer()), r.getClientInstance(),
                     r.getBaseSeq(), r.getPid(), toString(r.getClientVersion()), r.getOrdered()};
  });
}

std::optional<WelcomeInfo> decodeWelcome(std::span<const std::byte> bytes, std::string& why) {
  return decodeBody<schema::Welcome, WelcomeInfo>(bytes, why, [](schema::Welcome::Reader r) {
    return WelcomeInfo{r.getProtocolVersion(), r.getDaemonInstance(), r.getAckSeq(),
                       r.getHeartbeatMs(), r.getMaxMessageSize(), toString(r.getDaemonVersion()),
                       r.getReplayLimit()};
  });
}

std::optional<ErrorInfo> decodeError(std::span<const std::byte> bytes, std::string& why) {
  return decodeBody<schema::Error, ErrorInfo>(bytes, why, [](schema::Error::Reader r) {
    return ErrorInfo{r.getCode(), toString(r.getMessage()), r.getSeq()};
  });
}

std::optional<InputsInfo> decodeInputs(std::span<const std::byte> bytes, std::string& why) {
  return decodeBody<schema::Inputs, InputsInfo>(bytes, why, [](schema::Inputs::Reader r) {
    InputsInfo out;
    out.want_watermarks = r.getWantWatermarks();
    for (const auto input : r.getInputs()) {
      out.inputs.push_back({toString(input.getName()), input.getFeedback(), input.getWatermark()});
    }
    return out;
  });
}

std::optional<WatermarkInfo> decodeWatermark(std::span<const std::byte> bytes, std::string& why) {
  return decodeBody<schema::Event, WatermarkInfo>(bytes, why, [](schema::Event::Reader r) {
    return WatermarkInfo{toString(r.getSource()), r.getEventTime(), r.getSourceInstance()};
  });
}

std::string checkContainerName(std::string_view name) {
  if (name.empty()) return "container name is empty";
  if (name.size() > 128) return "container name is longer than 128 characters";
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '-' || c == '.';
    if (!ok) return "container name may use only letters, digits, '_', '-' and '.'";
  }
  return {};
}

}  // namespace evr
