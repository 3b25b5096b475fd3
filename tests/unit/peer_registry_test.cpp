// PeerRegistry: one Peer per container name for the daemon's life, and the routing-id map.
#include <boost/test/unit_test.hpp>

#include "transport/peer_registry.hpp"

using evr::transport::PeerId;
using evr::transport::PeerRegistry;

BOOST_AUTO_TEST_SUITE(peer_registry)

BOOST_AUTO_TEST_CASE(ensure_gives_one_id_per_name_and_never_reuses_ids) {
  PeerRegistry peers;
  const PeerId data = peers.ensure("data");
  const PeerId strategy = peers.ensure("strategy");
  BOOST_TEST(data != strategy);
  BOOST_TEST(peers.ensure("data") == data);
  BOOST_TEST(peers.size() == 2u);
  BOOST_TEST(peers[data].name == "data");
  BOOST_TEST(!peers[data].connected);
  BOOST_TEST(peers[data].queue.empty());
  BOOST_TEST(peers.findByName("strategy").value_or(99) == strategy);
  BOOST_TEST(!peers.findByName("nobody").has_value());
}

BOOST_AUTO_TEST_CASE(attach_maps_the_routing_id_and_detach_forgets_it_but_keeps_the_peer) {
  PeerRegistry peers;
  const PeerId id = peers.ensure("execution");
  peers.attach(id, "conn-1");
  BOOST_TEST(peers[id].connected);
  BOOST_TEST(peers[id].routing_id == "conn-1");
  BOOST_TEST(peers.findByRoutingId("conn-1").value_or(99) == id);

  peers[id].counters.events_in = 5;
  peers[id].queue.push({}, evr::DeliveryPolicy::Lossless, 1);
  peers.detach(id);
  BOOST_TEST(!peers[id].connected);
  BOOST_TEST(peers[id].routing_id.empty());
  BOOST_TEST(!peers.findByRoutingId("conn-1").has_value());
  // Queue and counters survive a disconnect, for the next connection under the name.
  BOOST_TEST(peers[id].counters.events_in == 5u);
  BOOST_TEST(peers[id].queue.size() == 1u);
  BOOST_TEST(peers.findByName("execution").value_or(99) == id);
  peers.detach(id);  // twice: harmless
  BOOST_TEST(!peers[id].connected);
}

BOOST_AUTO_TEST_CASE(a_new_connection_replaces_the_old_routing_id) {
  PeerRegistry peers;
  const PeerId id = peers.ensure("risk");
  peers.attach(id, "old");
  peers.attach(id, "new");
  BOOST_TEST(peers[id].routing_id == "new");
  BOOST_TEST(!peers.findByRoutingId("old").has_value());
  BOOST_TEST(peers.findByRoutingId("new").value_or(99) == id);
}

BOOST_AUTO_TEST_CASE(peers_stay_in_place_while_the_registry_grows) {
  PeerRegistry peers;
  const PeerId first = peers.ensure("first");
  const evr::transport::Peer* address = &peers[first];
  for (int i = 0; i < 1000; ++i) peers.ensure("c" + std::to_string(i));
  BOOST_TEST(&peers[first] == address);  // the loop keeps references across HELLOs
  BOOST_TEST(peers.size() == 1001u);
}

BOOST_AUTO_TEST_CASE(ackable_stops_at_a_backpressure_hold) {
  PeerRegistry peers;
  auto& peer = peers[peers.ensure("src")];
  peer.last_rx_seq = 10;
  BOOST_TEST(peer.ackable() == 10u);
  peer.ack_hold = 6;
  BOOST_TEST(peer.ackable() == 6u);
  peer.ack_hold = 20;  // a hold beyond what was taken acks only what was taken
  BOOST_TEST(peer.ackable() == 10u);
}

BOOST_AUTO_TEST_SUITE_END()
