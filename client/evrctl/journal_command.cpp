// `evrctl journal dump DIR`: print evrouterd's journal (docs/delivery.md, "The journal"), one JSON
// object per record, oldest first.
// `evrctl journal diff A B`: compare two runs' journals route by route (the comparable form of an
// event is journal_events.hpp's comparableJson).
//
// Reads the directory through evr::journal's read-only reader: it never creates, cuts or renames
// anything, so it is safe on the journal of a running daemon (it shows what was written when each
// segment was read) and on a crashed one (a torn tail is reported, not repaired: evrouterd repairs
// it on its next start).

#include <nlohmann/json.hpp>
#include <zmq.hpp>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <iostream>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "command.hpp"
#include "evr/event.hpp"
#include "evr/event_json.hpp"
#include "evr/event_types.hpp"
#include "journal/journal.hpp"
#include "journal_events.hpp"

namespace evr::ctl {
namespace {

struct DumpOptions {
  std::string dir;
  std::uint64_t from = 0;
  std::uint64_t limit = 0;
};

std::string textOf(capnp::Text::Reader text) { return {text.begin(), text.size()}; }

nlohmann::json eventRecordJson(std::uint64_t index, schema::JournalRecord::Event::Reader reader) {
  const JournalEvent record = decodeJournalEvent(index, reader);
  nlohmann::json out;
  out["index"] = index;
  out["kind"] = "event";
  out["source"] = record.source;
  out["source_instance"] = record.source_instance;
  out["source_seq"] = record.source_seq;
  out["generation"] = reader.getGeneration();
  out["targets"] = record.targets;
  if (isKnownEventType(record.event_type)) {
    out["type"] = std::string(eventTypeName(static_cast<EventType>(record.event_type)));
  } else {
    out["type"] = record.event_type;
  }
  out["hops"] = record.hops;
  std::string error = record.error;
  if (record.event.valid()) {
    try {
      out["event"] = toJson(record.event);
    } catch (const std::exception& e) {
      error = e.what();
    }
  }
  if (!out.contains("event")) {
    out["event"] = nullptr;
    out["event_error"] = error;
  }
  return out;
}

int runDump(const DumpOptions& options) {
  journal::RecoveryReport report;
  std::uint64_t printed = 0;
  journal::forEachRecord(
      options.dir, options.from,
      [&](std::uint64_t index, schema::JournalRecord::Reader record) {
        nlohmann::json line;
        switch (record.which()) {
          case schema::JournalRecord::EVENT:
            line = eventRecordJson(index, record.getEvent());
            break;
          case schema::JournalRecord::TARGET_ACKED:
            line["index"] = index;
            line["kind"] = "target_acked";
            line["target"] = textOf(record.getTargetAcked().getTarget());
            line["acked"] = record.getTargetAcked().getIndex();
            break;
          default:
            line["index"] = index;
            line["kind"] = "unknown";
            break;
        }
        // Text written by other processes need not be valid UTF-8: replace, never throw.
        std::cout << line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
        ++printed;
        return options.limit == 0 || printed < options.limit;
      },
      report);
  std::cout.flush();
  for (const auto& problem : report.problems) std::cerr << "evrctl journal dump: " << problem << '\n';
  // Problems with nothing readable at all: the directory is not a usable journal.
  if (!report.problems.empty() && report.records == 0) {
    std::cerr << "evrctl journal dump: no readable record in " << options.dir << '\n';
    return kExitError;
  }
  return kExitOk;
}


// ---- journal diff ------------------------------------------------------------------------------

// Exit codes of `journal diff` (as diff(1) and cmp(1)).
constexpr int kDiffSame = 0;
constexpr int kDiffDifferent = 1;
constexpr int kDiffUnreadable = 2;

struct DiffOptions {
  std::string a;
  std::string b;
};

// A route: source -> target.
using RouteKey = std::pair<std::string, std::string>;

// One event on a route: where it is in its journal, and two independent 64-bit hashes of its
// comparable text (comparableText), so a run's routes fit in memory however long the run; the
// events themselves are read again only to print a difference.
struct RouteEntry {
  std::uint64_t index = 0;
  std::uint64_t fnv = 0;
  std::uint64_t std_hash = 0;
  bool operator==(const RouteEntry& other) const { return fnv == other.fnv && std_hash == other.std_hash; }
};

struct RunRoutes {
  std::map<RouteKey, std::vector<RouteEntry>> routes;
  std::uint64_t events = 0;
  std::uint64_t first_index = 0;
};

std::uint64_t fnv1a64(std::string_view text) {
  std::uint64_t hash = 14695981039346656037ull;
  for (const char c : text) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 1099511628211ull;
  }
  return hash;
}

// Reads every event record of `dir` onto its routes, in journal order. Problems go to stderr
// prefixed with `label`; nullopt (after saying why) when the directory is not a usable journal.
std::optional<RunRoutes> readRoutes(const std::string& label, const std::string& dir) {
  RunRoutes run;
  journal::RecoveryReport report;
  try {
    journal::forEachRecord(
        dir, 0,
        [&](std::uint64_t index, schema::JournalRecord::Reader record) {
          if (run.first_index == 0) run.first_index = index;
          if (record.which() != schema::JournalRecord::EVENT) return true;
          const JournalEvent event = decodeJournalEvent(index, record.getEvent());
          const std::string text = comparableText(event);
          const RouteEntry entry{index, fnv1a64(text), std::hash<std::string>{}(text)};
          for (const auto& target : event.targets) run.routes[{event.source, target}].push_back(entry);
          ++run.events;
          return true;
        },
        report);
  } catch (const std::exception& e) {
    std::cerr << "evrctl journal diff: " << label << ": " << e.what() << '\n';
    return std::nullopt;
  }
  for (const auto& problem : report.problems) std::cerr << "evrctl journal diff: " << label << ": " << problem << '\n';
  if (run.events == 0) {
    std::cerr << "evrctl journal diff: " << label << ": no event record in " << dir
              << " (a journal written with `types: all`?)\n";
    return std::nullopt;
  }
  if (run.first_index > 1) {
    std::cerr << "evrctl journal diff: " << label << ": " << dir << " starts at journal index " << run.first_index
              << " (older segments were removed): its routes are compared from there\n";
  }
  return run;
}

// The event record at `index` of `dir` (which readRoutes read a moment ago).
std::optional<JournalEvent> readEventAt(const std::string& dir, std::uint64_t index) {
  std::optional<JournalEvent> out;
  journal::RecoveryReport report;
  try {
    journal::forEachRecord(
        dir, index,
        [&](std::uint64_t at, schema::JournalRecord::Reader record) {
          if (at == index && record.which() == schema::JournalRecord::EVENT) {
            out = decodeJournalEvent(at, record.getEvent());
          }
          return false;
        },
        report);
  } catch (const std::exception&) {
    // Vanished since: printed as missing.
  }
  return out;
}

std::string routeName(const RouteKey& route) { return route.first + " -> " + route.second; }

// "  A index 345: {...}" or "  A: (no event at this position)"; returns the event's compared
// form (null when there is none).
nlohmann::json printSide(const char* label, const std::string& dir, const std::vector<RouteEntry>& entries,
                         std::size_t position) {
  std::cout << "  " << label;
  if (position >= entries.size()) {
    std::cout << ": (no event at this position: the route ends after " << entries.size() << ")\n";
    return nullptr;
  }
  const auto event = readEventAt(dir, entries[position].index);
  std::cout << " index " << entries[position].index << ": "
            << (event ? comparableText(*event) : std::string("(could not be read again)")) << '\n';
  return event ? comparableJson(*event) : nlohmann::json();
}

// "  fields: a, b" — the top-level keys whose values differ, when both sides are events.
void printDifferingFields(const nlohmann::json& a, const nlohmann::json& b) {
  if (!a.is_object() || !b.is_object()) return;
  std::set<std::string> keys;
  for (const auto& [key, value] : a.items()) keys.insert(key);
  for (const auto& [key, value] : b.items()) keys.insert(key);
  std::string list;
  for (const auto& key : keys) {
    if (!a.contains(key) || !b.contains(key) || a.at(key) != b.at(key)) list += (list.empty() ? "" : ", ") + key;
  }
  std::cout << "  fields: " << list << '\n';
}

int runDiff(const DiffOptions& options) {
  const auto a = readRoutes("A", options.a);
  const auto b = readRoutes("B", options.b);
  if (!a || !b) return kDiffUnreadable;

  std::set<RouteKey> all;
  for (const auto& [route, entries] : a->routes) all.insert(route);
  for (const auto& [route, entries] : b->routes) all.insert(route);

  std::uint64_t compared = 0;
  std::size_t differing = 0, only_a = 0, only_b = 0;
  for (const auto& route : all) {
    const auto in_a = a->routes.find(route);
    const auto in_b = b->routes.find(route);
    if (in_b == b->routes.end()) {
      ++only_a;
      std::cout << "route " << routeName(route) << ": only in A (" << in_a->second.size() << " events)\n";
      continue;
    }
    if (in_a == a->routes.end()) {
      ++only_b;
      std::cout << "route " << routeName(route) << ": only in B (" << in_b->second.size() << " events)\n";
      continue;
    }
    const auto& ea = in_a->second;
    const auto& eb = in_b->second;
    const std::size_t common = std::min(ea.size(), eb.size());
    compared += common;
    std::optional<std::size_t> first;
    std::size_t unequal = 0;
    for (std::size_t i = 0; i < common; ++i) {
      if (ea[i] == eb[i]) continue;
      if (!first) first = i;
      ++unequal;
    }
    if (!first && ea.size() == eb.size()) continue;
    ++differing;
    const std::size_t position = first.value_or(common);
    std::cout << "route " << routeName(route) << ": first difference at position " << position + 1
              << " (1-based); " << unequal << " of " << common << " common positions differ";
    if (ea.size() != eb.size()) std::cout << "; A has " << ea.size() << " events, B " << eb.size();
    std::cout << '\n';
    const auto event_a = printSide("A", options.a, ea, position);
    const auto event_b = printSide("B", options.b, eb, position);
    printDifferingFields(event_a, event_b);
  }

  std::cout << all.size() << " routes, " << compared << " events compared: ";
  if (differing == 0 && only_a == 0 && only_b == 0) {
    std::cout << "identical\n";
    return kDiffSame;
  }
  std::cout << differing << " differ, " << only_a << " only in A, " << only_b << " only in B\n";
  return kDiffDifferent;
}

}  // namespace

Command addJournalCommand(CLI::App& parent) {
  auto options = std::make_shared<DumpOptions>();
  auto diff_options = std::make_shared<DiffOptions>();
  CLI::App* app = parent.add_subcommand("journal", "Inspect evrouterd's journal directory (read-only).");
  app->require_subcommand(1);
  CLI::App* dump = app->add_subcommand(
      "dump", "Print every journal record as one JSON object per line, oldest first. Never modifies the journal.");
  dump->add_option("dir", options->dir, "The journal directory (router.journal.path)")->required();
  dump->add_option("--from", options->from, "Start at this journal index")->capture_default_str();
  dump->add_option("--limit", options->limit, "Print at most this many records; 0 = all")->capture_default_str();
  dump->footer(
      "A torn or corrupt tail is reported on stderr with its file and offset; the records before it are "
      "printed. Exit codes: 0 ok (also with problems, when some record was readable), 1 the directory "
      "cannot be read, or it has problems and no readable record.");
  CLI::App* diff = app->add_subcommand(
      "diff",
      "Compare the journals of two runs (written with `types: all`) route by route: on every route "
      "source -> target, the events journaled for that target, in journal order, must be equal.");
  diff->add_option("a", diff_options->a, "Journal directory of run A")->required();
  diff->add_option("b", diff_options->b, "Journal directory of run B")->required();
  diff->footer(
      "Events are compared on what a run determines: the event without its wall-clock publish_time "
      "and random source_instance (docs/delivery.md, \"Comparing two runs\"). For each differing route it prints the first "
      "difference (position 1-based) with both events, and the routes present in one run only; then a "
      "summary line. Exit codes: 0 identical, 1 different, 2 a journal cannot be read or holds no event.");
  return Command{app, [options, diff_options, diff] {
                   return diff->parsed() ? runDiff(*diff_options) : runDump(*options);
                 }};
}

}  // namespace evr::ctl
