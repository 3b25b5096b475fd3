#include "evr/event.hpp"

#include <capnp/serialize.h>

#include <algorithm>
#include <bit>
#include <cstring>
#include <utility>

#include "evr/framing.hpp"
#include "evr/little_endian.hpp"
#include "event_storage.hpp"

namespace evr {

using detail::EventStorage;

// The segment tables written below are little-endian, as Cap'n Proto's wire format is.
static_assert(std::endian::native == std::endian::little);

// ---- EventStorage --------------------------------------------------------------------------------

namespace {

// This thread's released storages. `gone` is set when the list is destroyed (thread exit, or the
// main thread's end before static destructors), after which a release frees its storage.
struct FreeList {
  std::vector<EventStorage*> kept;
  ~FreeList();
};
std::atomic<std::uint64_t> storages_made{0};
std::atomic<std::uint64_t> storages_freed{0};
thread_local bool free_list_gone = false;
thread_local FreeList free_list;

FreeList::~FreeList() {
  free_list_gone = true;
  for (EventStorage* storage : kept) delete storage;
  storages_freed.fetch_add(kept.size(), std::memory_order_relaxed);
}

}  // namespace

EventStorage* EventStorage::acquire() {
  if (!free_list_gone && !free_list.kept.empty()) {
    EventStorage* storage = free_list.kept.back();
    free_list.kept.pop_back();
    storage->refs.store(1, std::memory_order_relaxed);
    return storage;
  }
  storages_made.fetch_add(1, std::memory_order_relaxed);
  return new EventStorage();
}

std::uint64_t EventStorage::made() { return storages_made.load(std::memory_order_relaxed); }
std::uint64_t EventStorage::freed() { return storages_freed.load(std::memory_order_relaxed); }

void EventStorage::release() {
  // A count of 1 seen here is ours alone: no other handle exists to copy it, so the last handle
  // needs no atomic read-modify-write (the acquire pairs with the release of the handle dropped
  // before it on another thread). Most events have one handle all their life.
  if (refs.load(std::memory_order_acquire) != 1 &&
      refs.fetch_sub(1, std::memory_order_acq_rel) != 1) {
    return;
  }
  if (free_list_gone || buffer_words > kKeptBufferWords || free_list.kept.size() >= kKeptPerThread) {
    storages_freed.fetch_add(1, std::memory_order_relaxed);
    delete this;
    return;
  }
  reset();
  free_list.kept.push_back(this);
}

void EventStorage::reset() {
  message.reset();
  if (builder) {
    // A builder dropped unpublished: what it wrote into the buffer was never counted.
    const auto segments = builder->getSegmentsForOutput();
    if (segments.size() > 0) dirty_words = std::max(dirty_words, 1 + segments[0].size());
    builder.reset();
  }
  built = nullptr;
  // A message_t of no bytes holds nothing to free (libzmq keeps those inline): most storages
  // never had a frame, and closing and re-initialising one costs two calls into libzmq.
  if (wire.size() != 0) wire = zmq::message_t();
  batch.reset();
  flat = nullptr;
  if (dirty_words > 0) std::memset(buffer.get(), 0, dirty_words * sizeof(capnp::word));
  dirty_words = 0;
  raw = {};
  words = nullptr;
  root = {};
  source = {};
  type = EventType::UNKNOWN;
  hops = 0;
  origin = Origin::Local;
  tag_text.clear();
  tag_sizes.clear();
  caused = false;
  cause_hops = 0;
}

capnp::word* EventStorage::reserve(std::size_t count) {
  if (count > buffer_words) {
    // Value-initialised: zero, as a Cap'n Proto segment must start.
    buffer.reset(new capnp::word[count]());
    buffer_words = count;
    dirty_words = 0;
  }
  return buffer.get();
}

kj::ArrayPtr<capnp::word> detail::StorageMessageBuilder::allocateSegment(unsigned minimum_words) {
  if (!gave_buffer_) {
    gave_buffer_ = true;
    const std::size_t size = std::max<std::size_t>(minimum_words, EventStorage::kFirstSegmentWords);
    capnp::word* begin = storage_.reserve(size + 1);  // word 0: the segment table, at the end
    return {begin + 1, storage_.buffer_words - 1};
  }
  // The event outgrew the buffer: a segment of its own, zeroed, as large again as the last.
  const std::size_t size = std::max<std::size_t>(minimum_words, storage_.buffer_words);
  auto segment = kj::heapArray<capnp::word>(size);
  std::memset(segment.begin(), 0, size * sizeof(capnp::word));
  const kj::ArrayPtr<capnp::word> given = segment;
  more_.push_back(std::move(segment));
  return given;
}

void EventStorage::startBuilding(EventType event_type) {
  builder.emplace(*this);
  built = builder->initRoot<schema::Event>();
  built.setType(event_type);
  // The message is new, its words zero: the payload group is clear already (initPayload would
  // clear it again, pointer by pointer).
  auto payload = built.getPayload();
  switch (event_type) {
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

void EventStorage::addTag(std::string_view key, std::string_view value) {
  tag_text.append(key);
  tag_text.append(value);
  tag_sizes.push_back(static_cast<std::uint32_t>(key.size()));
  tag_sizes.push_back(static_cast<std::uint32_t>(value.size()));
}

void EventStorage::finishBuilding(Origin event_origin, std::uint8_t event_hops) {
  if (!tag_sizes.empty()) {
    auto tags = built.initTags(static_cast<unsigned>(tag_sizes.size() / 2));
    std::string_view text = tag_text;
    for (unsigned i = 0; i < tags.size(); ++i) {
      const std::size_t key = tag_sizes[2 * i], value = tag_sizes[2 * i + 1];
      // Not through Text::Reader, which wants a NUL after the bytes: init, then copy.
      std::memcpy(tags[i].initKey(static_cast<unsigned>(key)).begin(), text.data(), key);
      std::memcpy(tags[i].initValue(static_cast<unsigned>(value)).begin(), text.data() + key, value);
      text.remove_prefix(key + value);
    }
  }
  const auto segments = builder->getSegmentsForOutput();
  if (segments.size() == 1) {
    // Built in the buffer after word 0: the flat message is the buffer itself. Word 0 is the
    // segment table: (segment count - 1) = 0, then the segment's size in words.
    const auto size = static_cast<std::uint32_t>(segments[0].size());
    const std::uint32_t table[2] = {0, size};
    std::memcpy(buffer.get(), table, sizeof(table));
    dirty_words = 1 + size;
    words = kj::arrayPtr(buffer.get(), dirty_words);
  } else {
    // Outgrew the buffer: flattened into a new buffer of the whole size, which this storage keeps
    // (the segments, the old buffer among them, go with the builder).
    // The flat format: the segment table (count - 1, each segment's size in words, as 32-bit
    // little-endian values, padded to a word), then the segments.
    const std::size_t size = capnp::computeSerializedSizeInWords(segments);
    std::unique_ptr<capnp::word[]> flattened(new capnp::word[size]());
    auto* table = reinterpret_cast<std::uint32_t*>(flattened.get());
    table[0] = static_cast<std::uint32_t>(segments.size() - 1);
    for (std::size_t i = 0; i < segments.size(); ++i) table[1 + i] = static_cast<std::uint32_t>(segments[i].size());
    capnp::word* at = flattened.get() + (segments.size() / 2 + 1);
    for (const auto segment : segments) {
      std::memcpy(at, segment.begin(), segment.size() * sizeof(capnp::word));
      at += segment.size();
    }
    builder.reset();
    buffer = std::move(flattened);
    buffer_words = dirty_words = size;
    words = kj::arrayPtr(buffer.get(), size);
  }
  builder.reset();
  built = nullptr;
  origin = event_origin;
  hops = event_hops;
  readBuilt();
}

void EventStorage::readBuilt() {
  if (le::load<std::uint32_t>(reinterpret_cast<const std::byte*>(words.begin())) == 0) {
    // One segment, built here by one builder: valid by construction and without far pointers, so
    // it is read unchecked, with no reader or arena to set up (Cap'n Proto's readMessageUnchecked).
    message.reset();
    root = capnp::readMessageUnchecked<schema::Event>(words.begin() + 1);
  } else {
    // Built here by one builder: nothing in it is shared, so no traversal limit.
    capnp::ReaderOptions options = peerReaderOptions(words.size() * sizeof(capnp::word));
    options.traversalLimitInWords = kj::maxValue;
    message.emplace(words, options);
    root = message->getRoot<schema::Event>();
  }
  type = root.getType();
  raw = {reinterpret_cast<const std::byte*>(words.begin()), words.size() * sizeof(capnp::word)};
}

bool EventStorage::readReceived(std::string& error) {
  if (const FramingError framing = checkFraming(raw); framing != FramingError::None) {
    error = std::string(framingErrorName(framing));
    return false;
  }
  const std::size_t word_count = raw.size() / sizeof(capnp::word);
  if (isWordAligned(raw.data())) {
    words = kj::arrayPtr(reinterpret_cast<const capnp::word*>(raw.data()), word_count);
  } else {
    // Small frames live inside zmq_msg_t and need not be aligned: read a copy, never in place.
    std::memcpy(reserve(word_count), raw.data(), raw.size());
    dirty_words = word_count;
    words = kj::arrayPtr(buffer.get(), word_count);
  }
  // Cap'n Proto reports malformed input by throwing kj::Exception; catch it here, at the edge.
  kj::Maybe<kj::Exception> failure = kj::runCatchingExceptions([&]() {
    if (readableUnchecked(words)) {
      // One segment the walk read whole: no reader or arena to make (framing.hpp), as for an
      // event built here.
      message.reset();
      root = capnp::readMessageUnchecked<schema::Event>(words.begin() + 1);
    } else {
      // Handlers read an event many times (a kept BAR ran out of the peer limit's budget after
      // about 27 full reads): framing.hpp's readRepeatedly.
      readRepeatedly(message, words);
      root = message->getRoot<schema::Event>();
    }
    // Touch what every consumer reads, so a bad pointer fails here and not in a handler.
    type = root.getType();
    const auto source_text = root.getSource();
    source = {source_text.begin(), source_text.size()};
    (void)root.getSymbol();
    (void)root.getPayload().which();
  });
  KJ_IF_MAYBE(exception, failure) {
    error = std::string("unreadable event: ") + exception->getDescription().cStr();
    return false;
  }
  return true;
}

std::uint64_t eventIdBase(std::string_view source) {
  std::uint32_t hash = 2166136261u;
  for (unsigned char c : source) {
    hash ^= c;
    hash *= 16777619u;
  }
  return static_cast<std::uint64_t>(hash) << 32;
}

std::uint64_t makeEventId(std::string_view source, std::uint64_t seq) {
  return eventIdOn(eventIdBase(source), seq);
}

Event::Event(const Event& other) noexcept : data_(other.data_) {
  if (data_ != nullptr) data_->retain();
}

Event& Event::operator=(const Event& other) noexcept {
  if (other.data_ != nullptr) other.data_->retain();
  if (data_ != nullptr) data_->release();
  data_ = other.data_;
  return *this;
}

Event& Event::operator=(Event&& other) noexcept {
  if (this != &other) {
    if (data_ != nullptr) data_->release();
    data_ = other.data_;
    other.data_ = nullptr;
  }
  return *this;
}

Event::~Event() {
  if (data_ != nullptr) data_->release();
}

Event Event::fromWire(zmq::message_t&& bytes, std::uint8_t hops, std::string& error) {
  EventStorage* data = EventStorage::acquire();
  data->wire = std::move(bytes);
  data->hops = hops;
  data->origin = Origin::Router;
  data->raw = {static_cast<const std::byte*>(data->wire.data()), data->wire.size()};
  if (data->readReceived(error)) return Event(data);
  data->release();
  return Event();
}

Event Event::fromWireRecord(std::shared_ptr<const zmq::message_t> batch,
                            std::span<const std::byte> bytes, std::uint8_t hops, std::string& error) {
  EventStorage* data = EventStorage::acquire();
  data->batch = std::move(batch);
  data->hops = hops;
  data->origin = Origin::Router;
  data->raw = bytes;
  if (data->readReceived(error)) return Event(data);
  data->release();
  return Event();
}

Event Event::fromLocal(kj::Array<capnp::word>&& words, std::uint8_t hops) {
  EventStorage* data = EventStorage::acquire();
  data->flat = std::move(words);
  data->words = data->flat.asPtr();
  data->hops = hops;
  data->origin = Origin::Local;
  data->readBuilt();
  return Event(data);
}

Event Event::fromBuilder(EventBuilder&& builder, Origin origin, std::uint8_t hops) {
  EventStorage* data = std::exchange(builder.storage_, nullptr);
  data->finishBuilding(origin, hops);
  return Event(data);
}

schema::Event::Reader Event::reader() const { return data_->root; }
EventType Event::type() const { return data_->type; }
Origin Event::origin() const { return data_->origin; }
std::uint8_t Event::hops() const { return data_->hops; }

std::span<const std::byte> Event::bytes() const { return data_->raw; }

std::string_view Event::source() const {
  if (!data_->source.empty()) return data_->source;
  auto text = data_->root.getSource();
  return {text.begin(), text.size()};
}

std::string_view Event::symbol() const {
  auto text = data_->root.getSymbol();
  return {text.begin(), text.size()};
}

EventBuilder::EventBuilder(EventType type) : storage_(EventStorage::acquire()), type_(type) {
  storage_->startBuilding(type);
}

EventBuilder& EventBuilder::operator=(EventBuilder&& other) noexcept {
  if (this != &other) {
    if (storage_ != nullptr) storage_->release();
    storage_ = std::exchange(other.storage_, nullptr);
    type_ = other.type_;
  }
  return *this;
}

EventBuilder::~EventBuilder() {
  if (storage_ != nullptr) storage_->release();
}

schema::Event::Builder EventBuilder::root() { return storage_->built; }

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
  storage_->cause_hops = cause.hops();
  storage_->caused = true;
  return *this;
}

EventBuilder& EventBuilder::tag(std::string_view key, std::string_view value) & {
  storage_->addTag(key, value);
  return *this;
}

}  // namespace evr
