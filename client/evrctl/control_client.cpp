#include "control_client.hpp"

#include "evr/frames.hpp"
#include "evr/framing.hpp"
#include "evr/runtime_dir.hpp"

namespace evr::ctl {
namespace {

std::string defaultControlEndpoint() { return defaultIpcEndpoint("EVR_CONTROL", "evrouterd.ctl"); }

}  // namespace

void addControlEndpointOption(CLI::App& app, ControlOptions& options) {
  app.add_option("--control", options.endpoint,
                 "evrouterd control endpoint (" + defaultIpcEndpointHelp("EVR_CONTROL", "evrouterd.ctl") + ")");
  addKeyOptions(app, options.keys);
}

void addControlOptions(CLI::App& app, ControlOptions& options) {
  addControlEndpointOption(app, options);
  app.add_option("--timeout", options.timeout, "Seconds to wait for the answer")
      ->capture_default_str();
  app.add_flag("--json", options.json, "Print the answer as one JSON object");
}

std::optional<kj::Array<capnp::word>> exchange(const ControlOptions& options,
                                               capnp::MallocMessageBuilder& request) {
  zmq::context_t context(1);
  zmq::socket_t socket(context, zmq::socket_type::dealer);
  socket.set(zmq::sockopt::linger, 0);
  const std::string endpoint =
      options.endpoint.empty() ? defaultControlEndpoint() : options.endpoint;
  applyKeys(socket, options.keys);
  HandshakeWatch handshake(context, socket, !options.keys.server_key.empty());
  try {
    socket.connect(endpoint);
  } catch (const zmq::error_t& e) {
    throw std::runtime_error("cannot connect to '" + endpoint + "': " + e.what());
  }
  auto out = wordsMessage(capnp::messageToFlatArray(request));
  socket.send(out, zmq::send_flags::none);
  zmq::pollitem_t item{socket.handle(), 0, ZMQ_POLLIN, 0};
  const Deadline deadline(options.timeout);
  while (!deadline.expired()) {
    if (auto failure = handshake.failure()) throw std::runtime_error(endpoint + ": " + *failure);
    if (zmq::poll(&item, 1, deadline.remaining(std::chrono::milliseconds(100))) > 0) {
      zmq::message_t reply;
      (void)socket.recv(reply, zmq::recv_flags::none);
      while (reply.more())
        (void)socket.recv(reply, zmq::recv_flags::none);  // the last frame is the reply
      const auto bytes = bytesOf(reply);
      if (checkFraming(bytes) != FramingError::None)
        throw std::runtime_error("malformed reply from evrouterd");
      AlignedWords aligned(bytes);
      auto words = kj::heapArray<capnp::word>(aligned.words());
      return words;
    }
  }
  std::cerr << "evrctl: no answer from evrouterd at " << endpoint << " within "
            << describeSeconds(options.timeout) << " (is it running?)\n";
  return std::nullopt;
}

nlohmann::json texts(capnp::List<capnp::Text>::Reader list) {
  auto out = nlohmann::json::array();
  for (const auto text : list) out.push_back(std::string(text.cStr()));
  return out;
}

nlohmann::json counters(capnp::List<schema::Counter>::Reader list) {
  auto out = nlohmann::json::object();
  for (const auto counter : list) out[counter.getName().cStr()] = counter.getValue();
  return out;
}

std::optional<std::string> tapEndpointOf(const ControlOptions& control, double timeout) {
  ControlOptions options = control;
  options.timeout = timeout;
  capnp::MallocMessageBuilder request;
  request.initRoot<schema::ControlRequest>().setStatus();
  const auto words = exchange(options, request);
  if (!words) return std::nullopt;
  capnp::FlatArrayMessageReader message(*words);
  return std::string(message.getRoot<schema::ControlReply>().getStatus().getTapEndpoint().cStr());
}

}  // namespace evr::ctl
