// evr::keepFreedHeap (evr/heap.hpp): after a burst of allocations is freed, the memory stays in the
// process for the next burst instead of going back to the kernel.
#include <boost/test/unit_test.hpp>
#include <malloc.h>

#include <cstdlib>
#include <cstring>
#include <string_view>
#include <vector>

#include "evr/batch.hpp"
#include "evr/heap.hpp"

namespace {

// True when the operator's GLIBC_TUNABLES names this malloc setting (keepFreedHeap leaves it).
bool tunedOutside(std::string_view name) {
  const char* tunables = std::getenv("GLIBC_TUNABLES");
  return tunables != nullptr && std::string_view(tunables).find(name) != std::string_view::npos;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(heap)

BOOST_AUTO_TEST_CASE(a_freed_burst_stays_mapped_for_the_next_one) {
  if (tunedOutside("trim_threshold")) {
    BOOST_TEST_MESSAGE("GLIBC_TUNABLES sets trim_threshold: keepFreedHeap leaves it alone");
    BOOST_TEST(!evr::keepFreedHeap());
    return;
  }
  evr::keepFreedHeap();  // false when another test of this process called it first: set either way
#ifdef EVR_SANITIZE
  // A sanitizer's allocator stands in for glibc's malloc: there is no glibc heap top to measure.
  // What holds there: the call is harmless and a burst is still allocated and freed.
  BOOST_TEST_MESSAGE("built with EVR_SANITIZE=" EVR_SANITIZE ": glibc's heap is not in use, keepcost not measured");
  void* block = std::malloc(4096);
  BOOST_TEST(block != nullptr);
  std::free(block);
  return;
#endif
  // A burst like a queue's: 16 MiB in 4 KiB blocks (each far below the mmap threshold, so they
  // come from this thread's heap), touched, then freed newest first so the top chunk grows.
  constexpr std::size_t kBlocks = 4096, kBlock = 4096;
  std::vector<void*> blocks;
  blocks.reserve(kBlocks);
  for (std::size_t i = 0; i < kBlocks; ++i) {
    blocks.push_back(std::malloc(kBlock));
    BOOST_REQUIRE(blocks.back() != nullptr);
    std::memset(blocks.back(), 1, kBlock);
  }
  for (auto it = blocks.rbegin(); it != blocks.rend(); ++it) std::free(*it);
  // keepcost: the free top of the heap, what malloc_trim could give back. glibc's default trims it
  // to well under 1 MiB as soon as it passes 128 KiB.
  const auto info = ::mallinfo2();
  BOOST_TEST(info.keepcost >= kBlocks * kBlock / 2, "free top of the heap: " << info.keepcost << " bytes");
}

BOOST_AUTO_TEST_CASE(a_batch_sized_block_comes_from_the_heap_not_from_mmap) {
  evr::keepFreedHeap();  // false when another test of this process called it first: set either way
  // A few received batches of up to kBatchTargetBytes: above glibc's starting mmap threshold of
  // 128 KiB, which setting the trim threshold alone would have frozen there. The threshold only
  // matters when the heap's free top cannot hold the block, so that is given back first.
  const std::size_t size = 4 * evr::kBatchTargetBytes;
  BOOST_TEST_REQUIRE(size > std::size_t{128 * 1024});
  BOOST_TEST_REQUIRE(size < evr::kHeapBlockBytes);
  ::malloc_trim(0);
  const auto before = ::mallinfo2();
  void* block = std::malloc(size);
  BOOST_TEST_REQUIRE(block != nullptr);
  std::memset(block, 1, size);
  const auto during = ::mallinfo2();
  std::free(block);
  if (tunedOutside("trim_threshold") || tunedOutside("mmap_threshold")) {
    BOOST_TEST_MESSAGE("GLIBC_TUNABLES sets a malloc threshold: keepFreedHeap leaves it alone");
    return;
  }
#ifdef EVR_SANITIZE
  BOOST_TEST_MESSAGE("built with EVR_SANITIZE=" EVR_SANITIZE
                     ": glibc's heap is not in use, mmapped blocks not counted");
  return;
#endif
  BOOST_TEST(during.hblks == before.hblks,
             "mmapped blocks: " << before.hblks << " -> " << during.hblks);
}

BOOST_AUTO_TEST_SUITE_END()
