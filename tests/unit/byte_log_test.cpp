// evr::detail::ByteLog, the resend buffer's bytes: what goes in comes back unchanged wherever it
// landed, chunks leave from the front only, a log used as a FIFO reuses its chunks, and a run of
// records shared with ZeroMQ stays as it was while a message holds it.
#include <boost/test/unit_test.hpp>

#include <cstddef>
#include <cstdint>
#include <deque>
#include <fstream>
#include <sstream>
#include <string>
#include <memory>
#include <optional>
#include <vector>
#include <zmq.hpp>

#include "evr/byte_log.hpp"

namespace {

using evr::detail::ByteLog;

std::vector<std::byte> pattern(std::size_t size, unsigned seed) {
  std::vector<std::byte> bytes(size);
  for (std::size_t i = 0; i < size; ++i) bytes[i] = static_cast<std::byte>((i * 31 + seed) & 0xff);
  return bytes;
}

bool same(std::span<const std::byte> a, const std::vector<std::byte>& b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin());
}

// The /proc/self/smaps entry of the mapping that holds `address`: its header line and fields.
std::string smapsEntryOf(const void* address) {
  std::ifstream smaps("/proc/self/smaps");
  std::string line, entry;
  bool inside = false;
  const auto at = reinterpret_cast<std::uintptr_t>(address);
  while (std::getline(smaps, line)) {
    std::uintptr_t start = 0, end = 0;
    char dash = 0;
    std::istringstream header(line);
    // A header line is "start-end perms ...", hex; a field line starts with a name and a colon.
    if (line.find(':') > line.find(' ') && header >> std::hex >> start >> dash >> end && dash == '-') {
      if (inside) break;
      inside = start <= at && at < end;
    }
    if (inside) entry += line + "\n";
  }
  return entry;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(byte_log)

// A chunk is a mapping of its own, 2 MiB-aligned and marked for transparent huge pages, so the
// kernel may fault it in as one page: smaps says the mapping is eligible wherever THP is not off.
BOOST_AUTO_TEST_CASE(a_chunk_is_an_aligned_mapping_eligible_for_a_huge_page) {
  ByteLog log;
  const auto first = log.append(pattern(200, 1));
  const std::byte* data = log.at(first).data();
  BOOST_TEST(first.offset == 0u);
  BOOST_TEST(reinterpret_cast<std::uintptr_t>(data) % ByteLog::kChunkBytes == 0u);
  const std::string entry = smapsEntryOf(data);
  BOOST_TEST_REQUIRE(!entry.empty(), "no mapping in /proc/self/smaps holds the chunk");
  BOOST_TEST_MESSAGE("the chunk's mapping:\n" << entry);
  std::ifstream thp("/sys/kernel/mm/transparent_hugepage/enabled");
  std::string mode;
  std::getline(thp, mode);
  if (!thp || mode.find("[never]") != std::string::npos) {
    BOOST_TEST_MESSAGE("transparent huge pages are off here: eligibility not checked (" << mode << ")");
    return;
  }
  const auto field = entry.find("THPeligible:");
  BOOST_TEST_REQUIRE(field != std::string::npos, entry);
  std::istringstream value(entry.substr(field + std::string("THPeligible:").size()));
  int eligible = -1;
  value >> eligible;
  BOOST_TEST(eligible == 1, entry);
}

BOOST_AUTO_TEST_CASE(appends_read_back_across_chunks_and_a_large_one_gets_its_own) {
  ByteLog log;
  std::vector<std::vector<std::byte>> wrote;
  std::vector<ByteLog::Ref> refs;
  // 200-byte records fill several chunks; one record larger than a chunk sits in the middle.
  const std::size_t records = 4 * ByteLog::kChunkBytes / 200;
  const std::size_t large = records / 2;
  for (std::size_t i = 0; i < records; ++i) {
    const std::size_t size = i == large ? ByteLog::kChunkBytes * 2 + 8 : 200;
    wrote.push_back(pattern(size, static_cast<unsigned>(i)));
    refs.push_back(log.append(wrote.back()));
  }
  for (std::size_t i = 0; i < refs.size(); ++i) BOOST_TEST(same(log.at(refs[i]), wrote[i]), "record " << i);
  BOOST_TEST(refs.front().chunk < refs[large - 1].chunk);
  BOOST_TEST(refs[large].chunk == refs[large - 1].chunk + 1);
  BOOST_TEST(refs[large].offset == 0u);
  BOOST_TEST(refs[large + 1].chunk == refs[large].chunk + 1);
  // An empty append is a valid empty span.
  BOOST_TEST(log.at(log.append({})).empty());
}

BOOST_AUTO_TEST_CASE(releasing_frees_whole_chunks_before_the_oldest_needed_and_keeps_the_rest) {
  ByteLog log;
  std::vector<ByteLog::Ref> refs;
  std::vector<std::vector<std::byte>> wrote;
  // 256-byte records over about four chunks; release up to the one three quarters in.
  const unsigned records = static_cast<unsigned>(4 * ByteLog::kChunkBytes / 256);
  const unsigned kept_from = records / 4 * 3;
  for (unsigned i = 0; i < records; ++i) {
    wrote.push_back(pattern(256, i));
    refs.push_back(log.append(wrote.back()));
  }
  const std::size_t before = log.chunkBytes();
  log.releaseBefore(refs[kept_from].chunk);
  BOOST_TEST(log.chunkBytes() < before);
  BOOST_TEST(log.spareChunks() > 0u);
  for (std::size_t i = kept_from; i < refs.size(); ++i) BOOST_TEST(same(log.at(refs[i]), wrote[i]), "record " << i);
  log.clear();
  BOOST_TEST(log.chunkBytes() == 0u);
}

BOOST_AUTO_TEST_CASE(a_log_used_as_a_fifo_stops_growing) {
  // The resend buffer's pattern: append at the back, release up to the oldest unacked. After
  // the first rounds the chunks in use plus the spare ones stay the same: nothing new allocated.
  ByteLog log;
  std::deque<std::pair<ByteLog::Ref, unsigned>> live;
  std::size_t footprint_after_warmup = 0;
  unsigned next = 0;
  // Each round appends about two chunks' worth and keeps the last 500 records.
  const unsigned per_round = static_cast<unsigned>(2 * ByteLog::kChunkBytes / 180);
  for (unsigned round = 0; round < 30; ++round) {
    for (unsigned i = 0; i < per_round; ++i, ++next) live.emplace_back(log.append(pattern(180, next)), next);
    while (live.size() > 500) live.pop_front();
    log.releaseBefore(live.front().first.chunk);
    const std::size_t footprint = log.chunkBytes() + log.spareChunks() * ByteLog::kChunkBytes;
    if (round == 5) footprint_after_warmup = footprint;
    if (round > 5) BOOST_TEST(footprint == footprint_after_warmup, "round " << round);
  }
  for (const auto& [ref, seed] : live) BOOST_TEST(same(log.at(ref), pattern(180, seed)));
}

BOOST_AUTO_TEST_CASE(a_head_and_body_append_is_one_contiguous_record) {
  ByteLog log;
  const auto head = pattern(8, 1);
  const auto body = pattern(120, 2);
  const auto ref = log.append(head, body);
  std::vector<std::byte> both(head);
  both.insert(both.end(), body.begin(), body.end());
  BOOST_TEST(same(log.at(ref), both));
}

BOOST_AUTO_TEST_CASE(a_shared_run_is_the_records_back_to_back_without_a_copy) {
  ByteLog log;
  std::vector<ByteLog::Ref> refs;
  std::vector<std::byte> expected;
  for (unsigned i = 0; i < 10; ++i) {
    const auto bytes = pattern(64 + 8 * i, i);
    refs.push_back(log.append(bytes));
    expected.insert(expected.end(), bytes.begin(), bytes.end());
  }
  BOOST_REQUIRE(refs.front().chunk == refs.back().chunk);
  const zmq::message_t message = log.share(refs.front(), expected.size());
  BOOST_TEST(message.data() == static_cast<const void*>(log.at(refs.front()).data()));
  BOOST_TEST(same({static_cast<const std::byte*>(message.data()), message.size()}, expected));
}

BOOST_AUTO_TEST_CASE(a_chunk_a_message_holds_is_reused_only_once_it_is_let_go) {
  ByteLog log;
  const auto first = pattern(ByteLog::kChunkBytes / 2, 7);
  const auto ref = log.append(first);
  std::optional<zmq::message_t> held(log.share(ref, first.size()));
  const void* const held_at = held->data();
  // Fill the chunk and go on into the next, then release the first while the message holds it
  // (an ack that came before the peer freed the message).
  const auto next = log.append(pattern(ByteLog::kChunkBytes, 8));
  BOOST_REQUIRE(next.chunk == ref.chunk + 1);
  log.releaseBefore(next.chunk);
  // New chunks are fresh memory: the held bytes are as they were.
  std::vector<ByteLog::Ref> later;
  for (unsigned i = 0; i < 8; ++i) later.push_back(log.append(pattern(ByteLog::kChunkBytes / 4, 100 + i)));
  BOOST_TEST(same({static_cast<const std::byte*>(held->data()), held->size()}, first));
  for (const auto& r : later) BOOST_TEST(static_cast<const void*>(log.at(r).data()) != held_at);
  // Let go: the next chunk the log needs is that one again, nothing new allocated.
  held.reset();
  BOOST_REQUIRE(log.spareChunks() == 1u);
  const auto reused = log.append(pattern(ByteLog::kChunkBytes, 9));  // the last chunk is full
  BOOST_TEST(reused.chunk == later.back().chunk + 1);
  BOOST_TEST(static_cast<const void*>(log.at(reused).data()) == held_at);
  BOOST_TEST(log.spareChunks() == 0u);
}

BOOST_AUTO_TEST_CASE(a_message_may_outlive_the_log) {
  // libzmq may free a message after the connection, and its log, are gone.
  auto log = std::make_unique<ByteLog>();
  const auto bytes = pattern(512, 11);
  const auto ref = log->append(bytes);
  std::optional<zmq::message_t> held(log->share(ref, bytes.size()));
  (void)log->append(pattern(ByteLog::kChunkBytes, 12));
  log->releaseBefore(ref.chunk + 1);  // on the spare list, still held
  log.reset();
  BOOST_TEST(same({static_cast<const std::byte*>(held->data()), held->size()}, bytes));
  held.reset();  // the last owner frees the chunk (an ASan build checks it is freed once)
}

BOOST_AUTO_TEST_SUITE_END()
