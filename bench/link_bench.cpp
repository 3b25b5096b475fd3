// Micro-benchmarks of the per-event work at both ends of a link: the envelope (decode on every
// message in the daemon), the framing check the daemon makes before forwarding, the client's
// checked wrap of a received event, and in-process bus dispatch.
#include <benchmark/benchmark.h>

#include <array>

#include "evr/bus.hpp"
#include "evr/envelope.hpp"
#include "evr/framing.hpp"

namespace {

evr::Event sampleEvent() {
  evr::Bus bus("bench");
  evr::Event captured;
  bus.subscribeAll([&](const evr::Event& e) { captured = e; });
  evr::EventBuilder bar(evr::EventType::BAR);
  bar.symbol("AAPL").eventTime(1);
  bar.root().getPayload().getBar().setClose(101.5);
  bus.publish(std::move(bar));
  return captured;
}

void BM_EnvelopeDecode(benchmark::State& state) {
  evr::Envelope envelope;
  envelope.kind = evr::MessageKind::Event;
  envelope.event_type = 1;
  envelope.seq = 12345;
  std::array<std::byte, evr::kEnvelopeSize> frame{};
  envelope.encodeTo(frame);
  for (auto _ : state) {
    auto decoded = evr::decodeEnvelope(frame);
    benchmark::DoNotOptimize(decoded);
  }
}

void BM_FramingCheck(benchmark::State& state) {
  const auto event = sampleEvent();
  const auto bytes = event.bytes();
  for (auto _ : state) benchmark::DoNotOptimize(evr::checkFraming(bytes));
  state.counters["event_bytes"] = static_cast<double>(bytes.size());
}

void BM_ClientWrapReceivedEvent(benchmark::State& state) {
  const auto event = sampleEvent();
  const auto bytes = event.bytes();
  std::string why;
  for (auto _ : state) {
    zmq::message_t frame(bytes.data(), bytes.size());
    auto received = evr::Event::fromWire(std::move(frame), 1, why);
    benchmark::DoNotOptimize(received);
  }
}

void BM_BusPublishAndDispatch(benchmark::State& state) {
  evr::Bus bus("bench");
  std::uint64_t seen = 0;
  bus.subscribe(evr::EventType::BAR, [&](const evr::Event&) { ++seen; });
  for (auto _ : state) {
    evr::EventBuilder bar(evr::EventType::BAR);
    bar.symbol("AAPL");
    bar.root().getPayload().getBar().setClose(101.5);
    bus.publish(std::move(bar));
  }
  benchmark::DoNotOptimize(seen);
  state.SetItemsProcessed(state.iterations());
}

void BM_BusDeliverReceived(benchmark::State& state) {
  evr::Bus bus("bench");
  std::uint64_t seen = 0;
  bus.subscribe(evr::EventType::BAR, [&](const evr::Event&) { ++seen; });
  const auto event = sampleEvent();
  for (auto _ : state) bus.deliver(event);
  benchmark::DoNotOptimize(seen);
  state.SetItemsProcessed(state.iterations());
}

}  // namespace

BENCHMARK(BM_EnvelopeDecode);
BENCHMARK(BM_FramingCheck);
BENCHMARK(BM_ClientWrapReceivedEvent);
BENCHMARK(BM_BusPublishAndDispatch);
BENCHMARK(BM_BusDeliverReceived);
