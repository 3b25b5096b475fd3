// The link envelope, framing checks and HELLO/WELCOME/ERROR bodies (protocol/).
#include <boost/test/unit_test.hpp>

#include <array>
#include <capnp/any.h>
#include <capnp/message.h>
#include <capnp/serialize.h>
#include <cstring>
#include <functional>
#include <vector>

#include "evr/envelope.hpp"
#include "evr/event_types.hpp"
#include "evr/framing.hpp"
#include "evr/link_messages.hpp"

namespace {

std::array<std::byte, evr::kEnvelopeSize> encode(const evr::Envelope& envelope) {
  std::array<std::byte, evr::kEnvelopeSize> out{};
  envelope.encodeTo(out);
  return out;
}

std::vector<std::byte> toBytes(const kj::Array<capnp::word>& words) {
  auto bytes = words.asBytes();
  std::vector<std::byte> out(bytes.size());
  std::memcpy(out.data(), bytes.begin(), bytes.size());
  return out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(envelope)

BOOST_AUTO_TEST_CASE(round_trips_every_field) {
  evr::Envelope in;
  in.kind = evr::MessageKind::Event;
  in.hops = 7;
  in.event_type = static_cast<std::uint8_t>(evr::EventType::ORDER);
  in.flags = 0x1234;
  in.seq = 0x0102030405060708ull;
  in.ack = 0xfffffffffffffff0ull;
  const auto bytes = encode(in);
  const auto out = evr::decodeEnvelope(bytes);
  BOOST_REQUIRE(out.ok());
  BOOST_TEST(static_cast<int>(out.envelope.kind) == static_cast<int>(in.kind));
  BOOST_TEST(out.envelope.hops == 7);
  BOOST_TEST(out.envelope.event_type == in.event_type);
  BOOST_TEST(out.envelope.flags == 0x1234);
  BOOST_TEST(out.envelope.seq == in.seq);
  BOOST_TEST(out.envelope.ack == in.ack);
}

BOOST_AUTO_TEST_CASE(layout_is_little_endian_as_documented) {
  evr::Envelope in;
  in.kind = evr::MessageKind::Ack;
  in.seq = 1;
  in.ack = 0x0201;
  const auto bytes = encode(in);
  BOOST_TEST(std::to_integer<int>(bytes[0]) == 'E');
  BOOST_TEST(std::to_integer<int>(bytes[1]) == 'R');
  BOOST_TEST(std::to_integer<int>(bytes[2]) == evr::kProtocolVersion);
  BOOST_TEST(std::to_integer<int>(bytes[3]) == 4);
  BOOST_TEST(std::to_integer<int>(bytes[8]) == 1);
  BOOST_TEST(std::to_integer<int>(bytes[16]) == 1);
  BOOST_TEST(std::to_integer<int>(bytes[17]) == 2);
}

BOOST_AUTO_TEST_CASE(rejects_wrong_size_magic_version_and_kind) {
  auto good = encode(evr::Envelope{});
  BOOST_TEST((evr::decodeEnvelope(std::span(good).first(23)).error == evr::EnvelopeError::WrongSize));
  BOOST_TEST((evr::decodeEnvelope({}).error == evr::EnvelopeError::WrongSize));

  auto bad_magic = good;
  bad_magic[0] = std::byte{'X'};
  BOOST_TEST((evr::decodeEnvelope(bad_magic).error == evr::EnvelopeError::BadMagic));

  auto bad_version = good;
  bad_version[2] = std::byte{99};
  const auto decoded = evr::decodeEnvelope(bad_version);
  BOOST_TEST((decoded.error == evr::EnvelopeError::VersionMismatch));
  BOOST_TEST(decoded.version == 99);

  auto bad_kind = good;
  bad_kind[3] = std::byte{0};
  BOOST_TEST((evr::decodeEnvelope(bad_kind).error == evr::EnvelopeError::UnknownKind));
  bad_kind[3] = std::byte{200};
  BOOST_TEST((evr::decodeEnvelope(bad_kind).error == evr::EnvelopeError::UnknownKind));
}

BOOST_AUTO_TEST_CASE(event_type_names_round_trip) {
  for (unsigned i = 1; i < evr::kEventTypeCount; ++i) {
    const auto type = static_cast<evr::EventType>(i);
    const auto parsed = evr::parseEventType(evr::eventTypeName(type));
    BOOST_REQUIRE(parsed.has_value());
    BOOST_TEST(static_cast<unsigned>(*parsed) == i);
  }
  BOOST_TEST(evr::parseEventType("classification").has_value());
  BOOST_TEST((*evr::parseEventType("CLASSIFICATION") == evr::EventType::REGIME));
  BOOST_TEST(!evr::parseEventType("BARS").has_value());
  BOOST_TEST(!evr::parseEventType("UNKNOWN").has_value());
  evr::EventTypeSet set;
  set.add(evr::EventType::BAR);
  set.add(evr::EventType::FILL);
  BOOST_TEST(set.toString() == "BAR|FILL");
  BOOST_TEST(evr::EventTypeSet::all().toString() == "ALL");
  BOOST_TEST(!evr::EventTypeSet::all().contains(evr::EventType::UNKNOWN));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(framing)

BOOST_AUTO_TEST_CASE(accepts_a_real_message_and_rejects_truncation) {
  evr::HelloInfo hello;
  hello.container = "strategy_a";
  auto bytes = toBytes(evr::encodeHello(hello));
  BOOST_TEST((evr::checkFraming(bytes) == evr::FramingError::None));
  BOOST_TEST((evr::checkFraming(std::span(bytes).first(bytes.size() - 8)) ==
              evr::FramingError::SizeMismatch));
  BOOST_TEST((evr::checkFraming(std::span(bytes).first(bytes.size() - 3)) ==
              evr::FramingError::NotWordMultiple));
  BOOST_TEST((evr::checkFraming({}) == evr::FramingError::Empty));
  std::vector<std::byte> absurd(16, std::byte{0xff});
  BOOST_TEST((evr::checkFraming(absurd) == evr::FramingError::BadSegmentTable));
}

BOOST_AUTO_TEST_CASE(unaligned_bytes_are_copied_before_reading) {
  evr::HelloInfo hello;
  hello.container = "risk_manager";
  hello.base_seq = 42;
  const auto bytes = toBytes(evr::encodeHello(hello));
  // Place the message at an odd address: it must be read from an aligned copy.
  std::vector<std::byte> storage(bytes.size() + 8);
  std::byte* odd = storage.data() + 1;
  if (evr::isWordAligned(odd)) ++odd;
  std::memcpy(odd, bytes.data(), bytes.size());
  const std::span<const std::byte> unaligned(odd, bytes.size());
  BOOST_REQUIRE(!evr::isWordAligned(unaligned.data()));

  evr::AlignedWords words(unaligned);
  BOOST_TEST(words.copied());
  BOOST_TEST(evr::isWordAligned(words.words().begin()));

  std::string why;
  const auto decoded = evr::decodeHello(unaligned, why);
  BOOST_REQUIRE_MESSAGE(decoded.has_value(), why);
  BOOST_TEST(decoded->container == "risk_manager");
  BOOST_TEST(decoded->base_seq == 42u);

  const std::span<const std::byte> aligned(bytes.data(), bytes.size());
  if (evr::isWordAligned(aligned.data())) {
    evr::AlignedWords in_place(aligned);
    BOOST_TEST(!in_place.copied());
    BOOST_TEST(static_cast<const void*>(in_place.words().begin()) ==
               static_cast<const void*>(aligned.data()));
  }
}

BOOST_AUTO_TEST_CASE(garbage_bodies_are_refused_with_a_reason_not_a_throw) {
  std::vector<std::byte> garbage(64, std::byte{0});
  garbage[0] = std::byte{0};  // one segment
  garbage[4] = std::byte{7};  // of 7 words: header + 7 words = 64 bytes
  for (std::size_t i = 8; i < garbage.size(); ++i) garbage[i] = std::byte{0xff};
  std::string why;
  BOOST_TEST(!evr::decodeWelcome(garbage, why).has_value());
  BOOST_TEST(!why.empty());
}

BOOST_AUTO_TEST_CASE(welcome_and_error_round_trip) {
  evr::WelcomeInfo welcome{1, 0xabcdef, 17, 250, 4096, "0.1.0"};
  std::string why;
  const auto w = evr::decodeWelcome(toBytes(evr::encodeWelcome(welcome)), why);
  BOOST_REQUIRE(w.has_value());
  BOOST_TEST(w->daemon_instance == 0xabcdefu);
  BOOST_TEST(w->ack_seq == 17u);
  BOOST_TEST(w->max_message_size == 4096u);
  evr::ErrorInfo error{evr::schema::ErrorCode::NAME_IN_USE, "taken", 3};
  const auto e = evr::decodeError(toBytes(evr::encodeError(error)), why);
  BOOST_REQUIRE(e.has_value());
  BOOST_TEST((e->code == evr::schema::ErrorCode::NAME_IN_USE));
  BOOST_TEST(e->message == "taken");
}

// A message of `levels` two-pointer structs, both pointers of each pointing at the next: 2 words
// a level, but reading it whole visits 2^levels structs.
kj::Array<capnp::word> sharedTargets(unsigned levels) {
  const std::size_t segment_words = 1 + 2 * std::size_t{levels};
  auto words = kj::heapArray<capnp::word>(1 + segment_words);
  std::vector<std::uint64_t> raw(words.size(), 0);
  raw[0] = std::uint64_t{segment_words} << 32;  // one segment of segment_words
  const auto structPointer = [](std::int32_t offset, std::uint16_t pointers) {
    return (static_cast<std::uint64_t>(static_cast<std::uint32_t>(offset) << 2)) |
           (std::uint64_t{pointers} << 48);  // no data words
  };
  raw[1] = structPointer(0, 2);  // the root: the first level, right after it
  for (unsigned level = 0; level < levels; ++level) {
    const std::size_t at = 1 + 1 + 2 * std::size_t{level};  // its first pointer, in `raw`
    const bool last = level + 1 == levels;
    raw[at] = structPointer(1, last ? 0 : 2);  // both at the next level, 2 words on
    raw[at + 1] = structPointer(0, last ? 0 : 2);
  }
  std::memcpy(words.asBytes().begin(), raw.data(), raw.size() * sizeof(std::uint64_t));
  return words;
}

BOOST_AUTO_TEST_CASE(a_message_read_whole_at_its_size_needs_no_traversal_limit) {
  evr::HelloInfo hello;
  hello.container = "strategy_a";
  const auto words = evr::encodeHello(hello);
  const std::uint64_t unlimited = kj::maxValue;
  BOOST_TEST(evr::repeatedReaderOptions(words).traversalLimitInWords == unlimited);
  const auto shallow = sharedTargets(3);  // 8 reads of the last level: a little sharing
  BOOST_TEST(evr::repeatedReaderOptions(shallow).traversalLimitInWords != unlimited);
}

// 2^50 structs to visit in 808 bytes: measuring it must stop at the budget, not walk them all
// (Cap'n Proto's targetSize() would), and the reader keeps the peer limit.
BOOST_AUTO_TEST_CASE(pointers_that_share_their_target_level_after_level_are_measured_in_linear_time) {
  const auto words = sharedTargets(50);
  BOOST_TEST(words.size() == 102u);
  const auto options = evr::repeatedReaderOptions(words);
  BOOST_TEST(options.traversalLimitInWords == evr::peerReaderOptions(words.size() * 8).traversalLimitInWords);
  // Read under those options, a handler walking it runs out of budget (an exception, at the
  // edge of the reader) after about 1,024 words, not 2^50 structs.
  capnp::FlatArrayMessageReader reader(words, options);
  std::function<std::size_t(capnp::AnyStruct::Reader)> visit = [&](capnp::AnyStruct::Reader s) {
    std::size_t seen = 1;
    for (const auto p : s.getPointerSection()) seen += visit(p.getAs<capnp::AnyStruct>());
    return seen;
  };
  BOOST_CHECK_THROW(visit(reader.getRoot<capnp::AnyStruct>()), kj::Exception);
}

BOOST_AUTO_TEST_CASE(container_names_are_checked) {
  BOOST_TEST(evr::checkContainerName("strategy_a").empty());
  BOOST_TEST(evr::checkContainerName("risk-manager.v2").empty());
  BOOST_TEST(!evr::checkContainerName("").empty());
  BOOST_TEST(!evr::checkContainerName("has space").empty());
  BOOST_TEST(!evr::checkContainerName(std::string(129, 'a')).empty());
}

BOOST_AUTO_TEST_SUITE_END()
