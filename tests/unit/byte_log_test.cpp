// evr::detail::ByteLog, the resend buffer's bytes: what goes in comes back unchanged wherever it
// landed, chunks leave from the front only, and a log used as a FIFO reuses its chunks.
#include <boost/test/unit_test.hpp>

#include <cstddef>
#include <deque>
#include <vector>

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

}  // namespace

BOOST_AUTO_TEST_SUITE(byte_log)

BOOST_AUTO_TEST_CASE(appends_read_back_across_chunks_and_a_large_one_gets_its_own) {
  ByteLog log;
  std::vector<std::vector<std::byte>> wrote;
  std::vector<ByteLog::Ref> refs;
  // 200-byte records fill several chunks; one record larger than a chunk sits in the middle.
  for (unsigned i = 0; i < 1000; ++i) {
    const std::size_t size = i == 500 ? ByteLog::kChunkBytes * 2 + 8 : 200;
    wrote.push_back(pattern(size, i));
    refs.push_back(log.append(wrote.back()));
  }
  for (std::size_t i = 0; i < refs.size(); ++i) BOOST_TEST(same(log.at(refs[i]), wrote[i]), "record " << i);
  BOOST_TEST(refs.front().chunk < refs[499].chunk);
  BOOST_TEST(refs[500].chunk == refs[499].chunk + 1);
  BOOST_TEST(refs[500].offset == 0u);
  BOOST_TEST(refs[501].chunk == refs[500].chunk + 1);
  // An empty append is a valid empty span.
  BOOST_TEST(log.at(log.append({})).empty());
}

BOOST_AUTO_TEST_CASE(releasing_frees_whole_chunks_before_the_oldest_needed_and_keeps_the_rest) {
  ByteLog log;
  std::vector<ByteLog::Ref> refs;
  std::vector<std::vector<std::byte>> wrote;
  for (unsigned i = 0; i < 2000; ++i) {
    wrote.push_back(pattern(256, i));
    refs.push_back(log.append(wrote.back()));
  }
  const std::size_t before = log.chunkBytes();
  log.releaseBefore(refs[1500].chunk);
  BOOST_TEST(log.chunkBytes() < before);
  BOOST_TEST(log.spareChunks() > 0u);
  for (std::size_t i = 1500; i < refs.size(); ++i) BOOST_TEST(same(log.at(refs[i]), wrote[i]), "record " << i);
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
  for (unsigned round = 0; round < 50; ++round) {
    for (unsigned i = 0; i < 3000; ++i, ++next) live.emplace_back(log.append(pattern(180, next)), next);
    while (live.size() > 500) live.pop_front();
    log.releaseBefore(live.front().first.chunk);
    const std::size_t footprint = log.chunkBytes() + log.spareChunks() * ByteLog::kChunkBytes;
    if (round == 5) footprint_after_warmup = footprint;
    if (round > 5) BOOST_TEST(footprint == footprint_after_warmup, "round " << round);
  }
  for (const auto& [ref, seed] : live) BOOST_TEST(same(log.at(ref), pattern(180, seed)));
}

BOOST_AUTO_TEST_SUITE_END()
