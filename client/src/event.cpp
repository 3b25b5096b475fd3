#include "evr/event.hpp"

#include <capnp/schema.h>
#include <capnp/serialize.h>
#include <kj/debug.h>

#include <algorithm>
#include <bit>
#include <cstring>
#include <optional>
#include <string_view>
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
  if (free_list_gone || buffer_words > kKeptBufferWords || tags.capacity() > kKeptBufferWords * sizeof(capnp::word) ||
      free_list.kept.size() >= kKeptPerThread) {
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
  // Most storages never had a frame: closing and re-initialising a message_t, or even asking its
  // size, is a call into libzmq.
  if (holds_wire) {
    wire = zmq::message_t();
    holds_wire = false;
  }
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
  tags.clear();
  caused = false;
  cause_hops = 0;
  stamped_source = {};
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

void detail::PendingTags::grow(std::size_t more) {
  const std::size_t capacity = std::max({used_ + more, 2 * capacity_, std::size_t{256}});
  std::unique_ptr<char[]> larger(new char[capacity]);
  if (used_ > 0) std::memcpy(larger.get(), bytes_.get(), used_);
  bytes_ = std::move(larger);
  capacity_ = capacity;
}

namespace {

// ---- The header writer ----
//
// The bus's source and the tags are the header's variable part: most of what Cap'n Proto's
// builders spend on an event went on setting them (an arena allocation, a list of structs, a text
// initialised and copied per field), where they are two texts and a list whose sizes are known
// when building ends. So they are written here, after the words the builder used, in Cap'n
// Proto's wire format (its encoding spec: pointers of 64 bits, little-endian). Where fields sit
// comes from the schema itself (compiled in), never from numbers written here. readReceived uses
// the same layout to read a received event's source and symbol by hand (framing's rootText).

// Where the header's texts and tags sit: pointer indexes in their struct's pointer section.
struct HeaderLayout {
  unsigned source;  // Event.source
  unsigned symbol;  // Event.symbol
  unsigned tags;    // Event.tags
  unsigned key;     // Tag.key
  unsigned value;   // Tag.value
};

unsigned pointerIndex(capnp::StructSchema schema, const char* field) {
  return schema.getFieldByName(field).getProto().getSlot().getOffset();
}

const HeaderLayout& headerLayout() {
  static const HeaderLayout layout = [] {
    const auto event = capnp::Schema::from<schema::Event>();
    const auto tag = capnp::Schema::from<schema::Tag>();
    return HeaderLayout{pointerIndex(event, "source"), pointerIndex(event, "symbol"),
                        pointerIndex(event, "tags"), pointerIndex(tag, "key"), pointerIndex(tag, "value")};
  }();
  return layout;
}

// A Tag element's size in words: data section, then pointers.
constexpr std::uint64_t kTagDataWords = schema::Tag::_capnpPrivate::dataWordSize;
constexpr std::uint64_t kTagPointers = schema::Tag::_capnpPrivate::pointerCount;

// Pointer words. A pointer's offset (bits 2..31, signed) counts words from the end of the pointer
// to its object. A list pointer (kind 1) has its element size at bits 32..34 and the element
// count at 35..63; a struct pointer (kind 0), and a struct list's tag word, its data words at
// 32..47 and pointers at 48..63 (a tag word's "offset" is its element count).
constexpr std::uint64_t kBytesElement = 2;
constexpr std::uint64_t kCompositeElement = 7;
// A list's element count has 29 bits and an offset 30 (signed): below this, both fit.
constexpr std::uint64_t kMaxListCount = (std::uint64_t{1} << 29) - 1;

std::uint64_t listPointer(std::int64_t offset, std::uint64_t element_size, std::uint64_t count) {
  return (static_cast<std::uint64_t>(static_cast<std::uint32_t>(offset) << 2) | 1) | (element_size << 32) |
         (count << 35);
}

std::uint64_t structTag(std::uint64_t elements, std::uint64_t data_words, std::uint64_t pointers) {
  return (elements << 2) | (data_words << 32) | (pointers << 48);
}

// A text's words: its bytes and the NUL Cap'n Proto keeps after them, padded to a word.
std::uint64_t textWords(std::size_t bytes) { return (bytes + 1 + 7) / 8; }

// Writes into a segment whose words past `end` are zero: objects appended at `end`, pointers to
// them anywhere before it.
class SegmentWriter {
 public:
  SegmentWriter(capnp::word* segment, std::uint64_t end) : segment_(segment), end_(end) {}
  std::uint64_t end() const { return end_; }

  // Returns where the bytes went.
  const char* setText(std::uint64_t pointer_at, std::string_view text) {
    const std::uint64_t at = end_;
    std::memcpy(segment_ + at, text.data(), text.size());  // the NUL and padding are zero already
    end_ += textWords(text.size());
    set(pointer_at, listPointer(offset(pointer_at, at), kBytesElement, text.size() + 1));
    return reinterpret_cast<const char*>(segment_ + at);
  }
  // A list of `count` structs: returns its first element's word.
  std::uint64_t setStructList(std::uint64_t pointer_at, std::uint64_t count, std::uint64_t data_words,
                              std::uint64_t pointers) {
    const std::uint64_t tag = end_, words = count * (data_words + pointers);
    set(tag, structTag(count, data_words, pointers));
    end_ += 1 + words;
    set(pointer_at, listPointer(offset(pointer_at, tag), kCompositeElement, words));
    return tag + 1;
  }
  std::uint64_t get(std::uint64_t at) const {
    return le::load<std::uint64_t>(reinterpret_cast<const std::byte*>(segment_ + at));
  }

 private:
  static std::int64_t offset(std::uint64_t pointer_at, std::uint64_t object_at) {
    return static_cast<std::int64_t>(object_at) - static_cast<std::int64_t>(pointer_at + 1);
  }
  void set(std::uint64_t at, std::uint64_t value) {
    le::store(reinterpret_cast<std::byte*>(segment_ + at), value);
  }
  capnp::word* segment_;
  std::uint64_t end_;
};

}  // namespace

bool EventStorage::appendHeader() {
  const auto segments = builder->getSegmentsForOutput();
  if (segments.size() != 1 || segments[0].begin() != buffer.get() + 1) return false;
  const std::uint64_t used = segments[0].size();
  SegmentWriter writer(buffer.get() + 1, used);
  // The root (initRoot put its pointer at word 0) and its source and tags pointers.
  const auto root = rootPointerSection(buffer.get() + 1);
  const HeaderLayout& layout = headerLayout();
  if (!root || root->count <= std::max(layout.source, layout.tags)) return false;
  const std::uint64_t source_at = root->at + layout.source, tags_at = root->at + layout.tags;
  // A field set through root() already: the builder writes over it (and clears what it held).
  if ((!stamped_source.empty() && writer.get(source_at) != 0) ||
      (!tags.empty() && writer.get(tags_at) != 0)) {
    return false;
  }

  // What it appends, in words; every text and the list must fit in a list pointer's count.
  std::uint64_t need = 0;
  if (!stamped_source.empty()) need += textWords(stamped_source.size());
  const std::uint64_t tag_count = tags.count();
  if (tag_count > 0) need += 1 + tag_count * (kTagDataWords + kTagPointers);
  bool fits = stamped_source.size() < kMaxListCount;
  tags.forEach([&](std::string_view key, std::string_view value) {
    fits = fits && key.size() < kMaxListCount && value.size() < kMaxListCount;
    need += textWords(key.size()) + textWords(value.size());
  });
  if (!fits || used + need >= kMaxListCount) return false;

  const std::uint64_t total = 1 + used + need;  // with the segment table's word
  if (total > buffer_words) {
    // Too big for the buffer: a larger one, the builder's words copied into it (the builder is
    // done; it goes now, before the words it wrote in). Rounded up so the next large event fits.
    builder.reset();
    const std::size_t grown = std::bit_ceil(static_cast<std::size_t>(total));
    std::unique_ptr<capnp::word[]> larger(new capnp::word[grown]());
    std::memcpy(larger.get(), buffer.get(), (1 + used) * sizeof(capnp::word));
    buffer = std::move(larger);
    buffer_words = grown;
    writer = SegmentWriter(buffer.get() + 1, used);
  }
  if (!stamped_source.empty()) {
    source = {writer.setText(source_at, stamped_source), stamped_source.size()};
  }
  if (tag_count > 0) {
    std::uint64_t element = writer.setStructList(tags_at, tag_count, kTagDataWords, kTagPointers);
    tags.forEach([&](std::string_view key, std::string_view value) {
      writer.setText(element + kTagDataWords + layout.key, key);
      writer.setText(element + kTagDataWords + layout.value, value);
      element += kTagDataWords + kTagPointers;
    });
  }
  const auto size = static_cast<std::uint32_t>(writer.end());
  const std::uint32_t table[2] = {0, size};  // one segment (count - 1 = 0), its size in words
  std::memcpy(buffer.get(), table, sizeof(table));
  dirty_words = 1 + size;
  words = kj::arrayPtr(buffer.get(), dirty_words);
  return true;
}

void EventStorage::writeHeaderThroughBuilder() {
  if (!stamped_source.empty()) {
    built.setSource(capnp::Text::Reader(stamped_source.data(), stamped_source.size()));
  }
  if (!tags.empty()) {
    auto list = built.initTags(static_cast<unsigned>(tags.count()));
    unsigned i = 0;
    tags.forEach([&](std::string_view key, std::string_view value) {
      // Not through Text::Reader, which wants a NUL after the bytes: init, then copy. Cap'n Proto
      // refuses a text over what a list holds; checked here, before the sizes are narrowed.
      KJ_REQUIRE(key.size() < kMaxListCount && value.size() < kMaxListCount, "tag too large for an event",
                 key.size(), value.size());
      std::memcpy(list[i].initKey(static_cast<unsigned>(key.size())).begin(), key.data(), key.size());
      std::memcpy(list[i].initValue(static_cast<unsigned>(value.size())).begin(), value.data(), value.size());
      ++i;
    });
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
    return;
  }
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

void EventStorage::finishBuilding(Origin event_origin, std::uint8_t event_hops) {
  if (!appendHeader()) writeHeaderThroughBuilder();
  builder.reset();
  built = nullptr;
  stamped_source = {};
  origin = event_origin;
  hops = event_hops;
  readBuilt();
}

void EventStorage::readBuilt() {
  if (le::load<std::uint32_t>(reinterpret_cast<const std::byte*>(words.begin())) == 0) {
    // One segment, built here by one builder: valid by construction and without far pointers, so
    // it is read unchecked, with no reader or arena to set up (Cap'n Proto's readMessageUnchecked).
    message.reset();
    const capnp::word* segment = words.begin() + 1;
    const auto pointer = le::load<std::uint64_t>(reinterpret_cast<const std::byte*>(segment));
    if (built_root.segment != segment || built_root.pointer != pointer) {
      built_root = {segment, pointer, capnp::readMessageUnchecked<schema::Event>(segment)};
    }
    root = built_root.root;
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
  const bool unchecked = readableUnchecked(words);
  if (unchecked) {
    // One segment the walk read whole: no reader or arena to make (framing.hpp), as for an event
    // built here.
    message.reset();
    root = capnp::readMessageUnchecked<schema::Event>(words.begin() + 1);
    // The source and symbol by hand, where the walk has checked what they point to (framing's
    // rootText: a few instructions each instead of Cap'n Proto's hundred). Once both are read,
    // nothing below can throw (the type and the payload's member are data), so the exception
    // guard is skipped; what rootText does not take is left to Cap'n Proto, below.
    const HeaderLayout& layout = headerLayout();
    const auto source_text = rootText(words, layout.source);
    if (source_text && rootText(words, layout.symbol)) {
      source = *source_text;
      type = root.getType();
      return true;
    }
  }
  // Cap'n Proto reports malformed input by throwing kj::Exception; catch it here, at the edge.
  kj::Maybe<kj::Exception> failure = kj::runCatchingExceptions([&]() {
    if (!unchecked) {
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
  data->holds_wire = true;
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

std::optional<std::string_view> Event::tag(std::string_view key) const {
  if (!data_->message) {
    // Read unchecked (readBuilt, readReceived): one segment whose pointers all lie inside it.
    const HeaderLayout& layout = headerLayout();
    if (const auto found = rootKeyedText(data_->words, layout.tags, layout.key, layout.value, key)) {
      if (!found->found) return std::nullopt;
      return found->value;
    }
  }
  for (const auto tag : data_->root.getTags()) {
    const auto tag_key = tag.getKey();
    if (std::string_view(tag_key.begin(), tag_key.size()) != key) continue;
    const auto value = tag.getValue();
    return std::string_view(value.begin(), value.size());
  }
  return std::nullopt;
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
  storage_->tags.add(key, value);
  return *this;
}

}  // namespace evr
