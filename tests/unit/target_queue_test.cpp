// target_queue: one target's events in FIFO order with its delivery policies applied as events
// are pushed (conflate in place, bounded drop_oldest / drop_newest, lossless never dropped), and
// the conflation index kept right as the front is popped and the storage compacted.

#include <boost/test/unit_test.hpp>

#include <capnp/message.h>
#include <capnp/serialize.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <deque>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "event.capnp.h"
#include "evr/batch.hpp"
#include "evr/framing.hpp"
#include "transport/target_queue.hpp"

using evr::DeliveryPolicy;
using evr::EventType;
using evr::transport::conflationKey;
using evr::transport::ConflationKey;
using evr::transport::QueuedEvent;
using evr::transport::TargetQueue;
using PushResult = evr::transport::TargetQueue::PushResult;

namespace {

constexpr auto kTick = static_cast<std::uint8_t>(EventType::TICK);
constexpr auto kBar = static_cast<std::uint8_t>(EventType::BAR);

// One schema::Event as the router carries it, told apart by `seq`; no symbol when `symbol` is
// null.
std::vector<std::byte> eventBytes(std::uint64_t seq, const char* symbol, EventType type = EventType::TICK) {
  capnp::MallocMessageBuilder message;
  auto root = message.initRoot<evr::schema::Event>();
  root.setType(type);
  root.setSource("feed");
  root.setSeq(seq);
  if (symbol != nullptr) root.setSymbol(symbol);
  const auto words = capnp::messageToFlatArray(message);
  const auto bytes = words.asBytes();
  std::vector<std::byte> out(bytes.size());
  std::memcpy(out.data(), bytes.begin(), bytes.size());
  return out;
}

QueuedEvent queued(std::span<const std::byte> bytes, std::uint8_t type = kTick) {
  return QueuedEvent{zmq::message_t(bytes.data(), bytes.size()), type, 0};
}

std::uint64_t seqOf(const QueuedEvent& event) {
  const evr::AlignedWords words(event.bytes());
  capnp::FlatArrayMessageReader message(words.words());
  return message.getRoot<evr::schema::Event>().getSeq();
}

std::vector<std::uint64_t> seqs(const TargetQueue& queue) {
  std::vector<std::uint64_t> out;
  for (const auto& event : queue) out.push_back(seqOf(event));
  return out;
}

using Seqs = std::vector<std::uint64_t>;

// Pushes event `seq` (symbol `symbol`, from `source`) under `policy` with its key.
PushResult push(TargetQueue& queue, std::uint64_t seq, DeliveryPolicy policy,
                std::uint32_t limit = 10, const char* symbol = "AAPL", std::uint32_t source = 1,
                std::uint8_t type = kTick) {
  const auto bytes = eventBytes(seq, symbol, static_cast<EventType>(type));
  const ConflationKey key = conflationKey(source, type, bytes);
  BOOST_TEST_REQUIRE(key.valid);
  return queue.push(queued(bytes, type), policy, limit, key);
}

// The same with a bytes bound (router.queue_bytes_limit).
PushResult pushBytes(TargetQueue& queue, std::uint64_t seq, DeliveryPolicy policy,
                     std::uint64_t bytes_limit, const char* symbol = "AAPL",
                     std::uint32_t limit = 1000) {
  const auto bytes = eventBytes(seq, symbol);
  const ConflationKey key = conflationKey(1, kTick, bytes);
  BOOST_TEST_REQUIRE(key.valid);
  return queue.push(queued(bytes), policy, limit, key, bytes_limit);
}

std::uint64_t bytesOfLive(const TargetQueue& queue) {
  std::uint64_t total = 0;
  for (const auto& event : queue) total += event.bytes().size();
  return total;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(target_queue)

BOOST_AUTO_TEST_CASE(lossless_events_leave_in_fifo_order) {
  TargetQueue queue;
  BOOST_TEST(queue.empty());
  for (std::uint64_t seq = 1; seq <= 100; ++seq) {
    BOOST_TEST((push(queue, seq, DeliveryPolicy::Lossless, 1) == PushResult::Appended));
  }
  BOOST_TEST(queue.size() == 100u);
  BOOST_TEST(queue.losslessSize() == 100u);
  BOOST_TEST(queue.lossySize() == 0u);
  Seqs expected;
  for (std::uint64_t seq = 1; seq <= 100; ++seq) expected.push_back(seq);
  BOOST_TEST(seqs(queue) == expected, boost::test_tools::per_element());
  queue.popFront(30);
  BOOST_TEST(queue.size() == 70u);
  BOOST_TEST(seqOf(queue.front()) == 31u);
  // Lossless is never dropped, whatever the limit passed.
  for (std::uint64_t seq = 101; seq <= 200; ++seq) push(queue, seq, DeliveryPolicy::Lossless, 1);
  BOOST_TEST(queue.size() == 170u);
  queue.popFront(170);
  BOOST_TEST(queue.empty());
  BOOST_TEST((queue.begin() == queue.end()));
  BOOST_TEST(queue.counters().conflated == 0u);
  BOOST_TEST(queue.counters().dropped_oldest == 0u);
  BOOST_TEST(queue.counters().dropped_newest == 0u);
}

BOOST_AUTO_TEST_CASE(conflation_replaces_the_queued_event_in_place) {
  TargetQueue queue;
  push(queue, 1, DeliveryPolicy::Conflate, 10, "AAPL");
  push(queue, 2, DeliveryPolicy::Conflate, 10, "MSFT");
  push(queue, 3, DeliveryPolicy::Lossless, 10, "AAPL");
  BOOST_TEST((push(queue, 4, DeliveryPolicy::Conflate, 10, "AAPL") == PushResult::Conflated));
  BOOST_TEST((push(queue, 5, DeliveryPolicy::Conflate, 10, "AAPL") == PushResult::Conflated));
  BOOST_TEST((push(queue, 6, DeliveryPolicy::Conflate, 10, "MSFT") == PushResult::Conflated));
  // The newest bytes at the place of first arrival; the lossless one untouched.
  BOOST_TEST(seqs(queue) == (Seqs{5, 6, 3}), boost::test_tools::per_element());
  BOOST_TEST(queue.counters().conflated == 3u);
  BOOST_TEST(queue.size() == 3u);
  BOOST_TEST(queue.count(DeliveryPolicy::Conflate) == 2u);
  BOOST_TEST(queue.lossySize() == 2u);
  BOOST_TEST(queue.indexSizeForTest() == 2u);
}

BOOST_AUTO_TEST_CASE(conflation_key_is_source_type_and_symbol) {
  TargetQueue queue;
  push(queue, 1, DeliveryPolicy::Conflate, 10, "AAPL", /*source=*/1, kTick);
  // Another source, another type, another symbol, a symbol that only shares a prefix: new keys.
  push(queue, 2, DeliveryPolicy::Conflate, 10, "AAPL", /*source=*/2, kTick);
  push(queue, 3, DeliveryPolicy::Conflate, 10, "AAPL", /*source=*/1, kBar);
  push(queue, 4, DeliveryPolicy::Conflate, 10, "AAP", /*source=*/1, kTick);
  push(queue, 5, DeliveryPolicy::Conflate, 10, "", /*source=*/1, kTick);
  BOOST_TEST(queue.counters().conflated == 0u);
  BOOST_TEST(queue.size() == 5u);
  // Events without a symbol conflate per (source, type); an empty symbol is no symbol.
  push(queue, 6, DeliveryPolicy::Conflate, 10, nullptr, /*source=*/1, kTick);
  BOOST_TEST(queue.counters().conflated == 1u);
  BOOST_TEST(seqs(queue) == (Seqs{1, 2, 3, 4, 6}), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(conflation_index_follows_pops) {
  TargetQueue queue;
  push(queue, 1, DeliveryPolicy::Conflate, 10, "X");
  push(queue, 2, DeliveryPolicy::Conflate, 10, "Y");
  queue.popFront(1);  // X was sent: a new X is a new event
  BOOST_TEST(queue.indexSizeForTest() == 1u);
  BOOST_TEST((push(queue, 3, DeliveryPolicy::Conflate, 10, "X") == PushResult::Appended));
  BOOST_TEST((push(queue, 4, DeliveryPolicy::Conflate, 10, "Y") == PushResult::Conflated));
  BOOST_TEST(seqs(queue) == (Seqs{4, 3}), boost::test_tools::per_element());
  queue.popFront(2);
  BOOST_TEST(queue.indexSizeForTest() == 0u);
  BOOST_TEST((push(queue, 5, DeliveryPolicy::Conflate, 10, "Y") == PushResult::Appended));
  BOOST_TEST(seqs(queue) == (Seqs{5}), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(drop_oldest_keeps_the_newest_up_to_the_limit) {
  TargetQueue queue;
  for (std::uint64_t seq = 1; seq <= 3; ++seq) {
    BOOST_TEST((push(queue, seq, DeliveryPolicy::DropOldest, 3) == PushResult::Appended));
  }
  BOOST_TEST((push(queue, 4, DeliveryPolicy::DropOldest, 3) == PushResult::DroppedOldest));
  BOOST_TEST((push(queue, 5, DeliveryPolicy::DropOldest, 3) == PushResult::DroppedOldest));
  BOOST_TEST(seqs(queue) == (Seqs{3, 4, 5}), boost::test_tools::per_element());
  BOOST_TEST(queue.count(DeliveryPolicy::DropOldest) == 3u);
  BOOST_TEST(queue.counters().dropped_oldest == 2u);
  // After a pop there is room again.
  queue.popFront(1);
  BOOST_TEST((push(queue, 6, DeliveryPolicy::DropOldest, 3) == PushResult::Appended));
  BOOST_TEST(seqs(queue) == (Seqs{4, 5, 6}), boost::test_tools::per_element());
  BOOST_TEST(queue.counters().dropped_oldest == 2u);
}

BOOST_AUTO_TEST_CASE(drop_oldest_removes_from_the_middle_and_iteration_skips_it) {
  TargetQueue queue;
  push(queue, 1, DeliveryPolicy::Lossless);
  push(queue, 2, DeliveryPolicy::DropOldest, 2);
  push(queue, 3, DeliveryPolicy::Lossless);
  push(queue, 4, DeliveryPolicy::DropOldest, 2);
  push(queue, 5, DeliveryPolicy::DropOldest, 2);  // removes 2
  push(queue, 6, DeliveryPolicy::DropOldest, 2);  // removes 4
  BOOST_TEST(seqs(queue) == (Seqs{1, 3, 5, 6}), boost::test_tools::per_element());
  BOOST_TEST(queue.size() == 4u);
  BOOST_TEST(queue.losslessSize() == 2u);
  BOOST_TEST(queue.slotsInUseForTest() == 6u);  // two tombstones
  // popFront counts live events only.
  queue.popFront(2);
  BOOST_TEST(seqs(queue) == (Seqs{5, 6}), boost::test_tools::per_element());
  BOOST_TEST(queue.slotsInUseForTest() == 2u);  // the tombstones left with the front
  BOOST_TEST(queue.counters().dropped_oldest == 2u);
}

BOOST_AUTO_TEST_CASE(a_smaller_limit_after_a_reload_trims_drop_oldest_on_the_next_push) {
  TargetQueue queue;
  for (std::uint64_t seq = 1; seq <= 5; ++seq) push(queue, seq, DeliveryPolicy::DropOldest, 10);
  push(queue, 6, DeliveryPolicy::DropOldest, 2);
  BOOST_TEST(seqs(queue) == (Seqs{5, 6}), boost::test_tools::per_element());
  BOOST_TEST(queue.counters().dropped_oldest == 4u);
}

BOOST_AUTO_TEST_CASE(drop_newest_refuses_at_the_limit) {
  TargetQueue queue;
  BOOST_TEST((push(queue, 1, DeliveryPolicy::DropNewest, 2) == PushResult::Appended));
  BOOST_TEST((push(queue, 2, DeliveryPolicy::DropNewest, 2) == PushResult::Appended));
  BOOST_TEST((push(queue, 3, DeliveryPolicy::DropNewest, 2) == PushResult::Refused));
  BOOST_TEST(seqs(queue) == (Seqs{1, 2}), boost::test_tools::per_element());
  BOOST_TEST(queue.counters().dropped_newest == 1u);
  queue.popFront(1);
  BOOST_TEST((push(queue, 4, DeliveryPolicy::DropNewest, 2) == PushResult::Appended));
  BOOST_TEST(seqs(queue) == (Seqs{2, 4}), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(each_lossy_policy_has_its_own_bound_and_lossless_none) {
  TargetQueue queue;
  for (std::uint64_t seq = 1; seq <= 4; ++seq) {
    push(queue, seq * 10 + 1, DeliveryPolicy::Lossless, 2);
    push(queue, seq * 10 + 2, DeliveryPolicy::DropOldest, 2);
    push(queue, seq * 10 + 3, DeliveryPolicy::DropNewest, 2);
    push(queue, seq * 10 + 4, DeliveryPolicy::Conflate, 2, "S");
  }
  BOOST_TEST(seqs(queue) == (Seqs{11, 13, 44, 21, 23, 31, 32, 41, 42}),
             boost::test_tools::per_element());
  BOOST_TEST(queue.losslessSize() == 4u);
  BOOST_TEST(queue.count(DeliveryPolicy::DropOldest) == 2u);
  BOOST_TEST(queue.count(DeliveryPolicy::DropNewest) == 2u);
  BOOST_TEST(queue.count(DeliveryPolicy::Conflate) == 1u);
  BOOST_TEST(queue.lossySize() == 5u);
  BOOST_TEST(queue.size() == 9u);
  BOOST_TEST(queue.counters().conflated == 3u);
  BOOST_TEST(queue.counters().dropped_oldest == 2u);
  BOOST_TEST(queue.counters().dropped_newest == 2u);
  // Iteration tells the policy of each event.
  std::vector<DeliveryPolicy> policies;
  for (auto it = queue.begin(); it != queue.end(); ++it) policies.push_back(it.policy());
  BOOST_TEST((policies[0] == DeliveryPolicy::Lossless));
  BOOST_TEST((policies[1] == DeliveryPolicy::DropNewest));
  BOOST_TEST((policies[2] == DeliveryPolicy::Conflate));
  BOOST_TEST((policies[6] == DeliveryPolicy::DropOldest));
}

BOOST_AUTO_TEST_CASE(a_malformed_event_under_conflate_is_queued_plainly) {
  std::vector<std::byte> garbage(40, std::byte{0xff});
  const ConflationKey key = conflationKey(1, kTick, garbage);
  BOOST_TEST(!key.valid);
  const std::vector<std::byte> short_frame(5, std::byte{0});
  BOOST_TEST(!conflationKey(1, kTick, short_frame).valid);
  BOOST_TEST(!conflationKey(1, kTick, {}).valid);
  // A frame that passes the segment table check but whose root pointer is garbage.
  std::vector<std::byte> bad_root(24, std::byte{0});
  bad_root[4] = std::byte{2};  // one segment of two words
  bad_root[8] = std::byte{0xfd};
  bad_root[15] = std::byte{0x7f};
  BOOST_TEST(!conflationKey(1, kTick, bad_root).valid);

  TargetQueue queue;
  BOOST_TEST((queue.push(queued(garbage), DeliveryPolicy::Conflate, 10, key) == PushResult::Appended));
  BOOST_TEST((queue.push(queued(garbage), DeliveryPolicy::Conflate, 10, key) == PushResult::Appended));
  BOOST_TEST((queue.push(queued(bad_root), DeliveryPolicy::Conflate, 10) == PushResult::Appended));
  BOOST_TEST(queue.size() == 3u);
  BOOST_TEST(queue.count(DeliveryPolicy::Conflate) == 3u);
  BOOST_TEST(queue.counters().conflated == 0u);
  BOOST_TEST(queue.indexSizeForTest() == 0u);
  queue.popFront(3);
  BOOST_TEST(queue.empty());
}

BOOST_AUTO_TEST_CASE(tombstones_behind_a_stuck_front_are_compacted) {
  TargetQueue queue;
  push(queue, 1, DeliveryPolicy::Lossless);
  push(queue, 2, DeliveryPolicy::Conflate, 4, "X");
  for (std::uint64_t seq = 3; seq < 10003; ++seq) push(queue, seq, DeliveryPolicy::DropOldest, 4);
  BOOST_TEST(queue.size() == 6u);
  BOOST_TEST(queue.slotsInUseForTest() < 200u);  // not 10002
  BOOST_TEST(queue.counters().dropped_oldest == 9996u);
  BOOST_TEST(seqs(queue) == (Seqs{1, 2, 9999, 10000, 10001, 10002}), boost::test_tools::per_element());
  // The index and the drop_oldest order survived the compactions.
  BOOST_TEST((push(queue, 20000, DeliveryPolicy::Conflate, 4, "X") == PushResult::Conflated));
  push(queue, 20001, DeliveryPolicy::DropOldest, 4);
  BOOST_TEST(seqs(queue) == (Seqs{1, 20000, 10000, 10001, 10002, 20001}),
             boost::test_tools::per_element());
  queue.popFront(6);
  BOOST_TEST(queue.empty());
  BOOST_TEST(queue.slotsInUseForTest() == 0u);
}

BOOST_AUTO_TEST_CASE(clear_empties_the_queue_and_keeps_the_counters) {
  TargetQueue queue;
  push(queue, 1, DeliveryPolicy::Conflate, 1, "X");
  push(queue, 2, DeliveryPolicy::Conflate, 1, "X");
  push(queue, 3, DeliveryPolicy::DropOldest, 1);
  push(queue, 4, DeliveryPolicy::DropOldest, 1);
  queue.clear();
  BOOST_TEST(queue.empty());
  BOOST_TEST(queue.lossySize() == 0u);
  BOOST_TEST(queue.indexSizeForTest() == 0u);
  BOOST_TEST(queue.counters().conflated == 1u);
  BOOST_TEST(queue.counters().dropped_oldest == 1u);
  BOOST_TEST((push(queue, 5, DeliveryPolicy::Conflate, 1, "X") == PushResult::Appended));
  BOOST_TEST((push(queue, 6, DeliveryPolicy::DropOldest, 1) == PushResult::Appended));
  BOOST_TEST(seqs(queue) == (Seqs{5, 6}), boost::test_tools::per_element());
}

// The queue against a plain model (a list searched linearly) over random pushes and pops: order,
// conflation, bounds, counters. Long runs without pops make tombstones and compactions.
BOOST_AUTO_TEST_CASE(random_operations_match_a_simple_model) {
  struct Item {
    std::uint64_t seq;
    DeliveryPolicy policy;
    int key;  // -1: not conflatable
  };
  std::mt19937 random(12);
  TargetQueue queue;
  std::deque<Item> model;
  std::uint64_t conflated = 0, dropped_oldest = 0, dropped_newest = 0;
  const char* symbols[] = {"A", "B", "C", "D", "E", "F", "G"};
  constexpr std::uint32_t kLimit = 5;
  std::uint64_t seq = 0;
  for (int step = 0; step < 20000; ++step) {
    const bool pause = (step / 2000) % 2 == 1;  // every other 2000 steps: pushes only
    if (!pause && random() % 3 == 0 && !model.empty()) {
      const std::size_t n = 1 + random() % std::min<std::size_t>(model.size(), 4);
      queue.popFront(n);
      model.erase(model.begin(), model.begin() + static_cast<std::ptrdiff_t>(n));
    } else {
      const auto policy = static_cast<DeliveryPolicy>(random() % 4);
      const int symbol = static_cast<int>(random() % 7);
      const std::uint32_t source = random() % 2;
      const int key = symbol * 2 + static_cast<int>(source);
      ++seq;
      push(queue, seq, policy, kLimit, symbols[symbol], source);
      const auto count = [&](DeliveryPolicy p) {
        return static_cast<std::uint32_t>(
            std::count_if(model.begin(), model.end(), [&](const Item& i) { return i.policy == p; }));
      };
      if (policy == DeliveryPolicy::Conflate) {
        const auto same = std::find_if(model.begin(), model.end(), [&](const Item& i) {
          return i.policy == DeliveryPolicy::Conflate && i.key == key;
        });
        if (same != model.end()) {
          same->seq = seq;
          ++conflated;
        } else {
          model.push_back(Item{seq, policy, key});
        }
      } else if (policy == DeliveryPolicy::DropOldest) {
        if (count(policy) >= kLimit) {
          model.erase(std::find_if(model.begin(), model.end(),
                                   [](const Item& i) { return i.policy == DeliveryPolicy::DropOldest; }));
          ++dropped_oldest;
        }
        model.push_back(Item{seq, policy, -1});
      } else if (policy == DeliveryPolicy::DropNewest) {
        if (count(policy) >= kLimit) {
          ++dropped_newest;
        } else {
          model.push_back(Item{seq, policy, -1});
        }
      } else {
        model.push_back(Item{seq, policy, -1});
      }
    }
    if (step % 97 == 0 || step == 19999) {
      Seqs expected;
      for (const auto& item : model) expected.push_back(item.seq);
      BOOST_TEST_REQUIRE(seqs(queue) == expected, "at step " << step);
      BOOST_TEST_REQUIRE(queue.size() == model.size());
    }
  }
  BOOST_TEST(queue.counters().conflated == conflated);
  BOOST_TEST(queue.counters().dropped_oldest == dropped_oldest);
  BOOST_TEST(queue.counters().dropped_newest == dropped_newest);
  BOOST_TEST(conflated > 100u);
  BOOST_TEST(dropped_oldest > 100u);
  BOOST_TEST(dropped_newest > 100u);
}

// ---- bytes (router.queue_bytes_limit) -----------------------------------------------------------

BOOST_AUTO_TEST_CASE(bytes_are_counted_per_policy_through_pushes_pops_and_drops) {
  TargetQueue queue;
  const std::uint64_t size = eventBytes(1, "AAPL").size();
  push(queue, 1, DeliveryPolicy::Lossless);
  push(queue, 2, DeliveryPolicy::DropOldest, 2);
  push(queue, 3, DeliveryPolicy::Conflate, 10, "AAPL");
  push(queue, 4, DeliveryPolicy::Conflate, 10, "AAPL");  // replaces 3: same bytes
  push(queue, 5, DeliveryPolicy::DropOldest, 2);
  push(queue, 6, DeliveryPolicy::DropOldest, 2);          // removes 2
  BOOST_TEST(queue.losslessBytes() == size);
  BOOST_TEST(queue.bytes(DeliveryPolicy::DropOldest) == 2 * size);
  BOOST_TEST(queue.bytes(DeliveryPolicy::Conflate) == size);
  BOOST_TEST(queue.bytes() == bytesOfLive(queue));
  // A conflated replacement of another size changes the count by the difference.
  push(queue, 7, DeliveryPolicy::Conflate, 10, "AAPL");
  BOOST_TEST(queue.bytes() == bytesOfLive(queue));
  queue.popFront(2);
  BOOST_TEST(queue.bytes() == bytesOfLive(queue));
  BOOST_TEST(queue.losslessBytes() == 0u);
  queue.clear();
  BOOST_TEST(queue.bytes() == 0u);
}

BOOST_AUTO_TEST_CASE(drop_oldest_sheds_at_the_bytes_bound_whichever_bound_is_hit_first) {
  TargetQueue queue;
  const std::uint64_t size = eventBytes(1, "AAPL").size();
  // Room for three events by bytes, a thousand by count: bytes decide.
  const std::uint64_t limit = 3 * size;
  for (std::uint64_t seq = 1; seq <= 3; ++seq) {
    BOOST_TEST((pushBytes(queue, seq, DeliveryPolicy::DropOldest, limit) == PushResult::Appended));
  }
  BOOST_TEST((pushBytes(queue, 4, DeliveryPolicy::DropOldest, limit) == PushResult::DroppedOldest));
  BOOST_TEST(seqs(queue) == (Seqs{2, 3, 4}), boost::test_tools::per_element());
  BOOST_TEST(queue.bytes(DeliveryPolicy::DropOldest) == limit);
  BOOST_TEST(queue.counters().dropped_oldest == 1u);
  // A count bound of 2 below the bytes bound: the count decides.
  BOOST_TEST((pushBytes(queue, 5, DeliveryPolicy::DropOldest, limit, "AAPL", 2) ==
              PushResult::DroppedOldest));
  BOOST_TEST(seqs(queue) == (Seqs{4, 5}), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(drop_newest_and_a_new_conflation_key_are_refused_at_the_bytes_bound) {
  TargetQueue queue;
  const std::uint64_t size = eventBytes(1, "AAPL").size();
  const std::uint64_t limit = 2 * size;
  BOOST_TEST((pushBytes(queue, 1, DeliveryPolicy::DropNewest, limit) == PushResult::Appended));
  BOOST_TEST((pushBytes(queue, 2, DeliveryPolicy::DropNewest, limit) == PushResult::Appended));
  BOOST_TEST((pushBytes(queue, 3, DeliveryPolicy::DropNewest, limit) == PushResult::Refused));
  BOOST_TEST(queue.counters().dropped_newest == 1u);

  BOOST_TEST((pushBytes(queue, 4, DeliveryPolicy::Conflate, limit, "AAPL") == PushResult::Appended));
  BOOST_TEST((pushBytes(queue, 5, DeliveryPolicy::Conflate, limit, "MSFT") == PushResult::Appended));
  // A third key is refused; a queued key's newer event still replaces it.
  BOOST_TEST((pushBytes(queue, 6, DeliveryPolicy::Conflate, limit, "GOOG") == PushResult::Refused));
  BOOST_TEST((pushBytes(queue, 7, DeliveryPolicy::Conflate, limit, "AAPL") == PushResult::Conflated));
  BOOST_TEST(queue.counters().refused_bytes == 1u);
  BOOST_TEST(seqs(queue) == (Seqs{1, 2, 7, 5}), boost::test_tools::per_element());
  // Lossless events are never refused by the queue: the loop bounds them.
  for (std::uint64_t seq = 8; seq <= 12; ++seq) {
    BOOST_TEST((pushBytes(queue, seq, DeliveryPolicy::Lossless, limit) == PushResult::Appended));
  }
  BOOST_TEST(queue.losslessBytes() == 5 * size);
}

// QueuedEvent::of: a record of a batch message is kept as a share of that message's buffer (no
// copy), stays readable after the message it came from is gone, and counts its own bytes only; a
// message small enough to keep its bytes inline is not shared (they would move with it): copied.
BOOST_AUTO_TEST_CASE(an_event_of_a_shared_batch_is_kept_without_a_copy) {
  const auto first = eventBytes(7, "AAPL");
  const auto second = eventBytes(8, "MSFT");
  std::vector<std::byte> joined(first);
  joined.insert(joined.end(), second.begin(), second.end());
  TargetQueue queue;
  {
    zmq::message_t batch(joined.data(), joined.size());
    const auto* base = static_cast<const std::byte*>(batch.data());
    const std::span<const std::byte> records[] = {{base, first.size()}, {base + first.size(), second.size()}};
    for (const auto record : records) {
      auto event = QueuedEvent::of(record, kTick, 1, 0, &batch);
      BOOST_TEST((event.bytes().data() == record.data()));  // the batch's own bytes: shared
      BOOST_TEST(event.bytes().size() == record.size());
      queue.push(std::move(event), DeliveryPolicy::Lossless, 1);
    }
  }  // the batch message is closed; its buffer lives on in the queue's events
  BOOST_TEST(seqs(queue) == (Seqs{7, 8}));
  BOOST_TEST(queue.losslessBytes() == first.size() + second.size());
  BOOST_TEST(bytesOfLive(queue) == first.size() + second.size());

  std::array<std::byte, 16> small{};
  zmq::message_t inline_message(small.data(), small.size());
  const std::span<const std::byte> part(static_cast<const std::byte*>(inline_message.data()) + 8, 8);
  const auto copied = QueuedEvent::of(part, kTick, 0, 0, &inline_message);
  BOOST_TEST((copied.bytes().data() != part.data()));
  BOOST_TEST(copied.bytes().size() == 8u);
  const auto plain = QueuedEvent::of(first, kTick, 0, 0);
  BOOST_TEST((plain.bytes().data() != first.data()));
  BOOST_TEST(seqOf(plain) == 7u);
}

// QueuedEvent::batch: a whole EVENTS message is one entry that counts as its records (size,
// lossless counts, bytes) between single events, keeps the message's buffer without a copy, and
// leaves whole: popFront of the events before it, then of its records.
BOOST_AUTO_TEST_CASE(a_batch_entry_counts_as_its_records_and_leaves_whole) {
  evr::BatchWriter writer;
  const auto first = eventBytes(2, "AAPL");
  const auto second = eventBytes(3, "MSFT");
  writer.append(first, kTick, 1);
  writer.append(second, kTick, 1);
  zmq::message_t batch = writer.take();
  const auto* buffer = batch.data();
  const std::size_t batch_bytes = batch.size();
  TargetQueue queue;
  const auto before = eventBytes(1, "AAPL");
  const auto after = eventBytes(4, "AAPL");
  BOOST_TEST((push(queue, 1, DeliveryPolicy::Lossless) == PushResult::Appended));
  BOOST_TEST((queue.push(QueuedEvent::batch(batch, 2, 9), DeliveryPolicy::Lossless, 1) == PushResult::Appended));
  BOOST_TEST((push(queue, 4, DeliveryPolicy::DropNewest) == PushResult::Appended));
  BOOST_TEST(queue.size() == 4u);
  BOOST_TEST(queue.losslessSize() == 3u);
  BOOST_TEST(queue.lossySize() == 1u);
  BOOST_TEST(queue.losslessBytes() == before.size() + batch_bytes);
  BOOST_TEST(queue.bytes() == before.size() + batch_bytes + after.size());

  std::vector<std::uint32_t> records;
  for (const auto& entry : queue) records.push_back(entry.records);
  BOOST_TEST(records == (std::vector<std::uint32_t>{1, 2, 1}));
  queue.popFront(1);
  BOOST_TEST(queue.front().records == 2u);
  BOOST_TEST(queue.front().journal_index == 9u);
  BOOST_TEST((queue.front().bytes().data() == static_cast<const std::byte*>(buffer)));  // not copied
  zmq::message_t shared = queue.shareFront();
  BOOST_TEST((shared.data() == buffer));
  queue.popFront(2);
  BOOST_TEST(queue.size() == 1u);
  BOOST_TEST(queue.losslessSize() == 0u);
  BOOST_TEST(queue.losslessBytes() == 0u);
  BOOST_TEST(seqs(queue) == (Seqs{4}));
}

BOOST_AUTO_TEST_SUITE_END()
