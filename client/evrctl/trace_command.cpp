// `evrctl trace EVENT_ID --journal DIR [--format text|dot]`: an event's chain of causes (a FILL <-
// ORDER <- SIGNAL <- BAR), read from evrouterd's journal (docs/operations.md, "Tracing an event's
// lineage").
//
// Each event carries the id of the event whose handler published it (causationId, set by the
// client library's Bus::publish) and the id of its chain's first event (correlationId). The
// journal, written with `types: all`, holds every routed event, so following causation ids from
// EVENT_ID back to an event without a cause gives the lineage. Read-only, like `journal dump`:
// one pass indexes the ids, then the few events of the chain are read again.

#include <fmt/format.h>

#include <cstdint>
#include <ctime>
#include <iostream>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <unordered_map>
#include <vector>

#include "command.hpp"
#include "evr/event_json.hpp"
#include "evr/event_types.hpp"
#include "journal/journal.hpp"
#include "journal_events.hpp"

namespace evr::ctl {
namespace {

// Exit codes of `trace`.
constexpr int kTraceComplete = 0;
constexpr int kTraceUsage = 1;
constexpr int kTraceUnreadable = 2;
constexpr int kTraceNotFound = 3;
constexpr int kTraceIncomplete = 4;

struct TraceOptions {
  std::string id;
  std::string journal;
  std::string format = "text";
};

// Per event id: where it is and what caused it (the first record with that id; `count` > 1 when
// a restarted source reused its seqs).
struct IdEntry {
  std::uint64_t index = 0;
  std::uint64_t causation = 0;
  std::uint32_t count = 0;
};

struct Link {
  std::uint64_t id = 0;
  std::optional<JournalEvent> record;  // nullopt: not in the journal
  std::uint32_t count = 0;
};

std::string eventTimeText(std::int64_t ns) {
  if (ns == 0) return "-";
  std::int64_t seconds = ns / 1'000'000'000;
  std::int64_t fraction = ns % 1'000'000'000;
  if (fraction < 0) {
    fraction += 1'000'000'000;
    --seconds;
  }
  const std::time_t t = static_cast<std::time_t>(seconds);
  std::tm tm{};
  if (gmtime_r(&t, &tm) == nullptr) return std::to_string(ns);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%S", &tm);
  std::string out(buffer);
  if (fraction != 0) {
    std::string digits = fmt::format("{:09d}", fraction);
    digits.erase(digits.find_last_not_of('0') + 1);
    out += "." + digits;
  }
  return out + "Z";
}

std::string valueText(const nlohmann::json& value) {
  return value.is_string() ? value.get<std::string>()
                           : value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// The payload's fields as `name=value`, cut at about `limit` characters.
std::string shortPayload(const Event& event, const nlohmann::json& json, std::size_t limit = 140) {
  std::string out;
  for (const auto& field : payloadFields(event.type())) {
    const std::string name(field.name);
    if (!json.contains(name)) continue;
    const auto& value = json.at(name);
    if (value.is_string() && value.get<std::string>().empty()) continue;  // unset text says nothing
    std::string pair = name + "=" + valueText(value);
    if (out.size() + pair.size() + 1 > limit) return out + (out.empty() ? "" : " ") + "...";
    out += (out.empty() ? "" : " ") + pair;
  }
  return out;
}

struct Described {
  std::string type;
  std::string source;
  std::uint64_t seq = 0;
  std::string time;
  std::string symbol;
  std::string payload;
  std::uint64_t correlation = 0;
};

Described describe(const JournalEvent& record) {
  Described out;
  out.source = record.source;
  out.seq = record.source_seq;
  out.type = isKnownEventType(record.event_type)
                 ? std::string(eventTypeName(static_cast<EventType>(record.event_type)))
                 : std::to_string(record.event_type);
  if (!record.event.valid()) {
    out.payload = "(unreadable: " + record.error + ")";
    return out;
  }
  try {
    const auto json = toJson(record.event);
    out.time = eventTimeText(record.event.eventTime());
    out.symbol = std::string(record.event.symbol());
    out.payload = shortPayload(record.event, json);
    out.correlation = record.event.reader().getCorrelationId();
  } catch (const std::exception& e) {
    out.payload = std::string("(unreadable: ") + e.what() + ")";
  }
  return out;
}

std::string textLine(const Link& link) {
  if (!link.record) return fmt::format("{} (not in the journal)", link.id);
  const auto d = describe(*link.record);
  std::string line = fmt::format("{} {} {} seq={} time={}", link.id, d.type, d.source, d.seq, d.time.empty() ? "-" : d.time);
  if (!d.symbol.empty()) line += " symbol=" + d.symbol;
  if (!d.payload.empty()) line += " " + d.payload;
  if (link.count > 1) line += fmt::format(" (id journaled {} times; the first shown)", link.count);
  return line;
}

// A DOT string literal's inside.
std::string dotEscape(const std::string& text) {
  std::string out;
  for (const char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

void printDot(const std::vector<Link>& chain, std::uint64_t asked) {
  std::cout << "digraph lineage {\n"
            << "  rankdir=TB;\n"
            << "  node [shape=box, fontname=\"Helvetica\", fontsize=10];\n";
  for (const auto& link : chain) {
    std::string label;
    std::string style;
    if (link.record) {
      const auto d = describe(*link.record);
      label = fmt::format("{} {}\n{} seq {}\n{}{}", d.type, link.id, d.source, d.seq, d.time.empty() ? "-" : d.time,
                          d.symbol.empty() ? "" : " " + d.symbol);
      // The payload's pairs over lines of about 48 characters, so nodes stay narrow.
      std::string line;
      std::istringstream pairs(d.payload);
      for (std::string pair; pairs >> pair;) {
        if (!line.empty() && line.size() + pair.size() + 1 > 48) {
          label += "\n" + line;
          line.clear();
        }
        line += (line.empty() ? "" : " ") + pair;
      }
      if (!line.empty()) label += "\n" + line;
      if (link.id == asked) style = ", style=bold";
    } else {
      label = fmt::format("{}\nnot in the journal", link.id);
      style = ", style=dashed";
    }
    std::cout << "  e" << link.id << " [label=\"" << dotEscape(label) << "\"" << style << "];\n";
  }
  // Cause -> effect: the chain is effect first.
  for (std::size_t i = chain.size(); i-- > 1;) {
    std::cout << "  e" << chain[i].id << " -> e" << chain[i - 1].id << ";\n";
  }
  std::cout << "}\n";
}

int runTrace(const TraceOptions& options) {
  const auto asked = parseEventId(options.id);
  if (!asked) {
    std::cerr << "evrctl trace: '" << options.id << "' is not an event id (decimal, or hex with 0x)\n";
    return kTraceUsage;
  }
  if (options.format != "text" && options.format != "dot") {
    std::cerr << "evrctl trace: --format must be text or dot\n";
    return kTraceUsage;
  }

  // Pass 1: every event id with its cause.
  std::unordered_map<std::uint64_t, IdEntry> ids;
  journal::RecoveryReport report;
  std::uint64_t events = 0;
  try {
    journal::forEachRecord(
        options.journal, 0,
        [&](std::uint64_t index, schema::JournalRecord::Reader record) {
          if (record.which() != schema::JournalRecord::EVENT) return true;
          ++events;
          const JournalEvent event = decodeJournalEvent(index, record.getEvent());
          if (!event.event.valid()) return true;
          try {
            const auto reader = event.event.reader();
            auto& entry = ids[reader.getId()];
            if (entry.count++ == 0) {
              entry.index = index;
              entry.causation = reader.getCausationId();
            }
          } catch (const std::exception&) {
            // An unreadable header: not indexable; `journal dump` shows it.
          }
          return true;
        },
        report);
  } catch (const std::exception& e) {
    std::cerr << "evrctl trace: " << e.what() << '\n';
    return kTraceUnreadable;
  }
  for (const auto& problem : report.problems) std::cerr << "evrctl trace: " << problem << '\n';
  if (events == 0) {
    std::cerr << "evrctl trace: no event record in " << options.journal << " (a journal written with `types: all`?)\n";
    return kTraceUnreadable;
  }
  if (!ids.contains(*asked)) {
    std::cerr << "evrctl trace: event " << *asked << " (" << hexId(*asked) << ") is not in the journal "
              << options.journal << " (" << events << " events)\n";
    return kTraceNotFound;
  }

  // The chain, effect first; pass 2 reads its few records again.
  std::vector<Link> chain;
  std::set<std::uint64_t> seen;
  std::uint64_t id = *asked;
  bool cycle = false;
  while (id != 0) {
    if (!seen.insert(id).second) {
      cycle = true;
      break;
    }
    Link link;
    link.id = id;
    const auto found = ids.find(id);
    if (found == ids.end()) {
      chain.push_back(std::move(link));
      break;
    }
    link.count = found->second.count;
    journal::RecoveryReport again;
    journal::forEachRecord(
        options.journal, found->second.index,
        [&](std::uint64_t index, schema::JournalRecord::Reader record) {
          if (index == found->second.index && record.which() == schema::JournalRecord::EVENT) {
            link.record = decodeJournalEvent(index, record.getEvent());
          }
          return false;
        },
        again);
    chain.push_back(std::move(link));
    id = found->second.causation;
  }

  const bool missing = !chain.back().record;
  if (options.format == "dot") {
    printDot(chain, *asked);
  } else {
    for (std::size_t i = 0; i < chain.size(); ++i) {
      std::cout << (i == 0 ? "" : "  <- ") << textLine(chain[i]) << '\n';
    }
    // The correlation id names the chain's first event; it agrees with the root found above
    // unless the chain is cut.
    const auto correlation = chain.front().record ? describe(*chain.front().record).correlation : 0;
    const auto root = correlation != 0 ? correlation : *asked;
    std::cout << "correlation root: " << root;
    if (!missing && chain.back().id == root) {
      std::cout << " (the first event above)\n";
    } else if (ids.contains(root)) {
      std::cout << " (in the journal)\n";
    } else {
      std::cout << " (not in the journal)\n";
    }
  }
  // A cause later in event time than its effect: the chain is what the events carry, but the
  // publisher answered something else than the event it was handling (a buffered input).
  for (std::size_t i = 1; i < chain.size(); ++i) {
    const auto& effect = chain[i - 1].record;
    const auto& cause = chain[i].record;
    if (!effect || !cause || !effect->event.valid() || !cause->event.valid()) continue;
    try {
      if (cause->event.eventTime() > effect->event.eventTime()) {
        std::cerr << "evrctl trace: note: " << chain[i].id << " is later in event time than its effect "
                  << chain[i - 1].id << " (published while its publisher handled " << chain[i].id
                  << ", answering an input it had buffered)\n";
      }
    } catch (const std::exception&) {
      // Unreadable times were reported on their lines.
    }
  }
  if (cycle) {
    std::cerr << "evrctl trace: the causation ids loop back to " << id << ": the chain stops there\n";
    return kTraceIncomplete;
  }
  if (missing) {
    const auto& effect = chain.size() >= 2 ? chain[chain.size() - 2] : chain.back();
    std::cerr << "evrctl trace: the cause " << chain.back().id << " of event " << effect.id
              << " is not in the journal (it started later than that event, or its segment was removed)\n";
    return kTraceIncomplete;
  }
  return kTraceComplete;
}

}  // namespace

Command addTraceCommand(CLI::App& parent) {
  auto options = std::make_shared<TraceOptions>();
  CLI::App* app = parent.add_subcommand(
      "trace", "Print an event's chain of causes (FILL <- ORDER <- SIGNAL <- BAR) from evrouterd's journal.");
  app->add_option("event_id", options->id, "The event's id: decimal (as `evrctl journal dump` prints it) or 0x-hex")
      ->required();
  app->add_option("--journal", options->journal, "The journal directory (router.journal.path, `types: all`)")
      ->required();
  app->add_option("--format", options->format, "text: one line per event, effect first; dot: a Graphviz digraph")
      ->check(CLI::IsMember({"text", "dot"}))
      ->capture_default_str();
  app->footer(
      "Follows each event's causation id back to an event that has none. Text: one line per event "
      "(id, type, source, seq, event time, symbol, payload), then the chain's correlation root. "
      "Exit codes: 0 the whole chain was found, 1 usage error, 2 the journal cannot be read or holds "
      "no event, 3 EVENT_ID is not in the journal, 4 a cause is not in the journal (the chain is "
      "printed up to it).");
  return Command{app, [options] { return runTrace(*options); }};
}

}  // namespace evr::ctl
