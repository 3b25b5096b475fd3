// Writes the generated seeds of fuzz/corpus/ (docs/fuzzing.md): real link messages for the
// `message` target (in its input layout, fuzz/message_target.cpp) and real control requests for
// `control`, real events for `capnp`. Run once when the formats change: evr_fuzz_seeds <repo>/fuzz/corpus
// (the `config` and `condition` seeds are texts: copied configs and docs/conditions.md examples).
#include <capnp/message.h>
#include <capnp/serialize.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "control.capnp.h"
#include "event.capnp.h"
#include "evr/batch.hpp"
#include "evr/envelope.hpp"
#include "evr/event_types.hpp"
#include "evr/link_messages.hpp"
#include "fuzz_support.hpp"

namespace {

using Bytes = std::vector<std::uint8_t>;

Bytes bytesOf(const void* data, std::size_t size) {
  const auto* p = static_cast<const std::uint8_t*>(data);
  return Bytes(p, p + size);
}
Bytes bytesOf(const kj::Array<capnp::word>& words) { return bytesOf(words.begin(), words.size() * sizeof(capnp::word)); }

Bytes envelope(evr::MessageKind kind, std::uint64_t seq, std::uint8_t type = 0, std::uint16_t flags = 0,
               std::uint8_t hops = 0) {
  evr::Envelope e;
  e.kind = kind;
  e.seq = seq;
  e.event_type = type;
  e.flags = flags;
  e.hops = hops;
  std::array<std::byte, evr::kEnvelopeSize> out;
  e.encodeTo(out);
  return bytesOf(out.data(), out.size());
}

// One message in the target's layout: shape, then each frame with a u16 length.
void message(Bytes& input, const std::vector<Bytes>& frames, bool link_two = false) {
  input.push_back(static_cast<std::uint8_t>((frames.size() - 1) | (link_two ? 0x40 : 0)));
  for (const auto& frame : frames) {
    input.push_back(static_cast<std::uint8_t>(frame.size() & 0xff));
    input.push_back(static_cast<std::uint8_t>(frame.size() >> 8));
    input.insert(input.end(), frame.begin(), frame.end());
  }
}

std::uint8_t typeOf(const kj::Array<capnp::word>& words) {
  capnp::FlatArrayMessageReader reader(words.asPtr());
  return static_cast<std::uint8_t>(reader.getRoot<evr::schema::Event>().getType());
}

Bytes batch(const std::vector<const kj::Array<capnp::word>*>& events) {
  evr::BatchWriter writer;
  for (const auto* words : events) {
    writer.append(std::as_bytes(std::span(words->begin(), words->size())), typeOf(*words), 0);
  }
  auto taken = writer.take();
  return bytesOf(taken.data(), taken.size());
}

Bytes hello(const std::string& name) {
  return bytesOf(evr::encodeHello({evr::kProtocolVersion, name, 7, 0, 1, "seed"}));
}

void write(const std::string& path, const Bytes& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  if (!out) std::fprintf(stderr, "cannot write %s\n", path.c_str());
}

Bytes controlRequest(int which, const std::string& path = {}) {
  capnp::MallocMessageBuilder builder;
  auto request = builder.initRoot<evr::schema::ControlRequest>();
  switch (which) {
    case 0: request.setStatus(); break;
    case 1: request.setStats(); break;
    case 2: request.setGraph(); break;
    default: request.setReload(path); break;
  }
  return bytesOf(capnp::messageToFlatArray(builder));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: evr_fuzz_seeds <corpus dir>\n");
    return 2;
  }
  const std::string dir = argv[1];
  const auto& events = evr::fuzz::fixedEvents();  // REGIME, BAR, SIGNAL, USER, empty
  using evr::MessageKind;
  auto event = [&](std::size_t i, std::uint64_t seq, std::uint8_t hops = 0) {
    return std::vector<Bytes>{envelope(MessageKind::Event, seq, typeOf(events[i]), 0, hops), bytesOf(events[i])};
  };
  {
    Bytes in;
    message(in, event(0, 1));
    write(dir + "/message/seed-event-regime", in);
  }
  {
    Bytes in;
    message(in, {envelope(MessageKind::Events, 1, 0, 4), batch({&events[0], &events[1], &events[2], &events[3]})});
    message(in, {envelope(MessageKind::Ack, 0)});
    write(dir + "/message/seed-events-batch", in);
  }
  {
    Bytes in;
    message(in, event(1, 1));
    message(in, event(2, 2));
    message(in, event(3, 3, 20));  // over router.max_hops
    message(in, event(2, 3));      // a duplicate seq
    message(in, {envelope(MessageKind::Heartbeat, 0)});
    message(in, {envelope(MessageKind::Bye, 0)});
    write(dir + "/message/seed-events-then-bye", in);
  }
  {
    Bytes in;
    message(in, event(0, 1), true);  // before HELLO
    message(in, {envelope(MessageKind::Hello, 0), hello("g")}, true);
    message(in, event(1, 1), true);
    message(in, {envelope(MessageKind::Events, 2, 0, 2), batch({&events[0]})}, true);  // count mismatch
    write(dir + "/message/seed-second-link", in);
  }
  {
    Bytes in;
    auto bad = envelope(MessageKind::Event, 1, 7);
    bad[2] = 2;  // an older protocol version
    message(in, {bad, bytesOf(events[0])});
    message(in, {envelope(MessageKind::Event, 2, 7), bytesOf(events[0]), Bytes(8, 0), Bytes(8, 0)});  // 4 frames
    message(in, {envelope(MessageKind::Event, 3, 7), Bytes(24, 0xff)});  // a bad segment table
    write(dir + "/message/seed-malformed", in);
  }
  {
    capnp::MallocMessageBuilder builder;
    auto big = builder.initRoot<evr::schema::Event>();
    big.setType(evr::EventType::REGIME);
    big.setSymbol(std::string(5000, 'S'));  // over the target's max_message_size of 4096
    const auto words = capnp::messageToFlatArray(builder);
    Bytes in;
    message(in, {envelope(MessageKind::Event, 1, 7), bytesOf(words)});
    write(dir + "/message/seed-oversized", in);
  }
  write(dir + "/control/seed-status", controlRequest(0));
  write(dir + "/control/seed-stats", controlRequest(1));
  write(dir + "/control/seed-graph", controlRequest(2));
  write(dir + "/control/seed-reload-own", controlRequest(3));
  write(dir + "/control/seed-reload-changed", controlRequest(3, "b.yaml"));
  write(dir + "/control/seed-reload-broken", controlRequest(3, "a.yaml"));
  // capnp: each event as built, and copied into one-word segments (far pointers everywhere).
  std::filesystem::create_directories(dir + "/capnp");
  for (std::size_t i = 0; i < events.size(); ++i) {
    write(dir + "/capnp/seed-event-" + std::to_string(i), bytesOf(events[i]));
    capnp::FlatArrayMessageReader reader(events[i].asPtr());
    capnp::MallocMessageBuilder far(1, capnp::AllocationStrategy::FIXED_SIZE);
    far.setRoot(reader.getRoot<evr::schema::Event>());
    write(dir + "/capnp/seed-event-" + std::to_string(i) + "-far", bytesOf(capnp::messageToFlatArray(far)));
  }
  return 0;
}
