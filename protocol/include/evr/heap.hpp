// evr::keepFreedHeap: how evrouterd and the client library ask glibc to keep freed memory.
//
// Events move in bursts: a queue grows by thousands of events and drains, batches of up to 32 KiB
// are made and freed per message, and libzmq's I/O thread allocates each received batch that the
// application thread later frees. glibc gives the free top of a heap back to the kernel as soon as
// it passes 128 KiB (M_TRIM_THRESHOLD), so each burst took memory back and faulted it in again:
// in the pipeline benchmark that was a third of a consumer's time and of evrouterd's loop
// (docs/performance.md, "The heap is kept"). keepFreedHeap() raises the threshold to
// kKeptFreeHeapBytes for the whole process. The peak a process reaches is unchanged; what changes
// is that up to that much of it stays mapped after a burst, for the next one.
//
// It leaves the setting alone when GLIBC_TUNABLES names trim_threshold (the operator's choice).

#pragma once

#include <cstddef>

namespace evr {

inline constexpr std::size_t kKeptFreeHeapBytes = 64 * 1024 * 1024;

// Once per process; true when this call set it (false: already set, or GLIBC_TUNABLES decides).
bool keepFreedHeap();

}  // namespace evr
