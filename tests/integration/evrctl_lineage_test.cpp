// `evrctl journal diff` and `evrctl trace` as real processes over journals written by a real
// evrouterd (`types: all`) while real containers ran: evr_test_peer processes in a pipeline
// feed -> strat -> exec -> broker -> book, each middle stage answering every event it receives
// with one of the next type from its handler (so SIGNAL, ORDER and FILL carry their causes).
//
// diff: two runs with the same content compare identical; a run whose broker changes one FILL's
// quantity differs on exactly that route at that position; a run with an extra route shows the
// route as present in one run only; a directory that is not a journal is exit 2.
// trace: a FILL's chain is FILL <- ORDER <- SIGNAL <- BAR, as text and as DOT that Graphviz's
// `dot` renders; an unknown id is exit 3; a cause missing from the journal is exit 4.
#include <boost/test/unit_test.hpp>
#include <nlohmann/json.hpp>

#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "daemon_fixture.hpp"
#include "evr/bus.hpp"
#include "evr/events.hpp"
#include "journal/journal.hpp"

using namespace evr::test;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

constexpr int kBars = 20;

struct PipelineOptions {
  std::vector<std::string> broker_sets;  // extra --forward-set for the broker
  bool audit = false;                    // also broadcast the feed's BARs to `audit`
};

// One run of the pipeline, journaled to `journal`; returns once every container is done and
// evrouterd has stopped (so the journal is complete and closed).
void runPipeline(const fs::path& journal, const PipelineOptions& options = {}) {
  std::string yaml =
      "router:\n"
      "  listen: [\"ipc://evrouterd.sock\"]\n"
      "  journal: {path: \"" + journal.string() + "\", fsync: none, types: all}\n"
      "event_communication:\n"
      "  adapters:\n"
      "    - {type: pipeline, name: flow, containers: [feed, strat, exec, broker, book]}\n";
  if (options.audit) {
    yaml += "    - {type: broadcast, name: audit_feed, source: feed, targets: [audit], events: [BAR]}\n";
  }
  RunningDaemon daemon(yaml);
  const std::string expect = std::to_string(kBars);
  std::vector<std::unique_ptr<Process>> consumers;
  consumers.push_back(daemon.peer({"--as", "book", "--expect", expect, "--timeout", "60"}));
  std::vector<std::string> broker{"--as", "broker", "--forward", "FILL", "--forward-set", "quantity=100",
                                  "--forward-set", "price=10.5", "--expect", expect, "--timeout", "60"};
  broker.insert(broker.end(), options.broker_sets.begin(), options.broker_sets.end());
  consumers.push_back(daemon.peer(broker));
  consumers.push_back(daemon.peer({"--as", "exec", "--forward", "ORDER", "--expect", expect, "--timeout", "60"}));
  consumers.push_back(daemon.peer({"--as", "strat", "--forward", "SIGNAL", "--expect", expect, "--timeout", "60"}));
  if (options.audit) consumers.push_back(daemon.peer({"--as", "audit", "--expect", expect, "--timeout", "60"}));
  for (auto& consumer : consumers) BOOST_REQUIRE(consumer->waitForLine("joined", 30s));
  auto feed = daemon.peer({"--as", "feed", "--publish", expect, "--timeout", "60"});
  BOOST_REQUIRE_EQUAL(feed->waitFor(60s).value_or(-1), 0);
  for (auto& consumer : consumers) {
    BOOST_REQUIRE_MESSAGE(consumer->waitFor(60s).value_or(-1) == 0,
                          consumer->commandLine() << ": " << consumer->readAllStderr(1s));
  }
  BOOST_REQUIRE_EQUAL(daemon.stop(), 0);
}

struct Result {
  int code = -1;
  std::string out;
  std::string err;
};

Result evrctl(std::vector<std::string> args) {
  args.insert(args.begin(), EVR_EVRCTL_PATH);
  Process process(std::move(args));
  Result result;
  result.code = process.waitFor(60s).value_or(-1);
  result.out = process.readAllStdout(5s);
  result.err = process.readAllStderr(5s);
  BOOST_TEST_MESSAGE(process.commandLine() << " -> " << result.code << "\n" << result.out << result.err);
  return result;
}

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) out.push_back(line);
  return out;
}

// `name` on $PATH (Process execs a path).
std::optional<std::string> findProgram(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::istringstream dirs(path != nullptr ? path : "/usr/bin");
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    const fs::path candidate = fs::path(dir.empty() ? "." : dir) / name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate.string();
  }
  return std::nullopt;
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// The JSON object after "index N: " on a diff output line.
nlohmann::json eventOn(const std::string& line) {
  const auto at = line.find(": {");
  BOOST_REQUIRE(at != std::string::npos);
  return nlohmann::json::parse(line.substr(at + 2));
}

// Two runs journaled once for the suite: A and B have the same content.
struct TwoRuns {
  TempDir tmp;
  fs::path a = tmp.path() / "a";
  fs::path b = tmp.path() / "b";
  TwoRuns() {
    runPipeline(a);
    runPipeline(b);
  }
};

// The events of a journal as `evrctl journal dump` prints them.
std::vector<nlohmann::json> dumpEvents(const fs::path& journal) {
  const auto dump = evrctl({"journal", "dump", journal.string()});
  BOOST_REQUIRE_EQUAL(dump.code, 0);
  std::vector<nlohmann::json> events;
  for (const auto& line : lines(dump.out)) {
    auto record = nlohmann::json::parse(line);
    if (record.at("kind") == "event") events.push_back(std::move(record));
  }
  return events;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(evrctl_journal_diff)

BOOST_AUTO_TEST_CASE(two_runs_with_the_same_content_are_identical_route_by_route) {
  TwoRuns runs;
  // The runs really are two: each connection's random instance and the wall clock differ.
  const auto a = dumpEvents(runs.a);
  const auto b = dumpEvents(runs.b);
  BOOST_REQUIRE_EQUAL(a.size(), 4u * kBars);
  BOOST_REQUIRE_EQUAL(b.size(), a.size());
  BOOST_CHECK(a.front().at("source_instance") != b.front().at("source_instance"));

  const auto diff = evrctl({"journal", "diff", runs.a.string(), runs.b.string()});
  BOOST_CHECK_EQUAL(diff.code, 0);
  BOOST_CHECK_EQUAL(diff.out, "4 routes, 80 events compared: identical\n");
  BOOST_CHECK_EQUAL(diff.err, "");
}

BOOST_AUTO_TEST_CASE(one_changed_fill_is_reported_with_its_route_position_and_both_events) {
  TempDir tmp;
  runPipeline(tmp.path() / "a");
  // The 7th FILL of run B has another quantity.
  runPipeline(tmp.path() / "b", {.broker_sets = {"--forward-set", "7:quantity=101"}});

  const auto diff = evrctl({"journal", "diff", (tmp.path() / "a").string(), (tmp.path() / "b").string()});
  BOOST_CHECK_EQUAL(diff.code, 1);
  const auto out = lines(diff.out);
  BOOST_REQUIRE_EQUAL(out.size(), 5u);
  BOOST_CHECK_EQUAL(out[0], "route broker -> book: first difference at position 7 (1-based); 1 of 20 common positions differ");
  BOOST_REQUIRE(out[1].starts_with("  A index "));
  BOOST_REQUIRE(out[2].starts_with("  B index "));
  const auto a = eventOn(out[1]);
  const auto b = eventOn(out[2]);
  BOOST_CHECK_EQUAL(a.at("type").get<std::string>(), "FILL");
  BOOST_CHECK_EQUAL(a.at("seq").get<std::uint64_t>(), 7u);
  BOOST_CHECK_EQUAL(a.at("quantity").get<double>(), 100.0);
  BOOST_CHECK_EQUAL(b.at("quantity").get<double>(), 101.0);
  BOOST_CHECK_EQUAL(b.at("price").get<double>(), 10.5);
  // What is compared is shown: no wall clock.
  BOOST_CHECK(!a.contains("publish_time"));
  BOOST_CHECK(!a.contains("source_instance"));
  auto same = b;
  same["quantity"] = 100.0;
  BOOST_CHECK(same == a);
  BOOST_CHECK_EQUAL(out[3], "  fields: quantity");
  BOOST_CHECK_EQUAL(out[4], "4 routes, 80 events compared: 1 differ, 0 only in A, 0 only in B");
}

BOOST_AUTO_TEST_CASE(a_route_in_one_run_only_is_named_and_a_non_journal_is_exit_2) {
  TwoRuns runs;
  TempDir tmp;
  const auto extra = tmp.path() / "extra";
  runPipeline(extra, {.broker_sets = {}, .audit = true});

  // B lacks feed -> audit.
  const auto missing = evrctl({"journal", "diff", extra.string(), runs.b.string()});
  BOOST_CHECK_EQUAL(missing.code, 1);
  BOOST_CHECK(contains(missing.out, "route feed -> audit: only in A (20 events)\n"));
  BOOST_CHECK(contains(missing.out, "5 routes, 80 events compared: 0 differ, 1 only in A, 0 only in B\n"));
  const auto added = evrctl({"journal", "diff", runs.a.string(), extra.string()});
  BOOST_CHECK_EQUAL(added.code, 1);
  BOOST_CHECK(contains(added.out, "route feed -> audit: only in B (20 events)\n"));

  const auto nowhere = evrctl({"journal", "diff", runs.a.string(), (tmp.path() / "none").string()});
  BOOST_CHECK_EQUAL(nowhere.code, 2);
  BOOST_CHECK(contains(nowhere.err, "B: "));
  BOOST_CHECK(contains(nowhere.err, "does not exist"));
  BOOST_CHECK_EQUAL(nowhere.out, "");
  fs::create_directories(tmp.path() / "empty");
  const auto empty = evrctl({"journal", "diff", (tmp.path() / "empty").string(), runs.b.string()});
  BOOST_CHECK_EQUAL(empty.code, 2);
  BOOST_CHECK(contains(empty.err, "A: no event record in"));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(evrctl_trace)

BOOST_AUTO_TEST_CASE(a_fills_lineage_is_fill_order_signal_bar_as_text_and_as_dot) {
  TempDir tmp;
  const auto journal = tmp.path() / "journal";
  runPipeline(journal);
  const auto events = dumpEvents(journal);
  // The third FILL, and the ids of what caused it, from the dump.
  std::vector<nlohmann::json> fills;
  for (const auto& record : events) {
    if (record.at("type") == "FILL") fills.push_back(record.at("event"));
  }
  BOOST_REQUIRE_EQUAL(fills.size(), static_cast<std::size_t>(kBars));
  const auto fill = fills.at(2);
  const auto fill_id = fill.at("id").get<std::uint64_t>();

  const auto text = evrctl({"trace", std::to_string(fill_id), "--journal", journal.string()});
  BOOST_CHECK_EQUAL(text.code, 0);
  const auto out = lines(text.out);
  BOOST_REQUIRE_EQUAL(out.size(), 5u);
  BOOST_CHECK(out[0].starts_with(std::to_string(fill_id) + " FILL broker seq=3 time=1970-01-01T00:00:00.000000003Z symbol=SYM3 "));
  BOOST_CHECK(contains(out[0], " side=BUY quantity=100.0 price=10.5 "));
  BOOST_CHECK(out[1].starts_with("  <- " + std::to_string(fill.at("causation_id").get<std::uint64_t>()) + " ORDER exec seq=3 "));
  BOOST_CHECK(contains(out[2], " SIGNAL strat seq=3 "));
  BOOST_CHECK(contains(out[3], " BAR feed seq=3 "));
  BOOST_CHECK(contains(out[3], "close=3"));
  const auto root = fill.at("correlation_id").get<std::uint64_t>();
  BOOST_CHECK(out[3].starts_with("  <- " + std::to_string(root) + " BAR"));
  BOOST_CHECK_EQUAL(out[4], "correlation root: " + std::to_string(root) + " (the first event above)");
  BOOST_CHECK_EQUAL(text.err, "");

  // The same id in hex; DOT that Graphviz renders, cause -> effect.
  std::ostringstream hex;
  hex << "0x" << std::hex << fill_id;
  const auto dot = evrctl({"trace", hex.str(), "--journal", journal.string(), "--format", "dot"});
  BOOST_REQUIRE_EQUAL(dot.code, 0);
  BOOST_CHECK(dot.out.starts_with("digraph lineage {"));
  BOOST_CHECK(contains(dot.out, "e" + std::to_string(root) + " -> e"));
  BOOST_CHECK(contains(dot.out, " -> e" + std::to_string(fill_id) + ";"));
  const auto dot_file = tmp.write("lineage.dot", dot.out);
  const auto svg_file = (tmp.path() / "lineage.svg").string();
  const auto dot_program = findProgram("dot");
  BOOST_REQUIRE_MESSAGE(dot_program, "Graphviz's dot is not on PATH (scripts/install-deps.sh installs graphviz)");
  Process render({*dot_program, "-Tsvg", dot_file, "-o", svg_file});
  BOOST_REQUIRE_EQUAL(render.waitFor(30s).value_or(-1), 0);
  const auto svg = readFile(svg_file);
  BOOST_CHECK(contains(svg, "<svg"));
  BOOST_CHECK(contains(svg, "FILL " + std::to_string(fill_id)));
  BOOST_CHECK(contains(svg, "BAR " + std::to_string(root)));
}

BOOST_AUTO_TEST_CASE(an_unknown_id_is_exit_3_and_a_missing_cause_is_exit_4_with_the_chain_up_to_it) {
  TempDir tmp;
  const auto journal = tmp.path() / "journal";
  {
    // A journal that started after the cause of its SIGNAL was routed: the SIGNAL names cause
    // 12345, which is in no record.
    evr::journal::JournalRecovery recovery;
    auto writer = evr::journal::Journal::open({.dir = journal}, recovery);
    evr::Bus bus("strat");
    bus.subscribeAll([&](const evr::Event& event) {
      const std::vector<std::string_view> targets{"exec"};
      evr::journal::EventRecordView view;
      view.source = event.source();
      view.source_seq = event.seq();
      view.targets = targets;
      view.event_type = static_cast<std::uint8_t>(event.type());
      view.event = event.bytes();
      BOOST_REQUIRE(writer.appendEvent(view) != 0);
    });
    evr::EventBuilder signal(evr::EventType::SIGNAL);
    signal.symbol("AAPL");
    signal.root().setCausationId(12345);
    signal.root().setCorrelationId(12345);
    bus.publish(std::move(signal));
    BOOST_REQUIRE(writer.sync());
  }
  const auto signal_id = evr::makeEventId("strat", 1);

  const auto cut = evrctl({"trace", std::to_string(signal_id), "--journal", journal.string()});
  BOOST_CHECK_EQUAL(cut.code, 4);
  const auto out = lines(cut.out);
  BOOST_REQUIRE_EQUAL(out.size(), 3u);
  BOOST_CHECK(out[0].starts_with(std::to_string(signal_id) + " SIGNAL strat seq=1 "));
  BOOST_CHECK_EQUAL(out[1], "  <- 12345 (not in the journal)");
  BOOST_CHECK_EQUAL(out[2], "correlation root: 12345 (not in the journal)");
  BOOST_CHECK(contains(cut.err, "the cause 12345 of event " + std::to_string(signal_id) + " is not in the journal"));
  const auto dot = evrctl({"trace", std::to_string(signal_id), "--journal", journal.string(), "--format", "dot"});
  BOOST_CHECK_EQUAL(dot.code, 4);
  BOOST_CHECK(contains(dot.out, "e12345 [label=\"12345\\nnot in the journal\", style=dashed];"));
  BOOST_CHECK(contains(dot.out, "e12345 -> e" + std::to_string(signal_id) + ";"));

  const auto unknown = evrctl({"trace", "0x99", "--journal", journal.string()});
  BOOST_CHECK_EQUAL(unknown.code, 3);
  BOOST_CHECK(contains(unknown.err, "event 153 (0x0000000000000099) is not in the journal"));
  BOOST_CHECK_EQUAL(unknown.out, "");
  const auto bad = evrctl({"trace", "12ab", "--journal", journal.string()});
  BOOST_CHECK_EQUAL(bad.code, 1);
  BOOST_CHECK(contains(bad.err, "'12ab' is not an event id"));
  const auto nowhere = evrctl({"trace", "1", "--journal", (tmp.path() / "none").string()});
  BOOST_CHECK_EQUAL(nowhere.code, 2);
  BOOST_CHECK(contains(nowhere.err, "does not exist"));
}

BOOST_AUTO_TEST_SUITE_END()
