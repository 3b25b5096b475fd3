#include "evr/heap.hpp"

#include <malloc.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <string>
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

bool useOneArena() {
  if (tunedOutside("arena_max")) return false;
  return ::mallopt(M_ARENA_MAX, 1) == 1;
}

std::optional<bool> heapInHugePages() {
  // The kernel's mode: "always [madvise] never", the one in force in brackets.
  std::ifstream mode_file("/sys/kernel/mm/transparent_hugepage/enabled");
  std::string mode;
  if (!std::getline(mode_file, mode)) return false;  // a kernel without THP
  if (mode.find("[never]") != std::string::npos) return false;
  const bool always = mode.find("[always]") != std::string::npos;
  std::ifstream smaps("/proc/self/smaps");
  if (!smaps) return std::nullopt;
  // Each mapping: a first line "start-end perms offset dev inode [name]", then one "Field: value"
  // line per field. VmFlags has "hg" where madvise(MADV_HUGEPAGE) marked it ("nh": never). Not
  // THPeligible, which stays 0 while the heap is too small to hold an aligned 2 MiB.
  std::optional<bool> marked;
  bool in_heap = false;
  std::string line;
  while (std::getline(smaps, line)) {
    const std::string_view text(line);
    const std::string_view first = text.substr(0, text.find(' '));
    if (!first.ends_with(':')) {
      in_heap = text.ends_with("[heap]");
    } else if (in_heap && first == "VmFlags:") {
      const std::string flags = std::string(text.substr(first.size())) + " ";
      const bool yes = flags.find(" nh ") == std::string::npos && (always || flags.find(" hg ") != std::string::npos);
      marked = marked.value_or(false) || yes;
    }
  }
  return marked;
}

}  // namespace evr
