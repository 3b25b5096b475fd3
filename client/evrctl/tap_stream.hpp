// The tap as a stream of events for evrctl's commands that read it (tap, record): subscribes to
// evrouterd's tap socket (found through the control socket unless given) and hands back each
// copied event with what the daemon says about it (`from`, `to`, `adapters`, `hops`).
//
// The daemon copies only while someone is subscribed and says so in its log ("tap: 1
// subscriber"): what was routed before the subscription reached it is not in the stream.

#pragma once

#include <nlohmann/json.hpp>
#include <zmq.hpp>

#include <chrono>
#include <optional>
#include <string>

#include "command.hpp"
#include "evr/curve_keys.hpp"
#include "evr/event.hpp"

namespace evr::ctl {

struct TappedEvent {
  nlohmann::json meta;  // from, to, adapters, hops
  Event event;          // Origin::Router, with the hops the daemon forwarded it with

  // The containers the daemon routed it to include `container`.
  bool routedTo(const std::string& container) const;
};

class TapStream {
 public:
  // Connects to `endpoint` (tapEndpointOf asks the control socket where it is) with `keys`.
  TapStream(zmq::context_t& context, const KeyOptions& keys, std::string endpoint);
  TapStream(const TapStream&) = delete;
  TapStream& operator=(const TapStream&) = delete;

  // The next copied event, waiting at most `wait`; nullopt when none came. Frames that are not a
  // tap copy or not a readable event are skipped. Throws std::runtime_error when evrouterd refused
  // the CURVE handshake.
  std::optional<TappedEvent> next(std::chrono::milliseconds wait);

  const std::string& endpoint() const { return endpoint_; }

 private:
  zmq::socket_t socket_;
  std::optional<HandshakeWatch> handshake_;
  std::string endpoint_;
};

}  // namespace evr::ctl
