// "nats-server": the NATS C client (libnats) against a nats-server on loopback, started by the
// driver. The 128 payload bytes are the message body. The publisher publishes to one subject, or
// (selective) to "<subject>.<route key>", so that 4 subscribers on 4 subjects get one quarter
// each: subject-based routing, the nearest NATS has to a condition on a payload field.
//
// Subscribers are synchronous subscriptions drained in the consumer's own loop (NextMsg), the
// same single-threaded shape as a bus handler in our client. Their pending limits are lifted so
// the client never drops as a "slow consumer": a slow subscriber shows as lower throughput, as it
// does with our client, not as loss. Only built when libnats is found (EVR_BENCH_HAVE_NATS).

#include "roles.hpp"

#ifdef EVR_BENCH_HAVE_NATS

#include <nats/nats.h>

#include <stdexcept>
#include <string>
#include <vector>

namespace evr::bench {
namespace {

using Clock = std::chrono::steady_clock;

constexpr std::size_t kReceiveBurst = 1024;

void check(natsStatus status, const char* what) {
  if (status != NATS_OK) throw std::runtime_error(std::string(what) + ": " + natsStatus_GetText(status));
}

std::int64_t msUntil(Clock::time_point deadline) {
  return std::max<std::int64_t>(
      0, std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count());
}

// One connection to the server; the library is opened once per process and closed with it.
// `send_asap`: write each publish to the socket at once. By default libnats appends to a buffer
// and kicks a flusher thread that waits up to 1 ms for more, which is right for throughput and
// adds up to a millisecond of latency; NATS's own advice for latency-sensitive publishers is
// natsOptions_SetSendAsap. So the throughput runs use the default and the (paced) latency runs
// send ASAP: each of NATS's numbers is its best configuration for that measurement.
class NatsClient {
 public:
  NatsClient(const std::string& url, bool send_asap) {
    natsOptions* options = nullptr;
    check(natsOptions_Create(&options), "natsOptions_Create");
    natsStatus status = natsOptions_SetURL(options, url.c_str());
    if (status == NATS_OK) status = natsOptions_SetSendAsap(options, send_asap);
    if (status == NATS_OK) status = natsConnection_Connect(&connection_, options);
    natsOptions_Destroy(options);
    check(status, ("cannot connect to " + url).c_str());
  }
  ~NatsClient() {
    natsConnection_Destroy(connection_);
    nats_Close();
  }
  NatsClient(const NatsClient&) = delete;
  NatsClient& operator=(const NatsClient&) = delete;

  natsConnection* get() const { return connection_; }
  bool flush(Clock::time_point deadline) const {
    return natsConnection_FlushTimeout(connection_, msUntil(deadline)) == NATS_OK;
  }

 private:
  natsConnection* connection_ = nullptr;
};

class NatsPublisher final : public PublisherLink {
 public:
  explicit NatsPublisher(const RoleOptions& options) : client_(options.endpoint, options.rate > 0) {
    if (!options.route_by_key) {
      subjects_.push_back(options.subject);
      return;
    }
    for (std::size_t key = 0; key < kRouteKeys; ++key) subjects_.push_back(options.subject + "." + std::to_string(key));
  }

  bool connect(Clock::time_point) override { return true; }  // connected in the constructor

  void publish(std::uint64_t index, const Payload& payload) override {
    const std::string& subject = subjects_[subjects_.size() == 1 ? 0 : routeKeyOf(index)];
    check(natsConnection_Publish(client_.get(), subject.c_str(), payload.data(), static_cast<int>(payload.size())),
          "publish");
  }

  void serve() override {}

  // A PING/PONG round trip: the server has read everything published before it.
  bool finish(Clock::time_point deadline) override { return client_.flush(deadline); }

 private:
  NatsClient client_;
  std::vector<std::string> subjects_;
};

class NatsConsumer final : public ConsumerLink {
 public:
  NatsConsumer(const RoleOptions& options, ConsumerTally& tally)
      : client_(options.endpoint, false), subject_(options.subject), tally_(tally) {}
  ~NatsConsumer() override { natsSubscription_Destroy(subscription_); }

  bool subscribe(Clock::time_point deadline) override {
    check(natsConnection_SubscribeSync(&subscription_, client_.get(), subject_.c_str()), "subscribe");
    check(natsSubscription_SetPendingLimits(subscription_, -1, -1), "lift pending limits");
    return client_.flush(deadline);  // the server has registered the subscription
  }

  void receive(std::chrono::milliseconds timeout) override {
    std::int64_t wait_ms = timeout.count();
    for (std::size_t i = 0; i < kReceiveBurst; ++i) {
      natsMsg* message = nullptr;
      if (natsSubscription_NextMsg(&message, subscription_, wait_ms) != NATS_OK) return;
      tally_.onPayload({natsMsg_GetData(message), static_cast<std::size_t>(natsMsg_GetDataLength(message))});
      natsMsg_Destroy(message);
      wait_ms = 0;  // the rest of the burst: only what is already here
    }
  }

 private:
  NatsClient client_;
  std::string subject_;
  ConsumerTally& tally_;
  natsSubscription* subscription_ = nullptr;
};

}  // namespace

std::unique_ptr<PublisherLink> makeNatsPublisher(const RoleOptions& options) {
  return std::make_unique<NatsPublisher>(options);
}

std::unique_ptr<ConsumerLink> makeNatsConsumer(const RoleOptions& options, ConsumerTally& tally) {
  return std::make_unique<NatsConsumer>(options, tally);
}

}  // namespace evr::bench

#else  // built without libnats: the driver reports the nats rows as not installed

namespace evr::bench {
std::unique_ptr<PublisherLink> makeNatsPublisher(const RoleOptions&) { return nullptr; }
std::unique_ptr<ConsumerLink> makeNatsConsumer(const RoleOptions&, ConsumerTally&) { return nullptr; }
}  // namespace evr::bench

#endif
