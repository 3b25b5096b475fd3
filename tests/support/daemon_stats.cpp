#include "daemon_stats.hpp"

#include <capnp/message.h>
#include <capnp/serialize.h>

#include <stdexcept>
#include <zmq.hpp>

#include "control.capnp.h"
#include "evr/frames.hpp"
#include "evr/framing.hpp"
#include "time_scale.hpp"

namespace evr::test {

std::uint64_t DaemonStats::drop(const std::string& reason) const {
  const auto it = drops.find(reason);
  return it == drops.end() ? 0 : it->second;
}

std::uint64_t DaemonStats::dropped() const {
  std::uint64_t total = 0;
  for (const auto& [reason, count] : drops) total += count;
  return total;
}

const ContainerStats* DaemonStats::container(const std::string& name) const {
  for (const auto& c : containers) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

DaemonStats statsOf(const std::string& control_endpoint, std::chrono::milliseconds timeout) {
  zmq::context_t context(1);
  zmq::socket_t socket(context, zmq::socket_type::dealer);
  socket.set(zmq::sockopt::linger, 0);
  socket.connect(control_endpoint);
  capnp::MallocMessageBuilder request;
  request.initRoot<schema::ControlRequest>().setStats();
  auto out = wordsMessage(capnp::messageToFlatArray(request));
  socket.send(out, zmq::send_flags::none);

  zmq::pollitem_t item{socket.handle(), 0, ZMQ_POLLIN, 0};
  if (zmq::poll(&item, 1, bound(timeout)) <= 0) {
    throw std::runtime_error("no STATS answer from evrouterd at " + control_endpoint);
  }
  zmq::message_t reply;
  (void)socket.recv(reply, zmq::recv_flags::none);
  while (reply.more())
    (void)socket.recv(reply, zmq::recv_flags::none);  // the last frame is the reply
  const auto bytes = bytesOf(reply);
  if (checkFraming(bytes) != FramingError::None) throw std::runtime_error("malformed STATS reply");
  AlignedWords aligned(bytes);
  capnp::FlatArrayMessageReader message(aligned.words());
  const auto root = message.getRoot<schema::ControlReply>();
  if (!root.getOk() || !root.isStats()) throw std::runtime_error("STATS request refused");
  const auto stats = root.getStats();
  DaemonStats result;
  result.events_in = stats.getEventsIn();
  result.deliveries = stats.getDeliveries();
  result.unrouted = stats.getUnrouted();
  result.unmatched = stats.getUnmatched();
  result.backpressure_holds = stats.getBackpressureHolds();
  for (const auto drop : stats.getDrops()) result.drops[drop.getName().cStr()] = drop.getValue();
  for (const auto c : stats.getContainers()) {
    ContainerStats container;
    container.name = c.getName().cStr();
    container.connected = c.getConnected();
    container.queue_depth = c.getQueueDepth();
    container.events_out = c.getEventsOut();
    container.unacked = c.getUnacked();
    container.redelivered = c.getRedelivered();
    container.replayed = c.getReplayed();
    container.stalled = c.getStalled();
    container.rate_limited = c.getRateLimited();
    container.queue_bytes = c.getQueueBytes();
    for (const auto drop : c.getDropsTo()) container.drops_to[drop.getName().cStr()] = drop.getValue();
    result.containers.push_back(std::move(container));
  }
  return result;
}

DaemonStats statsWhen(const std::string& control_endpoint,
                      const std::function<bool(const DaemonStats&)>& settled,
                      std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + bound(timeout);
  DaemonStats stats = statsOf(control_endpoint);
  while (!settled(stats) && std::chrono::steady_clock::now() < deadline)
    stats = statsOf(control_endpoint);
  return stats;
}

}  // namespace evr::test
