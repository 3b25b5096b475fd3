#include "security/zap_handler.hpp"

#include <spdlog/spdlog.h>
#include <zmq.h>

#include <array>
#include <stdexcept>

#include "evr/curve_keys.hpp"

namespace evr::security {
namespace {

constexpr std::string_view kZapVersion = "1.0";
constexpr std::size_t kCurveKeyBytes = 32;

std::string z85(const zmq::message_t& key) {
  std::array<char, 41> text{};
  zmq_z85_encode(text.data(), key.data<std::uint8_t>(), kCurveKeyBytes);
  return text.data();
}

}  // namespace

ZapHandler::ZapHandler(zmq::context_t& context, AccessSource access, stats::AuthCounts& counts)
    : socket_(context, zmq::socket_type::rep), access_(std::move(access)), counts_(counts) {
  socket_.set(zmq::sockopt::linger, 0);
}

void ZapHandler::bind() {
  try {
    socket_.bind(kZapEndpoint);
  } catch (const zmq::error_t& e) {
    throw std::runtime_error(std::string("cannot serve ZAP on ") + kZapEndpoint + ": " + e.what());
  }
}

void ZapHandler::serve() {
  while (true) {
    std::vector<zmq::message_t> request;
    zmq::message_t frame;
    if (!socket_.recv(frame, zmq::recv_flags::dontwait)) return;
    bool more = frame.more();
    request.push_back(std::move(frame));
    while (more) {
      zmq::message_t next;
      (void)socket_.recv(next, zmq::recv_flags::none);
      more = next.more();
      request.push_back(std::move(next));
    }
    answer(request);
  }
}

void ZapHandler::answer(std::vector<zmq::message_t>& request) {
  // version, request id, domain, address, routing id, mechanism, credentials...
  const auto reply = [&](std::string_view code, std::string_view text, std::string_view user_id) {
    const std::string_view request_id = request.size() > 1 ? request[1].to_string_view() : "";
    const std::array<std::string_view, 6> frames{kZapVersion, request_id, code, text, user_id, ""};
    for (std::size_t i = 0; i < frames.size(); ++i) {
      (void)socket_.send(zmq::buffer(frames[i]), i + 1 < frames.size() ? zmq::send_flags::sndmore
                                                                        : zmq::send_flags::none);
    }
  };
  const AccessList* access = access_();
  if (request.size() < 7 || request[0].to_string_view() != kZapVersion ||
      request[5].to_string_view() != "CURVE" || request[6].size() != kCurveKeyBytes || access == nullptr) {
    ++counts_.refused[static_cast<std::size_t>(stats::AuthRefusal::Malformed)];
    reply("500", "unexpected ZAP request", "");
    return;
  }
  const std::string domain = request[2].to_string();
  const std::string address = request[3].to_string();
  const std::string key = z85(request[6]);
  const ClientKey* client = access->find(key);
  std::optional<stats::AuthRefusal> refusal;
  if (client == nullptr) {
    refusal = stats::AuthRefusal::UnknownKey;
  } else if (domain == kControlDomain && client->control == ControlRole::None) {
    refusal = stats::AuthRefusal::NoControl;
  }
  if (!refusal) {
    ++counts_.accepted;
    reply("200", "OK", key);
    return;
  }
  ++counts_.refused[static_cast<std::size_t>(*refusal)];
  std::uint64_t suppressed = 0;
  if (log_limiter_.allow(static_cast<std::size_t>(*refusal), suppressed)) {
    spdlog::warn("refused a {} connection from {} with key {}: {} [{} like it not logged in the last second]",
                 domain == kControlDomain ? "control" : "container", address.empty() ? "a local peer" : address,
                 keyFingerprint(key),
                 *refusal == stats::AuthRefusal::UnknownKey ? "the key is not in router.security.clients"
                                                            : "the key has no control role",
                 suppressed);
  }
  reply("400", *refusal == stats::AuthRefusal::UnknownKey ? "unknown key" : "no control role", "");
}

void makeCurveServer(zmq::socket_t& socket, const std::string& secret_key, const char* domain) {
  socket.set(zmq::sockopt::curve_server, 1);
  socket.set(zmq::sockopt::curve_secretkey, secret_key);
  socket.set(zmq::sockopt::zap_domain, domain);
}

std::string_view userIdOf(const zmq::message_t& message) {
  const char* user = zmq_msg_gets(message.handle(), "User-Id");
  return user == nullptr ? std::string_view() : std::string_view(user);
}

}  // namespace evr::security
