// evr::Event and evr::EventBuilder: one event as a container sees it.
//
// An Event is an immutable, cheaply copyable handle to one serialized Cap'n Proto event
// (schemas/event.capnp) plus what the link said about it (origin, hops). The bytes are shared,
// never copied, between local handlers, the export path and the resend buffer. Events from the
// router are checked (framing, read limits, alignment) before anyone reads them; see
// evr/framing.hpp.
//
// An EventBuilder is the mutable side: set the symbol, event time and payload, then hand it to
// Bus::publish, which stamps source, seq, id, publish time and causation. Typed helpers for each
// payload are in evr/events.hpp.
//
// Both sit on one kind of storage (event_storage.hpp): a builder builds the event in place, in
// the buffer its Event then reads, and each thread keeps the storage of events it let go of for
// the next ones, so building, publishing and receiving an event allocate nothing once a process
// is warm (docs/performance.md, "Publishing allocates nothing").

#pragma once

#include <capnp/message.h>
#include <zmq.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "event.capnp.h"
#include "evr/event_types.hpp"

namespace evr {

enum class Origin : std::uint8_t {
  Local,   // published in this process
  Router,  // received from evrouterd; never exported again
};

class Event;
namespace detail {
struct EventStorage;
}

class EventBuilder {
 public:
  explicit EventBuilder(EventType type);
  EventBuilder(EventBuilder&& other) noexcept : storage_(other.storage_), type_(other.type_) {
    other.storage_ = nullptr;
  }
  EventBuilder& operator=(EventBuilder&& other) noexcept;
  ~EventBuilder();

  EventType type() const { return type_; }
  // Fluent setters; on a temporary they return it as an rvalue, so
  // bus.publish(EventBuilder(EventType::SIGNAL).symbol("AAPL")) works.
  EventBuilder& symbol(std::string_view symbol) &;
  EventBuilder& eventTime(std::int64_t ns_since_epoch) &;
  EventBuilder& tag(std::string_view key, std::string_view value) &;
  EventBuilder&& symbol(std::string_view value) && { return std::move(symbol(value)); }
  EventBuilder&& eventTime(std::int64_t ns) && { return std::move(eventTime(ns)); }
  EventBuilder&& tag(std::string_view key, std::string_view value) && {
    return std::move(tag(key, value));
  }
  // Records `cause` as the event this one answers: its causation id, its chain's correlation id
  // and its hop count, as a handler of `cause` publishing it would. For code that answers events
  // after their handlers ran (a step at a time: Connection::onStepEnd). Inside a handler the bus
  // does this by itself.
  EventBuilder& causedBy(const Event& cause) &;
  EventBuilder&& causedBy(const Event& cause) && { return std::move(causedBy(cause)); }

  // The whole event, for anything the helpers above do not cover. The payload union has already
  // been initialised to the member matching type() (or `none` for types without one).
  schema::Event::Builder root();

 private:
  friend class Bus;
  friend class Event;
  // The message being built, its pending tags and its cause (event_storage.hpp); null once
  // moved from or published.
  detail::EventStorage* storage_;
  EventType type_;
};

class Event {
 public:
  // Wraps bytes received from the router. Returns an Event whose valid() is false, with the
  // reason in `error`, when the bytes are not a readable event; never throws for bad input.
  static Event fromWire(zmq::message_t&& bytes, std::uint8_t hops, std::string& error);
  // Likewise for one event of an EVENTS batch: `bytes` lie inside `batch`, which the event keeps
  // alive (the events of a batch share its buffer).
  static Event fromWireRecord(std::shared_ptr<const zmq::message_t> batch,
                              std::span<const std::byte> bytes, std::uint8_t hops,
                              std::string& error);

  // Wraps locally built bytes (the link's own watermark records).
  static Event fromLocal(kj::Array<capnp::word>&& words, std::uint8_t hops);

  // Serializes `builder` as it stands, header as the caller filled it in (nothing is stamped;
  // its tags are written), as an event of `origin`: an event read back from a recording
  // (evr::fromJson) or made up by a test (evr::testing::Harness) is Origin::Router, as if
  // evrouterd had delivered it.
  static Event fromBuilder(EventBuilder&& builder, Origin origin, std::uint8_t hops);

  Event() = default;
  Event(const Event& other) noexcept;
  Event(Event&& other) noexcept : data_(other.data_) { other.data_ = nullptr; }
  Event& operator=(const Event& other) noexcept;
  Event& operator=(Event&& other) noexcept;
  ~Event();
  bool valid() const { return data_ != nullptr; }

  schema::Event::Reader reader() const;
  EventType type() const;
  Origin origin() const;
  std::uint8_t hops() const;

  // Serialized bytes (a flat, unpacked Cap'n Proto message).
  std::span<const std::byte> bytes() const;

  // Header shortcuts.
  std::uint64_t id() const { return reader().getId(); }
  std::uint64_t seq() const { return reader().getSeq(); }
  std::uint64_t sourceInstance() const { return reader().getSourceInstance(); }
  std::string_view source() const;
  std::string_view symbol() const;
  std::int64_t eventTime() const { return reader().getEventTime(); }
  // The value of the first tag whose key is `key` (EventBuilder::tag), or nullopt when there is
  // none; a view into the event, valid while it is. Read by hand where the event's words allow it
  // (built here, or received and walked whole), else through reader(), which throws
  // kj::Exception on a malformed tag list as any read of it does.
  std::optional<std::string_view> tag(std::string_view key) const;


 private:
  friend class Bus;
  // Takes one reference to `data` (counted, shared by the copies of this Event).
  explicit Event(detail::EventStorage* data) : data_(data) {}
  detail::EventStorage* data_ = nullptr;
};

// Deterministic event id: (fnv1a32(source) << 32) | (seq & 0xffffffff).
std::uint64_t makeEventId(std::string_view source, std::uint64_t seq);
// The same in two steps, for a Bus that hashes its name once, not per event: the high half of
// every id `source` stamps, then the id of `seq` on it.
std::uint64_t eventIdBase(std::string_view source);
inline std::uint64_t eventIdOn(std::uint64_t base, std::uint64_t seq) { return base | (seq & 0xffffffffu); }

}  // namespace evr
