#pragma once

#include <execinfo.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <new>

// Counting allocations in a test executable of its own (it replaces the program's allocator):
// include once, in the file with main (or BOOST_TEST_MODULE), then count within a Counting scope.
//
// Every allocation on a counting thread: operator new, and malloc, calloc and realloc (Cap'n
// Proto's MallocMessageBuilder, a batch's buffer and libzmq's record of a message use those),
// replaced here with glibc's own behind them. A sanitizer build brings its own malloc; there only
// operator new is counted.
namespace {
thread_local bool t_counting = false;
std::atomic<std::size_t> g_allocations{0};
// EVR_ALLOC_TRACE=1: the call stacks of the counted allocations (the first kTraced), printed when
// counting ends, for whoever has to find what broke this. Recorded with backtrace(), not printed
// on the spot, so tracing barely changes the timing that decides how batches form.
constexpr std::size_t kTraced = 20000, kTraceDepth = 10;
void* g_trace[kTraced][kTraceDepth];
int g_trace_depth[kTraced];
std::atomic<std::size_t> g_traced{0};
thread_local bool t_tracing = false;
const bool g_trace_on = std::getenv("EVR_ALLOC_TRACE") != nullptr;

void count() {
  if (!t_counting) return;
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (g_trace_on && !t_tracing) {
    const std::size_t at = g_traced.fetch_add(1);
    if (at < kTraced) {
      t_tracing = true;
      g_trace_depth[at] = ::backtrace(g_trace[at], kTraceDepth);
      t_tracing = false;
    }
  }
}

void printTraces() {
  const std::size_t traced = std::min(g_traced.exchange(0), kTraced);
  for (std::size_t i = 0; i < traced; ++i) {
    ::backtrace_symbols_fd(g_trace[i], g_trace_depth[i], 2);
    ::write(2, "--\n", 3);
  }
}
}  // namespace

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define EVR_COUNT_MALLOC 0
namespace {
void* rawAlloc(std::size_t size) { return std::malloc(size); }
[[gnu::noinline]] void rawFree(void* p) noexcept { std::free(p); }
}  // namespace
#else
#define EVR_COUNT_MALLOC 1
extern "C" {
void* __libc_malloc(std::size_t size);
void* __libc_calloc(std::size_t count, std::size_t size);
void* __libc_realloc(void* p, std::size_t size);
void __libc_free(void* p);
void* malloc(std::size_t size) {
  count();
  return __libc_malloc(size);
}
void* calloc(std::size_t n, std::size_t size) {
  count();
  return __libc_calloc(n, size);
}
void* realloc(void* p, std::size_t size) {
  count();
  return __libc_realloc(p, size);
}
void free(void* p) { __libc_free(p); }
}
namespace {
void* rawAlloc(std::size_t size) { return __libc_malloc(size); }
[[gnu::noinline]] void rawFree(void* p) noexcept { __libc_free(p); }
}  // namespace
#endif

namespace {
void* allocate(std::size_t size) {
  count();
  return rawAlloc(size == 0 ? 1 : size);
}
void* allocateAligned(std::size_t size, std::align_val_t alignment) {
  count();
  const auto align = static_cast<std::size_t>(alignment);
  return std::aligned_alloc(align, (size + align - 1) / align * align);  // freed by free()
}
void release(void* p) noexcept { rawFree(p); }
}  // namespace

void* operator new(std::size_t size) {
  if (void* p = allocate(size)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t size) {
  if (void* p = allocate(size)) return p;
  throw std::bad_alloc();
}
void* operator new(std::size_t size, const std::nothrow_t&) noexcept { return allocate(size); }
void* operator new[](std::size_t size, const std::nothrow_t&) noexcept { return allocate(size); }
void* operator new(std::size_t size, std::align_val_t alignment) {
  if (void* p = allocateAligned(size, alignment)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t size, std::align_val_t alignment) {
  if (void* p = allocateAligned(size, alignment)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { release(p); }
void operator delete[](void* p) noexcept { release(p); }
void operator delete(void* p, std::size_t) noexcept { release(p); }
void operator delete[](void* p, std::size_t) noexcept { release(p); }
void operator delete(void* p, std::align_val_t) noexcept { release(p); }
void operator delete[](void* p, std::align_val_t) noexcept { release(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { release(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { release(p); }

namespace {

// Counts this thread's allocations while it lives (other threads' are never counted).
class Counting {
 public:
  Counting() {
    g_allocations.store(0);
    t_counting = true;
  }
  ~Counting() {
    t_counting = false;
    printTraces();
  }
  std::size_t allocations() const { return g_allocations.load(); }
};

}  // namespace
