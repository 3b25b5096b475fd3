#include "control/control_server.hpp"

#include <capnp/serialize.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <filesystem>
#include <stdexcept>
#include <vector>

#include "evr/frames.hpp"
#include "evr/framing.hpp"
#include "security/zap_handler.hpp"
#include "transport/zmq_retry.hpp"

namespace evr::control {

kj::Array<capnp::word> answerFrame(std::span<const std::byte> bytes, std::string_view key,
                                   const ControlServer::Handler& handler) {
  capnp::MallocMessageBuilder reply_message;
  auto reply = reply_message.initRoot<schema::ControlReply>();
  bool handled = false;
  if (checkFraming(bytes) == FramingError::None) {
    AlignedWords words(bytes);
    try {
      capnp::FlatArrayMessageReader request(words.words(), peerReaderOptions(bytes.size()));
      handler(request.getRoot<schema::ControlRequest>(), reply, key);
      handled = true;
    } catch (const kj::Exception& e) {
      spdlog::warn("control: unreadable request: {}", e.getDescription().cStr());
    } catch (const std::exception& e) {
      spdlog::error("control: request failed: {}", e.what());
    }
  }
  if (!handled) {
    reply = reply_message.initRoot<schema::ControlReply>();
    reply.setOk(false);
    reply.initErrors(1).set(0, "malformed control request (expected one schemas/control.capnp ControlRequest frame)");
  }
  return capnp::messageToFlatArray(reply_message);
}

ControlServer::ControlServer(zmq::context_t& context, std::string endpoint, Handler handler)
    : socket_(context, zmq::socket_type::router), endpoint_(std::move(endpoint)), handler_(std::move(handler)) {
  socket_.set(zmq::sockopt::linger, 0);
  socket_.set(zmq::sockopt::maxmsgsize, std::int64_t{1} << 20);
  socket_.set(zmq::sockopt::router_mandatory, 1);
}

void ControlServer::bind() {
  if (endpoint_.rfind("ipc://", 0) == 0) {
    const std::string path = endpoint_.substr(6);
    std::error_code ignored;
    if (!path.empty() && path[0] != '@') std::filesystem::remove(path, ignored);  // stale file
  }
  try {
    socket_.bind(endpoint_);
  } catch (const zmq::error_t& e) {
    throw std::runtime_error("cannot listen for control requests on " + endpoint_ + ": " + e.what());
  }
  endpoint_ = socket_.get(zmq::sockopt::last_endpoint);
  if (endpoint_.rfind("ipc://", 0) == 0) {
    // Owner and group only: whoever may reload the daemon is chosen by file permissions.
    const std::string path = endpoint_.substr(6);
    if (::chmod(path.c_str(), 0660) != 0) {
      throw std::runtime_error("cannot set mode 0660 on " + path);
    }
  }
  spdlog::info("control socket on {}", endpoint_);
}

void ControlServer::serve() {
  for (int i = 0; i < 64; ++i) {
    std::vector<zmq::message_t> frames;
    zmq::message_t frame;
    if (!transport::recvRetrying(socket_, frame, zmq::recv_flags::dontwait)) return;
    frames.push_back(std::move(frame));
    while (frames.back().more()) {
      zmq::message_t next;
      (void)transport::recvRetrying(socket_, next, zmq::recv_flags::none);
      frames.push_back(std::move(next));
    }
    // [routing id, (empty delimiter from REQ,) request]
    const auto words = frames.size() >= 2
                           ? answerFrame(bytesOf(frames.back()), security::userIdOf(frames.back()), handler_)
                           : answerFrame({}, {}, handler_);
    try {
      for (std::size_t f = 0; f + 1 < frames.size(); ++f) {
        zmq::message_t head;
        head.copy(frames[f]);
        (void)socket_.send(head, zmq::send_flags::sndmore | zmq::send_flags::dontwait);
      }
      auto out = wordsMessage(words);
      (void)socket_.send(out, zmq::send_flags::dontwait);
    } catch (const zmq::error_t& e) {
      spdlog::warn("control: could not answer a request: {}", e.what());  // the client left
    }
  }
}

}  // namespace evr::control
