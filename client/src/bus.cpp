#include "evr/bus.hpp"

#include <chrono>

#include "event_storage.hpp"

namespace evr {
namespace {

std::int64_t wallClockNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

Bus::Bus(std::string source)
    : source_(std::move(source)), id_base_(eventIdBase(source_)), owner_(std::this_thread::get_id()) {}

Bus::SubscriptionId Bus::subscribe(EventType type, Handler handler, std::optional<Origin> only) {
  subscriptions_.push_back({next_subscription_, type, only, std::move(handler)});
  return next_subscription_++;
}

Bus::SubscriptionId Bus::subscribeAll(Handler handler, std::optional<Origin> only) {
  subscriptions_.push_back({next_subscription_, std::nullopt, only, std::move(handler)});
  return next_subscription_++;
}

bool Bus::unsubscribe(SubscriptionId id) {
  for (auto it = subscriptions_.begin(); it != subscriptions_.end(); ++it) {
    if (it->id != id || it->removed) continue;
    if (dispatching_) {
      it->removed = true;  // it may be the handler that is running
      removals_pending_ = true;
    } else {
      subscriptions_.erase(it);
    }
    return true;
  }
  return false;
}

void Bus::claimOwnership() { owner_.store(std::this_thread::get_id(), std::memory_order_relaxed); }

void Bus::setWakeup(std::function<void()> wakeup) { wakeup_ = std::move(wakeup); }

void Bus::setExporter(std::function<void(const Event&)> exporter, std::function<void()> flush) {
  exporter_ = std::move(exporter);
  flush_ = std::move(flush);
}

Event Bus::stamp(EventBuilder&& builder) {
  auto root = builder.root();
  const std::uint64_t seq = ++seq_;
  const std::uint64_t id = eventIdOn(id_base_, seq);
  root.setId(id);
  root.setSeq(seq);
  builder.storage_->stamped_source = source_;  // written when building ends (finishBuilding)
  root.setSourceInstance(source_instance_);
  root.setPublishTime(wallClockNs());
  std::uint8_t hops = builder.storage_->cause_hops;  // EventBuilder::causedBy
  if (current_ != nullptr && !builder.storage_->caused) {
    // Published by a handler: record the cause, carry the chain's correlation id and its hop
    // count, so a cycle across processes is caught by the daemon's max_hops.
    const auto cause = current_->reader();
    if (root.getCausationId() == 0) root.setCausationId(cause.getId());
    if (root.getCorrelationId() == 0) {
      root.setCorrelationId(cause.getCorrelationId() != 0 ? cause.getCorrelationId()
                                                          : cause.getId());
    }
    hops = current_->hops();
  }
  return Event::fromBuilder(std::move(builder), Origin::Local, hops);
}

std::uint64_t Bus::publish(EventBuilder&& event) {
  if (!onOwnerThread()) {
    {
      std::lock_guard lock(inbox_mutex_);
      inbox_.push_back(std::move(event));
      inbox_nonempty_.store(true, std::memory_order_release);
    }
    if (wakeup_) wakeup_();
    return 0;
  }
  Event stamped = stamp(std::move(event));
  const std::uint64_t seq = stamped.seq();
  enqueue(std::move(stamped));
  return seq;
}

void Bus::deliver(Event event) { enqueue(std::move(event)); }

std::size_t Bus::drain() {
  if (!inbox_nonempty_.load(std::memory_order_acquire)) return 0;
  std::vector<EventBuilder> batch;
  {
    std::lock_guard lock(inbox_mutex_);
    batch.swap(inbox_);
    inbox_nonempty_.store(false, std::memory_order_release);
  }
  for (auto& builder : batch) enqueue(stamp(std::move(builder)));
  return batch.size();
}

void Bus::enqueue(Event event) {
  if (dispatching_ || holds_ != 0) {
    queue_.push_back(std::move(event));
    return;
  }
  // Nothing waits ahead of it (a round that a handler's exception ended may have left some):
  // dispatched from here, without a trip through the queue.
  if (queue_.empty()) {
    dispatchQueued(&event);
    return;
  }
  queue_.push_back(std::move(event));
  dispatchQueued(nullptr);
}

void Bus::dispatchHeld() {
  if (!dispatching_ && holds_ == 0 && !queue_.empty()) dispatchQueued(nullptr);
}

void Bus::dispatchQueued(const Event* first) {
  dispatching_ = true;
  struct Reset {
    Bus& bus;
    ~Reset() {
      bus.dispatching_ = false;
      bus.current_ = nullptr;
      if (bus.removals_pending_) {
        std::erase_if(bus.subscriptions_, [](const Subscription& s) { return s.removed; });
        bus.removals_pending_ = false;
      }
    }
  } reset{*this};
  exported_ = false;
  if (first != nullptr) dispatchOne(*first);
  while (!queue_.empty()) {
    const Event event = std::move(queue_.front());
    queue_.pop_front();
    dispatchOne(event);
  }
  // The round is over (a throwing handler skips this; the next round's flush covers its events).
  if (exported_ && flush_) flush_();
}

void Bus::dispatchOne(const Event& event) {
  current_ = &event;
  if (event.origin() == Origin::Local && exporter_) {
    exporter_(event);
    exported_ = true;
  }
  const EventType type = event.type();
  const Origin origin = event.origin();
  // Index loop: a handler may subscribe more handlers (they see the next event, not this one).
  // A router event counts as handled once its handlers have run, or one of them threw (the
  // exception goes on to the caller; the event is not handed to the rest).
  struct Handled {
    Bus& bus;
    const Event& event;
    ~Handled() {
      if (event.origin() == Origin::Router && bus.handled_) bus.handled_(event);
    }
  } handled{*this, event};
  if (origin == Origin::Router && starting_) starting_(event);
  const std::size_t count = subscriptions_.size();
  for (std::size_t i = 0; i < count; ++i) {
    const auto& subscription = subscriptions_[i];
    if (!subscription.removed && (!subscription.type || *subscription.type == type) &&
        (!subscription.only || *subscription.only == origin)) {
      subscription.handler(event);
    }
  }
}

}  // namespace evr
