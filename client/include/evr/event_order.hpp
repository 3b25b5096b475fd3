// evr::EventOrder: hands a container the events of its inputs in event-time order, a step at a
// time, whatever order the processes happened to run in (docs/determinism.md).
//
// The connection of an ordered container (ConnectionOptions::ordering = Ordering::EventTime) feeds
// it every event from the router and every watermark ("input X is complete up to time t"), and
// asks it for the next releasable step. A step is one event time s: every event of a forward input
// with time s, ordered by input (INPUTS' order, by name) and then by arrival (each input's publish
// order). Step s is released once every forward input's watermark is at least s, and every
// feedback input's is at least the previous step's time.
//
// Feedback inputs (an edge that closes a cycle, e.g. a child reporting PORTFOLIO up to the parent
// that feeds it) are never waited for at the current step, or a cycle would deadlock: an event of
// a feedback input with time t is handed on at the start of the first step whose previous step
// is at or after t — one step late, at the same place on every run. Once every forward input has
// ended (watermark INT64_MAX), feedback events are released in time order as their inputs
// complete.
//
// A value type with no I/O: unit-tested alone (tests/unit/event_order_test.cpp).

#pragma once

#include <cstdint>
#include <deque>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "evr/event.hpp"

namespace evr {

enum class Ordering : std::uint8_t {
  Arrival,    // handlers see events as they arrive (the default)
  EventTime,  // by event time, a step at a time, once every input has passed it
};

inline constexpr std::int64_t kNoWatermark = std::numeric_limits<std::int64_t>::min();
inline constexpr std::int64_t kEndWatermark = std::numeric_limits<std::int64_t>::max();

class EventOrder {
 public:
  struct InputSpec {
    std::string name;
    bool feedback = false;
    std::int64_t watermark = kNoWatermark;  // known progress (a restarted process's start)
  };
  // An event with the caller's bookkeeping number (Connection's place for its ack).
  struct Entry {
    Event event;
    std::uint64_t ticket = 0;
  };
  struct Step {
    std::int64_t time = 0;
    std::vector<Entry> entries;
  };
  enum class Added { Buffered, NotAnInput, Late };

  // Sets the inputs (INPUTS; again after a reload). A kept input keeps its events and the higher
  // of its two watermarks. Returns the events of inputs that are no longer listed, in arrival
  // order: the caller hands them on at once (their order is no longer defined).
  std::vector<Entry> setInputs(const std::vector<InputSpec>& inputs);

  // An event from the router. NotAnInput: its source is not an input (hand it on at once);
  // Late: its time is at or before a step already released, or its input's watermark (the
  // source broke the contract; hand it on at once); both are counted by the caller.
  // The event is moved from only when Buffered.
  Added add(Event& event, std::uint64_t ticket);
  // "`source` is complete up to `time`". Unknown sources are ignored (false).
  bool advance(std::string_view source, std::int64_t time);

  // The next releasable step, or nullopt.
  std::optional<Step> release();

  // What this container may promise after it has handled everything released: no event it
  // publishes from now on has an event time at or before this. Meaningful only with forward
  // inputs (hasForwardInputs); a source promises by what it publishes instead.
  std::int64_t progress() const;
  bool hasForwardInputs() const;
  // Every input has ended (watermark INT64_MAX) and nothing is buffered. False without inputs.
  bool ended() const;
  bool known() const { return known_; }  // setInputs has been called
  std::size_t buffered() const;
  // Calls `fn(ticket)` for every event held.
  template <typename Fn>
  void forEachBuffered(Fn&& fn) const {
    for (const auto& input : inputs_) {
      for (const auto& entry : input.pending) fn(entry.ticket);
    }
  }
  std::vector<std::string> inputNames() const;

 private:
  struct Input {
    std::string name;
    bool feedback = false;
    std::int64_t watermark = kNoWatermark;
    std::deque<Entry> pending;  // arrival order; times non-decreasing (the contract)
  };
  std::int64_t minWatermark(bool feedback) const;  // INT64_MAX when there is no such input
  // Moves the feedback events with time <= `upto` into `out`, by (time, input order).
  void takeFeedback(std::int64_t upto, std::vector<Entry>& out);

  std::vector<Input> inputs_;
  bool known_ = false;
  bool stepped_ = false;  // a forward step has been released
  std::int64_t last_step_ = kNoWatermark;
};

}  // namespace evr
