#include "evr/event.hpp"

#include <capnp/serialize.h>

#include <cstring>

#include "evr/framing.hpp"

namespace evr {

// The shared, immutable state behind an Event. Never moves once built (the reader points into the
// bytes), which is why Event holds it through a shared_ptr.
struct Event::Data {
  Data(zmq::message_t&& m, std::uint8_t h) : wire(std::move(m)), hops(h), origin(Origin::Router) {}
  Data(std::shared_ptr<const zmq::message_t> b, std::uint8_t h)
      : batch(std::move(b)), hops(h), origin(Origin::Router) {}
  Data(kj::Array<capnp::word>&& w, std::uint8_t h) : local(std::move(w)), hops(h), origin(Origin::Local) {}

  zmq::message_t wire;                           // router events: the EVENT frame as received
  std::shared_ptr<const zmq::message_t> batch;   // or the EVENTS frame this event is part of
  kj::Array<capnp::word> local;      // local events, or an aligned copy of an unaligned frame
  std::uint8_t hops;
  Origin origin;
  std::span<const std::byte> raw;    // the event's bytes (as received, or as built here)
  EventType type = EventType::UNKNOWN;  // read once: every dispatch and export asks
  kj::ArrayPtr<const capnp::word> words;
  std::optional<capnp::FlatArrayMessageReader> message;
  schema::Event::Reader root;

  // Checks and reads `raw`; false with the reason in `error` when it is not a readable event.
  bool readReceived(std::string& error);
};

bool Event::Data::readReceived(std::string& error) {
  if (const FramingError framing = checkFraming(raw); framing != FramingError::None) {
    error = std::string(framingErrorName(framing));
    return false;
  }
  const std::size_t word_count = raw.size() / sizeof(capnp::word);
  if (isWordAligned(raw.data())) {
    words = kj::arrayPtr(reinterpret_cast<const capnp::word*>(raw.data()), word_count);
  } else {
    // Small frames live inside zmq_msg_t and need not be aligned: read a copy, never in place.
    local = kj::heapArray<capnp::word>(word_count);
    std::memcpy(local.begin(), raw.data(), raw.size());
    words = local.asPtr();
  }
  // Cap'n Proto reports malformed input by throwing kj::Exception; catch it here, at the edge.
  kj::Maybe<kj::Exception> failure = kj::runCatchingExceptions([&]() {
    // Handlers read an event many times (a kept BAR ran out of the peer limit's budget after
    // about 27 full reads): framing.hpp's repeatedReaderOptions.
    message.emplace(words, repeatedReaderOptions(words));
    root = message->getRoot<schema::Event>();
    // Touch what every consumer reads, so a bad pointer fails here and not in a handler.
    type = root.getType();
    (void)root.getSource();
    (void)root.getSymbol();
    (void)root.getPayload().which();
  });
  KJ_IF_MAYBE(exception, failure) {
    error = std::string("unreadable event: ") + exception->getDescription().cStr();
    return false;
  }
  return true;
}

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
  data->raw = {static_cast<const std::byte*>(data->wire.data()), data->wire.size()};
  return data->readReceived(error) ? Event(std::move(data)) : Event();
}

Event Event::fromWireRecord(std::shared_ptr<const zmq::message_t> batch,
                            std::span<const std::byte> bytes, std::uint8_t hops, std::string& error) {
  auto data = std::make_shared<Data>(std::move(batch), hops);
  data->raw = bytes;
  return data->readReceived(error) ? Event(std::move(data)) : Event();
}

Event Event::fromLocal(kj::Array<capnp::word>&& words, std::uint8_t hops) {
  return fromBuilt(std::move(words), hops, Origin::Local);
}

Event Event::fromBuilt(kj::Array<capnp::word>&& words, std::uint8_t hops, Origin origin) {
  auto data = std::make_shared<Data>(std::move(words), hops);
  data->origin = origin;
  data->words = data->local.asPtr();
  // Built here by one builder: nothing in it is shared, so no traversal limit.
  capnp::ReaderOptions options = peerReaderOptions(data->words.size() * sizeof(capnp::word));
  options.traversalLimitInWords = kj::maxValue;
  data->message.emplace(data->words, options);
  data->root = data->message->getRoot<schema::Event>();
  data->type = data->root.getType();
  data->raw = {reinterpret_cast<const std::byte*>(data->words.begin()), data->words.size() * sizeof(capnp::word)};
  return Event(std::move(data));
}

Event Event::fromBuilder(EventBuilder&& builder, Origin origin, std::uint8_t hops) {
  if (!builder.pending_tags_.empty()) {
    auto tags = builder.root().initTags(static_cast<unsigned>(builder.pending_tags_.size()));
    for (unsigned i = 0; i < builder.pending_tags_.size(); ++i) {
      tags[i].setKey(builder.pending_tags_[i].first);
      tags[i].setValue(builder.pending_tags_[i].second);
    }
    builder.pending_tags_.clear();
  }
  return fromBuilt(capnp::messageToFlatArray(*builder.message_), hops, origin);
}

schema::Event::Reader Event::reader() const { return data_->root; }
EventType Event::type() const { return data_->type; }
Origin Event::origin() const { return data_->origin; }
std::uint8_t Event::hops() const { return data_->hops; }

std::span<const std::byte> Event::bytes() const { return data_->raw; }

std::string_view Event::source() const {
  auto text = data_->root.getSource();
  return {text.begin(), text.size()};
}

std::string_view Event::symbol() const {
  auto text = data_->root.getSymbol();
  return {text.begin(), text.size()};
}

namespace {
// Cap'n Proto's default first segment is 8 KiB, zeroed on every allocation; an event with its
// header is a few hundred bytes. Larger events grow into further segments.
constexpr unsigned kFirstSegmentWords = 128;
}  // namespace

EventBuilder::EventBuilder(EventType type)
    : type_(type), message_(std::make_unique<capnp::MallocMessageBuilder>(kFirstSegmentWords)) {
  root_ = message_->initRoot<schema::Event>();
  root_.setType(type);
  auto payload = root_.initPayload();
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
    case EventType::UNKNOWN:
    case EventType::WATERMARK:  // not an event: Connection::onExport refuses to send it
      payload.setNone();
      break;
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

EventBuilder& EventBuilder::causedBy(const Event& cause) & {
  const auto reader = cause.reader();
  root().setCausationId(reader.getId());
  root().setCorrelationId(reader.getCorrelationId() != 0 ? reader.getCorrelationId() : reader.getId());
  cause_hops_ = cause.hops();
  caused_ = true;
  return *this;
}

EventBuilder& EventBuilder::tag(std::string_view key, std::string_view value) & {
  pending_tags_.emplace_back(std::string(key), std::string(value));
  return *this;
}

}  // namespace evr
