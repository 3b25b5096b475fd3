#include "evr/heap.hpp"

#include <malloc.h>

#include <atomic>
#include <cstdlib>
#include <string_view>

namespace evr {

namespace {

// True when the operator's GLIBC_TUNABLES names this malloc setting: theirs stands.
bool tunedOutside(std::string_view name) {
  const char* tunables = std::getenv("GLIBC_TUNABLES");
  return tunables != nullptr && std::string_view(tunables).find(name) != std::string_view::npos;
}

}  // namespace

bool keepFreedHeap() {
  static std::atomic<bool> done{false};
  if (done.exchange(true)) return false;
  if (tunedOutside("trim_threshold")) return false;
  // Setting the trim threshold also freezes glibc's mmap threshold at its starting 128 KiB (it no
  // longer rises to the largest block freed): set it too, or every batch over 128 KiB would be
  // mapped for its message and unmapped after it, its pages faulted in each time.
  bool set = ::mallopt(M_TRIM_THRESHOLD, static_cast<int>(kKeptFreeHeapBytes)) == 1;
  if (!tunedOutside("mmap_threshold")) {
    set = ::mallopt(M_MMAP_THRESHOLD, static_cast<int>(kHeapBlockBytes)) == 1 && set;
  }
  return set;
}

}  // namespace evr
