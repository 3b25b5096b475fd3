// Micro-benchmarks of the per-event work at both ends of a link: the envelope (decode on every
// message in the daemon), EVENTS batch encode and walk, the framing check the daemon makes before
// forwarding, the client's checked wrap of a received event, and in-process bus dispatch.
#include <benchmark/benchmark.h>

#include <array>
#include <string>

#include "evr/batch.hpp"
#include "evr/bus.hpp"
#include "evr/byte_log.hpp"
#include "evr/frames.hpp"
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

// Per event: append to a 64-event EVENTS body and hand the body to a zmq message.
void BM_BatchAppendPerEvent(benchmark::State& state) {
  const auto event = sampleEvent();
  evr::BatchWriter writer;
  for (auto _ : state) {
    writer.append(event.bytes(), 1, 0);
    if (writer.count() == 64) benchmark::DoNotOptimize(writer.take());
  }
  state.SetItemsProcessed(state.iterations());
}

// Per event: check a 64-event EVENTS body and walk its records (what the daemon does before routing).
void BM_BatchCheckAndWalkPerEvent(benchmark::State& state) {
  const auto event = sampleEvent();
  evr::BatchWriter writer;
  for (int i = 0; i < 64; ++i) writer.append(event.bytes(), 1, 0);
  const zmq::message_t body = writer.take();
  for (auto _ : state) {
    benchmark::DoNotOptimize(evr::checkBatch(evr::bytesOf(body), 64));
    evr::BatchReader reader(evr::bytesOf(body));
    evr::BatchRecord record;
    while (reader.next(record)) benchmark::DoNotOptimize(record);
  }
  state.SetItemsProcessed(state.iterations() * 64);
}

// Per event: the client's checked wrap of one record of a received 64-event batch.
void BM_ClientWrapBatchRecord(benchmark::State& state) {
  const auto event = sampleEvent();
  evr::BatchWriter writer;
  for (int i = 0; i < 64; ++i) writer.append(event.bytes(), 1, 0);
  const auto batch = std::make_shared<const zmq::message_t>(writer.take());
  std::string why;
  for (auto _ : state) {
    evr::BatchReader reader(evr::bytesOf(*batch));
    evr::BatchRecord record;
    while (reader.next(record)) {
      auto received = evr::Event::fromWireRecord(batch, record.event, record.hops, why);
      benchmark::DoNotOptimize(received);
    }
  }
  state.SetItemsProcessed(state.iterations() * 64);
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

// A publisher's whole per-event work up to the socket, for the end-to-end benchmark's event (a
// REGIME with a 128-byte tag): build, stamp, dispatch, keep as an EVENTS record in the resend
// buffer, and hand each 128 KiB run of records to a zmq message, as Connection does.
void BM_PublishBenchEventIntoBatch(benchmark::State& state) {
  evr::Bus bus("bench");
  // The connection keeps each event's record until it is acked (evr/byte_log.hpp); here the
  // oldest leave once 4,096 are kept, as acks would take them.
  evr::detail::ByteLog resend;
  evr::detail::Ring<evr::detail::ByteLog::Ref> kept;
  evr::detail::ByteLog::Ref batch_head;
  std::size_t batch_count = 0;
  std::size_t batch_bytes = 0;
  bus.setExporter([&](const evr::Event& e) {
    std::array<std::byte, evr::kBatchRecordHeader> header;
    evr::writeRecordHeader(header.data(), e.bytes().size(), static_cast<std::uint8_t>(e.type()), e.hops());
    const auto record = resend.append(header, e.bytes());
    if (batch_count > 0 && !evr::detail::joinsBatch(batch_head, batch_count, batch_bytes, record)) {
      benchmark::DoNotOptimize(resend.share(batch_head, batch_bytes));
      batch_count = batch_bytes = 0;
    }
    if (batch_count++ == 0) batch_head = record;
    batch_bytes += record.size;
    kept.push_back(record);
    if (kept.size() > 4096) {
      kept.pop_front();
      resend.releaseBefore(std::min(kept.front().chunk, batch_head.chunk));
    }
  });
  const std::string payload(128, 'p');
  for (auto _ : state) {
    evr::EventBuilder event(evr::EventType::REGIME);
    event.symbol("BENCH");
    auto regime = event.root().getPayload().getRegime();
    regime.setClassifier("bench");
    regime.setRegime("BULL");
    regime.setConfidence(0.5);
    event.tag("payload", payload);
    bus.publish(std::move(event));
  }
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
BENCHMARK(BM_BatchAppendPerEvent);
BENCHMARK(BM_BatchCheckAndWalkPerEvent);
BENCHMARK(BM_ClientWrapBatchRecord);
BENCHMARK(BM_BusPublishAndDispatch);
BENCHMARK(BM_BusDeliverReceived);
BENCHMARK(BM_PublishBenchEventIntoBatch);
