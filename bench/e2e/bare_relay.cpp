// evr_bare_relay: the evrouter link protocol (docs/protocol.md) through a relay that does no
// routing work. The end-to-end benchmark runs it next to evrouterd with the same clients and the
// same events, so evrouterd / bare relay is the cost of evrouterd's routing logic (routing table,
// adapters, conditions, queues, drop accounting, stats) over the protocol's unavoidable work.
//
//   evr_bare_relay --endpoint ipc:///tmp/x/bare.sock --route pub=sub1,sub2,sub3 [--route ...]
//
// What it does, and nothing more:
//   * one ROUTER socket; HELLO is answered with WELCOME (built with the protocol/ helpers, as
//     evrouterd's relay loop does), HEARTBEAT with HEARTBEAT, BYE forgets the connection;
//   * an EVENT from a source goes to every target of that source's --route entry: the same event
//     bytes (a reference-counted frame copy) behind a fresh envelope per target link (hops + 1,
//     the target link's next seq, ack = the last seq received from that target);
//   * an EVENTS batch (protocol version 2; what the client library sends) goes on the same way,
//     whole: the same body to each target behind a fresh envelope (the target link's next seq,
//     the same count). Its records are not touched, so their hop counts are not incremented: a
//     fixed table has no cycles to stop. evrouterd instead routes each event of a batch on its
//     own and builds a batch per target: that per-event work is what the ratio measures;
//   * acks as evrouterd does: after a receive burst, a source with 1,024 or more unacked events
//     gets an ACK; HEARTBEAT (how a waiting client asks) is answered at once; and when the relay
//     is idle for its poll interval, everyone is acked;
//   * a target's full pipe blocks the send (ZMQ_ROUTER_MANDATORY with a send timeout), which stops
//     the relay reading, which stops the acks, which makes the publisher's resend buffer apply
//     backpressure: nothing is queued here and nothing is dropped unless a target is not joined,
//     is gone, or stays blocked for kSendTimeout; such drops are counted and printed at exit.
// No config, no routing table, no duplicate or order checks, no stats beyond that drop count.
//
// Prints "ready" on stdout once bound; SIGTERM/SIGINT stop it (exit 0).
//
// The protocol handling is all in BareRelay::handle(), forward() and forwardBatch().

#include <CLI/CLI.hpp>

#include <atomic>
#include <csignal>
#include <iostream>
#include <random>
#include <unordered_map>
#include <vector>
#include <zmq.hpp>

#include "evr/frames.hpp"
#include "evr/heap.hpp"
#include "evr/link_messages.hpp"

namespace {

constexpr int kReceiveBurst = 4096;
constexpr std::uint64_t kAckBatch = 1024;  // evrouterd's
constexpr int kHighWaterMark = 100;  // evrouterd's and the client's
constexpr int kSendTimeoutMs = 5000;
constexpr std::uint32_t kHeartbeatMs = 1000;
constexpr std::uint32_t kMaxMessageSize = 1 << 20;

std::atomic<bool> g_stop{false};

// One container's link, known by name from the routes and by routing id once it joined.
struct Link {
  std::string name;
  std::vector<Link*> targets;   // from --route
  std::string routing_id;       // empty: not joined
  std::uint64_t client_instance = 0;
  std::uint64_t rx_seq = 0;     // last seq received from this container
  std::uint64_t acked = 0;      // last seq acked to this container
  std::uint64_t tx_seq = 0;     // last seq sent to this container
  bool ack_pending = false;
};

class BareRelay {
 public:
  BareRelay(zmq::context_t& context, const std::string& endpoint,
            const std::vector<std::pair<std::string, std::vector<std::string>>>& routes)
      : socket_(context, zmq::socket_type::router), instance_(std::random_device{}() | 1u) {
    socket_.set(zmq::sockopt::router_mandatory, 1);
    socket_.set(zmq::sockopt::sndhwm, kHighWaterMark);
    socket_.set(zmq::sockopt::rcvhwm, kHighWaterMark);
    socket_.set(zmq::sockopt::sndtimeo, kSendTimeoutMs);
    socket_.set(zmq::sockopt::linger, 0);
    for (const auto& [source, targets] : routes) {
      linkNamed(source);
      for (const auto& target : targets) linkNamed(target);
    }
    for (const auto& [source, targets] : routes) {
      for (const auto& target : targets) links_.at(source).targets.push_back(&links_.at(target));
    }
    socket_.bind(endpoint);
  }

  void run() {
    std::vector<Link*> to_ack;
    while (!g_stop.load()) {
      zmq::pollitem_t item{socket_.handle(), 0, ZMQ_POLLIN, 0};
      try {
        if (zmq::poll(&item, 1, std::chrono::milliseconds(100)) == 0) {
          ackAll();
          continue;
        }
      } catch (const zmq::error_t& e) {
        if (e.num() == EINTR) continue;
        throw;
      }
      for (int i = 0; i < kReceiveBurst; ++i) {
        if (!receiveOne(to_ack)) break;
      }
      for (Link* source : to_ack) {
        source->ack_pending = false;
        if (source->rx_seq - source->acked >= kAckBatch) ack(*source);
      }
      to_ack.clear();
    }
  }

  void ack(Link& link) {
    if (send(link, control(evr::MessageKind::Ack, link.rx_seq), nullptr)) link.acked = link.rx_seq;
  }

  void ackAll() {
    for (auto& [name, link] : links_) {
      if (!link.routing_id.empty() && link.acked != link.rx_seq) ack(link);
    }
  }

  std::uint64_t forwarded() const { return forwarded_; }
  std::uint64_t dropped() const { return dropped_; }

 private:
  Link& linkNamed(const std::string& name) {
    auto [it, added] = links_.try_emplace(name);
    if (added) it->second.name = name;
    return it->second;
  }

  static evr::Envelope control(evr::MessageKind kind, std::uint64_t ack) {
    evr::Envelope envelope;
    envelope.kind = kind;
    envelope.ack = ack;
    return envelope;
  }

  // Reads one message (routing id, envelope, optional body) and handles it. False when none.
  bool receiveOne(std::vector<Link*>& to_ack) {
    zmq::message_t routing_id;
    if (!socket_.recv(routing_id, zmq::recv_flags::dontwait)) return false;
    zmq::message_t head;
    std::optional<zmq::message_t> body;
    if (routing_id.more()) (void)socket_.recv(head, zmq::recv_flags::none);
    bool more = head.more();
    if (more) {
      body.emplace();
      (void)socket_.recv(*body, zmq::recv_flags::none);
      more = body->more();
    }
    while (more) {  // frames beyond the protocol's two are not ours to interpret
      zmq::message_t extra;
      (void)socket_.recv(extra, zmq::recv_flags::none);
      more = extra.more();
    }
    const evr::DecodedEnvelope decoded = evr::decodeEnvelope(evr::bytesOf(head));
    if (decoded.ok()) handle(routing_id.to_string(), decoded.envelope, body ? &*body : nullptr, to_ack);
    return true;
  }

  // The protocol, one message kind per case.
  void handle(const std::string& routing_id, const evr::Envelope& envelope, zmq::message_t* body,
              std::vector<Link*>& to_ack) {
    if (envelope.kind == evr::MessageKind::Hello) {
      welcome(routing_id, body);
      return;
    }
    const auto known = by_routing_id_.find(routing_id);
    if (known == by_routing_id_.end()) return;  // not joined: evrouterd answers ERROR, we ignore it
    Link& link = *known->second;
    switch (envelope.kind) {
      case evr::MessageKind::Event:
        link.rx_seq = envelope.seq;
        if (!link.ack_pending) {
          link.ack_pending = true;
          to_ack.push_back(&link);
        }
        if (body != nullptr) forward(link, envelope, *body);
        return;
      case evr::MessageKind::Events:
        if (envelope.flags == 0) return;
        link.rx_seq = envelope.seq + envelope.flags - 1;
        if (!link.ack_pending) {
          link.ack_pending = true;
          to_ack.push_back(&link);
        }
        if (body != nullptr) forwardBatch(link, envelope.flags, *body);
        return;
      case evr::MessageKind::Heartbeat:
        if (send(link, control(evr::MessageKind::Heartbeat, link.rx_seq), nullptr)) link.acked = link.rx_seq;
        return;
      case evr::MessageKind::Bye:
        by_routing_id_.erase(known);
        link.routing_id.clear();
        return;
      default:
        return;  // ACK needs nothing (nothing is resent from here); the rest is not sent by containers
    }
  }

  void welcome(const std::string& routing_id, zmq::message_t* body) {
    std::string why;
    const auto hello = body ? evr::decodeHello(evr::bytesOf(*body), why) : std::nullopt;
    if (!hello) return;
    Link& link = linkNamed(hello->container);
    if (link.routing_id != routing_id || link.client_instance != hello->client_instance) {
      if (!link.routing_id.empty()) by_routing_id_.erase(link.routing_id);
      link.routing_id = routing_id;
      link.client_instance = hello->client_instance;
      link.rx_seq = hello->base_seq;
      link.tx_seq = 0;
      link.acked = link.rx_seq;
      by_routing_id_[routing_id] = &link;
    }
    evr::WelcomeInfo info;
    info.protocol_version = evr::kProtocolVersion;
    info.daemon_instance = instance_;
    info.ack_seq = link.rx_seq;
    info.heartbeat_ms = kHeartbeatMs;
    info.max_message_size = kMaxMessageSize;
    info.daemon_version = "bare-relay";
    zmq::message_t welcome_body = evr::wordsMessage(evr::encodeWelcome(info));
    evr::Envelope envelope = control(evr::MessageKind::Welcome, link.rx_seq);
    envelope.seq = link.tx_seq;
    send(link, envelope, &welcome_body);
  }

  void forward(const Link& source, const evr::Envelope& received, zmq::message_t& body) {
    for (Link* target : source.targets) {
      evr::Envelope envelope;
      envelope.kind = evr::MessageKind::Event;
      envelope.hops = static_cast<std::uint8_t>(received.hops + 1);
      envelope.event_type = received.event_type;
      envelope.seq = target->tx_seq + 1;
      envelope.ack = target->rx_seq;
      zmq::message_t copy;
      copy.copy(body);  // shares the received bytes
      if (send(*target, envelope, &copy)) {
        ++target->tx_seq;
        ++forwarded_;
      } else {
        ++dropped_;
      }
    }
  }

  void forwardBatch(const Link& source, std::uint16_t count, zmq::message_t& body) {
    for (Link* target : source.targets) {
      evr::Envelope envelope;
      envelope.kind = evr::MessageKind::Events;
      envelope.flags = count;
      envelope.seq = target->tx_seq + 1;
      envelope.ack = target->rx_seq;
      zmq::message_t copy;
      copy.copy(body);  // shares the received bytes
      if (send(*target, envelope, &copy)) {
        target->tx_seq += count;
        forwarded_ += count;
      } else {
        dropped_ += count;
      }
    }
  }

  // Blocks while the target's pipe is full (up to the send timeout). False when not sent.
  bool send(Link& link, const evr::Envelope& envelope, zmq::message_t* body) {
    if (link.routing_id.empty()) return false;
    zmq::message_t id(link.routing_id.data(), link.routing_id.size());
    try {
      if (!socket_.send(id, zmq::send_flags::sndmore)) return false;
    } catch (const zmq::error_t& e) {
      if (e.num() != EHOSTUNREACH && e.num() != EINTR) throw;
      return false;  // gone (or we are stopping)
    }
    auto head = evr::envelopeMessage(envelope);
    (void)socket_.send(head, body ? zmq::send_flags::sndmore : zmq::send_flags::none);
    if (body != nullptr) (void)socket_.send(*body, zmq::send_flags::none);
    return true;
  }

  zmq::socket_t socket_;
  std::uint64_t instance_;
  std::unordered_map<std::string, Link> links_;  // node-based: Link* stay valid as it grows
  std::unordered_map<std::string, Link*> by_routing_id_;
  std::uint64_t forwarded_ = 0;
  std::uint64_t dropped_ = 0;
};

// "pub=sub1,sub2" -> {"pub", {"sub1", "sub2"}}
std::pair<std::string, std::vector<std::string>> parseRoute(const std::string& text) {
  const auto eq = text.find('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 == text.size()) {
    throw CLI::ValidationError("--route", "expected SOURCE=TARGET[,TARGET...], got '" + text + "'");
  }
  std::vector<std::string> targets;
  std::size_t start = eq + 1;
  while (start <= text.size()) {
    const auto comma = std::min(text.find(',', start), text.size());
    if (comma > start) targets.push_back(text.substr(start, comma - start));
    start = comma + 1;
  }
  return {text.substr(0, eq), targets};
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"evr_bare_relay: the evrouter link protocol with a fixed forwarding table and no routing work"};
  std::string endpoint;
  std::vector<std::string> route_texts;
  app.add_option("--endpoint", endpoint, "ZeroMQ endpoint to bind (ipc:// or tcp://)")->required();
  app.add_option("--route", route_texts, "SOURCE=TARGET[,TARGET...]: where SOURCE's events go")->required();
  CLI11_PARSE(app, argc, argv);

  struct sigaction action {};
  action.sa_handler = [](int) { g_stop.store(true); };
  ::sigaction(SIGTERM, &action, nullptr);
  ::sigaction(SIGINT, &action, nullptr);
  evr::keepFreedHeap();  // as evrouterd does (evr/heap.hpp): the ratio is the routing work alone
  evr::useOneArena();

  try {
    std::vector<std::pair<std::string, std::vector<std::string>>> routes;
    for (const auto& text : route_texts) routes.push_back(parseRoute(text));
    zmq::context_t context(1);
    BareRelay relay(context, endpoint, routes);
    std::cout << "ready" << std::endl;
    relay.run();
    std::cerr << "bare relay: forwarded=" << relay.forwarded() << " dropped=" << relay.dropped() << '\n';
    return 0;
  } catch (const CLI::Error& e) {
    return app.exit(e);
  } catch (const std::exception& e) {
    std::cerr << "bare relay: " << e.what() << '\n';
    return 1;
  }
}
