// `evrctl journal dump` as a real process over a journal written by evr::journal: one JSON object
// per record with the event as `evrctl recv --json` prints it; a torn tail is reported on stderr
// with file and offset, the good records are printed, and the files are left as they were.
#include <boost/test/unit_test.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <filesystem>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "evr/bus.hpp"
#include "evr/events.hpp"
#include "journal/journal.hpp"
#include "process.hpp"
#include "temp_dir.hpp"

using namespace evr::test;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

// Writes BARs seq 1..count from "feed" (instance 77) routed to "strat" and "risk"; strat acks
// the first two. Returns the journal indexes of the events.
std::vector<std::uint64_t> writeJournal(const fs::path& dir, int count) {
  evr::journal::JournalRecovery recovery;
  auto journal = evr::journal::Journal::open({.dir = dir}, recovery);
  evr::Bus bus("feed");
  std::vector<std::uint64_t> indexes;
  bus.subscribeAll([&](const evr::Event& event) {
    const std::vector<std::string_view> targets{"strat", "risk"};
    evr::journal::EventRecordView view;
    view.source = event.source();
    view.source_instance = 77;
    view.source_seq = event.seq();
    view.generation = 4;
    view.targets = targets;
    view.event_type = static_cast<std::uint8_t>(event.type());
    view.hops = 1;
    view.event = event.bytes();
    indexes.push_back(journal.appendEvent(view));
  });
  for (int i = 0; i < count; ++i) {
    bus.publish(evr::Bar{.symbol = "AAPL", .open = 100, .high = 102, .low = 99, .close = 100.5 + i, .volume = 10});
  }
  journal.targetAcked("strat", indexes.at(1));
  BOOST_REQUIRE(journal.sync());
  return indexes;
}

std::vector<nlohmann::json> jsonLines(const std::string& text) {
  std::vector<nlohmann::json> out;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) out.push_back(nlohmann::json::parse(line));
  return out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(evrctl_journal)

BOOST_AUTO_TEST_CASE(dump_prints_each_record_as_json_with_the_event_as_recv_prints_it) {
  TempDir tmp;
  const auto dir = tmp.path() / "journal";
  const auto indexes = writeJournal(dir, 3);

  Process dump({EVR_EVRCTL_PATH, "journal", "dump", dir.string()});
  BOOST_REQUIRE_EQUAL(dump.waitFor(30s).value_or(-1), 0);
  const auto records = jsonLines(dump.readAllStdout(5s));
  BOOST_CHECK_EQUAL(dump.readAllStderr(2s), "");
  BOOST_REQUIRE_EQUAL(records.size(), 4u);
  for (int i = 0; i < 3; ++i) {
    const auto& record = records[static_cast<std::size_t>(i)];
    BOOST_CHECK_EQUAL(record.at("index").get<std::uint64_t>(), indexes[static_cast<std::size_t>(i)]);
    BOOST_CHECK_EQUAL(record.at("kind").get<std::string>(), "event");
    BOOST_CHECK_EQUAL(record.at("source").get<std::string>(), "feed");
    BOOST_CHECK_EQUAL(record.at("source_instance").get<std::uint64_t>(), 77u);
    BOOST_CHECK_EQUAL(record.at("source_seq").get<std::uint64_t>(), static_cast<std::uint64_t>(i + 1));
    BOOST_CHECK_EQUAL(record.at("generation").get<std::uint64_t>(), 4u);
    BOOST_CHECK(record.at("targets") == nlohmann::json::array({"strat", "risk"}));
    BOOST_CHECK_EQUAL(record.at("type").get<std::string>(), "BAR");
    BOOST_CHECK_EQUAL(record.at("hops").get<int>(), 1);
    const auto& event = record.at("event");
    BOOST_CHECK_EQUAL(event.at("type").get<std::string>(), "BAR");
    BOOST_CHECK_EQUAL(event.at("symbol").get<std::string>(), "AAPL");
    BOOST_CHECK_EQUAL(event.at("seq").get<std::uint64_t>(), static_cast<std::uint64_t>(i + 1));
    BOOST_CHECK_EQUAL(event.at("close").get<double>(), 100.5 + i);
  }
  BOOST_CHECK_EQUAL(records[3].at("kind").get<std::string>(), "target_acked");
  BOOST_CHECK_EQUAL(records[3].at("index").get<std::uint64_t>(), 4u);
  BOOST_CHECK_EQUAL(records[3].at("target").get<std::string>(), "strat");
  BOOST_CHECK_EQUAL(records[3].at("acked").get<std::uint64_t>(), indexes[1]);

  // --from and --limit.
  Process part({EVR_EVRCTL_PATH, "journal", "dump", dir.string(), "--from", "2", "--limit", "2"});
  BOOST_REQUIRE_EQUAL(part.waitFor(30s).value_or(-1), 0);
  const auto some = jsonLines(part.readAllStdout(5s));
  BOOST_REQUIRE_EQUAL(some.size(), 2u);
  BOOST_CHECK_EQUAL(some[0].at("index").get<std::uint64_t>(), 2u);
  BOOST_CHECK_EQUAL(some[1].at("index").get<std::uint64_t>(), 3u);
}

BOOST_AUTO_TEST_CASE(dump_of_a_torn_journal_prints_the_good_records_reports_the_tail_and_changes_nothing) {
  TempDir tmp;
  const auto dir = tmp.path() / "journal";
  writeJournal(dir, 3);
  fs::path segment;
  for (const auto& entry : fs::directory_iterator(dir)) segment = entry.path();
  fs::resize_file(segment, fs::file_size(segment) - 4);  // the ack record is torn
  const auto size = fs::file_size(segment);

  Process dump({EVR_EVRCTL_PATH, "journal", "dump", dir.string()});
  BOOST_REQUIRE_EQUAL(dump.waitFor(30s).value_or(-1), 0);
  const auto records = jsonLines(dump.readAllStdout(5s));
  BOOST_REQUIRE_EQUAL(records.size(), 3u);
  BOOST_CHECK_EQUAL(records.back().at("kind").get<std::string>(), "event");
  const auto errors = dump.readAllStderr(2s);
  BOOST_TEST_MESSAGE(errors);
  BOOST_CHECK(errors.find(segment.string() + ": offset ") != std::string::npos);
  BOOST_CHECK_EQUAL(fs::file_size(segment), size);

  // Not a journal at all: exit 1 with the reason.
  Process missing({EVR_EVRCTL_PATH, "journal", "dump", (tmp.path() / "none").string()});
  BOOST_CHECK_EQUAL(missing.waitFor(30s).value_or(-1), 1);
  BOOST_CHECK(missing.readAllStderr(2s).find("does not exist") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
