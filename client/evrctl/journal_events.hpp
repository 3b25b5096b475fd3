// The journal's event records as evrctl's offline tools see them (`journal dump`, `journal diff`,
// `trace`; docs/delivery.md, "The journal"): one record decoded into its parts, the event's
// comparable form, and event ids as typed on a command line.
//
// Read-only: records come from evr::journal::forEachRecord, which never changes the directory.
// Nothing here throws for bad bytes: an event that cannot be decoded is an invalid Event with the
// reason in `error`.

#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "evr/event.hpp"
#include "journal.capnp.h"

namespace evr::ctl {

// One `event` record of the journal, decoded. `event` is invalid (and `error` says why) when its
// bytes are not a framed event (a field can still be unreadable: comparableJson catches that);
// `bytes` are always the record's event bytes.
struct JournalEvent {
  std::uint64_t index = 0;  // journal index
  std::string source;
  std::uint64_t source_instance = 0;
  std::uint64_t source_seq = 0;
  std::vector<std::string> targets;
  std::uint8_t event_type = 0;
  std::uint8_t hops = 0;
  Event event;
  std::string error;
  std::string bytes;
};

JournalEvent decodeJournalEvent(std::uint64_t index, schema::JournalRecord::Event::Reader record);

// What a run determines about an event, and nothing else: the event as toJson prints it without
// `publish_time` (the wall clock at publish) and `source_instance` (random per connection). The
// record's journal index and routing generation are not compared either; the route (source,
// target) is the key a comparison is made under, not part of the value. An
// unreadable event is compared on its bytes (so it equals only the very same bytes) and shows as
// {"unreadable": reason}. This is the one definition of "the same event" for `journal diff`.
nlohmann::json comparableJson(const JournalEvent& record);
// comparableJson as one line of text (keys in a fixed order: equal events give equal strings).
std::string comparableText(const JournalEvent& record);

// An event id as typed: decimal (as `evrctl journal dump` and `recv --json` print ids) or
// 0x-prefixed hex. nullopt when it is neither or does not fit 64 bits.
std::optional<std::uint64_t> parseEventId(std::string_view text);

// "0x1234abcd00000011" (16 hex digits), the form that shows the id's two halves.
std::string hexId(std::uint64_t id);

}  // namespace evr::ctl
