// What the ZeroMQ-only systems' links (direct_links.cpp, zmq_relay.cpp) do alike.

#pragma once

#include <zmq.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstddef>

#include "roles.hpp"

namespace evr::bench {

// Waits up to `timeout` for a message on `socket`, then takes up to `burst` messages without
// waiting, handing each to `take`.
template <typename Take>
void receiveBurst(zmq::socket_t& socket, std::chrono::milliseconds timeout, std::size_t burst, Take&& take) {
  std::array<zmq::pollitem_t, 1> items{{{socket.handle(), 0, ZMQ_POLLIN, 0}}};
  if (zmq::poll(items.data(), items.size(), timeout) == 0) return;
  for (std::size_t i = 0; i < burst; ++i) {
    zmq::message_t message;
    if (!socket.recv(message, zmq::recv_flags::dontwait)) return;
    take(message);
  }
}

// Closes a publisher's socket and context with a linger up to `deadline`: whatever is still
// queued in the pipe is sent first.
inline void closeSending(zmq::socket_t& socket, zmq::context_t& context, std::chrono::steady_clock::time_point deadline) {
  socket.set(zmq::sockopt::linger, static_cast<int>(timeLeft(deadline).count()));
  socket.close();
  context.close();
}

}  // namespace evr::bench
