// ZapHandler: evrouterd's ZAP handler (ZeroMQ's RFC 27), the one place CURVE handshakes are let
// in or refused (docs/security.md).
//
// libzmq asks it, over inproc://zeromq.zap.01 in the daemon's context, about every connection to
// a CURVE socket: the client's public key and the ZAP domain of the socket (security/
// access_list.hpp: data links or the control plane). A key router.security.clients does not list
// is refused (400); on the control domain so is a key without a control role. A key let in gets
// its Z85 text as User-Id, which libzmq then attaches to each of the connection's messages: that
// is how the relay loop and the control server know who sent a message.
//
// Served on the relay loop's thread (a side poller), reading the access list the loop holds, so
// a reload's new list applies to the next handshake and nothing is shared across threads. Must
// be bound before any CURVE socket binds: with no handler, libzmq lets every key in.

#pragma once

#include <zmq.hpp>

#include <functional>

#include "security/access_list.hpp"
#include "stats/stats.hpp"

namespace evr::security {

inline constexpr const char* kZapEndpoint = "inproc://zeromq.zap.01";

class ZapHandler {
 public:
  // `access` returns the list in force (never null while the handler runs); refusals and
  // acceptances are counted in `counts`.
  using AccessSource = std::function<const AccessList*()>;
  ZapHandler(zmq::context_t& context, AccessSource access, stats::AuthCounts& counts);

  // Throws std::runtime_error when the ZAP endpoint is taken (a second handler in the context).
  void bind();
  zmq::socket_t& socket() { return socket_; }
  // Answers every request waiting on the socket.
  void serve();

 private:
  void answer(std::vector<zmq::message_t>& request);

  zmq::socket_t socket_;
  AccessSource access_;
  stats::AuthCounts& counts_;
  stats::RateLimiter log_limiter_;
};

// Makes `socket` a CURVE server with evrouterd's secret key (Z85) whose handshakes ZAP judges in
// `domain` (kDataDomain, kControlDomain). Before the socket binds.
void makeCurveServer(zmq::socket_t& socket, const std::string& secret_key, const char* domain);

// The Z85 text of the CURVE key a message came in with (its ZAP User-Id); "" without one (no
// security, or a message made locally).
std::string_view userIdOf(const zmq::message_t& message);

}  // namespace evr::security
