// Tap: a live copy of routed events for `evrctl tap`, published on an XPUB socket.
//
// Beside the relay loop, on its thread. The loop asks active() per routed event — one integer
// compare, so tapping costs nothing when nobody taps — and only then builds the copy: a JSON
// frame naming the source, the targets it went to, the adapters that carried it and its hop
// count, and the event bytes unchanged. XPUB reports subscriptions, so the tap knows when
// someone listens; filtering (container, adapter, type, --where) is done by evrctl.
// Endpoint: ipc://<runtime dir>/evrouterd.tap (mode 0660, like the control socket).

#pragma once

#include <string>
#include <vector>
#include <zmq.hpp>

#include "transport/relay_loop.hpp"

namespace evr::control {

inline constexpr const char* kDefaultTap = "ipc://evrouterd.tap";

class Tap final : public transport::EventTap {
 public:
  Tap(zmq::context_t& context, std::string endpoint);
  void bind();  // throws std::runtime_error naming the endpoint
  zmq::socket_t& socket() { return socket_; }
  const std::string& endpoint() const { return endpoint_; }

  // Reads subscription changes (the loop calls it when socket() is readable).
  void serve();
  bool active() const override { return subscribers_ > 0; }

  // One routed event. Never blocks: a slow tapper loses copies (XPUB drops at its HWM), never
  // slows routing.
  void publish(const std::string& source, const std::vector<std::string>& targets,
               const std::vector<std::string>& adapters, unsigned hops, zmq::message_t& event) override;

 private:
  zmq::socket_t socket_;
  std::string endpoint_;
  int subscribers_ = 0;
};

}  // namespace evr::control
