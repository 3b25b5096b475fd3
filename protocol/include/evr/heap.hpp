// evr::keepFreedHeap: how evrouterd and the client library ask glibc to keep freed memory.
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

namespace evr {

inline constexpr std::size_t kKeptFreeHeapBytes = 64 * 1024 * 1024;
// Blocks below this come from the heap (and are kept), above it from mmap: a batch, or an event of
// up to router.max_message_size's default of 1 MiB, is below it.
inline constexpr std::size_t kHeapBlockBytes = 4 * 1024 * 1024;

// Once per process; true when this call set them (false: already set, or GLIBC_TUNABLES decides).
bool keepFreedHeap();

}  // namespace evr
