// The journal's segment log (daemon/journal/segment_log): records come back in order with their
// indexes across reopen and segment rolls; a torn or corrupt tail is cut and reported with its
// file and offset while the good prefix is kept; retention deletes whole segments only; a
// directory that cannot be used is a clear error.
#include <boost/test/unit_test.hpp>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "journal/segment_log.hpp"
#include "temp_dir.hpp"

using namespace evr::journal;
using evr::test::TempDir;
namespace fs = std::filesystem;

namespace {

std::vector<std::byte> bytesOf(const std::string& text) {
  std::vector<std::byte> out(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) out[i] = static_cast<std::byte>(text[i]);
  return out;
}

std::string textOf(std::span<const std::byte> bytes) {
  return std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

// Record i's payload: its number, repeated to a length that varies (0..40 bytes).
std::string payload(int i) {
  std::string text;
  for (int k = 0; k < i % 11; ++k) text += std::to_string(i) + ",";
  return text;
}

std::vector<std::pair<std::uint64_t, std::string>> readBack(const SegmentLog& log) {
  std::vector<std::pair<std::uint64_t, std::string>> out;
  log.forEach([&](std::uint64_t index, std::span<const std::byte> bytes) { out.emplace_back(index, textOf(bytes)); });
  return out;
}

SegmentLog openLog(const fs::path& dir, RecoveryReport& report, std::uint64_t segment_bytes = 64ull << 20) {
  SegmentLogOptions options;
  options.dir = dir;
  options.segment_bytes = segment_bytes;
  return SegmentLog::open(options, report);
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

BOOST_AUTO_TEST_SUITE(segment_log)

BOOST_AUTO_TEST_CASE(checksum_is_crc32_ieee) {
  // The standard check value of CRC-32 (zlib's, IEEE 802.3) over "123456789".
  BOOST_CHECK_EQUAL(recordChecksum(bytesOf("123456789")), 0xCBF43926u);
}

BOOST_AUTO_TEST_CASE(records_come_back_in_order_with_their_indexes_after_reopen) {
  TempDir tmp;
  const auto dir = tmp.path() / "journal";
  {
    RecoveryReport report;
    auto log = openLog(dir, report);
    BOOST_CHECK_EQUAL(report.records, 0u);
    for (int i = 1; i <= 100; ++i) BOOST_REQUIRE_EQUAL(log.append(bytesOf(payload(i))), static_cast<std::uint64_t>(i));
    BOOST_CHECK(log.sync());
  }
  RecoveryReport report;
  auto log = openLog(dir, report);
  BOOST_CHECK_EQUAL(report.records, 100u);
  BOOST_CHECK(report.problems.empty());
  BOOST_CHECK_EQUAL(log.nextIndex(), 101u);
  const auto records = readBack(log);
  BOOST_REQUIRE_EQUAL(records.size(), 100u);
  for (int i = 1; i <= 100; ++i) {
    BOOST_CHECK_EQUAL(records[i - 1].first, static_cast<std::uint64_t>(i));
    BOOST_CHECK_EQUAL(records[i - 1].second, payload(i));
  }
  BOOST_CHECK_EQUAL(log.append(bytesOf("next")), 101u);
}

BOOST_AUTO_TEST_CASE(segments_roll_at_their_size_and_indexes_continue_across_them) {
  TempDir tmp;
  const auto dir = tmp.path() / "journal";
  {
    RecoveryReport report;
    auto log = openLog(dir, report, 256);
    for (int i = 1; i <= 60; ++i) BOOST_REQUIRE_EQUAL(log.append(bytesOf(payload(i))), static_cast<std::uint64_t>(i));
    BOOST_CHECK_GT(log.segmentCount(), 3u);
  }
  RecoveryReport report;
  auto log = openLog(dir, report, 256);
  BOOST_CHECK_EQUAL(report.records, 60u);
  BOOST_CHECK_EQUAL(report.segments, segmentFiles(dir).size());
  const auto records = readBack(log);
  BOOST_REQUIRE_EQUAL(records.size(), 60u);
  for (int i = 1; i <= 60; ++i) BOOST_CHECK_EQUAL(records[i - 1].second, payload(i));
  // Each file is named by its first record's index.
  BOOST_CHECK_EQUAL(segmentFiles(dir).front().filename().string(), "00000000000000000001.seg");
}

BOOST_AUTO_TEST_CASE(a_torn_tail_is_cut_reported_with_file_and_offset_and_the_good_prefix_kept) {
  TempDir tmp;
  const auto dir = tmp.path() / "journal";
  {
    RecoveryReport report;
    auto log = openLog(dir, report);
    for (int i = 1; i <= 10; ++i) log.append(bytesOf("record " + std::to_string(i)));
  }
  // A crash in the middle of writing record 10: its last 3 bytes never reached the file.
  const auto file = segmentFiles(dir).back();
  const auto size = fs::file_size(file);
  fs::resize_file(file, size - 3);

  RecoveryReport report;
  auto log = openLog(dir, report);
  BOOST_CHECK_EQUAL(report.records, 9u);
  BOOST_REQUIRE_EQUAL(report.problems.size(), 1u);
  BOOST_TEST_MESSAGE(report.problems[0]);
  BOOST_CHECK(report.problems[0].find(file.string()) != std::string::npos);
  BOOST_CHECK(report.problems[0].find("offset ") != std::string::npos);
  BOOST_CHECK(report.problems[0].find("torn") != std::string::npos);
  BOOST_CHECK_GT(report.truncated_bytes, 0u);
  // Appending goes on right after the good prefix, with the next index.
  BOOST_CHECK_EQUAL(log.append(bytesOf("record 10 again")), 10u);
  RecoveryReport again;
  auto reopened = openLog(dir, again);
  BOOST_CHECK(again.problems.empty());
  const auto records = readBack(reopened);
  BOOST_REQUIRE_EQUAL(records.size(), 10u);
  BOOST_CHECK_EQUAL(records[8].second, "record 9");
  BOOST_CHECK_EQUAL(records[9].second, "record 10 again");
}

BOOST_AUTO_TEST_CASE(a_corrupt_record_ends_the_good_prefix_with_a_crc_mismatch) {
  TempDir tmp;
  const auto dir = tmp.path() / "journal";
  {
    RecoveryReport report;
    auto log = openLog(dir, report);
    for (int i = 1; i <= 8; ++i) log.append(bytesOf("record-" + std::to_string(i)));
  }
  const auto file = segmentFiles(dir).back();
  // Records are 8 + 8 bytes ("record-N" padded to 8) after the 16-byte header: flip a byte of #5.
  const std::streamoff fifth = 16 + 4 * 16 + 8 + 2;
  {
    std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(fifth);
    f.put('X');
  }
  RecoveryReport report;
  auto log = openLog(dir, report);
  BOOST_CHECK_EQUAL(report.records, 4u);
  BOOST_REQUIRE_EQUAL(report.problems.size(), 1u);
  BOOST_CHECK(report.problems[0].find("offset 80: crc mismatch") != std::string::npos);
  BOOST_CHECK_EQUAL(readBack(log).size(), 4u);
}

BOOST_AUTO_TEST_CASE(a_segment_with_a_bad_header_is_set_aside_not_read) {
  TempDir tmp;
  const auto dir = tmp.path() / "journal";
  fs::create_directory(dir);
  std::ofstream(dir / "00000000000000000001.seg") << "not a journal segment at all";
  RecoveryReport report;
  auto log = openLog(dir, report);
  BOOST_CHECK_EQUAL(report.records, 0u);
  BOOST_REQUIRE_EQUAL(report.problems.size(), 1u);
  BOOST_CHECK(report.problems[0].find("bad segment header") != std::string::npos);
  BOOST_CHECK(fs::exists(dir / "00000000000000000001.seg.corrupt"));
  BOOST_CHECK_EQUAL(log.append(bytesOf("fresh")), 1u);
}

BOOST_AUTO_TEST_CASE(retention_deletes_whole_segments_below_an_index_never_the_open_one) {
  TempDir tmp;
  const auto dir = tmp.path() / "journal";
  RecoveryReport report;
  auto log = openLog(dir, report, 128);
  for (int i = 1; i <= 40; ++i) log.append(bytesOf("r" + std::to_string(i)));
  const auto before = log.segmentCount();
  BOOST_REQUIRE_GT(before, 2u);
  log.dropBefore(20);
  BOOST_CHECK_LT(log.segmentCount(), before);
  BOOST_CHECK_LE(log.firstIndex(), 20u);  // record 20 and later are all still there
  const auto records = readBack(log);
  BOOST_REQUIRE(!records.empty());
  BOOST_CHECK_EQUAL(records.back().first, 40u);
  BOOST_CHECK_EQUAL(records.front().first, log.firstIndex());
  log.dropBefore(1000);
  BOOST_CHECK_EQUAL(log.segmentCount(), 1u);
}

BOOST_AUTO_TEST_CASE(a_record_over_the_limit_is_refused_with_a_reason) {
  TempDir tmp;
  SegmentLogOptions options;
  options.dir = tmp.path() / "journal";
  options.max_record_bytes = 16;
  RecoveryReport report;
  auto log = SegmentLog::open(options, report);
  BOOST_CHECK_EQUAL(log.append(bytesOf(std::string(17, 'x'))), 0u);
  BOOST_CHECK(log.lastError().find("over the journal's limit") != std::string::npos);
  BOOST_CHECK_EQUAL(log.append(bytesOf(std::string(16, 'x'))), 1u);
}

BOOST_AUTO_TEST_CASE(every_fsync_policy_keeps_what_was_appended) {
  for (const auto policy : {FsyncPolicy::Batch, FsyncPolicy::Interval, FsyncPolicy::None}) {
    TempDir tmp;
    SegmentLogOptions options;
    options.dir = tmp.path() / "journal";
    options.fsync = policy;
    {
      RecoveryReport report;
      auto log = SegmentLog::open(options, report);
      for (int i = 1; i <= 5; ++i) {
        log.append(bytesOf(payload(i)));
        BOOST_CHECK(log.sync());
      }
    }
    RecoveryReport report;
    auto log = SegmentLog::open(options, report);
    BOOST_CHECK_EQUAL(report.records, 5u);
  }
}

BOOST_AUTO_TEST_CASE(a_directory_that_cannot_be_used_is_a_clear_error) {
  TempDir tmp;
  RecoveryReport report;
  SegmentLogOptions missing_parent;
  missing_parent.dir = tmp.path() / "no" / "such" / "journal";
  BOOST_CHECK_EXCEPTION(SegmentLog::open(missing_parent, report), JournalError, [&](const JournalError& e) {
    return std::string(e.what()).find(missing_parent.dir.string() + ": cannot create it") != std::string::npos;
  });
  SegmentLogOptions a_file;
  a_file.dir = tmp.write("plain-file", "x");
  BOOST_CHECK_EXCEPTION(SegmentLog::open(a_file, report), JournalError, [](const JournalError& e) {
    return std::string(e.what()).find("not a directory") != std::string::npos;
  });
}

BOOST_AUTO_TEST_CASE(a_read_only_open_reports_problems_but_changes_nothing_and_refuses_appends) {
  TempDir tmp;
  const auto dir = tmp.path() / "journal";
  {
    RecoveryReport report;
    auto log = openLog(dir, report);
    for (int i = 1; i <= 5; ++i) log.append(bytesOf("record " + std::to_string(i)));
  }
  std::ofstream(dir / "00000000000000000099.seg") << "garbage";
  const auto file = dir / "00000000000000000001.seg";
  fs::resize_file(file, fs::file_size(file) - 2);
  const auto size = fs::file_size(file);

  SegmentLogOptions options;
  options.dir = dir;
  options.read_only = true;
  RecoveryReport report;
  auto log = SegmentLog::open(options, report);
  BOOST_CHECK_EQUAL(report.records, 4u);
  BOOST_REQUIRE_EQUAL(report.problems.size(), 2u);
  BOOST_CHECK_EQUAL(readBack(log).size(), 4u);
  BOOST_CHECK_EQUAL(log.append(bytesOf("no")), 0u);
  BOOST_CHECK(log.lastError().find("read-only") != std::string::npos);
  BOOST_CHECK_EQUAL(log.dropBefore(1000), 0u);
  // Nothing was cut, renamed or deleted.
  BOOST_CHECK_EQUAL(fs::file_size(file), size);
  BOOST_CHECK(fs::exists(dir / "00000000000000000099.seg"));
  BOOST_CHECK(!fs::exists(dir / "00000000000000000099.seg.corrupt"));

  options.dir = tmp.path() / "missing";
  BOOST_CHECK_THROW(SegmentLog::open(options, report), JournalError);
  BOOST_CHECK(!fs::exists(options.dir));
}

BOOST_AUTO_TEST_CASE(a_record_in_parts_reads_back_as_one_payload) {
  TempDir tmp;
  RecoveryReport report;
  auto log = openLog(tmp.path() / "journal", report);
  const auto head = bytesOf("head-");
  const auto empty = bytesOf("");
  const auto tail = bytesOf("and tail");
  const std::span<const std::byte> parts[] = {head, empty, tail};
  BOOST_CHECK_EQUAL(log.append(std::span<const std::span<const std::byte>>(parts)), 1u);
  const auto records = readBack(log);
  BOOST_REQUIRE_EQUAL(records.size(), 1u);
  BOOST_CHECK_EQUAL(records[0].second, "head-and tail");
}

BOOST_AUTO_TEST_CASE(a_forbidden_roll_stays_in_the_open_segment_and_the_next_allowed_one_rolls) {
  TempDir tmp;
  RecoveryReport report;
  auto log = openLog(tmp.path() / "journal", report, 64);
  BOOST_CHECK(log.nextAppendStartsSegment());  // nothing open yet
  log.append(bytesOf(std::string(60, 'a')));
  BOOST_CHECK(log.nextAppendStartsSegment());
  log.append(bytesOf("b"), SegmentRoll::Forbidden);
  log.append(bytesOf("c"), SegmentRoll::Forbidden);
  BOOST_CHECK_EQUAL(log.segmentCount(), 1u);
  BOOST_CHECK_EQUAL(log.append(bytesOf("d")), 4u);
  BOOST_CHECK_EQUAL(log.segmentCount(), 2u);
  BOOST_CHECK_EQUAL(log.segmentsBefore(4), 1u);
  BOOST_CHECK_EQUAL(log.segmentsBefore(3), 0u);
  // forEachFrom skips whole segments before `from` and stops when told.
  std::vector<std::uint64_t> seen;
  log.forEachFrom(3, [&](std::uint64_t index, std::span<const std::byte>) {
    seen.push_back(index);
    return true;
  });
  const std::vector<std::uint64_t> expect{3, 4};
  BOOST_CHECK_EQUAL_COLLECTIONS(seen.begin(), seen.end(), expect.begin(), expect.end());
}

BOOST_AUTO_TEST_SUITE_END()
