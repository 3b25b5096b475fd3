// The storage behind an Event and an EventBuilder (evr/event.hpp), internal to the client.
//
// One EventStorage holds one event: the bytes (a received frame, a record inside a received batch,
// or words built here), the reader over them and what the link said about it. Events are counted
// handles to it. When the last handle goes, the storage is reset and kept on the releasing
// thread's free list, buffer and all, for the next event that thread builds or receives; so once
// a process is warm, an event costs no allocation (docs/performance.md, "Publishing allocates
// nothing"). A thread keeps at most kKeptPerThread of them and no buffer over kKeptBufferWords.
//
// A local event is built in place: the builder's first segment is the storage's buffer after one
// word, and stamping writes the segment table into that word, so the buffer is the flat message
// with no copy. An event too big for one segment is flattened into its own array (a copy).

#pragma once

#include <capnp/message.h>
#include <capnp/serialize.h>
#include <zmq.hpp>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "event.capnp.h"
#include "evr/event.hpp"

namespace evr::detail {

struct EventStorage;

// A MessageBuilder whose first segment is its storage's buffer, after the word kept for the
// segment table; further segments (events over the buffer's size) are its own.
class StorageMessageBuilder final : public capnp::MessageBuilder {
 public:
  explicit StorageMessageBuilder(EventStorage& storage) : storage_(storage) {}
  kj::ArrayPtr<capnp::word> allocateSegment(unsigned minimum_words) override;

 private:
  EventStorage& storage_;
  bool gave_buffer_ = false;
  std::vector<kj::Array<capnp::word>> more_;
};

// The tags an EventBuilder was given, written when building ends (EventStorage::appendHeader):
// each its key's and value's sizes, then the key and the value, back to back in one buffer the
// storage keeps, so a warm storage takes a tag with one copy and no allocation.
class PendingTags {
 public:
  void add(std::string_view key, std::string_view value) {
    const std::size_t sizes[2] = {key.size(), value.size()};
    const std::size_t size = sizeof(sizes) + key.size() + value.size();
    if (size > capacity_ - used_) grow(size);
    char* at = bytes_.get() + used_;
    std::memcpy(at, sizes, sizeof(sizes));
    // An empty view may have no data pointer, which memcpy must not be given even for no bytes.
    if (!key.empty()) std::memcpy(at + sizeof(sizes), key.data(), key.size());
    if (!value.empty()) std::memcpy(at + sizeof(sizes) + key.size(), value.data(), value.size());
    used_ += size;
    ++count_;
  }
  std::size_t count() const { return count_; }
  bool empty() const { return count_ == 0; }
  std::size_t capacity() const { return capacity_; }
  // Calls f(key, value) for each tag, in the order they were added.
  template <class F>
  void forEach(F&& f) const {
    for (const char* at = bytes_.get(); at != bytes_.get() + used_;) {
      std::size_t sizes[2];
      std::memcpy(sizes, at, sizeof(sizes));
      at += sizeof(sizes);
      f(std::string_view(at, sizes[0]), std::string_view(at + sizes[0], sizes[1]));
      at += sizes[0] + sizes[1];
    }
  }
  void clear() { used_ = count_ = 0; }

 private:
  void grow(std::size_t more);
  std::unique_ptr<char[]> bytes_;
  std::size_t used_ = 0;
  std::size_t capacity_ = 0;
  std::size_t count_ = 0;
};

struct EventStorage {
  // A thread keeps this many released storages, and none whose buffer grew past the cap. A fast
  // publisher has about as many in its resend buffer (what the link's pipes and socket buffers
  // hold), and one ack can release them all at once: with fewer kept, each burst allocates anew.
  // About 1.4 KiB each (the struct, 840 bytes, and a first segment of 65 words): 44 MiB at most.
  static constexpr std::size_t kKeptPerThread = 32768;
  static constexpr std::size_t kKeptBufferWords = 8192;  // 64 KiB
  // A builder's first segment: an event with its header is a few hundred bytes (Cap'n Proto's
  // own default, 8 KiB, would be zeroed for every event). A storage whose event outgrew it keeps
  // the larger buffer the event was flattened into, for the next large one.
  static constexpr std::size_t kFirstSegmentWords = 64;

  // A storage from this thread's free list, or a new one; one reference, reset.
  static EventStorage* acquire();
  // Storages made and freed so far, all threads (tests/alloc: a warm process makes none).
  static std::uint64_t made();
  static std::uint64_t freed();
  void retain() { refs.fetch_add(1, std::memory_order_relaxed); }
  // Drops one reference; the last one resets the storage and keeps it (or frees it).
  void release();

  // ---- building (an EventBuilder's storage) ----
  // Starts a message of `type` in the buffer, its payload union set to the type's member.
  void startBuilding(EventType type);
  // Writes the pending source and tags, ends the builder and reads the flat message as the event.
  void finishBuilding(Origin origin, std::uint8_t hops);

  // ---- receiving ----
  // Checks and reads `raw`; false with the reason in `error` when it is not a readable event.
  bool readReceived(std::string& error);

  // The buffer, zeroed past `dirty_words`; grown (zeroed) to at least `words`.
  capnp::word* reserve(std::size_t words);

  std::atomic<std::uint32_t> refs{1};

  // Where the bytes live: one of these.
  zmq::message_t wire;                          // a received EVENT frame
  bool holds_wire = false;                      // wire was given one (reset closes it)
  std::shared_ptr<const zmq::message_t> batch;  // the received EVENTS frame the event is part of
  std::unique_ptr<capnp::word[]> buffer;        // built here, or an aligned copy of a frame
  std::size_t buffer_words = 0;
  std::size_t dirty_words = 0;                  // buffer words written since it was last zeroed
  kj::Array<capnp::word> flat;                  // an event made elsewhere (fromLocal)

  std::uint8_t hops = 0;
  Origin origin = Origin::Local;
  std::span<const std::byte> raw;        // the event's bytes
  EventType type = EventType::UNKNOWN;   // read once: every dispatch and export asks
  kj::ArrayPtr<const capnp::word> words;
  std::optional<capnp::FlatArrayMessageReader> message;
  schema::Event::Reader root;
  // A received event's source, read once on arrival: the link asks for it at least twice per
  // event (duplicates, positions). A local event's, once appendHeader wrote it (else empty, and
  // source() reads the message).
  std::string_view source;

  // While building.
  std::optional<StorageMessageBuilder> builder;
  schema::Event::Builder built{nullptr};
  PendingTags tags;
  bool caused = false;           // EventBuilder::causedBy was called
  std::uint8_t cause_hops = 0;   // the hop count it inherits
  // The source Bus::stamp gives it, written with the tags when building ends (the bus's name:
  // it outlives the builder, not the event).
  std::string_view stamped_source;

  // Reads `words` as this event (nothing in it is shared: built here, no traversal limit).
  void readBuilt();

  // The root reader the last one-segment event built in this storage got, and what made it: the
  // segment's address and its root pointer. An unchecked reader's root is a function of those two
  // alone, and a storage reused from the free list builds each event in the same buffer the same
  // way, so readBuilt takes it from here instead of asking Cap'n Proto again (~120 instructions).
  // Not cleared by reset: it describes no event, only where one would be.
  struct BuiltRoot {
    const capnp::word* segment = nullptr;
    std::uint64_t pointer = 0;
    schema::Event::Reader root;
  };
  BuiltRoot built_root;

 private:
  void reset();
  // Writes the stamped source and the pending tags after the words the builder used in the
  // buffer, and points the root's fields at them; false (nothing written) when the builder's
  // words are not all in the buffer, the root's fields are set already or they do not fit.
  bool appendHeader();
  // The same through the builder (any case; a new segment when the buffer is full).
  void writeHeaderThroughBuilder();
};

}  // namespace evr::detail
