#include "transport/peer_registry.hpp"

namespace evr::transport {

PeerId PeerRegistry::ensure(std::string_view name) {
  if (auto found = findByName(name)) return *found;
  const auto id = static_cast<PeerId>(peers_.size());
  peers_.emplace_back();
  peers_.back().name = std::string(name);
  by_name_.emplace(std::string(name), id);
  return id;
}

std::optional<PeerId> PeerRegistry::findByName(std::string_view name) const {
  const auto it = by_name_.find(std::string(name));
  if (it == by_name_.end()) return std::nullopt;
  return it->second;
}

std::optional<PeerId> PeerRegistry::findByRoutingId(std::string_view routing_id) const {
  const auto it = by_routing_id_.find(std::string(routing_id));
  if (it == by_routing_id_.end()) return std::nullopt;
  return it->second;
}

void PeerRegistry::attach(PeerId id, std::string routing_id) {
  Peer& peer = peers_[id];
  if (peer.connected) by_routing_id_.erase(peer.routing_id);
  peer.routing_id = std::move(routing_id);
  peer.connected = true;
  by_routing_id_[peer.routing_id] = id;
}

void PeerRegistry::detach(PeerId id) {
  Peer& peer = peers_[id];
  if (!peer.connected) return;
  by_routing_id_.erase(peer.routing_id);
  peer.connected = false;
  peer.routing_id.clear();
}

}  // namespace evr::transport
