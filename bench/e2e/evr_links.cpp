// "bare relay" and "evrouterd": our client library on both ends, exactly as a container uses it
// (evr::Bus + evr::Connection; publish with Bus::publish, receive in a bus handler). The two
// systems differ only in what listens at the endpoint.
//
// The benchmark event, the same for both systems: a REGIME event from classifier "bench", symbol
// "BENCH", confidence 0.5, whose `regime` is the route key's label (BULL, BEAR, NEUTRAL, CRASH,
// then R4, R5, ... with more route keys: the selective pattern's conditions test it), and one tag,
// "payload", holding the 128 payload bytes (payload.hpp); with --pad-bytes N (the event-size
// curve) a second tag, "pad", of N '.' bytes. The bus adds its header (source, seq, id, publish time), so an event is a
// little over 300 bytes on the wire.
//
// The publisher publishes from outside any handler, on the thread that owns the bus, and polls the
// connection (without waiting) every few hundred events so acks are taken as they come; when the
// resend buffer (ConnectionOptions::max_unacked, default) is full, publish waits for acks: the
// library's own backpressure, which is part of what is measured. Publishing as fast as it can,
// it publishes the events between two polls inside an evr::PublishBatch, as a data feed replaying
// a file should (they leave in EVENTS messages of up to 128 KiB); paced, it publishes each event
// on its own, so it leaves at once.

#include <zmq.hpp>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "evr/bus.hpp"
#include "evr/connection.hpp"
#include "roles.hpp"
#include "scenarios.hpp"

namespace evr::bench {
namespace {

using Clock = std::chrono::steady_clock;

constexpr std::string_view kPayloadTag = "payload";
constexpr std::string_view kPadTag = "pad";

// The connection's options: `name` at the endpoint, and with --curve-keys evrouterd's public key
// and the run's client key (router.security; the files Router::start made).
evr::ConnectionOptions connectionOptions(const RoleOptions& options) {
  evr::ConnectionOptions connection{.container = options.name, .endpoint = options.endpoint};
  if (!options.curve_keys.empty()) {
    const std::filesystem::path dir(options.curve_keys);
    connection.server_key_file = (dir / (std::string(kServerKeyPrefix) + ".pub")).string();
    connection.key_file = (dir / (std::string(kClientKeyPrefix) + ".key")).string();
  }
  return connection;
}

// A bus and its connection to the endpoint (bare relay or evrouterd), joined as `name`, CURVE
// when the role has keys.
class EvrClient {
 public:
  explicit EvrClient(const RoleOptions& options)
      : context_(1), bus_(options.name), connection_(context_, bus_, connectionOptions(options)) {}

  zmq::context_t context_;
  evr::Bus bus_;
  evr::Connection connection_;
};

class EvrPublisher final : public PublisherLink {
 public:
  explicit EvrPublisher(const RoleOptions& options)
      : client_(options), batching_(options.rate <= 0), pad_(options.pad_bytes, '.') {
    for (std::size_t key = 0; key < options.route_keys; ++key) labels_.push_back(routeLabel(key));
  }

  bool connect(Clock::time_point deadline) override { return client_.connection_.waitJoined(timeLeft(deadline)); }

  void publish(std::uint64_t index, const Payload& payload) override {
    evr::EventBuilder event(evr::EventType::REGIME);
    event.symbol("BENCH");
    auto regime = event.root().getPayload().getRegime();
    regime.setClassifier("bench");
    regime.setRegime(labels_[routeKeyOf(index, labels_.size())]);
    regime.setConfidence(0.5);
    event.tag(kPayloadTag, asView(payload));
    if (!pad_.empty()) event.tag(kPadTag, pad_);
    client_.bus_.publish(std::move(event));
  }

  void serve() override {
    batch_.reset();  // what the last batch holds leaves now
    client_.connection_.poll(std::chrono::milliseconds(0));
    if (batching_) batch_.emplace(client_.connection_);
  }

  bool finish(Clock::time_point deadline) override {
    batch_.reset();
    return client_.connection_.flush(timeLeft(deadline));
  }

 private:
  EvrClient client_;
  bool batching_;
  std::optional<evr::PublishBatch> batch_;
  std::vector<std::string> labels_;  // the REGIME label of each route key
  std::string pad_;                  // the `pad` tag's value (the event-size curve), or empty
};

class EvrConsumer final : public ConsumerLink {
 public:
  EvrConsumer(const RoleOptions& options, ConsumerTally& tally) : client_(options) {
    client_.bus_.subscribe(evr::EventType::REGIME, [&tally](const evr::Event& event) {
      const auto payload = event.tag(kPayloadTag);
      tally.onPayload(payload ? std::span<const char>(payload->data(), payload->size())
                              : std::span<const char>());  // none: counted as unreadable
    });
  }

  bool subscribe(Clock::time_point deadline) override { return client_.connection_.waitJoined(timeLeft(deadline)); }

  void receive(std::chrono::milliseconds timeout) override { client_.connection_.poll(timeout); }

 private:
  EvrClient client_;
};

}  // namespace

std::unique_ptr<PublisherLink> makeEvrPublisher(const RoleOptions& options) {
  return std::make_unique<EvrPublisher>(options);
}

std::unique_ptr<ConsumerLink> makeEvrConsumer(const RoleOptions& options, ConsumerTally& tally) {
  return std::make_unique<EvrConsumer>(options, tally);
}

}  // namespace evr::bench
