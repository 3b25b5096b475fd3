// EVENTS bodies (protocol/batch.hpp): records written, checked and read back; malformed layouts
// are named, never read past the end.
#include <boost/test/unit_test.hpp>

#include <malloc.h>

#include <cstring>
#include <ostream>
#include <random>
#include <vector>

#include "evr/batch.hpp"
#include "evr/frames.hpp"

namespace {

// A stand-in event of `words` words whose bytes all equal `fill` (the codec never reads events).
std::vector<std::byte> eventOf(std::size_t words, std::uint8_t fill) {
  return std::vector<std::byte>(words * 8, std::byte{fill});
}

std::vector<std::byte> copyOf(const zmq::message_t& message) {
  const auto bytes = evr::bytesOf(message);
  return {bytes.begin(), bytes.end()};
}

}  // namespace

namespace evr {
std::ostream& operator<<(std::ostream& out, BatchError error) { return out << batchErrorName(error); }
}  // namespace evr

BOOST_AUTO_TEST_SUITE(batch)

BOOST_AUTO_TEST_CASE(records_round_trip_in_order_with_type_and_hops) {
  evr::BatchWriter writer;
  std::vector<std::vector<std::byte>> events;
  for (std::uint8_t i = 1; i <= 5; ++i) {
    events.push_back(eventOf(i, i));
    writer.append(events.back(), i, static_cast<std::uint8_t>(10 + i));
  }
  BOOST_TEST(writer.count() == 5u);
  BOOST_TEST(writer.bytes() == 5 * evr::kBatchRecordHeader + (1 + 2 + 3 + 4 + 5) * 8u);
  const zmq::message_t body = writer.take();
  BOOST_TEST(writer.empty());
  BOOST_TEST(writer.bytes() == 0u);
  BOOST_TEST(evr::checkBatch(evr::bytesOf(body), 5) == evr::BatchError::None);

  evr::BatchReader reader(evr::bytesOf(body));
  evr::BatchRecord record;
  std::size_t i = 0;
  while (reader.next(record)) {
    BOOST_REQUIRE(i < events.size());
    BOOST_TEST(record.event_type == i + 1);
    BOOST_TEST(record.hops == 11 + i);
    BOOST_TEST(std::equal(record.event.begin(), record.event.end(), events[i].begin(), events[i].end()));
    // Every event starts 8-aligned relative to the body, so an aligned body is read in place.
    BOOST_TEST((record.event.data() - evr::bytesOf(body).data()) % 8 == 0);
    ++i;
  }
  BOOST_TEST(i == events.size());
}

BOOST_AUTO_TEST_CASE(a_writer_is_reusable_after_take) {
  evr::BatchWriter writer;
  writer.append(eventOf(2, 7), 3, 0);
  (void)writer.take();
  writer.append(eventOf(1, 9), 4, 1);
  const auto body = writer.take();
  BOOST_TEST(evr::checkBatch(evr::bytesOf(body), 1) == evr::BatchError::None);
  BOOST_TEST(body.size() == evr::kBatchRecordHeader + 8);
}

BOOST_AUTO_TEST_CASE(a_batch_of_a_few_events_keeps_no_room_for_a_whole_one) {
  // The second record makes room for a whole batch (kBatchTargetBytes); a message of two small
  // records keeps only about what it holds.
  evr::BatchWriter writer;
  writer.append(eventOf(2, 1), 1, 0);
  writer.append(eventOf(2, 2), 1, 0);
  const auto body = writer.take();
  BOOST_TEST(evr::checkBatch(evr::bytesOf(body), 2) == evr::BatchError::None);
  const std::size_t kept = ::malloc_usable_size(const_cast<void*>(body.data()));
  BOOST_TEST(kept < evr::kBatchTargetBytes / 2,
             "bytes kept for a body of " << body.size() << ": " << kept);
}

BOOST_AUTO_TEST_CASE(full_closes_a_batch_at_the_byte_limit_but_never_refuses_a_first_event) {
  evr::BatchWriter writer;
  BOOST_TEST(!writer.full(1 << 20, 1024));  // a lone event over the limit still goes, alone
  writer.append(eventOf(100, 1), 1, 0);     // 808 bytes with its header
  BOOST_TEST(!writer.full(200, 1024));      // 808 + 208 = 1016 fits
  BOOST_TEST(writer.full(216, 1024));       // 808 + 224 does not
}

BOOST_AUTO_TEST_CASE(malformed_layouts_are_named) {
  evr::BatchWriter writer;
  writer.append(eventOf(2, 1), 1, 0);
  writer.append(eventOf(1, 2), 2, 0);
  const auto good = copyOf(writer.take());
  const auto check = [](const std::vector<std::byte>& body, std::size_t count) {
    return evr::checkBatch(body, count);
  };
  BOOST_TEST(check(good, 2) == evr::BatchError::None);
  BOOST_TEST(check(good, 1) == evr::BatchError::CountMismatch);
  BOOST_TEST(check(good, 3) == evr::BatchError::CountMismatch);
  BOOST_TEST(check({}, 1) == evr::BatchError::CountMismatch);
  // Cut inside the second record's event, and inside its header.
  BOOST_TEST(check({good.begin(), good.end() - 1}, 2) == evr::BatchError::Truncated);
  BOOST_TEST(check({good.begin(), good.begin() + 24 + 4}, 2) == evr::BatchError::Truncated);
  auto odd = good;
  odd[0] = std::byte{12};  // not a multiple of 8
  BOOST_TEST(check(odd, 2) == evr::BatchError::BadRecordSize);
  auto zero = good;
  zero[0] = std::byte{0};
  BOOST_TEST(check(zero, 2) == evr::BatchError::BadRecordSize);
  auto huge = good;
  huge[3] = std::byte{0x7f};  // runs far past the end
  BOOST_TEST(check(huge, 2) == evr::BatchError::Truncated);
  for (auto error : {evr::BatchError::Truncated, evr::BatchError::BadRecordSize, evr::BatchError::CountMismatch}) {
    BOOST_TEST(!evr::batchErrorName(error).empty());
  }
}

BOOST_AUTO_TEST_CASE(random_bytes_are_rejected_or_read_within_bounds) {
  // Whatever checkBatch accepts, the reader walks without leaving the body (ASan watches).
  std::mt19937 random(7);
  for (int round = 0; round < 20000; ++round) {
    std::vector<std::byte> body(random() % 64);
    for (auto& b : body) b = static_cast<std::byte>(random() % 4 == 0 ? random() % 256 : (random() % 3) * 8);
    const std::size_t count = random() % 4;
    if (evr::checkBatch(body, count) != evr::BatchError::None) continue;
    evr::BatchReader reader(body);
    evr::BatchRecord record;
    std::size_t seen = 0;
    while (reader.next(record)) {
      BOOST_REQUIRE(record.event.data() >= body.data());
      BOOST_REQUIRE(record.event.data() + record.event.size() <= body.data() + body.size());
      ++seen;
    }
    BOOST_REQUIRE_EQUAL(seen, count);
  }
}

BOOST_AUTO_TEST_SUITE_END()
