// evr::Bus: a container's in-process event bus.
//
// Handlers subscribe to one event type or to all; publish() dispatches FIFO: an event published
// from inside a handler is dispatched after the current event has reached every handler, so the
// order of handler calls is a function of the publish order alone (deterministic, re-entrant).
// Handlers run in subscription order: type-specific and all-type subscribers interleaved by when
// they subscribed.
//
// Threads: the bus belongs to the thread that drives it (the one calling Connection::run/poll or
// Bus::drain). publish() is safe from any thread; from another thread the event is queued and
// dispatched by the owner at its next drain, and the wake-up hook (set by Connection) makes that
// prompt. Stamping (seq, id, causation) happens on the owner thread, in dispatch order.
//
// A Connection attaches an exporter: it sees every Local event once, in dispatch order, and sends
// it to evrouterd. Events delivered from the router are dispatched but never exported.

#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "evr/event.hpp"
#include "evr/ring.hpp"

namespace evr {

class Bus {
 public:
  using Handler = std::function<void(const Event&)>;
  using SubscriptionId = std::uint64_t;

  // `source` is stamped on every event published here (Connection sets it to the container name).
  explicit Bus(std::string source = "local");
  Bus(const Bus&) = delete;
  Bus& operator=(const Bus&) = delete;

  // `only`: call the handler only for events of that origin. A container that passes an event on
  // ("on END_OF_DATA, publish END_OF_DATA") subscribes with Origin::Router, or its handler would
  // also see, and react to, the event it publishes itself.
  SubscriptionId subscribe(EventType type, Handler handler, std::optional<Origin> only = std::nullopt);
  SubscriptionId subscribeAll(Handler handler, std::optional<Origin> only = std::nullopt);
  bool unsubscribe(SubscriptionId id);

  // Publishes an event. On the owner thread: stamps it now and dispatches it (now, or after the
  // current handler returns). Returns the event's seq, or 0 when it was queued from another
  // thread (it gets its seq when the owner drains).
  std::uint64_t publish(EventBuilder&& event);

  // Typed payloads (evr/events.hpp): bus.publish(evr::Bar{...}).
  template <typename Payload>
    requires requires(const Payload& p) { build(p); }
  std::uint64_t publish(const Payload& payload) {
    return publish(build(payload));
  }
  // The same, answering `cause` (EventBuilder::causedBy): for code that publishes after the
  // handlers of what it answers have run, such as a step handler (Connection::onStepEnd).
  template <typename Payload>
    requires requires(const Payload& p) { build(p); }
  std::uint64_t publish(const Payload& payload, const Event& cause) {
    return publish(build(payload).causedBy(cause));
  }

  // Dispatches an event received from the router. Owner thread only. The handled hook (see
  // setHandledHook) runs once its handlers have run, which may be after deliver() returns when
  // deliver is called from inside a handler.
  void deliver(Event event);

  // While a Hold lives, deliver() queues and dispatches nothing; dispatchHeld() afterwards runs
  // what it kept. For Connection taking a batch from the link: every event of it must be taken
  // before a handler runs, since a handler may publish, wait for acks, and take the next batch
  // from the link meanwhile (which must come after this one). Owner thread only.
  class Hold {
   public:
    explicit Hold(Bus& bus) : bus_(bus) { ++bus_.holds_; }
    ~Hold() { --bus_.holds_; }
    Hold(const Hold&) = delete;
    Hold& operator=(const Hold&) = delete;

   private:
    Bus& bus_;
  };
  // Dispatches what deliver() queued under a Hold (unless one is still held, or a dispatch round
  // is running, which gets to them itself). Handlers' exceptions go to the caller, as deliver's do.
  void dispatchHeld();

  // Stamps and dispatches what other threads published. Owner thread only. Returns how many.
  std::size_t drain();

  // Makes the calling thread the owner (the constructing thread is the first owner).
  void claimOwnership();

  // Not dispatching, and nothing waits to be (what an ordered Connection needs before it says how
  // far this container has got).
  bool idle() const { return !dispatching_ && queue_.empty(); }

  const std::string& source() const { return source_; }
  void setSource(std::string source) {
    source_ = std::move(source);
    id_base_ = eventIdBase(source_);
  }
  // Stamped on every event published here as `sourceInstance` (Connection sets its instance).
  void setSourceInstance(std::uint64_t instance) { source_instance_ = instance; }
  std::uint64_t lastSeq() const { return seq_; }

  // Hooks for Connection: `exporter` sees each local event as it is dispatched, `flush` runs when
  // a dispatch round that exported something ends (the bus has nothing left to dispatch), so
  // events exported in one round can leave together and none waits for a later one.
  void setWakeup(std::function<void()> wakeup);
  void setExporter(std::function<void(const Event&)> exporter, std::function<void()> flush = {});
  // Runs after every handler has seen an event delivered from the router (also when one threw),
  // in delivery order: Connection acks an event only then (at-least-once across a crash).
  void setHandledHook(std::function<void(const Event&)> handled) { handled_ = std::move(handled); }
  // Runs just before the first handler sees an event delivered from the router.
  void setStartingHook(std::function<void(const Event&)> starting) { starting_ = std::move(starting); }

 private:
  struct Subscription {
    SubscriptionId id;
    std::optional<EventType> type;  // nullopt: all types
    std::optional<Origin> only;     // nullopt: either origin
    Handler handler;
    bool removed = false;  // unsubscribed during a dispatch round: erased when it ends
  };

  Event stamp(EventBuilder&& builder);
  void enqueue(Event event);
  // One dispatch round: `first` (when given), then the queue until it is empty, then the flush.
  void dispatchQueued(const Event* first);
  void dispatchOne(const Event& event);
  // Relaxed: a thread only ever finds its own id there if it stored it itself (claimOwnership).
  bool onOwnerThread() const { return std::this_thread::get_id() == owner_.load(std::memory_order_relaxed); }

  std::string source_;
  std::uint64_t id_base_;  // eventIdBase(source_)
  // Atomic: run()/poll() (re)claim ownership on the loop thread while other threads publish().
  std::atomic<std::thread::id> owner_;
  // A deque: subscribing from inside a handler never moves the handler that is running, and
  // handlers are called in place (no copy per call); unsubscribing from inside a handler only
  // marks the entry, which is erased when the dispatch round ends.
  std::deque<Subscription> subscriptions_;
  bool removals_pending_ = false;
  SubscriptionId next_subscription_ = 1;
  std::uint64_t seq_ = 0;

  detail::Ring<Event> queue_;
  bool dispatching_ = false;
  int holds_ = 0;  // Holds alive
  const Event* current_ = nullptr;  // event whose handlers are running

  std::function<void(const Event&)> exporter_;
  std::function<void()> flush_;
  bool exported_ = false;  // this dispatch round exported an event
  std::function<void()> wakeup_;
  std::function<void(const Event&)> handled_;
  std::function<void(const Event&)> starting_;
  std::uint64_t source_instance_ = 0;

  std::mutex inbox_mutex_;
  std::vector<EventBuilder> inbox_;  // from other threads
  std::atomic<bool> inbox_nonempty_{false};
};

}  // namespace evr
