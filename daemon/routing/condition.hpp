// Conditions: the selective adapter's small expression language, compiled once at load time.
//
// Part of stage 2/3 (topology compiles each rule's text into a Condition; the routing table keeps
// it; the relay loop evaluates it). Grammar (docs/conditions.md):
//   expr   := or
//   or     := and (('or' | '||') and)*
//   and    := not (('and' | '&&') not)*
//   not    := ('not' | '!') not | cmp
//   cmp    := value (('==' | '!=' | '<' | '<=' | '>' | '>=') value
//                   | 'in' list | 'not' 'in' list | 'contains' value | 'matches' string)?
//   value  := field | string | number | 'true' | 'false' | '(' expr ')'
//   field  := 'event.' name        (names: evr/event_fields.hpp, docs/events.md)
//   list   := '[' literal (',' literal)* ']'
// Type-checked against the event schema at compile time: an unknown field, a comparison of
// mismatched types, or a syntax error is a diagnostic at the exact column inside the text.
// A field the event's payload does not have is "absent": every comparison with it is false.
// evaluate() reads the event in place (EventView) and does not allocate (`matches` runs a
// regex compiled at load time).

#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <capnp/serialize.h>

#include "config/diagnostics.hpp"
#include "event.capnp.h"
#include "evr/event_fields.hpp"
#include "evr/event_types.hpp"

namespace evr::routing {

class EventWords;

// What a condition reads: the event, and the hop count from its envelope. Made from a Cap'n Proto
// reader (evrctl tap, tests), or by the relay from the event's words (EventWords): then a field is
// read by hand where fields::FlatEvent can, and through a reader, made then, where it cannot.
class EventView {
 public:
  EventView(schema::Event::Reader event, std::uint8_t hops) : event_(event), hops_(hops) {}
  EventView(EventWords& words, std::uint8_t hops) : words_(&words), hops_(hops) {}

  // The field's value. May throw kj::Exception on a malformed message, as any reader does.
  fields::FieldValue read(const fields::FieldInfo& field) const;
  // The event's reader (made now, when the view was made from words and none was yet).
  schema::Event::Reader event() const;
  std::uint8_t hops() const { return hops_; }

 private:
  schema::Event::Reader event_;
  EventWords* words_ = nullptr;
  std::uint8_t hops_ = 0;
};

// A received event's words as a route reads them: by hand (fields::FlatEvent), and through a Cap'n
// Proto reader made the first time a read needs one, with a traversal budget for `reads` field
// reads (RouteEntry::content_reads): up to that many reads of a message whose pointers share
// nothing fit the peer limit; past it (a few hundred rules) evr::readRepeatedly decides.
class EventWords {
 public:
  // Throws kj::Exception when a reader could not read the message's root: the reader is made at
  // once when the words' root is not plainly readable by hand, so it throws here, not in a read.
  EventWords(kj::ArrayPtr<const capnp::word> words, std::size_t reads);
  EventWords(const EventWords&) = delete;
  EventWords& operator=(const EventWords&) = delete;

  const fields::FlatEvent& flat() const { return flat_; }
  schema::Event::Reader reader();

 private:
  kj::ArrayPtr<const capnp::word> words_;
  std::size_t reads_;
  fields::FlatEvent flat_;
  std::optional<capnp::FlatArrayMessageReader> message_;
  schema::Event::Reader root_;
};

class Condition {
 public:
  struct Node;  // the compiled expression; immutable once built

  bool evaluate(const EventView& view) const;
  // Canonical text, e.g. "event.regime == 'BULL'", for --check output and graphs.
  const std::string& text() const { return text_; }
  // Payload types whose fields the condition reads (empty: only header fields). For the
  // type-flow check.
  EventTypeSet payloadTypes() const { return payload_types_; }
  // How many event fields one evaluation reads at most (its field operands): each costs at most
  // one read of the whole event, which bounds the Cap'n Proto traversal evaluation needs.
  std::size_t fieldReads() const { return field_reads_; }

  // A test of one text or enum field against literals: `event.F == 'x'` (either way round) or
  // `event.F in ['x', 'y']`. True for an event exactly when F is present and equal to one of
  // `values` (Text, or Enum ordinals), as evaluate() would find: what lets a selective adapter
  // look its rules up by F's value (RuleIndex) instead of trying them in turn.
  struct Equality {
    const fields::FieldInfo* field = nullptr;
    std::vector<fields::FieldValue> values;  // views into this condition's own storage
  };
  // This condition's test in that form, or nullopt when it is anything else.
  std::optional<Equality> equality() const;

 private:
  friend std::optional<Condition> compileCondition(std::string_view, const config::Mark&,
                                                   config::Diagnostics&);
  std::shared_ptr<const Node> root_;
  std::string text_;
  EventTypeSet payload_types_;
  std::size_t field_reads_ = 0;
};

// Compiles `text`. `text_mark` is where the text's first character is in the file (see
// config::ConditionText). On errors returns nullopt with every error in `diagnostics`.
std::optional<Condition> compileCondition(std::string_view text, const config::Mark& text_mark,
                                          config::Diagnostics& diagnostics);

}  // namespace evr::routing
