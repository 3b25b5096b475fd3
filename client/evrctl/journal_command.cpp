// `evrctl journal dump DIR`: print evrouterd's journal (docs/delivery.md, "The journal"), one JSON
// object per record, oldest first.
//
// Reads the directory through evr::journal's read-only reader: it never creates, cuts or renames
// anything, so it is safe on the journal of a running daemon (it shows what was written when each
// segment was read) and on a crashed one (a torn tail is reported, not repaired: evrouterd repairs
// it on its next start).

#include <nlohmann/json.hpp>
#include <zmq.hpp>

#include <cstdint>
#include <iostream>
#include <limits>
#include <memory>
#include <string>

#include "command.hpp"
#include "evr/event.hpp"
#include "evr/event_json.hpp"
#include "evr/event_types.hpp"
#include "journal/journal.hpp"

namespace evr::ctl {
namespace {

struct DumpOptions {
  std::string dir;
  std::uint64_t from = 0;
  std::uint64_t limit = 0;
};

std::string textOf(capnp::Text::Reader text) { return {text.begin(), text.size()}; }

nlohmann::json eventRecordJson(std::uint64_t index, schema::JournalRecord::Event::Reader record) {
  nlohmann::json out;
  out["index"] = index;
  out["kind"] = "event";
  out["source"] = textOf(record.getSource());
  out["source_instance"] = record.getSourceInstance();
  out["source_seq"] = record.getSourceSeq();
  out["generation"] = record.getGeneration();
  auto targets = nlohmann::json::array();
  for (const auto target : record.getTargets()) targets.push_back(textOf(target));
  out["targets"] = std::move(targets);
  const auto type = record.getEventType();
  if (isKnownEventType(type)) {
    out["type"] = std::string(eventTypeName(static_cast<EventType>(type)));
  } else {
    out["type"] = type;
  }
  out["hops"] = record.getHops();
  const auto bytes = record.getEvent();
  std::string error;
  const Event event = Event::fromWire(zmq::message_t(bytes.begin(), bytes.size()), record.getHops(), error);
  if (event.valid()) {
    try {
      out["event"] = toJson(event);
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

}  // namespace

Command addJournalCommand(CLI::App& parent) {
  auto options = std::make_shared<DumpOptions>();
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
  return Command{app, [options] { return runDump(*options); }};
}

}  // namespace evr::ctl
