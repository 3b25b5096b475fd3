#include "transport/relay_loop.hpp"

#include <spdlog/spdlog.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <array>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <random>
#include <stdexcept>

#include <capnp/serialize.h>

#include "evr/framing.hpp"
#include "evr/frames.hpp"
#include "evr/curve_keys.hpp"
#include "evr/link_messages.hpp"
#include "security/zap_handler.hpp"
#include "transport/zmq_retry.hpp"

namespace evr::transport {
namespace {

// Messages handled per wake-up before acks, backlog and timers get a turn.
constexpr int kReceiveBurst = 4096;
// How often a backlogged queue is retried (a ROUTER cannot say which peer became writable).
constexpr std::chrono::milliseconds kBacklogRetry{1};
// Control socket and tap.
constexpr std::size_t kMaxSidePollers = 4;
// A source is acked at the end of a burst once this many of its events are unacked; otherwise on
// the timer or when it asks (docs/protocol.md, "Sequence numbers and acks").
constexpr std::uint64_t kAckBatch = 1024;
// A received batch joins what is batched for its target earlier in the same burst (a copy of both
// into one message) while the two come to no more than this; a larger one goes on as it came,
// after it (RelayLoop::forwardBatch).
constexpr std::size_t kJoinBytes = kBatchTargetBytes / 8;
// Messages a pipe holds (high-water marks count messages; a message is a batch of up to
// kBatchTargetBytes, or one event of up to router.max_message_size). To a container: what the pipe
// holds was sent, so it is in the replay buffer, which router.replay_limit and replay_bytes_limit
// bound; the mark only decides when events wait in the peer's queue instead. It was 1,000 while a
// queued event was copied into a new batch when it left (docs/performance.md, "A lagging
// consumer's events stay in the pipe"); a batch now waits in the queue whole and leaves as it
// came, and 100 holds less in flight ("A queued batch is one entry, and leaves as it came").
// From a container: what its pipe holds is bounded by nothing else, so the mark stays small.
constexpr int kSendHighWaterMark = 100;
constexpr int kReceiveHighWaterMark = 100;
// A peer silent for this many heartbeat intervals is taken as gone (its queue stays).
constexpr int kMissedHeartbeats = 3;
// log_limiter_ keys: one per drop reason, then these.
constexpr std::size_t kSeqSkipLogKey = static_cast<std::size_t>(stats::DropReason::Count);
constexpr std::size_t kHandlerErrorLogKey = kSeqSkipLogKey + 1;
constexpr std::size_t kJournalErrorLogKey = kSeqSkipLogKey + 2;
constexpr std::size_t kNotAuthorizedLogKey = kSeqSkipLogKey + 3;
constexpr std::size_t kOverloadedLogKey = kSeqSkipLogKey + 4;
constexpr std::size_t kRateLimitLogKey = kSeqSkipLogKey + 5;
// While a source waits for its rate limit, the loop wakes this often to pay its events from
// the refilled bucket (and ack them), even if nothing arrives.
constexpr std::chrono::milliseconds kRateRetry{5};

std::uint64_t randomInstance() {
  std::random_device device;
  return (static_cast<std::uint64_t>(device()) << 32) ^ device() ^ 1u;  // never 0
}

// True when something accepts connections on the unix socket at `path` (a live daemon).
bool unixSocketIsServed(const std::string& path) {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (path.size() >= sizeof(address.sun_path)) {
    ::close(fd);
    return false;
  }
  std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
  const bool served = ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0;
  ::close(fd);
  return served;
}

std::string peerLabel(const Peer& peer) { return "'" + peer.name + "'"; }

std::uint64_t nanosecondsSince(std::chrono::steady_clock::time_point start) {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                        std::chrono::steady_clock::now() - start)
                                        .count());
}

}  // namespace

RelayLoop::RelayLoop(zmq::context_t& context, const config::RouterSettings& settings,
                     std::vector<std::string> endpoints)
    : socket_(context, zmq::socket_type::router),
      settings_(settings),
      endpoints_(std::move(endpoints)),
      instance_(randomInstance()),
      table_(std::make_shared<routing::RoutingTable>()) {
  // Report unroutable peers instead of dropping silently, and never block the loop.
  socket_.set(zmq::sockopt::router_mandatory, 1);
  // Past the send mark, events go to the peer's queue, which router.queue_limit bounds.
  socket_.set(zmq::sockopt::sndhwm, kSendHighWaterMark);
  socket_.set(zmq::sockopt::rcvhwm, kReceiveHighWaterMark);
  socket_.set(zmq::sockopt::linger, 0);
  // A hard cap well above the configured limit: frames between the two are dropped and answered
  // with an error by the loop; beyond it libzmq closes the connection before reading the frame.
  const std::int64_t hard_cap = std::int64_t{settings_.max_message_size} * 2 + 65536;
  socket_.set(zmq::sockopt::maxmsgsize, hard_cap);
}

void RelayLoop::bind() {
  for (auto& endpoint : endpoints_) {
    if (endpoint.rfind("ipc://", 0) == 0) {
      const std::string path = endpoint.substr(6);
      if (!path.empty() && path[0] != '@' && std::filesystem::exists(path)) {
        if (unixSocketIsServed(path)) {
          throw std::runtime_error("cannot listen on " + endpoint +
                                   ": another process (a running evrouterd?) serves it");
        }
        std::filesystem::remove(path);  // stale socket file of a daemon that died
      }
    }
    try {
      socket_.bind(endpoint);
    } catch (const zmq::error_t& e) {
      throw std::runtime_error("cannot listen on " + endpoint + ": " + e.what());
    }
    // Report what was actually bound (tcp port 0 or '*' becomes a real port).
    endpoint = socket_.get(zmq::sockopt::last_endpoint);
    spdlog::info("listening on {}", endpoint);
  }
}

void RelayLoop::installTable(std::shared_ptr<const routing::RoutingTable> table) {
  table_ = std::move(table);
  ++generation_;
  adapter_matches_.assign(table_->adapters().size(), 0);
  adapter_unmatched_.assign(table_->adapters().size(), 0);
  // Routes are the table's: their counters start again with each table.
  route_counts_.assign(table_->containers().size() * table_->containers().size(), 0);
  rebindTable();
  refreshInputs();
}

void RelayLoop::rebindTable() {
  delivered_stamp_.assign(table_->containers().size(), 0);
  peer_of_container_.clear();
  for (const auto& name : table_->containers()) peer_of_container_.push_back(peers_.ensure(name));
  container_of_peer_.assign(peers_.size(), -1);
  for (std::size_t c = 0; c < peer_of_container_.size(); ++c) {
    container_of_peer_[peer_of_container_[c]] = static_cast<std::int32_t>(c);
  }
  for (PeerId id = 0; id < peers_.size(); ++id) {
    const std::int32_t c = container_of_peer_[id];
    bool sheds = false;
    for (std::uint8_t type = 0; c >= 0 && type < kEventTypeCount && !sheds; ++type) {
      sheds = table_->policy(static_cast<routing::ContainerId>(c), type) != DeliveryPolicy::Lossless;
    }
    peers_[id].sheds = sheds;
  }
}

std::chrono::milliseconds RelayLoop::timerInterval() const {
  return std::chrono::milliseconds(std::max<std::uint32_t>(settings_.heartbeat_ms / 4, 10));
}

void RelayLoop::run(int signal_fd) {
  spdlog::info("evrouterd instance {:016x} routing {} containers through {} adapters", instance_,
               table_->containers().size(), table_->adapters().size());
  while (!stop_requested_.load(std::memory_order_acquire)) {
    if (!turn(signal_fd, pollTimeout())) break;
  }
  drainForShutdown();
}

bool RelayLoop::turn(int signal_fd, std::chrono::milliseconds timeout) {
  // The side sockets go in as their ZMQ_FDs, plain descriptors: given as ZeroMQ sockets, zmq_poll
  // asks each for ZMQ_EVENTS before and after it waits, and libzmq answers that with a poll of the
  // socket's mailbox and a getpid, eight system calls per turn for the three side sockets (about a
  // microsecond each on a VM), whether or not they ever have a message. A ZMQ_FD signals commands
  // that arrived since the socket last processed its own, so a message can wait unsignalled after
  // the loop sent on that socket (the tap publishes); the timer serves every side socket anyway.
  std::array<zmq::pollitem_t, 2 + kMaxSidePollers> items{};
  items[0] = {socket_.handle(), 0, ZMQ_POLLIN, 0};
  items[1] = {nullptr, signal_fd, ZMQ_POLLIN, 0};
  bool pending = false;
  for (std::size_t i = 0; i < side_pollers_.size(); ++i) {
    items[2 + i] = {nullptr, side_pollers_[i].fd, ZMQ_POLLIN, 0};
    pending = pending || side_pollers_[i].pending;
  }
  (void)pollUnlessInterrupted(items.data(), 2 + side_pollers_.size(),
                              pending ? std::chrono::milliseconds(0) : timeout);
  serveSidePollers(items.data() + 2, false);
  if (signal_fd >= 0 && (items[1].revents & ZMQ_POLLIN)) {
    signalfd_siginfo info{};
    if (::read(signal_fd, &info, sizeof(info)) == sizeof(info)) {
      if (info.ssi_signo == SIGTERM || info.ssi_signo == SIGINT) {
        spdlog::info("{} received: stopping", ::strsignal(static_cast<int>(info.ssi_signo)));
        return false;
      }
      if (info.ssi_signo == SIGHUP && on_reload_) on_reload_();
    }
  }
  if (items[0].revents & ZMQ_POLLIN) receiveBurst();
  syncJournal();  // before anything carries an ack of what was journaled in this burst
  flushAllOut();
  if (!backlogged_.empty()) flushBacklog();
  releaseHeldAcks();
  releaseRateCaps();
  sendAcks();
  if (now_() - last_timer_ >= timerInterval()) onTimer();
  return true;
}

void RelayLoop::serveSidePollers(const zmq::pollitem_t* items, bool all) {
  for (std::size_t i = 0; i < side_pollers_.size(); ++i) {
    SidePoller& side = side_pollers_[i];
    if (!all && !side.pending && (items[i].revents & ZMQ_POLLIN) == 0) continue;
    side.serve();
    // Asking processes the socket's commands, so its descriptor signals the next message.
    side.pending = (side.socket->get(zmq::sockopt::events) & ZMQ_POLLIN) != 0;
  }
}

std::chrono::milliseconds RelayLoop::pollTimeout() const {
  if (!backlogged_.empty()) return kBacklogRetry;
  if (!rate_capped_.empty()) return std::min(kRateRetry, timerInterval());
  return timerInterval();
}

void RelayLoop::receiveBurst() {
  for (int i = 0; i < kReceiveBurst; ++i) {
    zmq::message_t routing_id;
    if (!recvRetrying(socket_, routing_id, zmq::recv_flags::dontwait)) return;
    // The rest of a multipart message is already here once its first frame is.
    zmq::message_t head;
    std::optional<zmq::message_t> body;
    std::size_t extra_frames = 0;
    if (routing_id.more()) (void)recvRetrying(socket_, head, zmq::recv_flags::none);
    if (head.more()) {
      body.emplace();
      (void)recvRetrying(socket_, *body, zmq::recv_flags::none);
      bool more = body->more();
      while (more) {
        zmq::message_t extra;
        (void)recvRetrying(socket_, extra, zmq::recv_flags::none);
        more = extra.more();
        ++extra_frames;
      }
    }
    if (extra_frames > 0) {
      const auto peer = peers_.findByRoutingId(routing_id.to_string_view());
      drop(stats::DropReason::Malformed, peer.value_or(kNoPeer), std::nullopt,
           "message with " + std::to_string(extra_frames + 3) + " frames (expected at most 3)");
      continue;
    }
    try {
      handleMessage(routing_id, head, body ? &*body : nullptr);
    } catch (const std::exception& e) {
      // Nothing from outside may stop the loop; this is a bug or a resource failure: count it and
      // say so, at a limited rate like the drops (a failure that repeats per message would
      // otherwise flood the log).
      ++totals_.handler_errors;
      std::uint64_t suppressed = 0;
      if (log_limiter_.allow(kHandlerErrorLogKey, suppressed)) {
        spdlog::error(
            "error while handling a message: {} [{} so far; {} like it not logged in the "
            "last second]",
            e.what(), totals_.handler_errors, suppressed);
      }
    }
  }
}

void RelayLoop::handleMessage(zmq::message_t& routing_id, zmq::message_t& head,
                              zmq::message_t* body) {
  const DecodedEnvelope decoded = decodeEnvelope(bytesOf(head));
  const auto known = peers_.findByRoutingId(routing_id.to_string_view());
  if (!decoded.ok()) {
    if (decoded.error == EnvelopeError::VersionMismatch) {
      sendError(routing_id.to_string(), schema::ErrorCode::VERSION_MISMATCH,
                "protocol version " + std::to_string(decoded.version) + " is not spoken here; evrouterd " +
                    EVR_VERSION + " speaks version " + std::to_string(kProtocolVersion));
    }
    drop(stats::DropReason::Malformed, known.value_or(kNoPeer), std::nullopt,
         std::string(envelopeErrorName(decoded.error)));
    return;
  }
  const Envelope& envelope = decoded.envelope;
  if (envelope.kind == MessageKind::Hello) {
    handleHello(routing_id, body, access_ ? security::userIdOf(head) : std::string_view());
    return;
  }
  if (!known) {
    const bool events = envelope.kind == MessageKind::Event || envelope.kind == MessageKind::Events;
    if (access_ && refuseRevoked(head, routing_id.to_string(), envelope.seq)) {
      if (events) {
        drop(stats::DropReason::Denied, kNoPeer, std::nullopt,
             std::string(messageKindName(envelope.kind)) + " from a connection whose key was revoked",
             envelope.kind == MessageKind::Event ? 1 : std::max<std::uint16_t>(envelope.flags, 1));
      }
      return;
    }
    if (envelope.kind != MessageKind::Bye) {
      sendError(routing_id.to_string(), schema::ErrorCode::NOT_JOINED,
                "say HELLO first (evrouterd restarted or dropped this connection)", envelope.seq);
    }
    if (envelope.kind == MessageKind::Event || envelope.kind == MessageKind::Events) {
      const std::uint64_t events = envelope.kind == MessageKind::Event ? 1 : std::max<std::uint16_t>(envelope.flags, 1);
      drop(stats::DropReason::NotJoined, kNoPeer, std::nullopt,
           std::string(messageKindName(envelope.kind)) + " before HELLO", events);
    }
    return;
  }
  Peer& peer = peers_[*known];
  peer.last_heard = now_();
  if (envelope.ack > peer.tx_acked) takeAck(*known, envelope.ack);
  if (stopping_ && (envelope.kind == MessageKind::Event || envelope.kind == MessageKind::Events)) {
    return;  // shutting down: not taken, so not acked; the sender resends it to the next daemon
  }
  switch (envelope.kind) {
    case MessageKind::Event: handleEvent(*known, envelope, body); return;
    case MessageKind::Events: handleEvents(*known, envelope, body); return;
    case MessageKind::Heartbeat: {
      Envelope reply;
      reply.kind = MessageKind::Heartbeat;
      reply.ack = peer.ackable();
      if (sendTo(peer, reply, nullptr) == SendResult::Sent) peer.acked_rx_seq = reply.ack;
      return;
    }
    case MessageKind::Ack: return;
    case MessageKind::Bye: disconnect(*known, "left"); return;
    case MessageKind::Hello:
    case MessageKind::Welcome:
    case MessageKind::Error:
    case MessageKind::Inputs:
      drop(stats::DropReason::Malformed, *known, std::nullopt,
           std::string(messageKindName(envelope.kind)) + " is not sent by containers");
      return;
  }
}

void RelayLoop::handleHello(zmq::message_t& routing_id_frame, zmq::message_t* body, std::string_view key) {
  const std::string routing_id = routing_id_frame.to_string();
  if (stopping_) {
    sendError(routing_id, schema::ErrorCode::SHUTTING_DOWN, "evrouterd is shutting down");
    return;
  }
  std::string why;
  const auto hello = body ? decodeHello(bytesOf(*body), why) : std::nullopt;
  if (!hello) {
    if (!body) why = "HELLO without a body";
    sendError(routing_id, schema::ErrorCode::MALFORMED, "unreadable HELLO: " + why);
    drop(stats::DropReason::Malformed, kNoPeer, std::nullopt, "unreadable HELLO: " + why);
    return;
  }
  if (hello->protocol_version != kProtocolVersion) {
    sendError(routing_id, schema::ErrorCode::VERSION_MISMATCH,
              "protocol version " + std::to_string(hello->protocol_version) +
                  " is not spoken here; evrouterd " + EVR_VERSION + " speaks version " +
                  std::to_string(kProtocolVersion));
    return;
  }
  if (const std::string bad = checkContainerName(hello->container); !bad.empty()) {
    sendError(routing_id, schema::ErrorCode::INVALID_NAME, bad);
    return;
  }
  if (access_ && !access_->mayJoin(key, hello->container)) {
    // The name stays with whoever holds it (or with nobody); this connection gets nothing.
    ++auth_.refused[static_cast<std::size_t>(stats::AuthRefusal::NameNotHeld)];
    sendError(routing_id, schema::ErrorCode::NOT_AUTHORIZED,
              "this key may not join as '" + hello->container + "' (router.security.clients)");
    std::uint64_t suppressed = 0;
    if (log_limiter_.allow(kNotAuthorizedLogKey, suppressed)) {
      spdlog::warn("refused HELLO as '{}' (pid {}) from key {}: the key does not hold the name [{} "
                   "like it not logged in the last second]",
                   hello->container, hello->pid, keyFingerprint(key), suppressed);
    }
    return;
  }
  if (!admitHello(routing_id, hello->container)) return;
  // The same connection under another name: the old name leaves.
  if (const auto previous = peers_.findByRoutingId(routing_id);
      previous && peers_[*previous].name != hello->container) {
    disconnect(*previous, "rejoined under another name");
  }
  const std::size_t known_peers = peers_.size();
  const PeerId id = peers_.ensure(hello->container);
  if (peers_.size() != known_peers) container_of_peer_.resize(peers_.size(), -1);
  Peer& peer = peers_[id];
  const auto now = now_();
  bool joined_anew = false;
  const bool same_connection = peer.connected && peer.routing_id == routing_id &&
                               peer.client_instance == hello->client_instance;
  if (peer.connected && peer.routing_id != routing_id) {
    // Another connection holds the name. It keeps it while it is alive: heard from recently and
    // still reachable (a probe to a closed connection fails at once with EHOSTUNREACH).
    Envelope probe;
    probe.kind = MessageKind::Heartbeat;
    probe.ack = peer.ackable();
    const bool recent = now - peer.last_heard < kMissedHeartbeats * std::chrono::milliseconds(settings_.heartbeat_ms);
    if (recent && sendTo(peer, probe, nullptr) != SendResult::Gone) {
      sendError(routing_id, schema::ErrorCode::NAME_IN_USE,
                "container name '" + hello->container + "' is held by another live connection");
      spdlog::warn("refused a second connection for container '{}' (pid {}): name in use",
                   hello->container, hello->pid);
      return;
    }
    disconnect(id, "replaced by a new connection");
  }
  if (!same_connection) {
    if (peer.client_instance != hello->client_instance) {
      // A new client process (or a new Connection): its link seq starts after base_seq.
      peer.last_rx_seq = hello->base_seq;
      peer.client_instance = hello->client_instance;
    } else {
      // The same client rejoining: keep what we took so resends are recognised as duplicates.
      peer.last_rx_seq = std::max(peer.last_rx_seq, hello->base_seq);
    }
    peer.ack_hold.reset();  // WELCOME acks everything taken
    peer.rate_cap.reset();
    peer.acked_rx_seq = peer.last_rx_seq;
    // Our link seq toward the name goes on; what it has not acked is sent again on this connection.
    peer.resend_from = 0;
    peer.key = std::string(key);
    peers_.attach(id, routing_id);
    peer.inputs_sent.reset();
    // Its sources learn whether it wants their watermarks (INPUTS' wantWatermarks) once WELCOME
    // is out.
    peer.ordered = hello->ordered;
    joined_anew = true;
    applyRateLimit(id);
    ++peer.counters.joins;
    const bool routed = container_of_peer_[id] >= 0;
    spdlog::info("container '{}' joined (pid {}, {} events to send again, {} queued for it){}",
                 peer.name, hello->pid, peer.replayEvents(), peer.queue.size(),
                 routed ? "" : "; no adapter names it, so its events are unrouted");
  }
  peer.last_heard = now;
  WelcomeInfo welcome;
  welcome.protocol_version = kProtocolVersion;
  welcome.daemon_instance = instance_;
  welcome.ack_seq = peer.last_rx_seq;
  welcome.heartbeat_ms = settings_.heartbeat_ms;
  welcome.max_message_size = settings_.max_message_size;
  welcome.daemon_version = EVR_VERSION;
  welcome.replay_limit = settings_.replay_limit;
  zmq::message_t welcome_body = wordsMessage(encodeWelcome(welcome));
  Envelope envelope;
  envelope.kind = MessageKind::Welcome;
  envelope.seq = peer.tx_acked;  // the container resumes right after what its name has acked
  envelope.ack = peer.last_rx_seq;
  if (sendTo(peer, envelope, &welcome_body) == SendResult::Gone) {
    disconnect(id, "gone before WELCOME");
    return;
  }
  // INPUTS before any event, so an ordered container knows whom to wait for.
  sendInputs(id, /*force=*/!same_connection);
  if (joined_anew) refreshInputs();
  flushQueue(id);
}

void RelayLoop::sendInputs(PeerId id, bool force) {
  Peer& peer = peers_[id];
  if (!peer.connected) return;
  InputsInfo inputs;
  const std::int32_t container = id < container_of_peer_.size() ? container_of_peer_[id] : -1;
  if (container >= 0) {
    const auto self = static_cast<routing::ContainerId>(container);
    for (const auto& input : table_->inputs(self)) {
      inputs.inputs.push_back(InputInfo{table_->name(input.source), input.feedback, INT64_MIN});
    }
    // Wanted by an ordered target, and by one that has never joined: nobody knows yet whether
    // it will be ordered, and a source that ran to its end before it came must have said so.
    for (const auto target : table_->outputs(self)) {
      const Peer& reader = peers_[peer_of_container_[target]];
      if (reader.ordered || reader.counters.joins == 0) inputs.want_watermarks = true;
    }
  }
  if (!force && peer.inputs_sent && *peer.inputs_sent == inputs) return;
  peer.inputs_sent = inputs;
  // What a process under this name had handled of each input, for a process taking over in the
  // same run: only while that input's process (the instance the watermark came from) is still
  // connected. A watermark of a process that has left belongs to an earlier run, or nobody can
  // tell; the new process then waits for the input's next word.
  for (auto& input : inputs.inputs) {
    for (const auto& acked : peer.acked_watermarks) {
      if (acked.source != input.name) continue;
      const auto source = peers_.findByName(acked.source);
      if (source && peers_[*source].connected && peers_[*source].client_instance == acked.instance) {
        input.watermark = acked.time;
      }
    }
  }
  zmq::message_t body = wordsMessage(encodeInputs(inputs));
  Envelope envelope;
  envelope.kind = MessageKind::Inputs;
  envelope.ack = peer.ackable();
  if (sendTo(peer, envelope, &body) == SendResult::Gone) disconnect(id, "connection closed");
}

void RelayLoop::refreshInputs() {
  for (PeerId id = 0; id < peers_.size(); ++id) {
    if (peers_[id].connected) sendInputs(id, /*force=*/false);
  }
}

void RelayLoop::acceptWatermark(PeerId source, std::span<const std::byte> record) {
  Peer& peer = peers_[source];
  std::string why;
  const auto watermark = checkFraming(record) == FramingError::None ? decodeWatermark(record, why) : std::nullopt;
  if (!watermark) {
    drop(stats::DropReason::Malformed, source, std::nullopt,
         "unreadable watermark record" + (why.empty() ? std::string() : ": " + why));
    return;
  }
  const std::int32_t container = container_of_peer_[source];
  if (container < 0) return;  // routes to nobody
  const auto& outputs = table_->outputs(static_cast<routing::ContainerId>(container));
  if (outputs.empty()) return;
  // Rebuilt under the peer's own name: a container speaks for itself only.
  const zmq::message_t rebuilt = wordsMessage(encodeWatermark(peer.name, watermark->time, peer.client_instance));
  const std::span<const std::byte> body = bytesOf(rebuilt);
  for (const auto target : outputs) {
    Peer& reader = peers_[peer_of_container_[target]];
    if (sendsDirect(reader) && reader.held_watermarks.empty()) {
      deliver(target, kWatermarkType, 0, body, 0);  // behind this burst's events, in its batch
      continue;
    }
    holdWatermark(reader, {peer.name, watermark->time, peer.client_instance});
    sendHeldWatermarks(peer_of_container_[target]);  // goes now if nothing is ahead of it any more
  }
}

void RelayLoop::holdWatermark(Peer& reader, WatermarkInfo watermark) {
  auto held = std::find_if(reader.held_watermarks.begin(), reader.held_watermarks.end(),
                           [&](const WatermarkInfo& w) { return w.source == watermark.source; });
  if (held == reader.held_watermarks.end()) {
    reader.held_watermarks.push_back(std::move(watermark));
  } else if (held->instance != watermark.instance || held->time < watermark.time) {
    // A new process of the source speaks for itself; the same one only moves forward.
    *held = std::move(watermark);
  }
}

RelayLoop::SendResult RelayLoop::sendBatch(Peer& peer, zmq::message_t batch, std::size_t count,
                                           std::uint64_t journal_index) {
  zmq::message_t kept;
  kept.copy(batch);  // shares the buffer
  Envelope envelope;
  envelope.kind = MessageKind::Events;
  envelope.flags = static_cast<std::uint16_t>(count);
  envelope.seq = peer.tx_seq + 1;
  envelope.ack = peer.ackable();
  const SendResult result = sendTo(peer, envelope, &batch);
  if (result != SendResult::Sent) return result;
  keepForReplay(peer, envelope.seq, count, kept, journal_index);
  peer.tx_seq += count;
  peer.acked_rx_seq = envelope.ack;  // the envelope carried the ack
  return result;
}

void RelayLoop::sendHeldWatermarks(PeerId id) {
  Peer& peer = peers_[id];
  if (peer.held_watermarks.empty() || !sendsDirect(peer)) return;
  flushOut(id);  // what this burst batched for it goes first
  BatchWriter writer;
  for (const auto& held : peer.held_watermarks) {
    const zmq::message_t record = wordsMessage(encodeWatermark(held.source, held.time, held.instance));
    writer.append(bytesOf(record), kWatermarkType, 0);
  }
  switch (sendBatch(peer, writer, 0)) {
    case SendResult::Sent: peer.held_watermarks.clear(); return;
    case SendResult::WouldBlock:
      if (!peer.backlogged) {
        peer.backlogged = true;
        backlogged_.push_back(id);
      }
      return;
    case SendResult::Gone: disconnect(id, "connection closed"); return;
  }
}

void RelayLoop::noteAckedWatermarks(Peer& peer, const zmq::message_t& batch) {
  BatchReader reader(bytesOf(batch));
  BatchRecord record;
  while (reader.next(record)) {
    if (record.event_type != kWatermarkType) continue;
    std::string why;
    const auto watermark = decodeWatermark(record.event, why);
    if (!watermark) continue;
    auto it = std::find_if(peer.acked_watermarks.begin(), peer.acked_watermarks.end(),
                           [&](const WatermarkInfo& entry) { return entry.source == watermark->source; });
    if (it == peer.acked_watermarks.end()) {
      peer.acked_watermarks.push_back(*watermark);
    } else if (it->instance != watermark->instance || it->time < watermark->time) {
      *it = *watermark;
    }
  }
}

bool RelayLoop::takeSeq(PeerId source, std::uint64_t seq, bool event) {
  Peer& peer = peers_[source];
  if (!peer.ack_pending) {
    peer.ack_pending = true;
    ack_pending_.push_back(source);
  }
  if (seq <= peer.last_rx_seq) {
    // A resend of what we already took (its ack was lost): ack again, route nothing.
    drop(stats::DropReason::Duplicate, source, std::nullopt,
         "link seq " + std::to_string(seq) + " already taken");
    peer.ack_now = true;
    return false;
  }
  if (seq != peer.last_rx_seq + 1) {
    std::uint64_t suppressed = 0;
    if (log_limiter_.allow(kSeqSkipLogKey, suppressed)) {
      spdlog::warn("link from '{}' skipped from seq {} to {} ({} more suppressed)", peer.name,
                   peer.last_rx_seq, seq, suppressed);
    }
  }
  peer.last_rx_seq = seq;
  if (!event) return true;
  ++totals_.events_in;
  ++peer.counters.events_in;
  if (!peer.rate.unlimited()) chargeRate(source, seq);
  return true;
}

void RelayLoop::handleEvent(PeerId source, const Envelope& envelope, zmq::message_t* body) {
  // [metrics] evrouter_route_seconds: real time, whatever clock the timers read
  const auto entered = std::chrono::steady_clock::now();
  if (envelope.event_type == kWatermarkType) {
    if (takeSeq(source, envelope.seq, /*event=*/false) && body != nullptr) acceptWatermark(source, bytesOf(*body));
    return;
  }
  if (!takeSeq(source, envelope.seq)) return;
  if (body == nullptr) {
    drop(stats::DropReason::Malformed, source, std::nullopt, "EVENT without an event frame");
    return;
  }
  acceptEvent(source, envelope.seq, envelope.event_type, envelope.hops, bytesOf(*body));
  totals_.latency.record(nanosecondsSince(entered));
}

void RelayLoop::handleEvents(PeerId source, const Envelope& envelope, zmq::message_t* body) {
  // [metrics] evrouter_route_seconds, averaged over the batch: real time
  const auto entered = std::chrono::steady_clock::now();
  const std::size_t count = envelope.flags;
  const auto raw = body ? bytesOf(*body) : std::span<const std::byte>();
  const BatchError error = body == nullptr ? BatchError::Truncated : checkBatch(raw, count);
  if (count == 0 || error != BatchError::None) {
    // The seqs are the envelope's: take them all, so the sender is acked and does not resend.
    std::uint64_t taken = 0;
    for (std::size_t i = 0; i < count; ++i) taken += takeSeq(source, envelope.seq + i) ? 1 : 0;
    drop(stats::DropReason::Malformed, source, std::nullopt,
         count == 0 ? std::string("EVENTS with a count of 0") : std::string(batchErrorName(error)),
         std::max<std::uint64_t>(taken, 1));
    return;
  }
  if (forwardBatch(source, envelope, *body)) {
    totals_.latency.record(nanosecondsSince(entered) / count, count);
    return;
  }
  BatchReader reader(raw);
  BatchRecord record;
  std::uint64_t seq = envelope.seq;
  while (reader.next(record)) {
    if (record.event_type == kWatermarkType) {
      if (takeSeq(source, seq, /*event=*/false)) acceptWatermark(source, record.event);
    } else if (takeSeq(source, seq)) {
      acceptEvent(source, seq, record.event_type, record.hops, record.event);
    }
    ++seq;
  }
  const auto spent = nanosecondsSince(entered);
  totals_.latency.record(spent / count, count);
}

bool RelayLoop::forwardBatch(PeerId source, const Envelope& envelope, zmq::message_t& body) {
  const std::size_t count = envelope.flags;
  Peer& peer = peers_[source];
  const std::int32_t container = container_of_peer_[source];
  // A lone event gains nothing: it is copied into whatever else goes to its targets this burst.
  if (count < 2 || container < 0 || envelope.seq != peer.last_rx_seq + 1 || journal_ ||
      !recovered_seqs_.empty() || !peer.rate.unlimited() || (tap_ != nullptr && tap_->active()) ||
      !publishable(peer).isAll()) {
    return false;
  }
  // Every record must pass what acceptEvent checks, and route by the same plain routes.
  const std::span<std::byte> raw(static_cast<std::byte*>(body.data()), body.size());
  const routing::RouteEntry* entry = nullptr;
  std::size_t event_bytes = 0;
  BatchRecord record;
  for (BatchReader reader(raw); reader.next(record);) {
    if (record.event_type == kWatermarkType || !isKnownEventType(record.event_type) ||
        record.hops >= settings_.max_hops || record.event.size() > settings_.max_message_size ||
        checkFraming(record.event) != FramingError::None) {
      return false;
    }
    const routing::RouteEntry& route = table_->route(static_cast<routing::ContainerId>(container), record.event_type);
    if (entry == nullptr) {
      if (route.targets.empty() || !route.transformed.empty() || !route.selective.empty()) return false;
      entry = &route;
    } else if (&route != entry && (route.targets != entry->targets || !route.transformed.empty() ||
                                   !route.selective.empty() || route.adapters != entry->adapters)) {
      return false;
    }
    event_bytes += record.event.size();
  }
  incrementHops(raw);
  // Taken and counted as takeSeq, acceptEvent and routeEvent would, once for the batch.
  peer.last_rx_seq = envelope.seq + count - 1;
  if (!peer.ack_pending) {
    peer.ack_pending = true;
    ack_pending_.push_back(source);
  }
  totals_.events_in += count;
  peer.counters.events_in += count;
  peer.counters.bytes_in += event_bytes;
  for (const auto adapter : entry->adapters) adapter_matches_[adapter] += count;
  const std::size_t route_row = static_cast<std::size_t>(container) * table_->containers().size();
  for (const auto target : entry->targets) {
    route_counts_[route_row + target] += count;
    const PeerId id = peer_of_container_[target];
    Peer& to = peers_[id];
    // What was batched for it earlier in this burst goes first and this body on as it came,
    // unless both are small: then this one is copied in behind it (below), which costs less than
    // a message of its own.
    const bool ahead = to.forward_count != 0 || !to.out.empty();
    const std::size_t batched = to.forward_count != 0 ? to.forward.size() : to.out.bytes();
    if (ahead && !(sendsDirect(to) && batched + body.size() <= kJoinBytes)) flushOut(id);
    if (sendsDirect(to) && to.forward_count == 0 && to.out.empty()) {
      to.forward.copy(body);  // shares the buffer
      to.forward_count = count;
      if (!to.out_listed) {
        to.out_listed = true;
        out_pending_.push_back(id);
      }
      continue;
    }
    // Something is ahead of it in its queue (or it is away): queued, whole when it can be.
    if (!sendsDirect(to) && queueWhole(source, envelope.seq, target, body, count)) continue;
    routing_source_ = source;
    routing_seq_ = envelope.seq;
    for (BatchReader reader(raw); reader.next(record); ++routing_seq_) {
      deliver(target, record.event_type, record.hops, record.event, 0, &body);
    }
    routing_source_ = kNoPeer;
  }
  return true;
}

bool RelayLoop::queueWhole(PeerId source, std::uint64_t seq, routing::ContainerId target,
                           zmq::message_t& body, std::size_t count) {
  const PeerId id = peer_of_container_[target];
  Peer& to = peers_[id];
  // Else event by event: those over the limit are dropped and counted one by one.
  if (!losslessRoom(to, count, body.size())) return false;
  BatchRecord record;
  for (BatchReader reader(bytesOf(body)); reader.next(record);) {
    if (table_->policy(target, record.event_type) != DeliveryPolicy::Lossless) return false;
  }
  enqueue(id, QueuedEvent::batch(body, static_cast<std::uint32_t>(count), 0), DeliveryPolicy::Lossless);
  // As deliver() does: a long queue holds the source back, here from the batch's first event.
  if (to.queue.losslessSize() >= pauseThreshold() || to.queue.losslessBytes() >= pauseBytes()) {
    holdAcks(source, seq);
  }
  return true;
}

bool RelayLoop::losslessRoom(const Peer& peer, std::size_t events, std::size_t bytes) const {
  return peer.queue.losslessSize() + events <= settings_.queue_limit &&
         peer.queue.losslessBytes() + bytes <= settings_.queue_bytes_limit;
}

void RelayLoop::unforward(Peer& target) {
  const zmq::message_t body = std::exchange(target.forward, zmq::message_t());
  target.forward_count = 0;
  // It and the event that follows fit in one batch (deliver() sends it as it is otherwise).
  target.out.reserve(kBatchTargetBytes + kBatchRecordHeader);
  BatchRecord record;
  for (BatchReader reader(bytesOf(body)); reader.next(record);) {
    target.out.append(record.event, record.event_type, record.hops);
  }
}

void RelayLoop::acceptEvent(PeerId source, std::uint64_t seq, std::uint8_t event_type,
                            std::uint8_t hops, std::span<const std::byte> event) {
  Peer& peer = peers_[source];
  peer.counters.bytes_in += event.size();
  if (event.size() > settings_.max_message_size) {
    const std::string what = std::string(eventTypeName(static_cast<EventType>(
                                 isKnownEventType(event_type) ? event_type : 0))) +
                             " event of " + std::to_string(event.size()) +
                             " bytes is over router.max_message_size (" +
                             std::to_string(settings_.max_message_size) + ")";
    sendError(peer.routing_id, schema::ErrorCode::MESSAGE_TOO_LARGE, what, seq);
    drop(stats::DropReason::Oversized, source, std::nullopt, what);
    return;
  }
  if (const FramingError framing = checkFraming(event); framing != FramingError::None) {
    drop(stats::DropReason::Malformed, source, std::nullopt, std::string(framingErrorName(framing)));
    return;
  }
  if (!isKnownEventType(event_type)) {
    drop(stats::DropReason::Malformed, source, std::nullopt,
         "unknown event type " + std::to_string(event_type));
    return;
  }
  if (hops >= settings_.max_hops) {
    drop(stats::DropReason::HopLimit, source, std::nullopt,
         std::string(eventTypeName(static_cast<EventType>(event_type))) +
             " event has been forwarded " + std::to_string(hops) + " times (router.max_hops " +
             std::to_string(settings_.max_hops) + "): is there a routing cycle?");
    return;
  }
  if (!mayPublish(source, seq, event_type, event)) return;
  if (!recovered_seqs_.empty() && journaledBefore(event)) {
    drop(stats::DropReason::Duplicate, source, std::nullopt,
         "journaled before evrouterd restarted (the source resent what it had no ack for)");
    return;
  }
  routing_source_ = source;
  routing_seq_ = seq;
  routeEvent(source, event_type, static_cast<std::uint8_t>(hops + 1), event);
  routing_source_ = kNoPeer;
}

bool RelayLoop::journaledBefore(std::span<const std::byte> event) {
  const auto origin = readOrigin(event);
  if (!origin) return false;
  const auto it = recovered_seqs_.find(origin->source);
  if (it == recovered_seqs_.end()) return false;
  auto& instances = it->second;
  for (auto entry = instances.begin(); entry != instances.end(); ++entry) {
    if (entry->first != origin->instance) continue;
    if (origin->seq <= entry->second) return true;
    instances.erase(entry);  // the source is past what was journaled: no more to check
    if (instances.empty()) recovered_seqs_.erase(it);
    return false;
  }
  return false;
}

const EventTypeSet& RelayLoop::publishable(Peer& peer) {
  if (peer.permissions_generation != permissions_generation_) {
    const auto it = permissions_.find(peer.name);
    peer.may_publish = it == permissions_.end() ? EventTypeSet::all() : it->second;
    peer.permissions_generation = permissions_generation_;
  }
  return peer.may_publish;
}

bool RelayLoop::mayPublish(PeerId source, std::uint64_t seq, std::uint8_t event_type,
                           std::span<const std::byte> event) {
  Peer& peer = peers_[source];
  if (publishable(peer).isAll()) return true;
  const auto type = static_cast<EventType>(event_type);
  std::string why;
  if (!peer.may_publish.contains(type)) {
    why = std::string(eventTypeName(type)) + " is not in router.permissions." + peer.name + ".publish";
  } else {
    // Routing reads the header's type; a restricted source must not label an event it may not
    // publish as one it may (receivers dispatch on the event's own type).
    AlignedWords words(event);
    std::optional<std::uint16_t> own;
    kj::runCatchingExceptions([&]() {
      capnp::FlatArrayMessageReader message(words.words(), peerReaderOptions(event.size()));
      own = static_cast<std::uint16_t>(message.getRoot<schema::Event>().getType());
    });
    if (own && *own == event_type) return true;
    why = own ? std::string("its header says ") + std::string(eventTypeName(type)) + " but the event is " +
                    std::string(eventTypeName(static_cast<EventType>(isKnownEventType(*own) ? *own : 0)))
              : std::string("unreadable event from a container with publish permissions");
  }
  drop(stats::DropReason::Denied, source, std::nullopt, why);
  if (!peer.denied_told.contains(type)) {
    peer.denied_told.add(type);
    sendError(peer.routing_id, schema::ErrorCode::NOT_AUTHORIZED, "not routed: " + why, seq);
  }
  return false;
}

bool RelayLoop::refuseRevoked(const zmq::message_t& head, const std::string& routing_id, std::uint64_t seq) {
  const std::string_view key = security::userIdOf(head);
  if (key.empty() || access_->find(key) != nullptr) return false;
  ++auth_.refused[static_cast<std::size_t>(stats::AuthRefusal::Revoked)];
  sendError(routing_id, schema::ErrorCode::NOT_AUTHORIZED,
            "this connection's key is no longer in router.security.clients", seq);
  return true;
}

void RelayLoop::enableCurve(const std::string& secret_key) {
  security::makeCurveServer(socket_, secret_key, security::kDataDomain);
}

void RelayLoop::setAccess(std::shared_ptr<const security::AccessList> access) {
  access_ = std::move(access);
  if (!access_) return;
  for (PeerId id = 0; id < peers_.size(); ++id) {
    Peer& peer = peers_[id];
    if (!peer.connected || access_->mayJoin(peer.key, peer.name)) continue;
    ++auth_.refused[static_cast<std::size_t>(stats::AuthRefusal::Revoked)];
    sendError(peer.routing_id, schema::ErrorCode::NOT_AUTHORIZED,
              "this key may no longer join as '" + peer.name + "' (router.security changed)");
    spdlog::warn("container '{}': key {} no longer holds the name; its connection is cut", peer.name,
                 keyFingerprint(peer.key));
    disconnect(id, "its key was revoked");
  }
}

void RelayLoop::setPermissions(const std::vector<config::PublishPermission>& permissions) {
  permissions_.clear();
  for (const auto& permission : permissions) {
    permissions_[permission.container.value] = permission.publish.value;
  }
  ++permissions_generation_;
  for (PeerId id = 0; id < peers_.size(); ++id) peers_[id].denied_told = EventTypeSet();
}

std::optional<RelayLoop::Origin> RelayLoop::readOrigin(std::span<const std::byte> event) {
  AlignedWords words(event);
  std::optional<Origin> out;
  kj::runCatchingExceptions([&]() {
    capnp::FlatArrayMessageReader message(words.words(), peerReaderOptions(event.size()));
    const auto root = message.getRoot<schema::Event>();
    const auto source = root.getSource();
    out = Origin{std::string(source.cStr(), source.size()), root.getSourceInstance(), root.getSeq()};
  });
  return out;
}

void RelayLoop::routeEvent(PeerId source, std::uint8_t event_type, std::uint8_t hops,
                           std::span<const std::byte> body) {
  const std::int32_t container = container_of_peer_[source];
  const routing::RouteEntry* entry =
      container >= 0 ? &table_->route(static_cast<routing::ContainerId>(container), event_type) : nullptr;
  if (entry == nullptr || entry->empty()) {
    ++totals_.unrouted;
    ++peers_[source].counters.unrouted;
    return;
  }
  for (const auto adapter : entry->adapters) ++adapter_matches_[adapter];
  // Targets that get the event as it came (plain routes, then selective choices), each once; a
  // target reached by a transform gets its own copy. Every target is stamped so that no other
  // route sends it the event again.
  const std::size_t route_row = static_cast<std::size_t>(container) * table_->containers().size();
  ++route_stamp_;
  chosen_.clear();
  for (const auto target : entry->targets) {
    delivered_stamp_[target] = route_stamp_;
    ++route_counts_[route_row + target];
    chosen_.push_back(target);
  }
  const bool tapping = tap_ != nullptr && tap_->active();
  if (entry->transformed.empty() && entry->selective.empty()) {
    // The common case: plain deliveries only. The event is never decoded (unless journaled).
    deliverChosen(event_type, hops, body);
    if (tapping) tapEvent(source, *entry, {}, {}, hops, body);
    return;
  }
  std::vector<routing::ContainerId> chosen;      // selective targets, for the tap only
  std::vector<routing::AdapterIndex> deciders;   // selective adapters that matched, likewise
  bool chosen_delivered = false;

  // Transforms and conditions read the event in place, or from an aligned copy: conditions by hand
  // where they can, through a reader made on first need (routing::EventWords).
  AlignedWords aligned(body);
  try {
    routing::EventWords words(aligned.words(), entry->content_reads);
    for (const auto& transformed : entry->transformed) delivered_stamp_[transformed.target] = route_stamp_;
    const routing::EventView view(words, hops);
    for (const auto& step : entry->selective) {
      const bool matched = step.group->choose(view, [&](routing::ContainerId target) {
        if (delivered_stamp_[target] == route_stamp_) return;  // already has it from another route
        delivered_stamp_[target] = route_stamp_;
        ++route_counts_[route_row + target];
        chosen_.push_back(target);
        if (tapping) chosen.push_back(target);
      });
      if (matched) {
        ++adapter_matches_[step.adapter];
        if (tapping) deciders.push_back(step.adapter);
      } else {
        ++adapter_unmatched_[step.adapter];
        ++totals_.unmatched;
      }
    }
    chosen_delivered = true;
    deliverChosen(event_type, hops, body);
    for (const auto& transformed : entry->transformed) {
      ++route_counts_[route_row + transformed.target];
      EventType new_type = EventType::UNKNOWN;
      const zmq::message_t changed = applyTransform(words.reader(), *transformed.transform, new_type);
      chosen_.assign(1, transformed.target);
      deliverChosen(static_cast<std::uint8_t>(new_type), hops, bytesOf(changed));
    }
    if (tapping) tapEvent(source, *entry, chosen, deciders, hops, body);
  } catch (const kj::Exception& e) {
    // The plain deliveries go out; the parts that needed the event's content could not.
    if (!chosen_delivered) deliverChosen(event_type, hops, body);
    drop(stats::DropReason::Malformed, source, std::nullopt,
         std::string("event content unreadable for a condition or transform: ") +
             e.getDescription().cStr());
  }
}

void RelayLoop::deliverChosen(std::uint8_t event_type, std::uint8_t hops,
                              std::span<const std::byte> event) {
  if (chosen_.empty()) return;
  const std::uint64_t journal_index = journal_ ? journalEvent(event_type, hops, event) : 0;
  for (const auto target : chosen_) deliver(target, event_type, hops, event, journal_index);
}

std::uint64_t RelayLoop::journalEvent(std::uint8_t event_type, std::uint8_t hops,
                                      std::span<const std::byte> event) {
  // The record names the targets it must reach again after a crash: those whose policy for the
  // type is lossless (`types: all`: every target, for a full record of the run).
  journal_names_.clear();
  for (const auto target : chosen_) {
    if (journal_all_types_ || table_->policy(target, event_type) == DeliveryPolicy::Lossless) {
      journal_names_.push_back(table_->name(target));
    }
  }
  if (journal_names_.empty()) return 0;
  const auto origin = readOrigin(event);
  journal::EventRecordView record;
  if (origin) {
    record.source = origin->source;
    record.source_instance = origin->instance;
    record.source_seq = origin->seq;
  } else {
    record.source = peers_[routing_source_].name;
  }
  record.generation = generation_;
  record.targets = journal_names_;
  record.event_type = event_type;
  record.hops = hops;
  record.event = event;
  const std::uint64_t index = journal_->appendEvent(record);
  Peer& source = peers_[routing_source_];
  if (index == 0) {
    // Not written (disk full, I/O error): the event is routed from memory, and its source is
    // held (no acks) until the journal writes again, so it stops publishing rather than lose
    // more. Counted and logged.
    ++totals_.journal_errors;
    std::uint64_t suppressed = 0;
    if (log_limiter_.allow(kJournalErrorLogKey, suppressed)) {
      spdlog::error("journal: cannot append ({}); sources are held until it can [{} errors so far; "
                    "{} like it not logged in the last second]",
                    journal_->lastError(), totals_.journal_errors, suppressed);
    }
    journal_failed_ = true;
  } else {
    journal_failed_ = false;
  }
  // Its source is not acked before the journal has it on disk (per router.journal.fsync):
  // syncJournal() lifts this after the burst.
  if (!source.journal_cap) {
    source.journal_cap = routing_seq_ - 1;
    journal_capped_.push_back(routing_source_);
  }
  return index;
}

void RelayLoop::syncJournal() {
  if (!journal_) return;
  const bool synced = journal_->sync(now_());
  if (!synced) {
    ++totals_.journal_errors;
    std::uint64_t suppressed = 0;
    if (log_limiter_.allow(kJournalErrorLogKey, suppressed)) {
      spdlog::error("journal: cannot sync ({}); sources are held until it can [{} like it not "
                    "logged in the last second]",
                    journal_->lastError(), suppressed);
    }
    return;
  }
  if (journal_failed_) return;  // the last append failed: its source stays held
  for (const PeerId id : journal_capped_) {
    Peer& peer = peers_[id];
    if (!peer.journal_cap) continue;
    peer.journal_cap.reset();
    if (!peer.ack_pending) {
      peer.ack_pending = true;
      ack_pending_.push_back(id);
    }
  }
  journal_capped_.clear();
}

void RelayLoop::setJournal(std::unique_ptr<journal::Journal> journal,
                           const journal::JournalRecovery& recovery, bool all_types) {
  journal_ = std::move(journal);
  journal_all_types_ = all_types;
  journal_first_index_ = journal_->nextIndex();
  std::size_t replaying = 0;
  for (const auto& [target, events] : recovery.undelivered) {
    const std::size_t known_peers = peers_.size();
    const PeerId id = peers_.ensure(target);
    if (peers_.size() != known_peers) container_of_peer_.resize(peers_.size(), -1);
    Peer& peer = peers_[id];
    for (const auto& event : events) {
      QueuedEvent queued{zmq::message_t(event->event.data(), event->event.size()), event->event_type,
                         event->hops, event->index};
      peer.queue.push(std::move(queued), DeliveryPolicy::Lossless, 1);
      ++replaying;
    }
  }
  for (const auto& [key, seq] : recovery.highest_source_seq) {
    recovered_seqs_[key.source].emplace_back(key.instance, seq);
  }
  spdlog::info("journal: {} records; {} events to send again to {} targets", recovery.records,
               replaying, recovery.undelivered.size());
}

void RelayLoop::tapEvent(PeerId source, const routing::RouteEntry& entry,
                         const std::vector<routing::ContainerId>& chosen,
                         const std::vector<routing::AdapterIndex>& deciders, std::uint8_t hops,
                         std::span<const std::byte> event) {
  std::vector<std::string> targets;
  for (const auto target : entry.targets) targets.push_back(table_->name(target));
  for (const auto& transformed : entry.transformed) targets.push_back(table_->name(transformed.target));
  for (const auto target : chosen) targets.push_back(table_->name(target));
  std::vector<std::string> adapters;
  for (const auto adapter : entry.adapters) adapters.push_back(table_->adapters()[adapter].name);
  for (const auto adapter : deciders) adapters.push_back(table_->adapters()[adapter].name);
  zmq::message_t copy(event.data(), event.size());
  tap_->publish(peers_[source].name, targets, adapters, hops, copy);
}

zmq::message_t RelayLoop::applyTransform(const schema::Event::Reader& event,
                                         const routing::Transform& transform, EventType& new_type) {
  capnp::MallocMessageBuilder builder;
  builder.setRoot(event);
  auto root = builder.getRoot<schema::Event>();
  new_type = transform.apply(event.getType());
  root.setType(new_type);
  if (!transform.tags.empty()) {
    const auto old_tags = event.getTags();
    auto tags = root.initTags(old_tags.size() + static_cast<unsigned>(transform.tags.size()));
    unsigned i = 0;
    for (const auto tag : old_tags) {
      tags[i].setKey(tag.getKey());
      tags[i++].setValue(tag.getValue());
    }
    for (const auto& [key, value] : transform.tags) {
      tags[i].setKey(key);
      tags[i++].setValue(value);
    }
  }
  return wordsMessage(capnp::messageToFlatArray(builder));
}

void RelayLoop::deliver(routing::ContainerId container, std::uint8_t event_type, std::uint8_t hops,
                        std::span<const std::byte> event, std::uint64_t journal_index,
                        zmq::message_t* whole) {
  const PeerId target = peer_of_container_[container];
  Peer& peer = peers_[target];
  if (peer.forward_count != 0) {
    // A body held to forward: it goes as it is if this event would not have fit in a batch with
    // it, else into `out` with this event after it.
    if (peer.forward.size() + kBatchRecordHeader + event.size() > kBatchTargetBytes) {
      flushOut(target);
    } else {
      unforward(peer);
    }
  }
  if (sendsDirect(peer) && peer.out.full(event.size())) flushOut(target);
  if (sendsDirect(peer)) {
    peer.out.append(event, event_type, hops);
    if (event_type == kWatermarkType) {
      ++peer.out_watermarks;
      peer.out_watermark_bytes += event.size();
    }
    peer.out_journal = std::max(peer.out_journal, journal_index);
    if (!peer.out_listed) {
      peer.out_listed = true;
      out_pending_.push_back(target);
    }
    return;
  }
  const DeliveryPolicy policy = table_->policy(container, event_type);
  enqueue(target,
          QueuedEvent::of(event, event_type, hops, journal_index,
                          policy == DeliveryPolicy::Lossless ? whole : nullptr),
          policy);
  // Lossless: a long queue holds the source back (acks), whether or not the target is connected.
  // A lossy policy never holds anyone: it conflates or drops instead.
  if (policy == DeliveryPolicy::Lossless &&
      (peer.queue.losslessSize() >= pauseThreshold() ||
       peer.queue.losslessBytes() >= pauseBytes()) &&
      routing_source_ != kNoPeer) {
    holdAcks(routing_source_, routing_seq_);
  }
}

std::size_t RelayLoop::pauseThreshold() const { return std::max<std::size_t>(settings_.queue_limit / 4, 1); }

std::uint64_t RelayLoop::pauseBytes() const { return std::max<std::uint64_t>(settings_.queue_bytes_limit / 4, 1); }

void RelayLoop::holdAcks(PeerId source, std::uint64_t seq) {
  Peer& peer = peers_[source];
  if (peer.ack_hold) return;
  peer.ack_hold = seq - 1;
  held_.push_back(source);
  ++totals_.backpressure_holds;
}

void RelayLoop::releaseHeldAcks() {
  if (held_.empty()) return;
  // Resume once every declared target's lossless queue is down to half the pause threshold
  // (connected or not: an absent target's lossless events are kept, not dropped).
  for (PeerId id = 0; id < peers_.size(); ++id) {
    if (id < container_of_peer_.size() && container_of_peer_[id] >= 0 &&
        (peers_[id].queue.losslessSize() > pauseThreshold() / 2 ||
         peers_[id].queue.losslessBytes() > pauseBytes() / 2)) {
      return;
    }
  }
  for (const PeerId id : held_) {
    Peer& peer = peers_[id];
    if (!peer.ack_hold) continue;
    peer.ack_hold.reset();
    peer.ack_now = true;  // the source is waiting for it
    if (!peer.ack_pending) {
      peer.ack_pending = true;
      ack_pending_.push_back(id);
    }
  }
  held_.clear();
}

void RelayLoop::flushOut(PeerId target) {
  Peer& peer = peers_[target];
  std::size_t count = 0;   // records: events and watermarks
  std::size_t events = 0;  // stats count events only: a watermark record is the link's own (docs/determinism.md)
  std::size_t event_bytes = 0;
  zmq::message_t batch;
  const bool forwarded = peer.forward_count != 0;
  if (forwarded) {
    count = events = std::exchange(peer.forward_count, 0);
    batch = std::exchange(peer.forward, zmq::message_t());
    event_bytes = batch.size() - count * kBatchRecordHeader;
  } else {
    if (peer.out.empty()) return;
    count = peer.out.count();
    events = count - std::exchange(peer.out_watermarks, 0);
    event_bytes = peer.out.bytes() - count * kBatchRecordHeader - std::exchange(peer.out_watermark_bytes, 0);
    batch = peer.out.take();
  }
  Envelope envelope;
  envelope.kind = MessageKind::Events;
  envelope.flags = static_cast<std::uint16_t>(count);
  envelope.seq = peer.tx_seq + 1;
  envelope.ack = peer.ackable();
  zmq::message_t kept;
  kept.copy(batch);  // shares the buffer
  const std::uint64_t journal_index = std::exchange(peer.out_journal, 0);
  switch (sendTo(peer, envelope, &batch)) {
    case SendResult::Sent:
      keepForReplay(peer, envelope.seq, count, kept, journal_index);
      peer.tx_seq += count;
      peer.acked_rx_seq = envelope.ack;  // the envelope carried the ack
      peer.counters.events_out += events;
      peer.counters.bytes_out += event_bytes;
      totals_.deliveries += events;
      if (forwarded) totals_.forwarded += events;
      return;
    case SendResult::WouldBlock: spillOut(target, kept, journal_index); return;
    case SendResult::Gone:
      disconnect(target, "connection closed");
      spillOut(target, kept, journal_index);
      return;
  }
}

void RelayLoop::flushAllOut() {
  for (const PeerId id : out_pending_) {
    peers_[id].out_listed = false;
    flushOut(id);
  }
  out_pending_.clear();
}

void RelayLoop::spillOut(PeerId target, zmq::message_t& batch, std::uint64_t journal_index) {
  const std::int32_t container = target < container_of_peer_.size() ? container_of_peer_[target] : -1;
  BatchRecord record;
  std::size_t left = 0;
  bool whole = container >= 0;  // every record a lossless event for it: one queue entry
  for (BatchReader counter(bytesOf(batch)); counter.next(record); ++left) {
    whole = whole && record.event_type != kWatermarkType &&
            table_->policy(static_cast<routing::ContainerId>(container), record.event_type) ==
                DeliveryPolicy::Lossless;
  }
  Peer& peer = peers_[target];
  if (whole && left > 1 && losslessRoom(peer, left, batch.size())) {
    enqueue(target, QueuedEvent::batch(batch, static_cast<std::uint32_t>(left), journal_index),
            DeliveryPolicy::Lossless);
    return;
  }
  BatchReader reader(bytesOf(batch));
  while (reader.next(record)) {
    // Only the last event carries the batch's journal index: a target's ack of an earlier one
    // must not count for the events after it.
    const std::uint64_t index = --left == 0 ? journal_index : 0;
    if (record.event_type == kWatermarkType) {
      // Never queued: held, and sent once the events queued ahead of it have gone.
      std::string why;
      if (auto watermark = decodeWatermark(record.event, why)) holdWatermark(peer, std::move(*watermark));
      continue;
    }
    const DeliveryPolicy policy =
        container >= 0 ? table_->policy(static_cast<routing::ContainerId>(container), record.event_type)
                       : DeliveryPolicy::Lossless;
    // Every record of the batch is for this target: a lossless one shares it.
    enqueue(target,
            QueuedEvent::of(record.event, record.event_type, record.hops, index,
                            policy == DeliveryPolicy::Lossless ? &batch : nullptr),
            policy);
  }
}

void RelayLoop::enqueue(PeerId target, QueuedEvent&& event, DeliveryPolicy policy) {
  Peer& peer = peers_[target];
  const std::int32_t container = target < container_of_peer_.size() ? container_of_peer_[target] : -1;
  const std::string_view type_name = eventTypeName(static_cast<EventType>(event.event_type));
  if (policy == DeliveryPolicy::Lossless) {
    // Sources are held long before this (pauseThreshold); what still comes is what they had sent
    // before the hold took effect. The hard limit guards memory against a source that ignores it.
    // (A batch entry comes only with room for all its records: losslessRoom.)
    assert(event.records == 1 || losslessRoom(peer, event.records, event.bytes().size()));
    if (peer.queue.losslessSize() >= settings_.queue_limit ||
        peer.queue.losslessBytes() >= settings_.queue_bytes_limit) {
      const bool by_count = peer.queue.losslessSize() >= settings_.queue_limit;
      drop(stats::DropReason::QueueFull, kNoPeer, target,
           std::string(type_name) + " event: queue for '" + peer.name + "' is at " +
               (by_count ? "router.queue_limit (" + std::to_string(settings_.queue_limit) + " events)"
                         : "router.queue_bytes_limit (" +
                               std::to_string(settings_.queue_bytes_limit) + " bytes)") +
               (peer.connected ? "" : "; the container is not connected"));
      return;
    }
    peer.queue.push(std::move(event), policy, 1);
  } else {
    const std::uint32_t limit =
        container >= 0 ? table_->lossyLimit(static_cast<routing::ContainerId>(container)) : 1;
    ConflationKey key;
    if (policy == DeliveryPolicy::Conflate) {
      key = conflationKey(routing_source_ == kNoPeer ? 0u : routing_source_, event.event_type,
                          event.bytes());
      event.journal_index = 0;  // replaced in place: its journal position is not in order
    }
    switch (peer.queue.push(std::move(event), policy, limit, key, settings_.queue_bytes_limit)) {
      case TargetQueue::PushResult::Appended: break;
      case TargetQueue::PushResult::Conflated:
        drop(stats::DropReason::Conflated, kNoPeer, target,
             std::string(type_name) + " event replaced by a newer one for '" + peer.name + "'");
        break;
      case TargetQueue::PushResult::DroppedOldest:
        drop(stats::DropReason::Policy, kNoPeer, target,
             "oldest queued " + std::string(type_name) + " event for '" + peer.name +
                 "' dropped (drop_oldest, limit " + std::to_string(limit) +
                 ") [or router.queue_bytes_limit " + std::to_string(settings_.queue_bytes_limit) +
                 " reached]");
        break;
      case TargetQueue::PushResult::Refused:
        drop(stats::DropReason::Policy, kNoPeer, target,
             std::string(type_name) + " event for '" + peer.name + "' dropped (" +
                 (policy == DeliveryPolicy::Conflate ? std::string("conflate, a new key")
                                                     : "drop_newest, limit " + std::to_string(limit)) +
                 ") [or router.queue_bytes_limit " + std::to_string(settings_.queue_bytes_limit) +
                 " reached]");
        return;
    }
  }
  if (peer.connected && !peer.backlogged) {
    peer.backlogged = true;
    backlogged_.push_back(target);
  }
}

RelayLoop::SendResult RelayLoop::sendTo(Peer& peer, const Envelope& envelope, zmq::message_t* body) {
  return sendRaw(peer.routing_id, envelope, body);
}

RelayLoop::SendResult RelayLoop::sendRaw(const std::string& routing_id, const Envelope& envelope,
                                         zmq::message_t* body) {
  zmq::message_t id(routing_id.data(), routing_id.size());
  try {
    if (!socket_.send(id, zmq::send_flags::sndmore | zmq::send_flags::dontwait)) {
      return SendResult::WouldBlock;
    }
  } catch (const zmq::error_t& e) {
    if (e.num() == EHOSTUNREACH) return SendResult::Gone;
    throw;
  }
  // Once the first frame is taken, the rest of the message is too.
  auto head = envelopeMessage(envelope);
  (void)socket_.send(head, body ? zmq::send_flags::sndmore | zmq::send_flags::dontwait
                                : zmq::send_flags::dontwait);
  if (body != nullptr) (void)socket_.send(*body, zmq::send_flags::dontwait);
  return SendResult::Sent;
}

void RelayLoop::sendError(const std::string& routing_id, schema::ErrorCode code,
                          const std::string& message, std::uint64_t seq) {
  zmq::message_t body = wordsMessage(encodeError(ErrorInfo{code, message, seq}));
  Envelope envelope;
  envelope.kind = MessageKind::Error;
  envelope.seq = seq;
  (void)sendRaw(routing_id, envelope, &body);  // best effort: the peer may be gone already
}

void RelayLoop::flushQueue(PeerId id) {
  Peer& peer = peers_[id];
  if (!resendReplay(id)) {
    if (peer.connected && !peer.backlogged) {
      peer.backlogged = true;  // the pipe is full: try again shortly
      backlogged_.push_back(id);
    }
    return;
  }
  while (peer.connected && !peer.queue.empty() && !replayFull(peer)) {
    // One EVENTS message from the front of the queue; the events leave it once it is sent. A
    // batch entry goes on as it came; single events are copied into a new batch, up to the next
    // batch entry.
    const bool whole = peer.queue.front().records > 1;
    BatchWriter writer;
    std::size_t count = 0;
    std::size_t event_bytes = 0;
    std::uint64_t journal_index = 0;
    std::size_t replayed = 0;  // from the journal of an earlier daemon
    for (const QueuedEvent& queued : peer.queue) {
      if (whole ? count != 0 : queued.records > 1 || writer.full(queued.bytes().size())) break;
      if (!whole) writer.append(queued.bytes(), queued.event_type, queued.hops);
      count += queued.records;
      event_bytes += queued.bytes().size() - (whole ? queued.records * kBatchRecordHeader : 0);
      journal_index = std::max(journal_index, queued.journal_index);
      if (queued.journal_index != 0 && queued.journal_index < journal_first_index_) ++replayed;
    }
    const SendResult result = whole ? sendBatch(peer, peer.queue.shareFront(), count, journal_index)
                                    : sendBatch(peer, writer, journal_index);
    if (result == SendResult::WouldBlock) break;
    if (result == SendResult::Gone) {
      disconnect(id, "connection closed");
      return;
    }
    peer.counters.replayed += replayed;
    peer.counters.events_out += count;
    peer.counters.bytes_out += event_bytes;
    totals_.deliveries += count;
    if (whole) totals_.forwarded += count;
    peer.queue.popFront(count);
  }
  // Still queued: retry while the pipe is what stops it; a full replay buffer waits for an ack
  // instead (takeAck lists the peer again).
  if (peer.connected && !peer.queue.empty() && !peer.backlogged && !replayFull(peer)) {
    peer.backlogged = true;
    backlogged_.push_back(id);
  }
  if (peer.queue.empty()) sendHeldWatermarks(id);
}

bool RelayLoop::resendReplay(PeerId id) {
  Peer& peer = peers_[id];
  while (peer.connected && peer.resend_from < peer.replay.size()) {
    SentBatch& sent = peer.replay[peer.resend_from];
    zmq::message_t batch;
    batch.copy(sent.batch);
    Envelope envelope;
    envelope.kind = MessageKind::Events;
    envelope.flags = static_cast<std::uint16_t>(sent.count);
    envelope.seq = sent.first_seq;
    envelope.ack = peer.ackable();
    const SendResult result = sendTo(peer, envelope, &batch);
    if (result == SendResult::WouldBlock) return false;
    if (result == SendResult::Gone) {
      disconnect(id, "connection closed");
      return false;
    }
    ++peer.resend_from;
    peer.acked_rx_seq = envelope.ack;
    peer.counters.redelivered += sent.count;
  }
  return peer.connected;
}

void RelayLoop::keepForReplay(Peer& peer, std::uint64_t first_seq, std::size_t count,
                              zmq::message_t& batch, std::uint64_t journal_index) {
  peer.replay_bytes += batch.size();
  peer.replay.push_back(
      SentBatch{first_seq, static_cast<std::uint32_t>(count), std::move(batch), journal_index});
  peer.resend_from = peer.replay.size();
}

void RelayLoop::takeAck(PeerId id, std::uint64_t ack) {
  Peer& peer = peers_[id];
  // An ack beyond what was sent is a confused client: take what was sent.
  ack = std::min(ack, peer.tx_seq);
  if (ack <= peer.tx_acked) return;
  peer.tx_acked = ack;
  peer.last_progress = now_();
  if (peer.stalled) {
    peer.stalled = false;
    spdlog::info("target '{}' acks again", peer.name);
  }
  const bool was_full = replayFull(peer);
  std::uint64_t journal_index = 0;
  while (!peer.replay.empty() && peer.replay.front().last_seq() <= ack) {
    journal_index = std::max(journal_index, peer.replay.front().journal_index);
    if (peer.ordered) noteAckedWatermarks(peer, peer.replay.front().batch);
    peer.replay_bytes -= peer.replay.front().batch.size();
    peer.replay.pop_front();
    if (peer.resend_from > 0) --peer.resend_from;
  }
  if (journal_ && journal_index != 0) journal_->targetAcked(peer.name, journal_index, now_());
  if (was_full && peer.connected && (!peer.queue.empty() || !peer.held_watermarks.empty()) &&
      !peer.backlogged) {
    peer.backlogged = true;
    backlogged_.push_back(id);
  }
}

void RelayLoop::flushBacklog() {
  std::vector<PeerId> pending;
  pending.swap(backlogged_);
  for (const PeerId id : pending) {
    peers_[id].backlogged = false;
    flushQueue(id);
  }
}

void RelayLoop::sendAcks() {
  for (const PeerId id : ack_pending_) {
    Peer& peer = peers_[id];
    peer.ack_pending = false;
    // Busy links are acked every kAckBatch events; the rest waits for the timer, or for the
    // container to ask (a HEARTBEAT, answered at once), so a batch does not cost two messages.
    if (!peer.connected) continue;
    const std::uint64_t unacked = peer.ackable() - std::min(peer.acked_rx_seq, peer.ackable());
    if (!peer.ack_now && unacked < kAckBatch) continue;
    Envelope envelope;
    envelope.kind = MessageKind::Ack;
    envelope.ack = peer.ackable();
    if (sendTo(peer, envelope, nullptr) == SendResult::Sent) {
      peer.acked_rx_seq = envelope.ack;
      peer.ack_now = false;
    }
  }
  ack_pending_.clear();
}

void RelayLoop::onTimer() {
  const auto now = now_();
  last_timer_ = now;
  serveSidePollers(nullptr, true);
  for (auto& task : periodic_) {
    if (now - task.last < task.every) continue;
    task.last = now;
    task.run();
  }
  if (journal_) syncJournal();  // positions due, retention, a retry after an I/O error
  const auto silence_limit = kMissedHeartbeats * std::chrono::milliseconds(settings_.heartbeat_ms);
  for (PeerId id = 0; id < peers_.size(); ++id) checkStall(id, now);
  for (PeerId id = 0; id < peers_.size(); ++id) {
    Peer& peer = peers_[id];
    if (!peer.connected) continue;
    if (now - peer.last_heard > silence_limit) {
      disconnect(id, "silent for 3 heartbeat intervals");
      continue;
    }
    if (peer.acked_rx_seq != peer.ackable()) {
      Envelope envelope;
      envelope.kind = MessageKind::Ack;
      envelope.ack = peer.ackable();
      if (sendTo(peer, envelope, nullptr) == SendResult::Sent) peer.acked_rx_seq = envelope.ack;
    }
  }
}

void RelayLoop::checkStall(PeerId id, Clock::time_point now) {
  Peer& peer = peers_[id];
  const bool declared = id < container_of_peer_.size() && container_of_peer_[id] >= 0;
  // Lossless work pending: queued lossless events, or sent events not acked yet.
  const bool pending = declared && (peer.queue.losslessSize() > 0 || peer.tx_seq > peer.tx_acked);
  if (!pending || peer.last_progress == Clock::time_point{}) {
    peer.last_progress = now;  // idle, or first seen: the clock starts now
    if (peer.stalled && !pending) {
      peer.stalled = false;
      spdlog::info("target '{}' is no longer stalled", peer.name);
    }
    return;
  }
  if (peer.stalled || now - peer.last_progress < std::chrono::milliseconds(settings_.stall_timeout_ms)) {
    return;
  }
  peer.stalled = true;
  ++totals_.stalls;
  std::string holding;
  for (const PeerId source : held_) {
    if (!peers_[source].ack_hold) continue;
    holding += (holding.empty() ? "" : ", ") + peerLabel(peers_[source]);
  }
  spdlog::warn("target '{}' is stalled: {} has acked nothing for {} ms with {} events unacked and "
               "{} lossless events queued; {}",
               peer.name, peer.connected ? "connected, it" : "not connected, it",
               settings_.stall_timeout_ms, peer.tx_seq - peer.tx_acked, peer.queue.losslessSize(),
               holding.empty() ? "no source is held back yet" : "holding back " + holding);
}

void RelayLoop::disconnect(PeerId id, const char* why) {
  Peer& peer = peers_[id];
  if (!peer.connected) return;
  peers_.detach(id);
  if (peer.forward_count != 0) {
    zmq::message_t batch = std::exchange(peer.forward, zmq::message_t());
    peer.forward_count = 0;
    spillOut(id, batch, 0);
  }
  if (!peer.out.empty()) {
    zmq::message_t batch = peer.out.take();
    peer.out_watermarks = peer.out_watermark_bytes = 0;
    spillOut(id, batch, std::exchange(peer.out_journal, 0));
  }
  spdlog::info("container '{}' disconnected ({}); {} events queued for it", peer.name, why,
               peer.queue.size());
}

void RelayLoop::drop(stats::DropReason reason, PeerId from, std::optional<PeerId> to,
                     const std::string& why, std::uint64_t events) {
  const auto index = static_cast<std::size_t>(reason);
  totals_.drops[index] += events;
  if (from != kNoPeer) peers_[from].counters.drops_from[index] += events;
  if (to) peers_[*to].counters.drops_to[index] += events;
  std::uint64_t suppressed = 0;
  if (log_limiter_.allow(index, suppressed)) {
    std::string where;
    if (from != kNoPeer) where = " from " + peerLabel(peers_[from]);
    if (to) where += " to " + peerLabel(peers_[*to]);
    if (where.empty()) where = " from a connection that has not joined";
    spdlog::warn("dropped ({}){}: {} [{} {} drops so far; {} like it not logged in the last second]",
                 stats::dropReasonName(reason), where, why, totals_.drops[index],
                 stats::dropReasonName(reason), suppressed);
  }
}

void RelayLoop::drainForShutdown() {
  stopping_ = true;
  flushAllOut();
  const auto deadline = now_() + std::chrono::milliseconds(settings_.shutdown_grace_ms);
  // Stop taking new events (they stay unacked in their senders, who resend them to the next
  // daemon); deliver what is queued for connected containers while the grace period lasts.
  // Wait for the acks of what connected containers were sent, too: only what they ack is known to
  // be handled. Meanwhile acks are taken, events are not (handleMessage), HELLOs are refused.
  sendAcks();
  const auto awaiting_acks = [this] {
    for (PeerId id = 0; id < peers_.size(); ++id) {
      if (peers_[id].connected && peers_[id].replayEvents() > 0) return true;
    }
    return false;
  };
  while ((!backlogged_.empty() || awaiting_acks()) && now_() < deadline) {
    flushBacklog();
    std::array<zmq::pollitem_t, 1> items{
        {{socket_.handle(), 0,
          static_cast<short>(ZMQ_POLLIN | (backlogged_.empty() ? 0 : ZMQ_POLLOUT)), 0}}};
    (void)pollUnlessInterrupted(items.data(), items.size(), backlogged_.empty() ? timerInterval() : kBacklogRetry);
    if (items[0].revents & ZMQ_POLLIN) receiveBurst();
  }
  for (PeerId id = 0; id < peers_.size(); ++id) {
    Peer& peer = peers_[id];
    if (peer.queue.empty()) continue;
    const std::size_t left = peer.queue.size();
    totals_.drops[static_cast<std::size_t>(stats::DropReason::Shutdown)] += left;
    peer.counters.drops_to[static_cast<std::size_t>(stats::DropReason::Shutdown)] += left;
    spdlog::warn("shutdown: {} events queued for '{}' ({}) were not delivered", left, peer.name,
                 peer.connected ? "connected, grace period over" : "never connected");
    peer.queue.clear();
  }
  for (PeerId id = 0; id < peers_.size(); ++id) {
    const Peer& peer = peers_[id];
    if (peer.tx_seq == peer.tx_acked) continue;
    spdlog::warn("shutdown: '{}' had not acked the last {} events it was sent ({}); they may not "
                 "have been handled",
                 peer.name, peer.tx_seq - peer.tx_acked,
                 peer.connected ? "grace period over" : "it left without acking them");
  }
  // Let libzmq push out what it has already taken, within what is left of the grace period.
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now_());
  socket_.set(zmq::sockopt::linger, static_cast<int>(std::max<std::int64_t>(left.count(), 0)));
  spdlog::info("stopped: {}", snapshot().summary());
}

stats::Snapshot RelayLoop::snapshot() const {
  stats::Snapshot out = totals_;
  if (access_) out.auth = auth_;
  out.connections = peers_.connectedCount();
  out.connections_limit = settings_.max_connections;
  for (PeerId id = 0; id < peers_.size(); ++id) {
    const Peer& peer = peers_[id];
    std::optional<std::uint64_t> idle;
    if (peer.last_heard != Clock::time_point{}) {
      idle = static_cast<std::uint64_t>(
          std::chrono::duration_cast<std::chrono::milliseconds>(now_() - peer.last_heard).count());
    }
    stats::ContainerSnapshot container;
    container.name = peer.name;
    container.connected = peer.connected;
    container.declared = id < container_of_peer_.size() && container_of_peer_[id] >= 0;
    container.queue_depth = peer.queue.size();
    container.unacked = peer.tx_seq - peer.tx_acked;
    container.stalled = peer.stalled;
    container.held = peer.ack_hold.has_value() || (peer.journal_cap.has_value() && journal_failed_);
    container.rate_limited = peer.rate_cap.has_value();
    container.queue_bytes = peer.queue.bytes();
    container.counters = peer.counters;
    container.idle_ms = idle;
    out.containers.push_back(std::move(container));
  }
  const std::size_t n = table_->containers().size();
  for (std::size_t i = 0; i < route_counts_.size(); ++i) {
    if (route_counts_[i] == 0) continue;
    out.routes.push_back({table_->containers()[i / n], table_->containers()[i % n], route_counts_[i]});
  }
  for (std::size_t a = 0; a < table_->adapters().size() && a < adapter_matches_.size(); ++a) {
    out.adapter_matches.emplace_back(table_->adapters()[a].name, adapter_matches_[a]);
    out.adapter_unmatched.emplace_back(table_->adapters()[a].name, adapter_unmatched_[a]);
  }
  return out;
}

}  // namespace evr::transport

namespace evr::transport {

// ---- Limits (docs/delivery.md, "Limits"): max_connections, the rate limit, live changes ----

bool RelayLoop::admitHello(const std::string& routing_id, const std::string& name) {
  // A HELLO needs a slot unless its name is connected already (the same connection again, or a
  // replacement of a connection that is going away, or a refusal for a name in use) or its
  // connection is joined under another name (which leaves as this one joins).
  const auto existing = peers_.findByName(name);
  if (existing && peers_[*existing].connected) return true;
  if (peers_.findByRoutingId(routing_id)) return true;
  if (peers_.connectedCount() < settings_.max_connections) return true;
  ++totals_.hellos_refused_overloaded;
  sendError(routing_id, schema::ErrorCode::OVERLOADED,
            "evrouterd has router.max_connections (" + std::to_string(settings_.max_connections) +
                ") containers joined; retry later");
  std::uint64_t suppressed = 0;
  if (log_limiter_.allow(kOverloadedLogKey, suppressed)) {
    spdlog::warn("refused container '{}': {} containers joined, router.max_connections {} [{} "
                 "refused so far; {} like it not logged in the last second]",
                 name, peers_.connectedCount(), settings_.max_connections,
                 totals_.hellos_refused_overloaded, suppressed);
  }
  return false;
}

void RelayLoop::chargeRate(PeerId source, std::uint64_t seq) {
  Peer& peer = peers_[source];
  if (!peer.rate_cap) {
    if (peer.rate.take(now_())) return;
    // Over budget: acks stop before this event until tokens pay for it (releaseRateCaps).
    peer.rate_cap = seq - 1;
    rate_capped_.push_back(source);
    std::uint64_t suppressed = 0;
    if (log_limiter_.allow(kRateLimitLogKey, suppressed)) {
      spdlog::info("container '{}' is over its rate limit ({} events/s, burst {}): its publish "
                   "waits [{} like it not logged in the last second]",
                   peer.name, peer.rate.rate(), peer.rate.burst(), suppressed);
    }
  }
  ++peer.counters.rate_limited;
}

void RelayLoop::releaseRateCaps() {
  if (rate_capped_.empty()) return;
  const auto now = now_();
  std::erase_if(rate_capped_, [&](PeerId id) {
    Peer& peer = peers_[id];
    if (!peer.rate_cap) return true;
    const std::uint64_t owed = peer.last_rx_seq - std::min(*peer.rate_cap, peer.last_rx_seq);
    if (owed == 0) {
      peer.rate_cap.reset();
      return true;
    }
    const std::uint64_t paid = peer.rate.takeUpTo(owed, now);
    if (paid == 0) return false;
    *peer.rate_cap += paid;
    const bool done = *peer.rate_cap >= peer.last_rx_seq;
    if (done) peer.rate_cap.reset();
    peer.ack_now = true;  // the source is waiting for it
    if (!peer.ack_pending) {
      peer.ack_pending = true;
      ack_pending_.push_back(id);
    }
    return done;
  });
}

void RelayLoop::applyRateLimit(PeerId id) {
  Peer& peer = peers_[id];
  const config::RateLimit& limit = settings_.limits.of(peer.name);
  if (limit.events_per_s == peer.rate.rate() && limit.burst == peer.rate.burst()) return;
  peer.rate.configure(limit, now_());
  if (peer.rate.unlimited() && peer.rate_cap) {
    // releaseRateCaps() pays everything at once (an unlimited bucket has every token).
    peer.ack_now = true;
  }
}

void RelayLoop::applyLimits(const config::RouterSettings& settings) {
  settings_.max_connections = settings.max_connections;
  settings_.queue_bytes_limit = settings.queue_bytes_limit;
  settings_.limits = settings.limits;
  for (PeerId id = 0; id < peers_.size(); ++id) applyRateLimit(id);
  // Queues over a smaller byte limit are not cut: lossless sources are held until they drain,
  // lossy policies shed on their next push; releaseHeldAcks() reads the new limit next turn.
}

}  // namespace evr::transport
