#include "control/tap.hpp"

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <filesystem>
#include <stdexcept>

#include "transport/zmq_retry.hpp"

namespace evr::control {

Tap::Tap(zmq::context_t& context, std::string endpoint)
    : socket_(context, zmq::socket_type::xpub), endpoint_(std::move(endpoint)) {
  socket_.set(zmq::sockopt::linger, 0);
  socket_.set(zmq::sockopt::sndhwm, 10000);
  socket_.set(zmq::sockopt::xpub_verbose, 1);  // every subscribe, so the count stays right
}

void Tap::bind() {
  if (endpoint_.rfind("ipc://", 0) == 0) {
    std::error_code ignored;
    const std::string path = endpoint_.substr(6);
    if (!path.empty() && path[0] != '@') std::filesystem::remove(path, ignored);
  }
  try {
    socket_.bind(endpoint_);
  } catch (const zmq::error_t& e) {
    throw std::runtime_error("cannot open the tap on " + endpoint_ + ": " + e.what());
  }
  endpoint_ = socket_.get(zmq::sockopt::last_endpoint);
  if (endpoint_.rfind("ipc://", 0) == 0) ::chmod(endpoint_.substr(6).c_str(), 0660);
  spdlog::info("tap on {}", endpoint_);
}

void Tap::serve() {
  for (;;) {
    zmq::message_t message;
    if (!transport::recvRetrying(socket_, message, zmq::recv_flags::dontwait)) return;
    if (message.size() == 0) continue;
    const auto kind = static_cast<const unsigned char*>(message.data())[0];
    if (kind == 1) ++subscribers_;
    if (kind == 0 && subscribers_ > 0) --subscribers_;
    spdlog::info("tap: {} subscriber(s)", subscribers_);
  }
}

void Tap::publish(const std::string& source, const std::vector<std::string>& targets,
                  const std::vector<std::string>& adapters, unsigned hops, zmq::message_t& event) {
  const nlohmann::json meta{{"from", source}, {"to", targets}, {"adapters", adapters}, {"hops", hops}};
  const std::string text = meta.dump();
  zmq::message_t head(text.data(), text.size());
  zmq::message_t body;
  body.copy(event);  // shares the bytes
  (void)socket_.send(head, zmq::send_flags::sndmore | zmq::send_flags::dontwait);
  (void)socket_.send(body, zmq::send_flags::dontwait);
}

}  // namespace evr::control
