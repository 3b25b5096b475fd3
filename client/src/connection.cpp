#include "evr/connection.hpp"
#include "evr/heap.hpp"

#include <spdlog/spdlog.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <random>
#include <system_error>

#include "evr/batch.hpp"
#include "evr/curve_keys.hpp"
#include "evr/frames.hpp"
#include "evr/link_messages.hpp"
#include "evr/runtime_dir.hpp"

namespace evr {
namespace {

constexpr std::size_t kReceiveBurst = 1024;
// Ack the daemon's handled events once this many are unacked, or kAckDelay after the last message
// sent. The daemon keeps what is unacked to send again to the next process under this name, so
// these bound what a crash hands to that process a second time (docs/delivery.md).
constexpr std::uint64_t kAckEvery = 4096;
constexpr std::chrono::milliseconds kAckDelay{50};
// While waiting for acks (flush, a full resend buffer), ask for one this often (a HEARTBEAT, which
// the daemon answers at once with its ack; on its own it acks only every 1,024 events or 1/4
// heartbeat, to save a message per batch on busy links).
constexpr std::chrono::milliseconds kAckRequestEvery{10};
// While not joined, say HELLO this often (the daemon may not be up yet).
constexpr std::chrono::milliseconds kHelloRetry{100};
// Unanswered HELLOs back off to this: one sent while evrouterd is away waits in the socket's pipe
// and reaches it the moment it is back, so more of them only fill the pipe.
constexpr std::chrono::milliseconds kHelloRetryMax{1000};
// How long after it starts to join a container takes "nameInUse" for a holder that may be going.
constexpr std::chrono::milliseconds kNameInUseGrace{1000};
// The link counts as lost after this many heartbeat intervals of silence from the daemon.
constexpr int kMissedHeartbeats = 3;

// zmq::poll, with a signal's interruption (EINTR: the process's own handler ran, maybe calling
// stop()) taken as "nothing ready" instead of an exception.
void pollOnce(zmq::pollitem_t* items, std::size_t count, std::chrono::milliseconds timeout) {
  try {
    zmq::poll(items, count, timeout);
  } catch (const zmq::error_t& e) {
    if (e.num() != EINTR) throw;
    for (std::size_t i = 0; i < count; ++i) items[i].revents = 0;
  }
}

std::uint64_t randomInstance() {
  std::random_device device;
  return (static_cast<std::uint64_t>(device()) << 32) ^ device();
}

}  // namespace

std::string defaultEndpoint() { return defaultIpcEndpoint("EVR_ENDPOINT", "evrouterd.sock"); }

Connection::Connection(zmq::context_t& context, Bus& bus, ConnectionOptions options)
    : bus_(bus),
      options_(std::move(options)),
      endpoint_(options_.endpoint.empty() ? defaultEndpoint() : options_.endpoint),
      socket_(context, zmq::socket_type::dealer),
      client_instance_(randomInstance()),
      heartbeat_(options_.heartbeat) {
  if (const std::string why = checkContainerName(options_.container); !why.empty()) {
    throw ConnectionError("invalid container name '" + options_.container + "': " + why);
  }
  if (options_.max_unacked == 0) options_.max_unacked = 1;
  if (options_.keep_freed_heap) keepFreedHeap();
  // Not ZMQ_IMMEDIATE: with it, libzmq ends the pipe of a lost connection at once, even between
  // two frames of a message this thread is reading, and aborts in recv (`!_more`, fq.cpp; seen
  // when evrouterd is killed while it sends). Without it, what is sent while evrouterd is away
  // waits in the pipe (up to sndhwm) and goes to the next one: a HELLO joins at once, and EVENTS
  // sent before it are answered notJoined (a drop evrouterd counts as not final) and resent from
  // unacked_ after the WELCOME.
  socket_.set(zmq::sockopt::linger, 0);
  // High-water marks count messages, and a message may be a batch of up to kBatchTargetBytes:
  // 100 bounds what each pipe holds to 12.5 MiB; beyond it the resend buffer and the daemon's
  // queue take over (the same figure as evrouterd's).
  socket_.set(zmq::sockopt::sndhwm, 100);
  socket_.set(zmq::sockopt::rcvhwm, 100);
  socket_.set(zmq::sockopt::reconnect_ivl, 50);
  socket_.set(zmq::sockopt::reconnect_ivl_max, 1000);
  setUpCurve(context);
  socket_.connect(endpoint_);

  wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
  if (wake_fd_ < 0 || epoll_fd_ < 0) {
    throw std::system_error(errno, std::generic_category(), "eventfd/epoll_create1");
  }
  const int zmq_fd = socket_.get(zmq::sockopt::fd);
  for (int fd : {wake_fd_, zmq_fd}) {
    epoll_event event{};
    event.events = EPOLLIN;
    event.data.fd = fd;
    if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &event) != 0) {
      throw std::system_error(errno, std::generic_category(), "epoll_ctl");
    }
  }

  if (!options_.position_file.empty()) {
    const auto interrupted = positions_.openFile(options_.position_file, options_.position_sync,
                                                 options_.position_sync_interval,
                                                 options_.position_mode);
    for (const auto& event : interrupted) {
      ++stats_.interrupted;
      spdlog::warn("evr[{}]: the handlers of event {} seq {} (instance {:016x}) were cut short by the "
                   "last process's end; {}",
                   options_.container, event.source, event.seq, event.instance,
                   options_.position_mode == PositionMode::BeforeHandling
                       ? "it is not handed to them again (position_mode: before handling)"
                       : "it comes again");
    }
    spdlog::info("evr[{}]: position file {}: {} source instances handled before", options_.container,
                 options_.position_file, positions_.size());
  }
  bus_.setSource(options_.container);
  bus_.setSourceInstance(client_instance_);
  bus_.claimOwnership();
  bus_.setHandledHook([this](const Event& event) { onHandled(event); });
  if (positions_.hasFile()) {
    bus_.setStartingHook([this](const Event& event) {
      positions_.starting(event.source(), event.sourceInstance(), event.seq());
    });
  }
  bus_.setExporter([this](const Event& event) { onExport(event); },
                   [this]() {
                     if (corked_ == 0) sendUnsent();
                   });
  const int wake_fd = wake_fd_;
  bus_.setWakeup([wake_fd]() {
    const std::uint64_t one = 1;
    [[maybe_unused]] auto written = ::write(wake_fd, &one, sizeof(one));
  });
  sendHello();
}

Connection::~Connection() {
  try {
    // Give what is still unacknowledged a last chance (this also joins, if the daemon is up).
    if (!unacked_.empty()) flush(std::chrono::seconds(2));
    if (!unacked_.empty()) {
      spdlog::error("evr[{}]: {} published events were never acknowledged by evrouterd at {}; "
                    "they are lost with this process",
                    options_.container, unacked_.size(), endpoint_);
    }
    if (joined_) sendControl(MessageKind::Bye);
  } catch (const std::exception& e) {
    spdlog::warn("evr[{}]: error while leaving: {}", options_.container, e.what());
  }
  bus_.setExporter({});
  bus_.setWakeup({});
  bus_.setHandledHook({});
  bus_.setStartingHook({});
  if (epoll_fd_ >= 0) ::close(epoll_fd_);
  if (wake_fd_ >= 0) ::close(wake_fd_);
}

void Connection::setClockForTest(Now now) {
  now_ = std::move(now);
  const auto restart = now_();
  last_send_ = last_receive_ = last_hello_ = last_ack_request_ = joining_since_ = restart;
}

void Connection::stop() {
  stop_requested_.store(true, std::memory_order_release);
  const std::uint64_t one = 1;
  [[maybe_unused]] auto written = ::write(wake_fd_, &one, sizeof(one));
}

void Connection::run() {
  bus_.claimOwnership();
  while (!stop_requested_.load(std::memory_order_acquire)) serveOnce(heartbeat_);
  stop_requested_.store(false, std::memory_order_release);
}

bool Connection::poll(std::chrono::milliseconds timeout) {
  bus_.claimOwnership();
  return serveOnce(timeout);
}

bool Connection::flush(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;  // real time, like the poll
  while (!(joined_ && unacked_.empty())) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    requestAck();
    serveOnce(std::min(left, kAckRequestEvery));
  }
  return true;
}

void Connection::requestAck() {
  if (!joined_ || unacked_.empty()) return;
  sendUnsent();  // the request follows the events on the link, so the answer covers them
  // One request per batch of sent events; asked again only if the answer is slow to come.
  const std::uint64_t sent = next_unsent_seq_ - 1;
  const auto now = now_();
  if (sent == ack_requested_up_to_ && now - last_ack_request_ < kAckRequestEvery) return;
  if (sendControl(MessageKind::Heartbeat)) {
    last_ack_request_ = now;
    ack_requested_up_to_ = sent;
  }
}

bool Connection::waitJoined(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;  // real time, like the poll
  while (!joined_) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    serveOnce(std::min(left, kHelloRetry));
  }
  return true;
}

std::size_t Connection::drainWakeups(bool clear_eventfd) {
  if (clear_eventfd) {
    std::uint64_t count = 0;
    [[maybe_unused]] auto got = ::read(wake_fd_, &count, sizeof(count));
  }
  return bus_.drain();  // the inbox has its own flag: what was published is taken either way
}

std::size_t Connection::serveReady(bool clear_wakeups) {
  // What other threads published and what the daemon sent, plus everything handlers publish in
  // response, leaves in as few EVENTS messages as fit: one flush at the end.
  std::size_t work = 0;
  {
    Cork cork(*this);
    work = drainWakeups(clear_wakeups) + receiveBurst();
    releaseOrdered();
  }
  sendUnsent();
  return work;
}

bool Connection::serveOnce(std::chrono::milliseconds timeout) {
  // With a wait to come, the eventfd is cleared only when the poll says it is set (a set one ends
  // the wait at once): a consumer's wake-up costs no read(2) of an empty eventfd. Without one (a
  // caller's own loop on fd(), which is ready while the eventfd is set), it is cleared every time.
  const bool will_wait = timeout.count() > 0;
  std::size_t work = serveReady(!will_wait);
  if (work == 0 && will_wait) {
    // Wake for the socket, another thread, or the next timer, whichever comes first.
    auto wait = timeout;
    if (!joined_) wait = std::min(wait, hello_retry_);
    const bool want_out = joined_ && next_unsent_seq_ < next_seq_;
    std::array<zmq::pollitem_t, 2> items{{
        {socket_.handle(), 0, static_cast<short>(ZMQ_POLLIN | (want_out ? ZMQ_POLLOUT : 0)), 0},
        {nullptr, wake_fd_, ZMQ_POLLIN, 0},
    }};
    pollOnce(items.data(), items.size(), wait);
    work += serveReady((items[1].revents & ZMQ_POLLIN) != 0);
  }
  onTimer();
  return work > 0;
}

void Connection::sendHello() {
  HelloInfo hello;
  hello.protocol_version = kProtocolVersion;
  hello.container = options_.container;
  hello.client_instance = client_instance_;
  hello.base_seq = acked_;
  hello.pid = static_cast<std::uint32_t>(::getpid());
  hello.client_version = EVR_VERSION;
  hello.ordered = ordered();
  Envelope envelope;
  envelope.kind = MessageKind::Hello;
  auto head = envelopeMessage(envelope);
  auto body = wordsMessage(encodeHello(hello));
  last_hello_ = now_();
  sendFrames(head, &body);
}

bool Connection::sendFrames(zmq::message_t& envelope, zmq::message_t* body) {
  const auto flags = zmq::send_flags::dontwait;
  auto sent = socket_.send(envelope, body ? flags | zmq::send_flags::sndmore : flags);
  if (!sent) return false;  // no connection or HWM: the caller keeps the message for later
  if (body != nullptr) socket_.send(*body, flags);  // frames of one message travel together
  last_send_ = now_();
  return true;
}

bool Connection::sendControl(MessageKind kind) {
  Envelope envelope;
  envelope.kind = kind;
  envelope.ack = ackValue();
  auto head = envelopeMessage(envelope);
  if (!sendFrames(head, nullptr)) return false;
  rx_acked_sent_ = envelope.ack;
  return true;
}

std::size_t Connection::batchLimit() const {
  // One event over the limit still goes (alone): the daemon judges each event's size.
  return max_message_size_ != 0 ? std::min<std::size_t>(kBatchTargetBytes, max_message_size_)
                                : kBatchTargetBytes;
}

void Connection::sendUnsent() {
  sendBatches();
  send_mark_ = unsent_bytes_ + batchLimit();
}

void Connection::sendBatches() {
  appendWatermark();
  if (!joined_ || unacked_.empty()) return;
  const std::uint64_t first = unacked_.front().seq;
  if (next_unsent_seq_ < first) next_unsent_seq_ = first;
  const std::size_t limit = batchLimit();
  while (next_unsent_seq_ < next_seq_) {
    // A batch the link refused (EAGAIN) is kept and offered again as it is, not rebuilt per try.
    if (held_.count == 0 || held_.first_seq != next_unsent_seq_) {
      // The records are kept as they go out, back to back: a batch is a run of them in one chunk
      // of the log, handed to ZeroMQ without a copy.
      const detail::ByteLog::Ref& head = unacked_[next_unsent_seq_ - first].record;
      std::size_t count = 0;
      std::size_t body_bytes = 0;
      for (std::uint64_t seq = next_unsent_seq_; seq < next_seq_; ++seq) {
        const detail::ByteLog::Ref& record = unacked_[seq - first].record;
        if (!detail::joinsBatch(head, count, body_bytes, record, limit)) break;
        body_bytes += record.size;
        ++count;
      }
      held_.first_seq = next_unsent_seq_;
      held_.count = count;
      held_.event_bytes = body_bytes - count * kBatchRecordHeader;
      held_.body = unacked_bytes_.share(head, body_bytes);
    }
    Envelope envelope;
    envelope.kind = MessageKind::Events;
    envelope.flags = static_cast<std::uint16_t>(held_.count);
    envelope.seq = held_.first_seq;
    envelope.ack = ackValue();
    auto head = envelopeMessage(envelope);
    if (!sendFrames(head, &held_.body)) return;  // EAGAIN: POLLOUT or the timer brings us back
    const std::size_t count = std::exchange(held_.count, 0);
    rx_acked_sent_ = envelope.ack;
    next_unsent_seq_ += count;
    unsent_bytes_ -= std::min(unsent_bytes_, held_.event_bytes);
    stats_.sent += count;
    ++stats_.batches;
  }
  unsent_bytes_ = 0;
}

void Connection::cork() { ++corked_; }

void Connection::uncork() {
  if (corked_ > 0 && --corked_ == 0) sendUnsent();
}

void Connection::onExport(const Event& event) {
  if (!isKnownEventType(static_cast<std::uint8_t>(event.type()))) {
    // UNKNOWN, or WATERMARK (the link's own record: Connection::advanceWatermark says that).
    ++stats_.errors;
    spdlog::error("evr[{}]: {} event seq {} is not an event type evrouterd routes: not exported",
                  options_.container, eventTypeName(event.type()), event.seq());
    return;
  }
  if (max_message_size_ != 0 && event.bytes().size() > max_message_size_) {
    ++stats_.errors;
    spdlog::error("evr[{}]: {} event seq {} is {} bytes, over evrouterd's limit of {}: not exported",
                  options_.container, eventTypeName(event.type()), event.seq(),
                  event.bytes().size(), max_message_size_);
    return;
  }
  // Backpressure: the resend buffer is full, so serve the link until the daemon acks. Events that
  // arrive meanwhile are queued on the bus, not dispatched (we are inside a dispatch).
  while (unacked_.size() >= options_.max_unacked) {
    requestAck();  // sends a corked batch too: it waits for nothing now
    if (!warned_full_) {
      // Once per join: with a small buffer this is the steady state, not news.
      spdlog::info("evr[{}]: {} events await acknowledgement from evrouterd at {}; publish waits",
                   options_.container, unacked_.size(), endpoint_);
      warned_full_ = true;
    }
    receiveBurst();
    onTimer();
    if (unacked_.size() < options_.max_unacked) break;
    std::array<zmq::pollitem_t, 1> items{{{socket_.handle(), 0, ZMQ_POLLIN, 0}}};
    pollOnce(items.data(), items.size(), kAckRequestEvery);
  }
  keepUnacked(event.bytes(), static_cast<std::uint8_t>(event.type()), event.hops());
  ++stats_.published;
  // What publishing promises (docs/determinism.md): events go out in non-decreasing event time.
  if (event.type() == EventType::END_OF_DATA) {
    own_watermark_ = kEndWatermark;
  } else if (event.eventTime() > kNoWatermark) {
    own_watermark_ = std::max(own_watermark_, event.eventTime() - 1);
  }
  // Sent when the dispatch round ends (Bus flush), or now if a corked batch is already full.
  unsent_bytes_ += event.bytes().size();
  if (corked_ > 0 && unsent_bytes_ >= send_mark_) sendUnsent();
}

std::size_t Connection::receiveBurst() {
  std::size_t count = 0;
  for (; count < kReceiveBurst; ++count) {
    zmq::message_t head;
    if (!socket_.recv(head, zmq::recv_flags::dontwait)) break;
    std::optional<zmq::message_t> body;
    bool whole = true;
    for (bool more = head.more(); more;) {
      // The rest of a message is there with its first frame; never wait for it, so that a
      // connection libzmq ends in the middle of one cannot hold this thread.
      zmq::message_t frame;
      if (!socket_.recv(frame, zmq::recv_flags::dontwait)) {
        whole = false;
        break;
      }
      more = frame.more();
      // Frames beyond the second are ignored (newer protocol minor versions may add them).
      if (!body) body.emplace(std::move(frame));
    }
    last_receive_ = now_();
    if (!whole) {
      ++stats_.malformed;
      spdlog::warn("evr[{}]: dropped a message from evrouterd that ended after its first frame",
                   options_.container);
      continue;
    }
    const DecodedEnvelope decoded = decodeEnvelope(bytesOf(head));
    if (!decoded.ok()) {
      ++stats_.malformed;
      spdlog::warn("evr[{}]: dropped a message from evrouterd: {}", options_.container,
                   envelopeErrorName(decoded.error));
      continue;
    }
    handleMessage(decoded.envelope, body ? &*body : nullptr);
  }
  return count;
}

void Connection::handleMessage(const Envelope& envelope, zmq::message_t* body) {
  switch (envelope.kind) {
    case MessageKind::Welcome: handleWelcome(envelope, body); return;
    case MessageKind::Error: handleError(body); return;
    case MessageKind::Ack: handleAck(envelope.ack); return;
    case MessageKind::Heartbeat: handleAck(envelope.ack); return;
    case MessageKind::Event: break;
    case MessageKind::Events: handleEvents(envelope, body); return;
    case MessageKind::Inputs: handleInputs(body); return;
    case MessageKind::Hello:
    case MessageKind::Bye: return;  // not sent by a daemon; ignore
  }
  // Dispatched even while rejoining: the daemon sent it on this connection, in order.
  handleAck(envelope.ack);
  if (body == nullptr) {
    takeEvent(envelope.seq, envelope.event_type, Event(), "an EVENT without an event frame");
    return;
  }
  std::string why;
  takeEvent(envelope.seq, envelope.event_type, Event::fromWire(std::move(*body), envelope.hops, why), why);
}

void Connection::handleEvents(const Envelope& envelope, zmq::message_t* body) {
  handleAck(envelope.ack);
  const std::size_t count = envelope.flags;
  const BatchError error = body == nullptr ? BatchError::Truncated : checkBatch(bytesOf(*body), count);
  if (count == 0 || error != BatchError::None) {
    stats_.malformed += std::max<std::size_t>(count, 1);
    spdlog::warn("evr[{}]: dropped an EVENTS message of {} events from evrouterd (link seq {}): {}",
                 options_.container, count, envelope.seq, batchErrorName(error));
    for (std::uint64_t seq = envelope.seq; seq < envelope.seq + count; ++seq) {
      if (seq > rx_seq_) {
        rx_seq_ = seq;
        skipHandled(seq);
      }
    }
    return;
  }
  // The events of a batch share its buffer; the last one dispatched releases it.
  const auto batch = std::make_shared<const zmq::message_t>(std::move(*body));
  BatchReader reader(bytesOf(*batch));
  BatchRecord record;
  std::uint64_t seq = envelope.seq;
  std::string why;
  {
    // Every event is taken before a handler runs: a handler that publishes into a full resend
    // buffer serves the link until acks come, taking the next batch meanwhile; the rest of this
    // one, taken after it, would then look like resends (duplicates) and be dropped.
    const Bus::Hold hold(bus_);
    while (reader.next(record)) {
      takeEvent(seq++, record.event_type, Event::fromWireRecord(batch, record.event, record.hops, why), why);
    }
  }
  bus_.dispatchHeld();
}

void Connection::takeEvent(std::uint64_t seq, std::uint8_t envelope_type, Event event,
                           std::string_view why) {
  if (seq <= rx_seq_) {
    // Sent again after a rejoin (the daemon resends from the last ack it had): taken already.
    ++stats_.duplicates;
    return;
  }
  if (seq != rx_seq_ + 1) {
    spdlog::warn("evr[{}]: link sequence jumped from {} to {}", options_.container, rx_seq_, seq);
  }
  rx_seq_ = seq;
  if (!event.valid()) {
    ++stats_.malformed;
    spdlog::warn("evr[{}]: dropped unreadable event (link seq {}): {}", options_.container, seq, why);
    skipHandled(seq);
  } else if (envelope_type == kWatermarkType && event.type() == EventType::WATERMARK) {
    // Not an event: progress of an input (docs/determinism.md). Taken as soon as read.
    ++stats_.watermarks_in;
    order_.advance(event.source(), event.eventTime());
    skipHandled(seq);
  } else if (static_cast<std::uint8_t>(event.type()) != envelope_type) {
    ++stats_.malformed;
    spdlog::warn("evr[{}]: dropped event whose type {} disagrees with its envelope ({})",
                 options_.container, eventTypeName(event.type()), envelope_type);
    skipHandled(seq);
  } else if (positions_.takeOrDuplicate(event.source(), event.sourceInstance(), event.seq())) {
    // Handled before: by this process under a daemon that has since restarted, or by an earlier
    // process under this name (the position file).
    ++stats_.duplicates;
    skipHandled(seq);
  } else {
    ++stats_.received;
    const std::uint64_t ticket = track(seq, false);
    if (ordered()) {
      const auto added = order_.known() ? order_.add(event, ticket) : EventOrder::Added::NotAnInput;
      if (added == EventOrder::Added::Buffered) return;  // handed on when its step is released
      if (added == EventOrder::Added::Late) {
        ++stats_.late;
        spdlog::warn("evr[{}]: {} event seq {} from '{}' has event time {}, at or before a time that "
                     "input had passed: handed on out of order (docs/determinism.md)",
                     options_.container, eventTypeName(event.type()), event.seq(), event.source(),
                     event.eventTime());
      } else {
        ++stats_.unordered;
      }
    }
    deliverToBus(std::move(event), ticket);
  }
  if (handled_seq_ - std::min(rx_acked_sent_, handled_seq_) >= kAckEvery) sendControl(MessageKind::Ack);
}

void Connection::skipHandled(std::uint64_t seq) { track(seq, true); }

std::uint64_t Connection::track(std::uint64_t seq, bool done) {
  in_bus_.push_back({seq, epoch_, done});
  const std::uint64_t ticket = next_ticket_++;
  if (done) settle();
  return ticket;
}

bool Connection::markDone(std::uint64_t ticket) {
  if (ticket < in_bus_base_ || ticket - in_bus_base_ >= in_bus_.size()) return false;
  auto& entry = in_bus_[ticket - in_bus_base_];
  if (entry.done) return false;
  entry.done = true;
  settle();
  return true;
}

void Connection::settle() {
  while (!in_bus_.empty() && in_bus_.front().done) {
    const InBus& entry = in_bus_.front();
    if (entry.epoch == epoch_ && !acks_stopped_) handled_seq_ = std::max(handled_seq_, entry.seq);
    in_bus_.pop_front();
    ++in_bus_base_;
  }
}

void Connection::deliverToBus(Event event, std::uint64_t ticket) {
  bus_tickets_.push_back(ticket);
  bus_.deliver(std::move(event));
}

void Connection::onHandled(const Event& event) noexcept {
  positions_.handled(event.source(), event.sourceInstance(), event.seq());
  // The bus hands router events to handlers in the order it was given them: the front is this one.
  if (bus_tickets_.empty()) return;
  const std::uint64_t ticket = bus_tickets_.front();
  bus_tickets_.pop_front();
  markDone(ticket);
}

void Connection::handleInputs(zmq::message_t* body) {
  std::string why;
  const auto inputs = body ? decodeInputs(bytesOf(*body), why) : std::nullopt;
  if (!inputs) {
    ++stats_.malformed;
    spdlog::warn("evr[{}]: unreadable INPUTS from evrouterd: {}", options_.container,
                 body ? why : std::string("no body"));
    return;
  }
  want_watermarks_ = inputs->want_watermarks;
  input_names_.clear();
  std::vector<EventOrder::InputSpec> specs;
  for (const auto& input : inputs->inputs) {
    input_names_.push_back(input.name);
    specs.push_back({input.name, input.feedback, input.watermark});
  }
  if (!ordered()) return;
  // Events of an input a reload took away: their order is no longer defined; hand them on now.
  for (auto& orphan : order_.setInputs(specs)) {
    ++stats_.unordered;
    deliverToBus(std::move(orphan.event), orphan.ticket);
  }
}

void Connection::releaseOrdered() {
  if (!ordered() || !bus_.idle()) return;
  while (auto step = order_.release()) {
    for (auto& entry : step->entries) deliverToBus(std::move(entry.event), entry.ticket);
    ++stats_.steps;
    if (on_step_end_) on_step_end_(step->time);
  }
  // Events held for a later step are not acked, and evrouterd keeps up to router.replay_limit
  // sent and unacked events per name, then sends nothing more: the inputs this container waits
  // for would never come. Before that, ack what is held (a crash now loses it; said once).
  if (replay_limit_ != 0 && order_.buffered() > replay_limit_ / 2) {
    if (stats_.acked_held == 0) {
      spdlog::warn("evr[{}]: {} events are held for later steps, over half of evrouterd's "
                   "router.replay_limit ({}): acking them before they are handled (a crash now "
                   "loses them; one input is far ahead of another)",
                   options_.container, order_.buffered(), replay_limit_);
    }
    order_.forEachBuffered([this](std::uint64_t ticket) {
      if (markDone(ticket)) ++stats_.acked_held;
    });
  }
  if (!inputs_ended_told_ && order_.ended()) {
    inputs_ended_told_ = true;
    if (on_inputs_ended_) on_inputs_ended_();
  }
}

void Connection::advanceWatermark(std::int64_t time) {
  own_watermark_ = std::max(own_watermark_, time);
  if (corked_ == 0) sendUnsent();
}

void Connection::appendWatermark() {
  if (!want_watermarks_ || !joined_) return;
  std::int64_t promise = own_watermark_;
  // An ordered container with inputs promises how far it has handled them, once its handlers
  // are done (inside a handler only what it published counts).
  if (ordered() && order_.known() && order_.hasForwardInputs() && bus_.idle()) {
    promise = std::max(promise, order_.progress());
  }
  if (promise <= sent_watermark_) return;
  sent_watermark_ = promise;
  ++stats_.watermarks_out;
  const auto record = encodeWatermark(options_.container, promise);
  const auto bytes = record.asBytes();
  keepUnacked({reinterpret_cast<const std::byte*>(bytes.begin()), bytes.size()}, kWatermarkType, 0);
}

std::uint64_t Connection::ackValue() {
  if (handled_seq_ > rx_acked_sent_ && !positions_.syncForAck(now_())) {
    spdlog::error("evr[{}]: cannot force position file {} to disk: {}", options_.container,
                  positions_.path(), std::strerror(errno));
  }
  return handled_seq_;
}

void Connection::handleWelcome(const Envelope& envelope, zmq::message_t* body) {
  std::string why;
  const auto welcome = body ? decodeWelcome(bytesOf(*body), why) : std::nullopt;
  if (!welcome) {
    spdlog::warn("evr[{}]: unreadable WELCOME: {}", options_.container, why);
    return;
  }
  if (joined_ && welcome->daemon_instance == daemon_instance_) return;  // answer to a repeat HELLO
  if (daemon_instance_ != 0 && welcome->daemon_instance != daemon_instance_) {
    spdlog::info("evr[{}]: rejoined a restarted evrouterd at {}", options_.container, endpoint_);
  }
  // The daemon's link seq toward this name goes on from the envelope's seq: the last one it has an
  // ack for. It sends again what follows, which this process may have taken already (dropped by
  // link seq); a restarted daemon starts again at 0 (duplicates then go by source seq).
  if (welcome->daemon_instance != daemon_instance_) {
    ++epoch_;
    sent_watermark_ = kNoWatermark;  // a new daemon has heard none: say it again
    rx_seq_ = envelope.seq;
    handled_seq_ = envelope.seq;
  } else {
    rx_seq_ = std::max(rx_seq_, envelope.seq);
    handled_seq_ = std::max(handled_seq_, envelope.seq);
  }
  rx_acked_sent_ = envelope.seq;
  joined_ = true;
  daemon_instance_ = welcome->daemon_instance;
  max_message_size_ = welcome->max_message_size;
  replay_limit_ = welcome->replay_limit;
  if (welcome->heartbeat_ms > 0) heartbeat_ = std::chrono::milliseconds(welcome->heartbeat_ms);
  warned_full_ = false;
  overload_backoff_ = std::chrono::milliseconds(0);
  hello_retry_ = kHelloRetry;
  ++stats_.joins;
  handleAck(welcome->ack_seq);
  // Everything the daemon has not taken goes again, in order, in batches of this daemon's limit.
  held_.count = 0;
  next_unsent_seq_ = unacked_.empty() ? next_seq_ : unacked_.front().seq;
  stats_.resent += next_seq_ - next_unsent_seq_;
  sendUnsent();
}

void Connection::handleError(zmq::message_t* body) {
  ++stats_.errors;
  std::string why;
  const auto error = body ? decodeError(bytesOf(*body), why) : std::nullopt;
  if (!error) {
    spdlog::warn("evr[{}]: unreadable ERROR from evrouterd: {}", options_.container, why);
    return;
  }
  switch (error->code) {
    case schema::ErrorCode::NAME_IN_USE:
      // The holder may be this container's last process, just ended: evrouterd sees that its
      // connection closed a moment after this one's HELLO can arrive. Said again for a while
      // before it counts as another live process holding the name.
      if (!joined_ && now_() - joining_since_ < kNameInUseGrace) {
        spdlog::info("evr[{}]: evrouterd says another connection holds the name; trying again (a "
                     "process that has just ended may still hold it)",
                     options_.container);
        return;
      }
      [[fallthrough]];
    case schema::ErrorCode::VERSION_MISMATCH:
    case schema::ErrorCode::INVALID_NAME:
      joined_ = false;
      throw ConnectionError("evrouterd at " + endpoint_ + " refused container '" +
                            options_.container + "': " + error->message);
    case schema::ErrorCode::NOT_JOINED:
      // The daemon restarted or forgot us: join again right away and resend what is unacked.
      if (joined_) markLost("evrouterd does not know this connection");
      // Every unknown message gets this answer; one HELLO per retry interval is enough.
      if (now_() - last_hello_ >= kHelloRetry) sendHello();
      return;
    case schema::ErrorCode::SHUTTING_DOWN:
      if (joined_) markLost("evrouterd is shutting down");
      return;
    case schema::ErrorCode::NOT_AUTHORIZED:
      if (error->seq != 0) {
        // An event of a type this container may not publish: dropped there, said once per type.
        ++stats_.denied;
        spdlog::error("evr[{}]: evrouterd: {} (link seq {})", options_.container, error->message, error->seq);
        return;
      }
      joined_ = false;
      throw ConnectionError("evrouterd at " + endpoint_ + " refused container '" + options_.container +
                            "': " + error->message);
    case schema::ErrorCode::OVERLOADED:
      // Not fatal: the daemon has router.max_connections containers joined. Keep trying to join,
      // backing off (docs/protocol.md, "ERROR").
      if (joined_) markLost("evrouterd is overloaded");
      if (overload_backoff_.count() == 0) {
        spdlog::warn("evr[{}]: evrouterd at {} is at its connection limit: {}; retrying",
                     options_.container, endpoint_, error->message);
      }
      overload_backoff_ = std::min(std::max(overload_backoff_ * 2, kHelloRetry * 2),
                                   std::chrono::milliseconds(5000));
      return;
    default:
      spdlog::error("evr[{}]: evrouterd: {} (link seq {})", options_.container, error->message,
                    error->seq);
      return;
  }
}

void Connection::keepUnacked(std::span<const std::byte> bytes, std::uint8_t type, std::uint8_t hops) {
  std::array<std::byte, kBatchRecordHeader> header;
  writeRecordHeader(header.data(), bytes.size(), type, hops);
  unacked_.push_back({next_seq_++, unacked_bytes_.append(header, bytes)});
}

void Connection::handleAck(std::uint64_t ack) {
  if (ack <= acked_) return;
  acked_ = ack;
  stats_.acked = ack;
  while (!unacked_.empty() && unacked_.front().seq <= ack) unacked_.pop_front();
  if (unacked_.empty()) {
    unacked_bytes_.clear();
  } else {
    unacked_bytes_.releaseBefore(unacked_.front().record.chunk);
  }
}

void Connection::markLost(const char* why) {
  spdlog::info("evr[{}]: link to {} lost ({}); rejoining", options_.container, endpoint_, why);
  joined_ = false;
  hello_retry_ = kHelloRetry;
  joining_since_ = now_();
}

void Connection::setUpCurve(zmq::context_t& context) {
  const auto fromEnv = [](const char* name) {
    const char* value = std::getenv(name);
    return value == nullptr ? std::string() : std::string(value);
  };
  if (options_.server_key_file.empty()) options_.server_key_file = fromEnv("EVR_SERVER_KEY");
  if (options_.key_file.empty()) options_.key_file = fromEnv("EVR_KEY");
  const bool curve = !options_.server_key_file.empty() || !options_.key_file.empty();
  // Handshake failures come as socket events, read while not joined (checkHandshake): a key the
  // daemon refuses, or CURVE on one side of the link only.
  handshake_.emplace(context, socket_, curve);
  if (!curve) return;
  if (options_.server_key_file.empty() || options_.key_file.empty()) {
    throw ConnectionError(
        "CURVE needs both keys: evrouterd's public key file (server_key_file / $EVR_SERVER_KEY) and "
        "this process's secret key file (key_file / $EVR_KEY)");
  }
  try {
    makeCurveClient(socket_, options_.server_key_file, options_.key_file);
  } catch (const KeyFileError& e) {
    throw ConnectionError(e.what());
  }
}

void Connection::checkHandshake() {
  if (!handshake_) return;
  if (auto failure = handshake_->failure()) {
    throw ConnectionError("container '" + options_.container + "' at " + endpoint_ + ": " + *failure);
  }
}

void Connection::onTimer() {
  const auto now = now_();
  if (!joined_) {
    checkHandshake();
    if (now - last_hello_ >= std::max(hello_retry_, overload_backoff_)) {
      sendHello();
      hello_retry_ = std::min(hello_retry_ * 2, kHelloRetryMax);
    }
    return;
  }
  if (now - last_receive_ >= kMissedHeartbeats * heartbeat_) {
    markLost("no word from evrouterd for 3 heartbeats");
    sendHello();
    return;
  }
  sendUnsent();
  if (now - last_send_ >= heartbeat_) {
    sendControl(MessageKind::Heartbeat);
  } else if (handled_seq_ > rx_acked_sent_ && now - last_send_ >= kAckDelay) {
    sendControl(MessageKind::Ack);
  }
}

}  // namespace evr
