// The link envelope, framing checks and HELLO/WELCOME/ERROR bodies (protocol/).
#include <boost/test/unit_test.hpp>

#include <array>
#include <capnp/any.h>
#include <capnp/message.h>
#include <capnp/serialize.h>
#include <cstring>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "evr/envelope.hpp"
#include "evr/event_types.hpp"
#include "evr/framing.hpp"
#include "evr/link_messages.hpp"
#include "raw_capnp.hpp"

namespace {

using evr::test::farPointer;
using evr::test::listPointer;
using evr::test::rawMessage;
using evr::test::sharedTargets;
using evr::test::structPointer;

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

// What contentWords says of `words` with a budget of their size.
std::optional<std::uint64_t> contentOf(const kj::Array<capnp::word>& words) {
  capnp::ReaderOptions options;
  options.traversalLimitInWords = kj::maxValue;
  capnp::FlatArrayMessageReader reader(words, options);
  return evr::contentWords(reader, words.size(), 64);
}

// What Cap'n Proto's own walk counts, for messages without deep sharing.
std::uint64_t targetSizeOf(const kj::Array<capnp::word>& words) {
  capnp::FlatArrayMessageReader reader(words);
  return reader.getRoot<capnp::AnyPointer>().targetSize().wordCount;
}

// A struct with a list of every element size, texts, structs in a list and a capability,
// built into segments of `segment_words` (small ones put most pointers across segments).
kj::Array<capnp::word> everyKindOfPointer(unsigned segment_words) {
  capnp::MallocMessageBuilder builder(segment_words, capnp::AllocationStrategy::FIXED_SIZE);
  auto root = builder.getRoot<capnp::AnyPointer>().initAsAnyStruct(2, 9);
  auto pointers = root.getPointerSection();
  pointers[0].initAsAnyList(capnp::ElementSize::BIT, 100);
  pointers[1].initAsAnyList(capnp::ElementSize::BYTE, 13);
  pointers[2].initAsAnyList(capnp::ElementSize::TWO_BYTES, 5);
  pointers[3].initAsAnyList(capnp::ElementSize::FOUR_BYTES, 3);
  pointers[4].initAsAnyList(capnp::ElementSize::EIGHT_BYTES, 2);
  pointers[5].initAsAnyList(capnp::ElementSize::VOID, 3);
  auto texts = pointers[6].initAs<capnp::List<capnp::Text>>(3);
  texts.set(0, "a");
  texts.set(1, "a text of more than one word");
  auto structs = pointers[7].initAsListOfAnyStruct(1, 2, 4);
  for (auto element : structs) element.getPointerSection()[1].setAs<capnp::Text>("inner");
  return capnp::messageToFlatArray(builder);
}

std::uint32_t segmentCount(const kj::Array<capnp::word>& words) {
  std::uint32_t last = 0;
  std::memcpy(&last, words.begin(), sizeof(last));
  return last + 1;
}

// A chain of `levels` structs, each with one pointer to the next.
kj::Array<capnp::word> chain(unsigned levels) {
  std::vector<std::uint64_t> segment(levels, structPointer(0, 0, 1));  // each struct right after its pointer
  segment.push_back(0);                                                  // the last one's pointer: null
  return rawMessage({segment});
}

// A struct whose one pointer is to a list of one struct element, whose one pointer is to such a
// list again, `levels` lists deep: every level of nesting through a list of structs.
kj::Array<capnp::word> listChain(unsigned levels) {
  std::vector<std::uint64_t> segment{structPointer(0, 0, 1)};
  for (unsigned i = 0; i < levels; ++i) {
    segment.push_back(listPointer(0, 7, 1));     // the list's words: one element of one pointer
    segment.push_back(structPointer(1, 0, 1));   // its tag: 1 element (in the offset field)
  }
  segment.push_back(0);  // the last element's pointer: null
  return rawMessage({segment});
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

// contentWords walks the pointer format itself; Cap'n Proto's targetSize() is the reference.
BOOST_AUTO_TEST_CASE(content_words_are_what_cap_n_proto_counts) {
  for (const unsigned segment_words : {4096u, 8u, 1u}) {
    BOOST_TEST_CONTEXT("segments of " << segment_words << " words") {
      const auto words = everyKindOfPointer(segment_words);
      if (segment_words < 16) BOOST_TEST(segmentCount(words) > 2u);  // far pointers
      const auto content = contentOf(words);
      BOOST_REQUIRE(content.has_value());
      BOOST_TEST(*content == targetSizeOf(words));
    }
  }
  // Far pointers by hand. Single: a landing pad in segment 1 points at a 1-word struct after it.
  const auto single = rawMessage({{farPointer(false, 0, 1)}, {structPointer(0, 1, 0), 42}});
  BOOST_TEST(contentOf(single).value() == 1u);
  BOOST_TEST(targetSizeOf(single) == 1u);
  // Double: the pad in segment 1 is a far pointer to the content in segment 2 and a tag.
  const auto double_far = rawMessage({{farPointer(true, 0, 1)},
                                      {farPointer(false, 0, 2), structPointer(0, 1, 1)},
                                      {42, listPointer(0, 2, 5), 0x6f6c6c6568}});
  BOOST_TEST(contentOf(double_far).value() == 3u);
  BOOST_TEST(targetSizeOf(double_far) == 3u);
  // A capability costs its pointer word, nothing behind it.
  const auto capability = rawMessage({{structPointer(0, 0, 1), 3}});
  BOOST_TEST(contentOf(capability).value() == 1u);
  BOOST_TEST(targetSizeOf(capability) == 1u);
  BOOST_TEST(contentOf(rawMessage({{0}})).value() == 0u);  // no root: nothing to read
  // An empty struct anywhere, even outside the segment: nothing to read (found by fuzz/capnp).
  const auto empty_far_off = rawMessage({{structPointer(0, 0, 1), structPointer(1 << 22, 0, 0)}});
  BOOST_TEST(contentOf(empty_far_off).value() == 1u);
  BOOST_TEST(targetSizeOf(empty_far_off) == 1u);
  // A list of structs counts its elements in 29 bits of its tag; the bit above is not one of them.
  const auto high_bit = rawMessage({{structPointer(0, 0, 1), listPointer(0, 7, 1), structPointer(1 | 1 << 29, 1, 0), 42}});
  BOOST_TEST(contentOf(high_bit).value() == 3u);
  BOOST_TEST(targetSizeOf(high_bit) == 3u);
}

BOOST_AUTO_TEST_CASE(content_words_stop_at_the_budget) {
  BOOST_TEST(!contentOf(sharedTargets(3)).has_value());
  // A list of 2^29 - 1 voids in 3 words: no words of content, but as many visits.
  BOOST_TEST(!contentOf(rawMessage({{structPointer(0, 0, 1), listPointer(0, 0, (1u << 29) - 1)}})).has_value());
}

// Where Cap'n Proto would refuse to read, contentWords throws as reading would.
BOOST_AUTO_TEST_CASE(content_words_of_an_unreadable_message_throw) {
  BOOST_CHECK_THROW(contentOf(rawMessage({{structPointer(0, 4, 0), 0}})), kj::Exception);  // out of bounds
  BOOST_CHECK_THROW(contentOf(rawMessage({{farPointer(false, 0, 5)}})), kj::Exception);   // no segment 5
  BOOST_CHECK_THROW(contentOf(rawMessage({{farPointer(false, 9, 0)}})), kj::Exception);   // pad out of bounds
  BOOST_CHECK_THROW(contentOf(rawMessage({{listPointer(0, 2, 8), 0}})), kj::Exception);   // a list as root
  BOOST_CHECK_THROW(contentOf(rawMessage({{structPointer(0, 0, 1), 7}})), kj::Exception); // no such kind
  BOOST_CHECK_THROW(contentOf(rawMessage({{structPointer(0, 0, 1), listPointer(0, 7, 1), structPointer(2, 1, 0), 0}})),
                    kj::Exception);  // a list of 1 word whose tag says 2 structs of a word
  // Nesting: Cap'n Proto reads 64 levels and refuses 65 (checked with its own readers here).
  const auto deepest = [](const kj::Array<capnp::word>& words) {
    capnp::FlatArrayMessageReader reader(words);
    unsigned depth = 0;
    for (auto s = reader.getRoot<capnp::AnyStruct>();; ++depth) {
      const auto next = s.getPointerSection()[0];
      if (next.isNull()) return depth + 1;
      s = next.getAs<capnp::AnyStruct>();
    }
  };
  BOOST_TEST(deepest(chain(64)) == 64u);
  BOOST_TEST(contentOf(chain(64)).value() == 64u);
  BOOST_CHECK_THROW(deepest(chain(65)), kj::Exception);
  BOOST_CHECK_THROW(contentOf(chain(65)), kj::Exception);
}

// The client reads a received event with no bounds checks when readableUnchecked allows it: one
// segment, walked whole within its size, no far pointer (fuzz/capnp compares the two readers).
BOOST_AUTO_TEST_CASE(one_segment_walked_whole_without_far_pointers_may_be_read_unchecked) {
  const auto one_segment = everyKindOfPointer(4096);
  BOOST_TEST(segmentCount(one_segment) == 1u);
  BOOST_TEST(evr::readableUnchecked(one_segment));
  // What an unchecked reader reads of it is what a checked one reads.
  const auto unchecked = capnp::readMessageUnchecked<capnp::AnyStruct>(one_segment.begin() + 1);
  BOOST_TEST(unchecked.totalSize().wordCount == targetSizeOf(one_segment));
  BOOST_TEST(!evr::readableUnchecked(everyKindOfPointer(8)));  // several segments
  // One segment, but the root is a far pointer to a pad in it: legal, and an unchecked reader
  // would not follow it.
  const auto far_in_place = rawMessage({{farPointer(false, 1, 0), structPointer(0, 1, 0), 42}});
  BOOST_TEST(contentOf(far_in_place).value() == 1u);
  BOOST_TEST(!evr::readableUnchecked(far_in_place));
  BOOST_TEST(!evr::readableUnchecked(sharedTargets(3)));   // over its size: shared targets
  BOOST_TEST(evr::readableUnchecked(chain(64)));
  BOOST_TEST(!evr::readableUnchecked(chain(65)));  // too deep
  BOOST_TEST(!evr::readableUnchecked(rawMessage({{structPointer(0, 4, 0), 0}})));  // out of bounds
  BOOST_TEST(!evr::readableUnchecked(rawMessage({{}})));   // no root pointer at all
  BOOST_TEST(!evr::readableUnchecked(rawMessage({{structPointer(0, 0, 1), 7}})));  // no such kind
  BOOST_TEST(!evr::readableUnchecked(rawMessage({{listPointer(0, 2, 8), 0}})));   // a list as root
}

// readableUnchecked walks one segment with a walk of its own (no recursion), which must say yes
// exactly where contentWords's walk, with the same budget, reads the message whole (no far
// pointers here): at the nesting limit, through structs and through lists of structs.
BOOST_AUTO_TEST_CASE(the_one_segment_walk_agrees_with_content_words) {
  const auto whole = [](const kj::Array<capnp::word>& words) {
    try {
      return contentOf(words).has_value();
    } catch (const kj::Exception&) {
      return false;
    }
  };
  for (unsigned levels = 1; levels <= 66; ++levels) {
    BOOST_TEST(evr::readableUnchecked(chain(levels)) == whole(chain(levels)), "chain of " << levels);
    BOOST_TEST(evr::readableUnchecked(listChain(levels)) == whole(listChain(levels)), "list chain of " << levels);
  }
  BOOST_TEST(whole(listChain(63)));  // the root and 63 lists: 64 levels
  BOOST_TEST(!whole(listChain(64)));
  BOOST_TEST(evr::readableUnchecked(everyKindOfPointer(4096)) == whole(everyKindOfPointer(4096)));
  // Lists of empty structs: their elements have no words, yet each is a visit (found by the fuzz
  // target: a run of such elements was once taken for a run of pointers).
  const auto empties = [](std::int32_t count) {
    return rawMessage({{structPointer(0, 0, 1), listPointer(0, 7, 0), structPointer(count, 0, 0)}});
  };
  // Visits: the root, the list, each element; the budget is the message's 4 words.
  BOOST_TEST(evr::readableUnchecked(empties(2)));   // 4 visits
  BOOST_TEST(!evr::readableUnchecked(empties(3)));  // 5
  for (std::int32_t count = 1; count <= 3; ++count) {
    BOOST_TEST(evr::readableUnchecked(empties(count)) == whole(empties(count)));
  }
  BOOST_TEST(!evr::readableUnchecked(empties((1 << 29) - 1)));  // over the visits budget
  BOOST_TEST(evr::readableUnchecked(empties((1 << 29) - 1)) == whole(empties((1 << 29) - 1)));
  BOOST_TEST(evr::readableUnchecked(sharedTargets(2)) == whole(sharedTargets(2)));
  BOOST_TEST(evr::readableUnchecked(sharedTargets(3)) == whole(sharedTargets(3)));
}

// rootText reads a root pointer's text by hand where the walk accepted the message: the same
// text as Cap'n Proto's reader, "" where it reads the default, and nothing where it refuses.
BOOST_TEST_DECORATOR(*boost::unit_test::timeout(10))
BOOST_AUTO_TEST_CASE(root_texts_read_by_hand_agree_with_cap_n_proto) {
  const auto message = rawMessage({{
      structPointer(0, 0, 6),  // the root: six pointers
      listPointer(5, 2, 3),    // 0: "ab" and its NUL, at word 7
      0,                       // 1: null
      structPointer(4, 1, 0),  // 2: a struct, at 8
      listPointer(4, 2, 2),    // 3: "xy" with no NUL, at 9
      listPointer(0, 2, 0),    // 4: no bytes at all
      listPointer(3, 5, 1),    // 5: one 8-byte value, at 10
      0x6261, 42, 0x7978, 7,   // words 7 to 10
  }});
  BOOST_REQUIRE(evr::readableUnchecked(message));
  BOOST_TEST(evr::rootText(message, 0).value_or("?") == "ab");
  BOOST_TEST(evr::rootText(message, 1).value_or("?") == "");
  BOOST_TEST(!evr::rootText(message, 2).has_value());
  BOOST_TEST(!evr::rootText(message, 3).has_value());
  BOOST_TEST(!evr::rootText(message, 4).has_value());
  BOOST_TEST(!evr::rootText(message, 5).has_value());
  BOOST_TEST(evr::rootText(message, 6).value_or("?") == "");  // past the root's pointers
  capnp::FlatArrayMessageReader reader(message);
  const auto pointers = reader.getRoot<capnp::AnyStruct>().getPointerSection();
  for (unsigned index = 0; index < pointers.size(); ++index) {
    std::optional<std::string> expected;
    try {
      const auto text = pointers[index].getAs<capnp::Text>();
      expected = std::string(text.begin(), text.size());
    } catch (const kj::Exception&) {
    }
    const auto read = evr::rootText(message, index);
    BOOST_TEST(read.has_value() == expected.has_value(), "pointer " << index);
    if (read && expected) BOOST_TEST(std::string(*read) == *expected, "pointer " << index);
  }
}

BOOST_AUTO_TEST_CASE(container_names_are_checked) {
  BOOST_TEST(evr::checkContainerName("strategy_a").empty());
  BOOST_TEST(evr::checkContainerName("risk-manager.v2").empty());
  BOOST_TEST(!evr::checkContainerName("").empty());
  BOOST_TEST(!evr::checkContainerName("has space").empty());
  BOOST_TEST(!evr::checkContainerName(std::string(129, 'a')).empty());
}

BOOST_AUTO_TEST_SUITE_END()
