// Target `capnp`: any bytes as a Cap'n Proto message, as the receive paths meet an event's bytes
// (protocol/framing): checkFraming, then contentWords (the walk that decides whether a message may
// be read without a traversal limit, over the pointer words themselves) and readRepeatedly, which
// uses it. Cap'n Proto is the reference: where contentWords counts a message's content, Cap'n
// Proto's own walk (the root's totalSize()) must count the same; where contentWords refuses a
// message, Cap'n Proto must refuse it too, and the other way round. When the walk stops at its
// budget there is nothing to compare (Cap'n Proto's walk has no budget: sharing makes it
// exponential).
//
// readableUnchecked (one segment, walked whole by a walk of its own, no far pointer) lets the client
// read an event with no bounds checks. It may allow that only where contentWords reads the message
// whole within the same budget. Where it allows it, the message is read whole as an event both ways, an
// unchecked reader and a checked one (kj::str prints every field the schema has, through the
// reader), and the two must give the same text or both refuse; under the sanitizers the unchecked
// read must stay inside the input. There also rootText, the client's hand-read of the event's
// source and symbol, must read each root pointer as Cap'n Proto's text reader does, and
// rootKeyedText (Event::tag) each root pointer's list of tags as iterating Cap'n Proto's does. And every field
// the daemon's routes read by hand (fields::FlatEvent) must read as through a reader wherever the
// hand reader gives a value (compareFlatReads).
//
// Findings: a count that differs, a refusal on one side only, an unchecked read unlike the
// checked one, an exception that is not kj::Exception, and (under the sanitizers) any read
// outside the input.
#include <capnp/any.h>
#include <capnp/schema.h>
#include <capnp/serialize.h>
#include <kj/exception.h>

#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "event.capnp.h"
#include "evr/event_fields.hpp"
#include "evr/framing.hpp"
#include "fuzz_targets.hpp"

namespace evr::fuzz {
namespace {

// The event `read` gives, printed field by field; nullopt when reading refuses it.
template <typename Read>
std::optional<std::string> printed(Read read) {
  try {
    const schema::Event::Reader event = read();
    return std::string(kj::str(event).cStr());
  } catch (const kj::Exception&) {
    return std::nullopt;
  }
}

// rootText, for a message readableUnchecked accepted, reads each of the root's pointers as Cap'n
// Proto's text reader does: the same text where it gives one, nothing where Cap'n Proto refuses.
// Every pointer of the root (and one past them, which reads as the default ""), not only the
// event's source and symbol: any of them may be a text in some schema.
void compareRootTexts(kj::ArrayPtr<const capnp::word> words, capnp::List<capnp::AnyPointer>::Reader pointers) {
  for (unsigned index = 0; index <= pointers.size() && index < 64; ++index) {
    std::optional<std::string> expected;
    if (index == pointers.size()) {
      expected = "";
    } else {
      try {
        const capnp::Text::Reader text = pointers[index].getAs<capnp::Text>();
        expected = std::string(text.begin(), text.size());
      } catch (const kj::Exception&) {
      }
    }
    const auto read = rootText(words, index);
    EVR_FUZZ_CHECK(read.has_value() == expected.has_value(),
                   read ? "rootText read a text Cap'n Proto refuses" : "rootText refused a text Cap'n Proto reads");
    if (read && expected) EVR_FUZZ_CHECK(std::string(*read) == *expected, "rootText read a text unlike Cap'n Proto's");
  }
}

// rootKeyedText, for a message readableUnchecked accepted, finds in each root pointer read as a
// list of Event.Tag what iterating Cap'n Proto's reader of it finds: for the first element's key
// (when there is one) and for a key no element has, the same value, or nothing where Cap'n Proto
// refuses to read the list or a text it must compare.
void compareKeyedTexts(kj::ArrayPtr<const capnp::word> words, capnp::List<capnp::AnyPointer>::Reader pointers) {
  const auto tag = capnp::Schema::from<schema::Tag>();
  const unsigned key_at = tag.getFieldByName("key").getProto().getSlot().getOffset();
  const unsigned value_at = tag.getFieldByName("value").getProto().getSlot().getOffset();
  for (unsigned index = 0; index < pointers.size() && index < 64; ++index) {
    std::vector<std::string> keys{"\x01no such key"};
    try {
      const auto list = pointers[index].getAs<capnp::List<schema::Tag>>();
      if (list.size() > 0) keys.emplace_back(list[0].getKey().cStr(), list[0].getKey().size());
    } catch (const kj::Exception&) {
    }
    for (const auto& wanted : keys) {
      // Cap'n Proto's answer: the first element with the key (nullopt inside: none), or a refusal.
      std::optional<std::optional<std::string>> expected;
      try {
        std::optional<std::string> found;
        for (const auto element : pointers[index].getAs<capnp::List<schema::Tag>>()) {
          const auto key = element.getKey();
          if (std::string_view(key.begin(), key.size()) != wanted) continue;
          const auto value = element.getValue();
          found = std::string(value.begin(), value.size());
          break;
        }
        expected = found;
      } catch (const kj::Exception&) {
      }
      const auto read = rootKeyedText(words, index, key_at, value_at, wanted);
      if (!read) continue;  // left to Cap'n Proto, which decides
      EVR_FUZZ_CHECK(expected.has_value(), "rootKeyedText read a tag list Cap'n Proto refuses");
      EVR_FUZZ_CHECK(read->found == expected->has_value(), "rootKeyedText and Cap'n Proto disagree on a key");
      if (read->found) EVR_FUZZ_CHECK(std::string(read->value) == **expected, "rootKeyedText read a value unlike Cap'n Proto's");
    }
  }
}

// readableUnchecked says yes or no, never throws, and says yes only where contentWords, with the
// same budget, read the message whole (`read_whole`); there the unchecked reader must read what
// the checked one does.
void compareUnchecked(kj::ArrayPtr<const capnp::word> words, const capnp::ReaderOptions& unlimited,
                      bool read_whole) {
  bool unchecked = false;
  try {
    unchecked = readableUnchecked(words, unlimited.nestingLimit);
  } catch (const kj::Exception&) {
    EVR_FUZZ_CHECK(false, "readableUnchecked threw");
  }
  if (!unchecked) return;
  EVR_FUZZ_CHECK(read_whole, "readableUnchecked allowed a message contentWords does not read whole");
  std::optional<capnp::FlatArrayMessageReader> reader;
  const auto checked_text = printed([&] {
    reader.emplace(words, unlimited);
    return reader->getRoot<schema::Event>();
  });
  const auto unchecked_text = printed([&] { return capnp::readMessageUnchecked<schema::Event>(words.begin() + 1); });
  EVR_FUZZ_CHECK(checked_text.has_value() == unchecked_text.has_value(),
                 unchecked_text ? "an unchecked reader read an event the checked one refuses"
                                : "an unchecked reader refused an event the checked one reads");
  if (checked_text && unchecked_text) {
    EVR_FUZZ_CHECK(*checked_text == *unchecked_text, "an unchecked reader read an event unlike the checked one");
  }
  // The root's pointers as Cap'n Proto reads them; a refused root refuses the event before any
  // text in it is read.
  capnp::FlatArrayMessageReader root_reader(words, unlimited);
  std::optional<capnp::List<capnp::AnyPointer>::Reader> pointers;
  try {
    pointers = root_reader.getRoot<capnp::AnyStruct>().getPointerSection();
  } catch (const kj::Exception&) {
    return;
  }
  compareRootTexts(words, *pointers);
  compareKeyedTexts(words, *pointers);
}

}  // namespace

FlatReads compareFlatReads(kj::ArrayPtr<const capnp::word> words) {
  FlatReads counts;
  const fields::FlatEvent flat(words);
  capnp::ReaderOptions unlimited;
  unlimited.traversalLimitInWords = kj::maxValue;
  std::optional<capnp::FlatArrayMessageReader> message;
  std::optional<schema::Event::Reader> root;
  try {
    message.emplace(words, unlimited);
    root = message->getRoot<schema::Event>();
  } catch (const kj::Exception&) {
  }
  EVR_FUZZ_CHECK(root || !flat.rootReadable(), "FlatEvent read a root Cap'n Proto refuses");
  for (const auto& field : fields::allFields()) {
    const auto hand = flat.read(field, 3);
    if (!hand) {
      ++counts.left;
      continue;
    }
    ++counts.by_hand;
    EVR_FUZZ_CHECK(root.has_value(), "FlatEvent read a field of an event Cap'n Proto refuses");
    std::optional<fields::FieldValue> read;
    try {
      read = field.read(*root, 3);
    } catch (const kj::Exception&) {
      EVR_FUZZ_CHECK(false, "FlatEvent read a field Cap'n Proto refuses");
    }
    const bool same = [&] {
      using T = fields::FieldValue::Type;
      if (hand->type() != read->type()) return false;
      switch (hand->type()) {
        case T::Absent: return true;
        case T::Number: {
          const double a = hand->asNumber(), b = read->asNumber();
          return std::memcmp(&a, &b, sizeof a) == 0;
        }
        case T::Integer: return hand->asInteger() == read->asInteger();
        case T::Unsigned: return hand->asUnsigned() == read->asUnsigned();
        case T::Bool: return hand->asBool() == read->asBool();
        case T::Text: return hand->asText() == read->asText();
        case T::Enum: return hand->enumOrdinal() == read->enumOrdinal() && hand->asText() == read->asText();
      }
      return false;
    }();
    EVR_FUZZ_CHECK(same, "FlatEvent read a field unlike Cap'n Proto");
  }
  return counts;
}

int fuzzCapnp(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::byte> bytes(reinterpret_cast<const std::byte*>(data), size);
  if (checkFraming(bytes) != FramingError::None) return 0;
  const AlignedWords words(bytes);
  capnp::ReaderOptions unlimited;
  unlimited.traversalLimitInWords = kj::maxValue;  // contentWords is the bound
  unlimited.nestingLimit = 64;

  std::optional<std::uint64_t> counted;
  bool refused = false;
  try {
    capnp::FlatArrayMessageReader reader(words.words(), unlimited);
    counted = contentWords(reader, words.words().size(), unlimited.nestingLimit);
  } catch (const kj::Exception&) {
    refused = true;
  }
  {
    std::optional<capnp::FlatArrayMessageReader> message;
    try {
      readRepeatedly(message, words.words());
    } catch (const kj::Exception&) {
      EVR_FUZZ_CHECK(refused, "readRepeatedly refused a message contentWords counted");
    }
  }
  compareUnchecked(words.words(), unlimited, counted.has_value());
  (void)compareFlatReads(words.words());
  if (!refused && !counted) return 0;  // over the budget

  // Cap'n Proto's count. Where contentWords threw, it threw at the same place of the same
  // depth-first walk, within its budget, so Cap'n Proto's walk gets there as fast.
  std::optional<std::uint64_t> reference;
  try {
    capnp::FlatArrayMessageReader reader(words.words(), unlimited);
    reference = reader.getRoot<capnp::AnyStruct>().totalSize().wordCount;
  } catch (const kj::Exception&) {
  }
  EVR_FUZZ_CHECK(refused == !reference.has_value(), refused ? "contentWords refused a message Cap'n Proto reads"
                                                            : "contentWords counted a message Cap'n Proto refuses");
  if (counted && reference) EVR_FUZZ_CHECK(*counted == *reference, "contentWords and totalSize() differ");
  return 0;
}

}  // namespace evr::fuzz
