// The journal's event layer (daemon/journal/journal): reopening lists, per target, exactly the
// events it has not acked, in index order, and per source the highest journaled seq; a torn or
// corrupt tail keeps the good prefix and names file and offset; retention deletes segments once
// every target acked past them, and the checkpoint keeps every target's position after the
// segment with its last position record is gone; keep_all keeps everything; the read-only reader
// changes nothing; a directory that cannot be used is a JournalError.
#include <boost/test/unit_test.hpp>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include "journal/journal.hpp"
#include "temp_dir.hpp"

using namespace evr::journal;
using evr::test::TempDir;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

using Clock = std::chrono::steady_clock;

// Stand-in event bytes: the journal keeps them opaque.
std::vector<std::byte> eventBytes(std::uint64_t seq) {
  const std::string text = "event #" + std::to_string(seq) + std::string(seq % 13, '.');
  std::vector<std::byte> out(text.size());
  std::transform(text.begin(), text.end(), out.begin(), [](char c) { return static_cast<std::byte>(c); });
  return out;
}

JournalOptions optionsFor(const fs::path& dir, std::uint64_t segment_bytes = 64ull << 20) {
  JournalOptions options;
  options.dir = dir;
  options.segment_bytes = segment_bytes;
  return options;
}

std::uint64_t append(Journal& journal, std::string_view source, std::uint64_t instance, std::uint64_t seq,
                     std::vector<std::string_view> targets) {
  const auto bytes = eventBytes(seq);
  EventRecordView view;
  view.source = source;
  view.source_instance = instance;
  view.source_seq = seq;
  view.generation = 3;
  view.targets = targets;
  view.event_type = 1;
  view.hops = 2;
  view.event = bytes;
  return journal.appendEvent(view);
}

std::vector<std::uint64_t> undeliveredIndexes(const JournalRecovery& recovery, std::string_view target) {
  std::vector<std::uint64_t> out;
  if (const auto it = recovery.undelivered.find(target); it != recovery.undelivered.end()) {
    for (const auto& event : it->second) out.push_back(event->index);
  }
  return out;
}

std::vector<fs::path> segmentFiles(const fs::path& dir) {
  std::vector<fs::path> out;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() == ".seg") out.push_back(entry.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(journal)

BOOST_AUTO_TEST_CASE(reopen_lists_each_targets_unacked_events_in_order_and_the_highest_source_seqs) {
  TempDir tmp;
  const auto dir = tmp.path() / "journal";
  std::vector<std::uint64_t> to_a, to_b;
  {
    JournalRecovery recovery;
    auto journal = Journal::open(optionsFor(dir), recovery);
    BOOST_CHECK_EQUAL(recovery.records, 0u);
    for (std::uint64_t seq = 1; seq <= 12; ++seq) {
      std::vector<std::string_view> targets;
      if (seq % 3 != 2) targets.push_back("a");
      if (seq % 3 != 1) targets.push_back("b");
      const auto index = append(journal, "src", 7, seq, targets);
      BOOST_REQUIRE_NE(index, 0u);
      if (seq % 3 != 2) to_a.push_back(index);
      if (seq % 3 != 1) to_b.push_back(index);
    }
    // A second instance of the same source (it restarted) and another source.
    append(journal, "src", 8, 2, {"a"});
    to_a.push_back(journal.nextIndex() - 1);
    append(journal, "other", 1, 40, {"b"});
    to_b.push_back(journal.nextIndex() - 1);

    const auto t0 = Clock::now();
    journal.targetAcked("a", to_a[3], t0);
    journal.targetAcked("b", to_b[1], t0);
    BOOST_CHECK_EQUAL(journal.pendingCount("a"), to_a.size() - 4);
    BOOST_CHECK_EQUAL(journal.pendingCount("b"), to_b.size() - 2);
    BOOST_CHECK(journal.sync(t0));
  }
  JournalRecovery recovery;
  auto journal = Journal::open(optionsFor(dir), recovery);
  BOOST_CHECK(recovery.log.problems.empty());
  BOOST_CHECK_EQUAL(recovery.event_records, 14u);
  BOOST_CHECK_EQUAL(recovery.ack_records, 2u);
  BOOST_CHECK_EQUAL(recovery.records, 16u);

  const std::vector<std::uint64_t> expect_a(to_a.begin() + 4, to_a.end());
  const std::vector<std::uint64_t> expect_b(to_b.begin() + 2, to_b.end());
  const auto got_a = undeliveredIndexes(recovery, "a");
  const auto got_b = undeliveredIndexes(recovery, "b");
  BOOST_CHECK_EQUAL_COLLECTIONS(got_a.begin(), got_a.end(), expect_a.begin(), expect_a.end());
  BOOST_CHECK_EQUAL_COLLECTIONS(got_b.begin(), got_b.end(), expect_b.begin(), expect_b.end());
  BOOST_CHECK_EQUAL(recovery.undeliveredCount("a"), expect_a.size());
  BOOST_CHECK_EQUAL(recovery.positions.at("a"), to_a[3]);
  BOOST_CHECK_EQUAL(recovery.positions.at("b"), to_b[1]);

  // Each event comes back whole.
  const auto& first_a = *recovery.undelivered.at("a").front();
  BOOST_CHECK_EQUAL(first_a.source, "src");
  BOOST_CHECK_EQUAL(first_a.source_instance, 7u);
  BOOST_CHECK_EQUAL(first_a.generation, 3u);
  BOOST_CHECK_EQUAL(static_cast<int>(first_a.event_type), 1);
  BOOST_CHECK_EQUAL(static_cast<int>(first_a.hops), 2);
  const auto expected_bytes = eventBytes(first_a.source_seq);
  BOOST_CHECK(first_a.event == expected_bytes);

  BOOST_CHECK_EQUAL(recovery.highest_source_seq.size(), 3u);
  BOOST_CHECK_EQUAL((recovery.highest_source_seq.at(SourceKey{"src", 7})), 12u);
  BOOST_CHECK_EQUAL((recovery.highest_source_seq.at(SourceKey{"src", 8})), 2u);
  BOOST_CHECK_EQUAL((recovery.highest_source_seq.at(SourceKey{"other", 1})), 40u);

  // The reopened journal carries on: the same pending work, indexes after the last one.
  BOOST_CHECK_EQUAL(journal.pendingCount("a"), expect_a.size());
  BOOST_CHECK_EQUAL(journal.position("b"), to_b[1]);
  BOOST_CHECK_EQUAL(append(journal, "src", 7, 13, {"a"}), 17u);
}

BOOST_AUTO_TEST_CASE(a_target_position_is_written_at_most_every_ack_interval_and_the_latest_survives) {
  TempDir tmp;
  const auto dir = tmp.path() / "journal";
  auto options = optionsFor(dir);
  options.ack_interval = 50ms;
  {
    JournalRecovery recovery;
    auto journal = Journal::open(options, recovery);
    for (std::uint64_t seq = 1; seq <= 5; ++seq) append(journal, "src", 1, seq, {"t"});
    const auto t0 = Clock::now();
    journal.targetAcked("t", 1, t0);  // the first is written at once
    BOOST_CHECK_EQUAL(journal.stats().acks_appended, 1u);
    journal.targetAcked("t", 2, t0 + 10ms);
    journal.targetAcked("t", 3, t0 + 20ms);
    BOOST_CHECK_EQUAL(journal.stats().acks_appended, 1u);  // held in memory
    BOOST_CHECK(journal.sync(t0 + 30ms));
    BOOST_CHECK_EQUAL(journal.stats().acks_appended, 1u);  // not due yet
    BOOST_CHECK(journal.sync(t0 + 50ms));
    BOOST_CHECK_EQUAL(journal.stats().acks_appended, 2u);  // due: position 3 written
    journal.targetAcked("t", 4, t0 + 60ms);
    BOOST_CHECK_EQUAL(journal.stats().acks_appended, 2u);
    // The destructor writes what is left (a clean shutdown loses no position).
  }
  JournalRecovery recovery;
  auto journal = Journal::open(options, recovery);
  BOOST_CHECK_EQUAL(recovery.positions.at("t"), 4u);
  const auto got = undeliveredIndexes(recovery, "t");
  BOOST_REQUIRE_EQUAL(got.size(), 1u);
  BOOST_CHECK_EQUAL(got[0], 5u);
}

BOOST_AUTO_TEST_CASE(a_torn_tail_keeps_the_good_prefix_and_is_reported_with_file_and_offset) {
  TempDir tmp;
  const auto dir = tmp.path() / "journal";
  {
    JournalRecovery recovery;
    auto journal = Journal::open(optionsFor(dir), recovery);
    for (std::uint64_t seq = 1; seq <= 6; ++seq) append(journal, "src", 1, seq, {"t"});
  }
  // A crash in the middle of writing event 6.
  const auto file = segmentFiles(dir).back();
  fs::resize_file(file, fs::file_size(file) - 5);

  JournalRecovery recovery;
  auto journal = Journal::open(optionsFor(dir), recovery);
  BOOST_REQUIRE_EQUAL(recovery.log.problems.size(), 1u);
  BOOST_TEST_MESSAGE(recovery.log.problems[0]);
  BOOST_CHECK(recovery.log.problems[0].find(file.string() + ": offset ") != std::string::npos);
  BOOST_CHECK(recovery.log.problems[0].find("torn") != std::string::npos);
  BOOST_CHECK_GT(recovery.log.truncated_bytes, 0u);
  const auto got = undeliveredIndexes(recovery, "t");
  const std::vector<std::uint64_t> expect{1, 2, 3, 4, 5};
  BOOST_CHECK_EQUAL_COLLECTIONS(got.begin(), got.end(), expect.begin(), expect.end());
  BOOST_CHECK_EQUAL((recovery.highest_source_seq.at(SourceKey{"src", 1})), 5u);
  BOOST_CHECK_EQUAL(journal.stats().problems_at_open, 1u);
  // The source's resend of seq 6 is journaled again under the next index.
  BOOST_CHECK_EQUAL(append(journal, "src", 1, 6, {"t"}), 6u);
}

BOOST_AUTO_TEST_CASE(a_flipped_byte_ends_the_good_prefix_with_a_crc_mismatch_at_its_offset) {
  TempDir tmp;
  const auto dir = tmp.path() / "journal";
  std::uint64_t size_after_two = 0;
  {
    JournalRecovery recovery;
    auto journal = Journal::open(optionsFor(dir), recovery);
    append(journal, "src", 1, 1, {"t"});
    append(journal, "src", 1, 2, {"t"});
    journal.sync();
    size_after_two = fs::file_size(segmentFiles(dir).back());
    for (std::uint64_t seq = 3; seq <= 5; ++seq) append(journal, "src", 1, seq, {"t"});
  }
  const auto file = segmentFiles(dir).back();
  {
    // A byte inside record 3's payload (past its 8-byte length and crc header).
    std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
    const auto at = static_cast<std::streamoff>(size_after_two + 20);
    f.seekg(at);
    const char c = static_cast<char>(f.get());
    f.seekp(at);
    f.put(static_cast<char>(c ^ 0x40));
  }
  JournalRecovery recovery;
  auto journal = Journal::open(optionsFor(dir), recovery);
  BOOST_REQUIRE_EQUAL(recovery.log.problems.size(), 1u);
  BOOST_CHECK(recovery.log.problems[0].find(file.string() + ": offset " + std::to_string(size_after_two) +
                                            ": crc mismatch") != std::string::npos);
  const auto got = undeliveredIndexes(recovery, "t");
  const std::vector<std::uint64_t> expect{1, 2};
  BOOST_CHECK_EQUAL_COLLECTIONS(got.begin(), got.end(), expect.begin(), expect.end());
}

BOOST_AUTO_TEST_CASE(retention_deletes_segments_once_every_target_acked_past_them) {
  TempDir tmp;
  const auto dir = tmp.path() / "journal";
  JournalRecovery recovery;
  auto journal = Journal::open(optionsFor(dir, 512), recovery);
  std::uint64_t last = 0;
  for (std::uint64_t seq = 1; seq <= 60; ++seq) last = append(journal, "src", 1, seq, {"a", "b"});
  const auto segments = journal.stats().segments;
  BOOST_REQUIRE_GT(segments, 4u);
  BOOST_REQUIRE_EQUAL(segmentFiles(dir).size(), segments);

  auto now = Clock::now();
  journal.targetAcked("a", last, now);
  BOOST_CHECK(journal.sync(now));
  // b has acked nothing: all kept (a's position record may have begun one more).
  BOOST_CHECK_GE(journal.stats().segments, segments);
  BOOST_CHECK_EQUAL(journal.stats().segments_deleted, 0u);
  BOOST_CHECK_EQUAL(journal.firstIndex(), 1u);

  journal.targetAcked("b", 30, now += 1s);
  BOOST_CHECK(journal.sync(now));
  const auto after_half = journal.stats().segments;
  BOOST_CHECK_LT(after_half, segments);
  BOOST_CHECK_LE(journal.firstIndex(), 31u);  // b's oldest pending event is kept
  BOOST_CHECK_EQUAL(segmentFiles(dir).size(), after_half);

  journal.targetAcked("b", last, now += 1s);
  BOOST_CHECK(journal.sync(now));
  BOOST_CHECK_EQUAL(journal.stats().segments, 1u);
  BOOST_CHECK_EQUAL(segmentFiles(dir).size(), 1u);
  // Position records may have begun a segment or two more than were counted above.
  BOOST_CHECK_GE(journal.stats().segments_deleted, segments - 1);
}

BOOST_AUTO_TEST_CASE(the_checkpoint_keeps_every_position_after_its_segment_is_deleted) {
  TempDir tmp;
  const auto dir = tmp.path() / "journal";
  const auto options = optionsFor(dir, 512);
  std::uint64_t quiet_acked = 0;
  std::uint64_t quiet_record = 0;
  std::uint64_t busy_last = 0;
  {
    JournalRecovery recovery;
    auto journal = Journal::open(options, recovery);
    auto now = Clock::now();
    quiet_acked = append(journal, "src", 1, 1, {"quiet", "busy"});
    journal.targetAcked("quiet", quiet_acked, now);
    quiet_record = journal.nextIndex() - 1;  // its position record, written at once
    BOOST_REQUIRE_GT(quiet_record, quiet_acked);
    // Only busy gets events from now on, across many segments, and acks them all.
    for (std::uint64_t seq = 2; seq <= 80; ++seq) busy_last = append(journal, "src", 1, seq, {"busy"});
    journal.targetAcked("busy", busy_last, now += 1s);
    BOOST_CHECK(journal.sync(now));
    BOOST_CHECK_GT(journal.stats().checkpoints, 2u);
    // The segment holding quiet's own position record is gone.
    BOOST_REQUIRE_GT(journal.firstIndex(), quiet_record);
    // One more event for each, not acked.
    append(journal, "src", 1, 81, {"quiet", "busy"});
  }
  JournalRecovery recovery;
  auto journal = Journal::open(options, recovery);
  BOOST_CHECK(recovery.log.problems.empty());
  BOOST_CHECK_EQUAL(recovery.positions.at("quiet"), quiet_acked);
  BOOST_CHECK_EQUAL(recovery.positions.at("busy"), busy_last);
  // The only event either is owed is the last one (nothing acked is replayed).
  BOOST_CHECK_EQUAL(recovery.undeliveredCount("quiet"), 1u);
  BOOST_CHECK_EQUAL(recovery.undeliveredCount("busy"), 1u);
  BOOST_CHECK_EQUAL(recovery.undelivered.at("quiet").front()->source_seq, 81u);
  BOOST_CHECK_EQUAL(recovery.undelivered.at("busy").front()->source_seq, 81u);
  BOOST_CHECK_EQUAL(journal.position("quiet"), quiet_acked);
}

BOOST_AUTO_TEST_CASE(keep_all_keeps_every_segment_whatever_the_acks) {
  TempDir tmp;
  const auto dir = tmp.path() / "journal";
  auto options = optionsFor(dir, 512);
  options.keep_all = true;
  JournalRecovery recovery;
  auto journal = Journal::open(options, recovery);
  std::uint64_t last = 0;
  for (std::uint64_t seq = 1; seq <= 40; ++seq) last = append(journal, "src", 1, seq, {"a"});
  const auto segments = journal.stats().segments;
  BOOST_REQUIRE_GT(segments, 2u);
  journal.targetAcked("a", last);
  BOOST_CHECK(journal.sync());
  BOOST_CHECK_GE(journal.stats().segments, segments);  // the position record may begin one more
  BOOST_CHECK_EQUAL(journal.stats().segments_deleted, 0u);
  BOOST_CHECK_EQUAL(journal.firstIndex(), 1u);
  BOOST_CHECK_EQUAL(segmentFiles(dir).size(), journal.stats().segments);
}

BOOST_AUTO_TEST_CASE(the_reader_reports_a_torn_tail_and_changes_nothing) {
  TempDir tmp;
  const auto dir = tmp.path() / "journal";
  {
    JournalRecovery recovery;
    auto journal = Journal::open(optionsFor(dir), recovery);
    for (std::uint64_t seq = 1; seq <= 4; ++seq) append(journal, "src", 1, seq, {"t"});
    journal.targetAcked("t", 2);
  }
  const auto file = segmentFiles(dir).back();
  fs::resize_file(file, fs::file_size(file) - 3);
  const auto size = fs::file_size(file);

  RecoveryReport report;
  std::vector<std::string> seen;
  forEachRecord(dir, 0, [&](std::uint64_t index, evr::schema::JournalRecord::Reader record) {
    seen.push_back(std::to_string(index) + (record.isEvent() ? ":event" : ":acked"));
    return true;
  }, report);
  const std::vector<std::string> expect{"1:event", "2:event", "3:event", "4:event"};  // the ack was torn
  BOOST_CHECK_EQUAL_COLLECTIONS(seen.begin(), seen.end(), expect.begin(), expect.end());
  BOOST_REQUIRE_EQUAL(report.problems.size(), 1u);
  BOOST_CHECK(report.problems[0].find(file.string() + ": offset ") != std::string::npos);
  BOOST_CHECK_EQUAL(fs::file_size(file), size);  // not cut

  // From an index, and stopping early.
  seen.clear();
  RecoveryReport again;
  forEachRecord(dir, 2, [&](std::uint64_t index, evr::schema::JournalRecord::Reader) {
    seen.push_back(std::to_string(index));
    return seen.size() < 2;
  }, again);
  const std::vector<std::string> expect_from{"2", "3"};
  BOOST_CHECK_EQUAL_COLLECTIONS(seen.begin(), seen.end(), expect_from.begin(), expect_from.end());

  // A missing directory is an error, and the reader does not create it.
  RecoveryReport missing;
  BOOST_CHECK_THROW(forEachRecord(tmp.path() / "none", 0, [](auto, auto) { return true; }, missing), JournalError);
  BOOST_CHECK(!fs::exists(tmp.path() / "none"));
}

BOOST_AUTO_TEST_CASE(a_directory_that_cannot_be_used_is_a_journal_error) {
  TempDir tmp;
  JournalRecovery recovery;
  const auto missing_parent = tmp.path() / "no" / "such" / "journal";
  BOOST_CHECK_EXCEPTION(Journal::open(optionsFor(missing_parent), recovery), JournalError, [&](const JournalError& e) {
    return std::string(e.what()).find(missing_parent.string()) != std::string::npos;
  });
  const fs::path a_file = tmp.write("plain-file", "x");
  BOOST_CHECK_EXCEPTION(Journal::open(optionsFor(a_file), recovery), JournalError, [](const JournalError& e) {
    return std::string(e.what()).find("not a directory") != std::string::npos;
  });
  // Permission bits do not stop root: only checked when not running as root.
  if (::geteuid() != 0) {
    const auto read_only = tmp.path() / "read-only";
    fs::create_directory(read_only);
    fs::permissions(read_only, fs::perms::owner_read | fs::perms::owner_exec);
    BOOST_CHECK_EXCEPTION(Journal::open(optionsFor(read_only), recovery), JournalError, [](const JournalError& e) {
      return std::string(e.what()).find("not writable") != std::string::npos;
    });
    fs::permissions(read_only, fs::perms::owner_all);
  }
}

BOOST_AUTO_TEST_SUITE_END()
