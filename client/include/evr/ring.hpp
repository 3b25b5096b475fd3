// evr::detail::Ring: a FIFO that keeps its storage. The client's per-event queues (the bus's
// dispatch queue, the resend buffer, the events in handlers) take one element in and one out per
// event; std::deque frees and allocates a block every few dozen of them, a Ring allocates only
// when it grows past the most it has held (docs/performance.md, "Publishing allocates nothing").
//
// Capacity is a power of two; an element leaves by being replaced with T{}, so T must be default
// constructible and a popped element's resources (an Event's bytes) are released at once.

#pragma once

#include <cstddef>
#include <utility>
#include <vector>

namespace evr::detail {

template <class T>
class Ring {
 public:
  bool empty() const { return size_ == 0; }
  std::size_t size() const { return size_; }

  T& front() { return slots_[head_]; }
  const T& front() const { return slots_[head_]; }
  // The i-th element from the front.
  T& operator[](std::size_t i) { return slots_[(head_ + i) & mask()]; }
  const T& operator[](std::size_t i) const { return slots_[(head_ + i) & mask()]; }

  void push_back(T value) {
    if (size_ == slots_.size()) grow();
    slots_[(head_ + size_) & mask()] = std::move(value);
    ++size_;
  }

  void pop_front() {
    slots_[head_] = T{};
    head_ = (head_ + 1) & mask();
    --size_;
  }

 private:
  std::size_t mask() const { return slots_.size() - 1; }

  void grow() {
    std::vector<T> bigger(slots_.empty() ? 16 : slots_.size() * 2);
    for (std::size_t i = 0; i < size_; ++i) bigger[i] = std::move((*this)[i]);
    slots_.swap(bigger);
    head_ = 0;
  }

  std::vector<T> slots_;
  std::size_t head_ = 0;
  std::size_t size_ = 0;
};

}  // namespace evr::detail
