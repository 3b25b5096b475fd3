#include "evr/testing/harness.hpp"

#include <stdexcept>
#include <zmq.hpp>

#include "evr/event_json.hpp"

namespace evr::testing {

namespace {
// What an event has after evrouterd forwarded it once (docs/protocol.md, "Hops").
constexpr std::uint8_t kDeliveredHops = 1;
}  // namespace

Harness::Harness(std::string container) : bus_(std::move(container)) {
  // The harness stands where a Connection stands: it sees each local event once, in dispatch
  // (= publish) order.
  bus_.setExporter([this](const Event& event) { published_.push_back(event); });
}

Event Harness::feed(EventBuilder&& event, std::string source) {
  auto root = event.root();
  const std::uint64_t seq = ++seq_by_source_[source];
  root.setSource(source);
  root.setSeq(seq);
  root.setId(makeEventId(source, seq));
  root.setPublishTime(root.getEventTime());
  Event delivered = Event::fromBuilder(std::move(event), Origin::Router, kDeliveredHops);
  feed(delivered);
  return delivered;
}

void Harness::feed(Event event) {
  if (!event.valid()) throw std::invalid_argument("Harness::feed: empty event");
  if (event.origin() == Origin::Local) {
    // Published by a bus (another harness's container): what evrouterd would deliver is a copy
    // of its bytes, one hop further.
    const auto bytes = event.bytes();
    zmq::message_t copy(bytes.data(), bytes.size());
    std::string error;
    event = Event::fromWire(std::move(copy), static_cast<std::uint8_t>(event.hops() + 1), error);
    if (!event.valid()) throw std::invalid_argument("Harness::feed: " + error);
  }
  bus_.deliver(std::move(event));
  bus_.drain();
}

std::vector<Event> Harness::readFile(const std::filesystem::path& jsonl) {
  std::vector<Event> events;
  for (const auto& [line, object] : readJsonLines(jsonl)) {
    std::string error;
    auto event = tryFromJson(object, error);
    if (!event) throw std::invalid_argument(jsonl.string() + ":" + std::to_string(line) + ": " + error);
    events.push_back(std::move(*event));
  }
  return events;
}

std::size_t Harness::feedFile(const std::filesystem::path& jsonl) {
  auto events = readFile(jsonl);
  for (auto& event : events) feed(std::move(event));
  return events.size();
}

std::vector<Event> Harness::published(std::optional<EventType> type) const {
  if (!type) return published_;
  std::vector<Event> out;
  for (const auto& event : published_) {
    if (event.type() == *type) out.push_back(event);
  }
  return out;
}

}  // namespace evr::testing
