#include "evr/event.hpp"

#include <capnp/serialize.h>

#include <cstring>
#include <variant>

#include "evr/framing.hpp"

namespace evr {

// The shared, immutable state behind an Event. Never moves once built (the reader points into the
// bytes), which is why Event holds it through a shared_ptr.
struct Event::Data {
  Data(zmq::message_t&& m, std::uint8_t h) : wire(std::move(m)), hops(h), origin(Origin::Router) {}
  Data(kj::Array<capnp::word>&& w, std::uint8_t h) : local(std::move(w)), hops(h), origin(Origin::Local) {}

  zmq::message_t wire;               // router events: the frame as received
  kj::Array<capnp::word> local;      // local events, or an aligned copy of an unaligned frame
  std::uint8_t hops;
  Origin origin;
  kj::ArrayPtr<const capnp::word> words;
  std::optional<capnp::FlatArrayMessageReader> message;
  schema::Event::Reader root;
};

std::uint64_t makeEventId(std::string_view source, std::uint64_t seq) {
  std::uint32_t hash = 2166136261u;
  for (unsigned char c : source) {
    hash ^= c;
    hash *= 16777619u;
  }
  return (static_cast<std::uint64_t>(hash) << 32) | (seq & 0xffffffffu);
}

Event Event::fromWire(zmq::message_t&& bytes, std::uint8_t hops, std::string& error) {
  auto data = std::make_shared<Data>(std::move(bytes), hops);
  const std::span<const std::byte> raw(static_cast<const std::byte*>(data->wire.data()),
                                       data->wire.size());
  if (const FramingError framing = checkFraming(raw); framing != FramingError::None) {
    error = std::string(framingErrorName(framing));
    return Event();
  }
  const std::size_t word_count = raw.size() / sizeof(capnp::word);
  if (isWordAligned(raw.data())) {
    data->words = kj::arrayPtr(reinterpret_cast<const capnp::word*>(raw.data()), word_count);
  } else {
    // Small frames live inside zmq_msg_t and need not be aligned: read a copy, never in place.
    data->local = kj::heapArray<capnp::word>(word_count);
    std::memcpy(data->local.begin(), raw.data(), raw.size());
    data->words = data->local.asPtr();
  }
  // Cap'n Proto reports malformed input by throwing kj::Exception; catch it here, at the edge.
  kj::Maybe<kj::Exception> failure = kj::runCatchingExceptions([&]() {
    data->message.emplace(data->words, peerReaderOptions(raw.size()));
    data->root = data->message->getRoot<schema::Event>();
    // Touch what every consumer reads, so a bad pointer fails here and not in a handler.
    (void)data->root.getType();
    (void)data->root.getSource();
    (void)data->root.getSymbol();
    (void)data->root.getPayload().which();
  });
  KJ_IF_MAYBE(exception, failure) {
    error = std::string("unreadable event: ") + exception->getDescription().cStr();
    return Event();
  }
  return Event(std::move(data));
}

Event Event::fromLocal(kj::Array<capnp::word>&& words, std::uint8_t hops) {
  auto data = std::make_shared<Data>(std::move(words), hops);
  data->words = data->local.asPtr();
  // Built by us: no read limits needed beyond the defaults sized to the message.
  data->message.emplace(data->words, peerReaderOptions(data->words.size() * sizeof(capnp::word)));
  data->root = data->message->getRoot<schema::Event>();
  return Event(std::move(data));
}

schema::Event::Reader Event::reader() const { return data_->root; }
EventType Event::type() const { return data_->root.getType(); }
Origin Event::origin() const { return data_->origin; }
std::uint8_t Event::hops() const { return data_->hops; }

std::span<const std::byte> Event::bytes() const {
  if (data_->origin == Origin::Router) {
    return {static_cast<const std::byte*>(data_->wire.data()), data_->wire.size()};
  }
  return {reinterpret_cast<const std::byte*>(data_->words.begin()),
          data_->words.size() * sizeof(capnp::word)};
}

std::string_view Event::source() const {
  auto text = data_->root.getSource();
  return {text.begin(), text.size()};
}

std::string_view Event::symbol() const {
  auto text = data_->root.getSymbol();
  return {text.begin(), text.size()};
}

namespace {
void releaseShared(void* /*data*/, void* hint) {
  delete static_cast<std::shared_ptr<const void>*>(hint);
}
}  // namespace

zmq::message_t Event::shareAsMessage() const {
  const auto view = bytes();
  // The zmq message keeps the Data alive until libzmq has sent it (possibly on its I/O thread).
  auto* keep_alive = new std::shared_ptr<const void>(data_);
  return zmq::message_t(const_cast<std::byte*>(view.data()), view.size(), &releaseShared,
                        keep_alive);
}

EventBuilder::EventBuilder(EventType type)
    : type_(type), message_(std::make_unique<capnp::MallocMessageBuilder>()) {
  auto root = message_->initRoot<schema::Event>();
  root.setType(type);
  auto payload = root.initPayload();
  switch (type) {
    case EventType::BAR: payload.initBar(); break;
    case EventType::TICK: payload.initTick(); break;
    case EventType::INDICATOR: payload.initIndicator(); break;
    case EventType::SIGNAL: payload.initSignal(); break;
    case EventType::ORDER: payload.initOrder(); break;
    case EventType::FILL: payload.initFill(); break;
    case EventType::REGIME: payload.initRegime(); break;
    case EventType::PORTFOLIO: payload.initPortfolio(); break;
    case EventType::END_OF_DATA: payload.initEndOfData(); break;
    case EventType::USER: payload.initUser(); break;
    case EventType::UNKNOWN: payload.setNone(); break;
  }
}

EventBuilder& EventBuilder::symbol(std::string_view symbol) & {
  // A string_view need not be NUL-terminated, which capnp::Text::Reader requires: copy the bytes.
  auto text = root().initSymbol(static_cast<unsigned>(symbol.size()));
  std::memcpy(text.begin(), symbol.data(), symbol.size());
  return *this;
}

EventBuilder& EventBuilder::eventTime(std::int64_t ns_since_epoch) & {
  root().setEventTime(ns_since_epoch);
  return *this;
}

EventBuilder& EventBuilder::tag(std::string_view key, std::string_view value) & {
  pending_tags_.emplace_back(std::string(key), std::string(value));
  return *this;
}

}  // namespace evr
