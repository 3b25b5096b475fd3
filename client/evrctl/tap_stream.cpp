#include "tap_stream.hpp"

#include <stdexcept>

namespace evr::ctl {

bool TappedEvent::routedTo(const std::string& container) const {
  const auto to = meta.find("to");
  if (to == meta.end() || !to->is_array()) return false;
  for (const auto& name : *to) {
    if (name.is_string() && name.get_ref<const std::string&>() == container) return true;
  }
  return false;
}

TapStream::TapStream(zmq::context_t& context, const KeyOptions& keys, std::string endpoint)
    : socket_(context, zmq::socket_type::sub), endpoint_(std::move(endpoint)) {
  socket_.set(zmq::sockopt::linger, 0);
  applyKeys(socket_, keys);
  handshake_.emplace(context, socket_, !keys.server_key.empty());
  socket_.connect(endpoint_);
  socket_.set(zmq::sockopt::subscribe, "");
}

std::optional<TappedEvent> TapStream::next(std::chrono::milliseconds wait) {
  if (auto failure = handshake_->failure()) throw std::runtime_error(endpoint_ + ": " + *failure);
  zmq::pollitem_t item{socket_.handle(), 0, ZMQ_POLLIN, 0};
  if (zmq::poll(&item, 1, wait) <= 0) return std::nullopt;
  zmq::message_t head, body;
  (void)socket_.recv(head, zmq::recv_flags::none);
  if (!head.more()) return std::nullopt;
  (void)socket_.recv(body, zmq::recv_flags::none);
  while (body.more()) (void)socket_.recv(body, zmq::recv_flags::none);
  nlohmann::json meta = nlohmann::json::parse(head.to_string_view(), nullptr, false);
  if (meta.is_discarded() || !meta.is_object()) return std::nullopt;
  const auto hops = meta.value("hops", 0u);
  std::string why;
  Event event = Event::fromWire(std::move(body), static_cast<std::uint8_t>(hops), why);
  if (!event.valid()) return std::nullopt;
  return TappedEvent{std::move(meta), std::move(event)};
}

}  // namespace evr::ctl
