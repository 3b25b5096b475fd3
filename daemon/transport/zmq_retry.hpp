// zmq_poll and zmq_recv on the loop thread when a signal interrupts them.
//
// Both fail with EINTR when a signal that has a handler arrives, and cppzmq throws that as
// zmq::error_t, which would end RelayLoop::run() (the daemon's own signals come through a
// signalfd, but any other handler in the process, a profiler's or a library's, is enough). Found
// by the fuzzer (docs/fuzzing.md): libFuzzer's timer signal. Nothing was received or consumed
// when EINTR comes: a receive is simply called again; an interrupted poll returns as one that
// found nothing (waiting the whole timeout again could wait forever under a stream of signals),
// and the loop's caller polls again.
#pragma once

#include <cerrno>
#include <chrono>
#include <cstddef>
#include <zmq.hpp>

namespace evr::transport {

// False when a signal interrupted it (every revents is then 0).
inline bool pollUnlessInterrupted(zmq::pollitem_t* items, std::size_t count,
                                  std::chrono::milliseconds timeout) {
  try {
    zmq::poll(items, count, timeout);
    return true;
  } catch (const zmq::error_t& e) {
    if (e.num() != EINTR) throw;
    for (std::size_t i = 0; i < count; ++i) items[i].revents = 0;
    return false;
  }
}

inline zmq::recv_result_t recvRetrying(zmq::socket_t& socket, zmq::message_t& message, zmq::recv_flags flags) {
  for (;;) {
    try {
      return socket.recv(message, flags);
    } catch (const zmq::error_t& e) {
      if (e.num() != EINTR) throw;
    }
  }
}

}  // namespace evr::transport
