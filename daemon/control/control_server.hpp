// ControlServer: the daemon's end of the control socket (evrctl's requests).
//
// Beside the relay loop: the loop polls socket() with its data sockets and calls serve() when it
// is readable, so requests are handled on the loop thread between two messages and need no
// locks. Requests and replies are schemas/control.capnp, one frame each, over a ROUTER bound to
// router.control (default ipc://<runtime dir>/evrouterd.ctl; an ipc socket file gets mode 0660).
// A malformed request gets an error reply, never a crash.

#pragma once

#include <capnp/message.h>
#include <kj/array.h>

#include <cstddef>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <zmq.hpp>

#include "control.capnp.h"

namespace evr::control {

inline constexpr const char* kDefaultControl = "ipc://evrouterd.ctl";

class ControlServer {
 public:
  // `key`: the CURVE key (Z85) the request came with under router.security, else "".
  using Handler = std::function<void(schema::ControlRequest::Reader, schema::ControlReply::Builder,
                                     std::string_view key)>;

  ControlServer(zmq::context_t& context, std::string endpoint, Handler handler);
  // Binds; throws std::runtime_error naming the endpoint. Sets mode 0660 on an ipc socket file.
  void bind();
  zmq::socket_t& socket() { return socket_; }
  const std::string& endpoint() const { return endpoint_; }
  // Answers every request waiting on the socket.
  void serve();

 private:
  zmq::socket_t socket_;
  std::string endpoint_;
  Handler handler_;
};

// One request frame (that came with CURVE key `key`, "" without security) -> the reply frame that
// serve() sends back after the routing id (and the delimiter): `handler`'s answer, or a not-ok reply when the frame is not a readable
// ControlRequest or the handler throws. Never throws. Free, so that the fuzzer (fuzz/) reads
// requests with this very code.
kj::Array<capnp::word> answerFrame(std::span<const std::byte> request, std::string_view key,
                                   const ControlServer::Handler& handler);

}  // namespace evr::control
