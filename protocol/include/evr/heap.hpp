// evr/heap.hpp: how evrouterd and the client library set up glibc's malloc. keepFreedHeap: keep
// freed memory; useOneArena and heapInHugePages (evrouterd): its heap in huge pages.
//
// Events move in bursts: a queue grows by thousands of events and drains, batches of up to
// kBatchTargetBytes are made and freed per message, and libzmq's I/O thread allocates each
// received batch that the application thread later frees. glibc gives the free top of a heap back
// to the kernel as soon as it passes 128 KiB (M_TRIM_THRESHOLD), so each burst took memory back
// and faulted it in again: in the pipeline benchmark that was a third of a consumer's time and of
// evrouterd's loop (docs/performance.md, "The heap is kept"). keepFreedHeap() raises the
// threshold to kKeptFreeHeapBytes for the whole process, and glibc's mmap threshold to
// kHeapBlockBytes (setting the first fixes the second at 128 KiB, below a batch;
// docs/performance.md, "Batches of 128 KiB, from the heap"). The peak a process reaches is
// unchanged; what changes is that up to that much of it stays mapped after a burst, for the next.
//
// It leaves both alone when GLIBC_TUNABLES names trim_threshold, and the second when it names
// mmap_threshold (the operator's choice).

#pragma once

#include <cstddef>
#include <optional>

namespace evr {

inline constexpr std::size_t kKeptFreeHeapBytes = 64 * 1024 * 1024;
// Blocks below this come from the heap (and are kept), above it from mmap: a batch, or an event of
// up to router.max_message_size's default of 1 MiB, is below it.
inline constexpr std::size_t kHeapBlockBytes = 4 * 1024 * 1024;

// Once per process; true when this call set them (false: already set, or GLIBC_TUNABLES decides).
bool keepFreedHeap();

// For a relay (evrouterd; the benchmark's bare and ZeroMQ relays, to compare like with like): one
// malloc arena for every thread (M_ARENA_MAX 1), called before the first thread starts. Without
// it libzmq's I/O thread, which allocates every received batch, gets an arena of its own; with it
// those batches come from the main heap, which glibc puts in transparent huge pages when run with
// GLIBC_TUNABLES=glibc.malloc.hugetlb=1 (as the shipped unit and image run evrouterd). Together
// they took a fifth off evrouterd's CPU per event; either alone did nothing measurable
// (docs/performance.md, "The heap in huge pages"). Leaves it alone when GLIBC_TUNABLES names
// arena_max. True when this call set it.
bool useOneArena();

// Whether the main heap is to be backed by transparent huge pages as it grows: the [heap]
// mapping's flags in /proc/self/smaps (marked MADV_HUGEPAGE, as glibc.malloc.hugetlb=1 does) and
// the kernel's THP mode (madvise: the mark counts; always: unless marked never; never: no).
// nullopt when it cannot tell (no [heap] yet, no /proc).
std::optional<bool> heapInHugePages();

}  // namespace evr
