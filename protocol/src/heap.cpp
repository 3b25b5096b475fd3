#include "evr/heap.hpp"

#include <malloc.h>

#include <atomic>
#include <cstdlib>
#include <string_view>

namespace evr {

bool keepFreedHeap() {
  static std::atomic<bool> done{false};
  if (done.exchange(true)) return false;
  if (const char* tunables = std::getenv("GLIBC_TUNABLES");
      tunables != nullptr && std::string_view(tunables).find("trim_threshold") != std::string_view::npos) {
    return false;
  }
  return ::mallopt(M_TRIM_THRESHOLD, static_cast<int>(kKeptFreeHeapBytes)) == 1;
}

}  // namespace evr
