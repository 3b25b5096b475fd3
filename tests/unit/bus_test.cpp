// evr::Bus dispatch order and re-entrancy, and evr::Event's handling of received bytes.
#include <boost/test/unit_test.hpp>
#include <capnp/any.h>
#include <capnp/schema.h>
#include <capnp/serialize.h>

#include <cstring>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "evr/bus.hpp"
#include "evr/framing.hpp"

namespace {

evr::EventBuilder bar(const std::string& symbol, double close) {
  evr::EventBuilder event(evr::EventType::BAR);
  event.symbol(symbol);
  event.root().getPayload().getBar().setClose(close);
  return event;
}

// A BAR as a bus named "src" publishes it (stamped), for the tests of received bytes.
evr::Event publishedBar(const std::string& symbol, double close) {
  evr::Bus source("src");
  std::optional<evr::Event> published;
  source.subscribeAll([&](const evr::Event& e) { published = e; });
  source.publish(bar(symbol, close));
  BOOST_REQUIRE(published);
  return *published;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(bus)

BOOST_AUTO_TEST_CASE(handlers_run_in_subscription_order_for_their_types) {
  evr::Bus bus("unit");
  std::vector<std::string> calls;
  bus.subscribe(evr::EventType::BAR, [&](const evr::Event&) { calls.push_back("bar-1"); });
  bus.subscribeAll([&](const evr::Event& e) { calls.push_back("all:" + std::string(evr::eventTypeName(e.type()))); });
  bus.subscribe(evr::EventType::SIGNAL, [&](const evr::Event&) { calls.push_back("signal"); });
  bus.subscribe(evr::EventType::BAR, [&](const evr::Event&) { calls.push_back("bar-2"); });
  bus.publish(bar("AAPL", 1));
  bus.publish(evr::EventBuilder(evr::EventType::SIGNAL));
  const std::vector<std::string> expected{"bar-1", "all:BAR", "bar-2", "all:SIGNAL", "signal"};
  BOOST_TEST(calls == expected, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(an_event_published_by_a_handler_is_dispatched_after_the_current_one) {
  evr::Bus bus("unit");
  std::vector<std::string> calls;
  bus.subscribe(evr::EventType::BAR, [&](const evr::Event& e) {
    calls.push_back("bar-a " + std::string(e.symbol()));
    if (e.symbol() == "X") bus.publish(evr::EventBuilder(evr::EventType::SIGNAL).symbol("from-X"));
  });
  bus.subscribe(evr::EventType::BAR, [&](const evr::Event& e) { calls.push_back("bar-b " + std::string(e.symbol())); });
  bus.subscribe(evr::EventType::SIGNAL, [&](const evr::Event& e) { calls.push_back("signal " + std::string(e.symbol())); });
  bus.publish(bar("X", 1));
  const std::vector<std::string> expected{"bar-a X", "bar-b X", "signal from-X"};
  BOOST_TEST(calls == expected, boost::test_tools::per_element());
}

// A handler's exception ends the round and goes to the caller; what its handler published stays
// queued, and is dispatched, in order, before the next event published (not after it, and not
// lost), with the exporter seeing each local event once.
BOOST_AUTO_TEST_CASE(a_round_a_handler_ended_by_throwing_is_finished_before_the_next_event) {
  evr::Bus bus("unit");
  std::vector<std::string> calls;
  std::vector<std::string> exported;
  bus.setExporter([&](const evr::Event& e) { exported.emplace_back(e.symbol()); });
  bus.subscribe(evr::EventType::BAR, [&](const evr::Event& e) {
    calls.emplace_back(e.symbol());
    if (e.symbol() == "A") {
      bus.publish(bar("B", 2));
      bus.publish(bar("C", 3));
      throw std::runtime_error("handler failed");
    }
  });
  BOOST_CHECK_THROW(bus.publish(bar("A", 1)), std::runtime_error);
  BOOST_TEST(calls == std::vector<std::string>{"A"}, boost::test_tools::per_element());
  BOOST_TEST(!bus.idle());  // B and C wait
  bus.publish(bar("D", 4));
  const std::vector<std::string> expected{"A", "B", "C", "D"};
  BOOST_TEST(calls == expected, boost::test_tools::per_element());
  BOOST_TEST(exported == expected, boost::test_tools::per_element());
  BOOST_TEST(bus.idle());
}

BOOST_AUTO_TEST_CASE(a_handler_may_unsubscribe_itself_and_subscribe_others_while_it_runs) {
  evr::Bus bus("unit");
  std::vector<std::string> calls;
  evr::Bus::SubscriptionId once = 0;
  std::string payload(200, 'x');  // a large capture: the handler lives outside std::function's buffer
  once = bus.subscribe(evr::EventType::BAR, [&, payload](const evr::Event& e) {
    BOOST_TEST(bus.unsubscribe(once));
    BOOST_TEST(!bus.unsubscribe(once));  // already gone
    // Many new subscriptions grow the container while this handler runs; it must stay intact.
    for (int i = 0; i < 100; ++i) {
      bus.subscribe(evr::EventType::BAR, [&calls, i](const evr::Event&) {
        if (i == 99) calls.push_back("late");
      });
    }
    calls.push_back("once " + std::string(e.symbol()) + " " + std::to_string(payload.size()));
  });
  bus.subscribe(evr::EventType::BAR, [&](const evr::Event& e) { calls.push_back("steady " + std::string(e.symbol())); });
  bus.publish(bar("A", 1));
  bus.publish(bar("B", 2));
  // New subscribers see the next event, not the one being dispatched; `once` saw only the first.
  const std::vector<std::string> expected{"once A 200", "steady A", "steady B", "late"};
  BOOST_TEST(calls == expected, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(stamping_sets_source_seq_id_and_causation) {
  evr::Bus bus("strategy_a");
  std::vector<evr::Event> seen;
  bus.subscribe(evr::EventType::BAR, [&](const evr::Event& e) {
    seen.push_back(e);
    bus.publish(evr::EventBuilder(evr::EventType::SIGNAL));
  });
  bus.subscribe(evr::EventType::SIGNAL, [&](const evr::Event& e) { seen.push_back(e); });
  BOOST_TEST(bus.publish(bar("AAPL", 10)) == 1u);
  BOOST_REQUIRE(seen.size() == 2u);
  const auto& first = seen[0];
  const auto& second = seen[1];
  BOOST_TEST(first.source() == "strategy_a");
  BOOST_TEST(first.seq() == 1u);
  BOOST_TEST(second.seq() == 2u);
  BOOST_TEST(first.id() == evr::makeEventId("strategy_a", 1));
  BOOST_TEST(second.reader().getCausationId() == first.id());
  BOOST_TEST(second.reader().getCorrelationId() == first.id());
  BOOST_TEST(first.reader().getCausationId() == 0u);
  BOOST_TEST((first.origin() == evr::Origin::Local));
  BOOST_TEST(first.reader().getPayload().getBar().getClose() == 10.0);
  BOOST_TEST(first.reader().getPublishTime() > 0);
}

BOOST_AUTO_TEST_CASE(the_exporter_sees_local_events_once_in_order_and_never_router_events) {
  evr::Bus bus("unit");
  std::vector<std::uint64_t> exported;
  bus.setExporter([&](const evr::Event& e) { exported.push_back(e.seq()); });
  bus.subscribe(evr::EventType::BAR, [&](const evr::Event& e) {
    if (e.origin() == evr::Origin::Router) bus.publish(evr::EventBuilder(evr::EventType::SIGNAL));
  });
  bus.publish(bar("A", 1));  // seq 1, exported

  // An event "from the router": made by another bus, then re-wrapped as received bytes.
  evr::Bus other("remote");
  std::optional<evr::Event> remote;
  other.subscribeAll([&](const evr::Event& e) { remote = e; });
  other.publish(bar("B", 2));
  BOOST_REQUIRE(remote);
  const auto bytes = remote->bytes();
  zmq::message_t frame(bytes.data(), bytes.size());
  std::string why;
  auto received = evr::Event::fromWire(std::move(frame), 3, why);
  BOOST_REQUIRE_MESSAGE(received.valid(), why);
  BOOST_TEST((received.origin() == evr::Origin::Router));
  BOOST_TEST(received.hops() == 3);
  bus.deliver(received);  // not exported; its handler publishes seq 2, which is exported
  const std::vector<std::uint64_t> expected{1, 2};
  BOOST_TEST(exported == expected, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(an_origin_filter_keeps_a_pass_through_handler_from_seeing_its_own_event) {
  evr::Bus bus("strategy");
  int passed_on = 0;
  int seen_anywhere = 0;
  bus.subscribe(evr::EventType::END_OF_DATA, [&](const evr::Event&) {
    ++passed_on;
    bus.publish(evr::EventBuilder(evr::EventType::END_OF_DATA));  // would loop without the filter
  }, evr::Origin::Router);
  bus.subscribeAll([&](const evr::Event&) { ++seen_anywhere; });

  evr::Bus upstream("data");
  std::optional<evr::Event> eod;
  upstream.subscribeAll([&](const evr::Event& e) { eod = e; });
  upstream.publish(evr::EventBuilder(evr::EventType::END_OF_DATA));
  const auto bytes = eod->bytes();
  std::string why;
  auto received = evr::Event::fromWire(zmq::message_t(bytes.data(), bytes.size()), 1, why);
  BOOST_REQUIRE(received.valid());
  bus.deliver(received);
  BOOST_TEST(passed_on == 1);
  BOOST_TEST(seen_anywhere == 2);  // the received one and the one passed on
}

BOOST_AUTO_TEST_CASE(events_published_from_another_thread_are_dispatched_by_the_owner) {
  evr::Bus bus("unit");
  std::atomic<int> wakeups{0};
  bus.setWakeup([&]() { ++wakeups; });
  std::vector<double> closes;
  bus.subscribe(evr::EventType::BAR, [&](const evr::Event& e) {
    closes.push_back(e.reader().getPayload().getBar().getClose());
  });
  std::thread producer([&]() {
    for (int i = 1; i <= 100; ++i) BOOST_CHECK(bus.publish(bar("T", i)) == 0u);
  });
  producer.join();
  BOOST_TEST(closes.empty());  // nothing runs on the producer thread
  BOOST_TEST(wakeups.load() == 100);
  BOOST_TEST(bus.drain() == 100u);
  BOOST_REQUIRE(closes.size() == 100u);
  for (int i = 0; i < 100; ++i) BOOST_TEST(closes[i] == i + 1);
  BOOST_TEST(bus.lastSeq() == 100u);
}

BOOST_AUTO_TEST_CASE(received_bytes_that_are_not_an_event_are_refused) {
  std::string why;
  zmq::message_t junk(std::string_view("0123456789abcdef"));
  BOOST_TEST(!evr::Event::fromWire(std::move(junk), 0, why).valid());
  BOOST_TEST(!why.empty());
}

// A received event's source and symbol are read by hand (framing's rootText) where the walk
// accepted it; a source or symbol that is not a NUL-terminated text is still refused on arrival,
// by Cap'n Proto's reader, and never reaches a handler.
BOOST_AUTO_TEST_CASE(a_received_event_whose_source_or_symbol_is_not_text_is_refused) {
  const evr::Event original = publishedBar("MSFT", 321.5);
  const auto bytes = original.bytes();
  const auto schema = capnp::Schema::from<evr::schema::Event>();
  // The received copy of the event with one change at a word of the message (after its table).
  const auto received = [&](const std::function<void(std::vector<std::uint64_t>&)>& change) {
    std::vector<std::uint64_t> words(bytes.size() / 8);
    std::memcpy(words.data(), bytes.data(), bytes.size());
    change(words);
    std::string why;
    zmq::message_t frame(words.data(), words.size() * 8);
    auto event = evr::Event::fromWire(std::move(frame), 0, why);
    return std::make_pair(event.valid(), why);
  };
  // Word 1 is the root pointer (offset 0: the struct follows it); its pointers after its data.
  const auto pointer_word = [&](std::vector<std::uint64_t>& words, const char* field) -> std::uint64_t& {
    const std::uint64_t data_words = (words[1] >> 32) & 0xffff;
    return words[2 + data_words + schema.getFieldByName(field).getProto().getSlot().getOffset()];
  };
  BOOST_TEST(received([](auto&) {}).first);
  for (const char* field : {"source", "symbol"}) {
    BOOST_TEST_CONTEXT(field) {
      // A list of 8-byte values where a text belongs.
      const auto values = received([&](auto& words) { pointer_word(words, field) |= std::uint64_t{3} << 32; });
      BOOST_TEST(!values.first);
      BOOST_TEST(values.second.find("unreadable event") == 0u, values.second);
      // A text whose last byte is not its NUL.
      const auto no_nul = received([&](auto& words) {
        std::uint64_t& pointer = pointer_word(words, field);
        const std::uint64_t count = pointer >> 35;
        const auto at = static_cast<std::size_t>(&pointer - words.data()) + 1 +
                        static_cast<std::size_t>(static_cast<std::int32_t>(static_cast<std::uint32_t>(pointer)) >> 2);
        reinterpret_cast<char*>(&words[at])[count - 1] = 'x';
      });
      BOOST_TEST(!no_nul.first);
      BOOST_TEST(no_nul.second.find("unreadable event") == 0u, no_nul.second);
    }
  }
}

BOOST_AUTO_TEST_CASE(unaligned_received_bytes_are_read_from_a_copy) {
  const evr::Event original = publishedBar("MSFT", 321.5);
  const auto bytes = original.bytes();
  // Put the bytes at an odd address inside a zmq message that points at our buffer.
  static std::vector<std::byte> storage;
  storage.assign(bytes.size() + 16, std::byte{0});
  std::byte* odd = storage.data() + 1;
  std::memcpy(odd, bytes.data(), bytes.size());
  zmq::message_t frame(odd, bytes.size(), [](void*, void*) {}, nullptr);
  BOOST_REQUIRE(!evr::isWordAligned(frame.data()));
  std::string why;
  auto event = evr::Event::fromWire(std::move(frame), 0, why);
  BOOST_REQUIRE_MESSAGE(event.valid(), why);
  BOOST_TEST(event.symbol() == "MSFT");
  BOOST_TEST(event.reader().getPayload().getBar().getClose() == 321.5);
}

BOOST_AUTO_TEST_SUITE_END()

// The storage events are built in and recycled through (client/src/event_storage.hpp): an event
// built in a storage another event used before reads as if new, whatever the sizes.
BOOST_AUTO_TEST_SUITE(event_storage)

namespace {

// The bytes of `event`, read back by Cap'n Proto on their own (a copy, as the daemon would).
std::string reparsedTags(const evr::Event& event) {
  const auto bytes = event.bytes();
  BOOST_REQUIRE_EQUAL(bytes.size() % sizeof(capnp::word), 0u);
  auto words = kj::heapArray<capnp::word>(bytes.size() / sizeof(capnp::word));
  std::memcpy(words.begin(), bytes.data(), bytes.size());
  capnp::ReaderOptions options;
  options.traversalLimitInWords = kj::maxValue;
  capnp::FlatArrayMessageReader reader(words, options);
  std::string out;
  for (auto tag : reader.getRoot<evr::schema::Event>().getTags()) {
    out += std::string(tag.getKey().cStr()) + "=" + std::to_string(tag.getValue().size()) + ";";
  }
  return out;
}

}  // namespace

// Event::tag: the first tag with the key, as iterating the reader's tags finds it, for an event
// built here, the same bytes received (read by hand after the walk) and the same tags in a message
// of many segments (read through the reader).
BOOST_AUTO_TEST_CASE(tag_finds_the_first_tag_with_a_key_as_the_reader_does) {
  evr::Bus bus("unit");
  std::optional<evr::Event> built;
  bus.subscribeAll([&](const evr::Event& e) { built = e; });
  evr::EventBuilder event(evr::EventType::BAR);
  event.tag("a", "1").tag("payload", std::string(128, 'p')).tag("a", "2").tag("empty", "");
  event.tag("no data", std::string_view());  // an empty view with no data pointer
  bus.publish(std::move(event));
  BOOST_REQUIRE(built.has_value());
  const auto bytes = built->bytes();
  std::string why;
  const auto received = evr::Event::fromWire(zmq::message_t(bytes.data(), bytes.size()), 1, why);
  BOOST_REQUIRE(received.valid());
  // Many segments: every object behind a far pointer, which only a reader follows.
  capnp::MallocMessageBuilder many(1, capnp::AllocationStrategy::FIXED_SIZE);
  many.setRoot(built->reader());
  BOOST_REQUIRE(many.getSegmentsForOutput().size() > 1u);
  const auto words = capnp::messageToFlatArray(many);
  const auto many_bytes = words.asBytes();
  const auto far = evr::Event::fromWire(zmq::message_t(many_bytes.begin(), many_bytes.size()), 1, why);
  BOOST_REQUIRE(far.valid());
  const std::string payload(128, 'p');
  for (const evr::Event* e : std::initializer_list<const evr::Event*>{&*built, &received, &far}) {
    BOOST_TEST((e->tag("a") == std::optional<std::string_view>("1")));  // the first of two
    BOOST_TEST((e->tag("payload") == std::optional<std::string_view>(payload)));
    BOOST_TEST((e->tag("empty") == std::optional<std::string_view>("")));
    BOOST_TEST((e->tag("no data") == std::optional<std::string_view>("")));
    BOOST_TEST(!e->tag("missing").has_value());
    BOOST_TEST(!e->tag("").has_value());
    BOOST_TEST(!e->tag("paylo").has_value());
  }
  // No tags at all.
  bus.publish(evr::EventBuilder(evr::EventType::TICK));
  BOOST_TEST(!built->tag("a").has_value());
}

// A storage reused from the free list keeps the root reader of the last event it built where the
// next one is built the same way (EventStorage::built_root): each event's reader must still read
// its own bytes, also after a large event moved the buffer.
BOOST_AUTO_TEST_CASE(a_reused_storage_reads_as_new_for_small_large_and_empty_events) {
  const auto readsOwnBytes = [](const evr::Event& e) {
    const auto data = capnp::AnyStruct::Reader(e.reader()).getDataSection();
    const auto bytes = e.bytes();
    return reinterpret_cast<const std::byte*>(data.begin()) >= bytes.data() &&
           reinterpret_cast<const std::byte*>(data.end()) <= bytes.data() + bytes.size();
  };
  evr::Bus bus("unit");
  std::vector<evr::Event> seen;
  bus.subscribeAll([&](const evr::Event& e) { seen.push_back(e); });
  const std::string big(100 * 1024, 'b');  // far over a first segment: flattened from several
  // Over the first segment too, but under what a storage keeps: its buffer grows (and moves) and
  // the storage goes back to the free list with it.
  const std::string medium(4 * 1024, 'm');
  const auto payloadOf = [&](int round) {
    return round % 5 == 0 ? big : round % 5 == 2 ? medium : std::string(128, 'p');
  };
  for (int round = 0; round < 50; ++round) {
    // Full: symbol, payload, three tags (the payload big or medium in some rounds).
    evr::EventBuilder full(evr::EventType::BAR);
    full.symbol("AAPL").tag("a", "1").tag("payload", payloadOf(round)).tag("z", "");
    full.root().getPayload().getBar().setClose(100.0 + round);
    bus.publish(std::move(full));
    // Then one with nothing set, in a storage the full one may have used.
    bus.publish(evr::EventBuilder(evr::EventType::TICK));
    BOOST_REQUIRE_EQUAL(seen.size(), 2u);
    const auto& a = seen[0];
    const auto& b = seen[1];
    BOOST_TEST(readsOwnBytes(a));
    BOOST_TEST(readsOwnBytes(b));
    BOOST_TEST(a.symbol() == "AAPL");
    BOOST_TEST(a.reader().getPayload().getBar().getClose() == 100.0 + round);
    const std::string expected = "a=1;payload=" + std::to_string(payloadOf(round).size()) + ";z=0;";
    BOOST_TEST(reparsedTags(a) == expected);
    BOOST_TEST(a.reader().getTags()[1].getValue().cStr()[0] == payloadOf(round)[0]);
    BOOST_TEST(b.symbol() == "");
    BOOST_TEST(b.reader().getTags().size() == 0u);
    BOOST_TEST(b.reader().getPayload().getTick().getPrice() == 0.0);
    BOOST_TEST(b.reader().getCausationId() == 0u);
    BOOST_TEST(reparsedTags(b).empty());
    seen.clear();  // both storages go back to this thread's free list
  }
}

namespace {

// `event` as Cap'n Proto's own builder writes it, field by field in the order the bus sets them
// (root and payload, symbol, payload fields, header, source, then tags): the bytes the hand-written
// header (client/src/event.cpp, appendHeader) must match.
std::vector<std::byte> builtByCapnp(const evr::Event& event) {
  const auto read = event.reader();
  capnp::MallocMessageBuilder message(1 << 16);  // one segment, whatever the tags
  auto root = message.initRoot<evr::schema::Event>();
  root.setType(read.getType());
  root.getPayload().initRegime();
  root.setSymbol(read.getSymbol());
  root.getPayload().getRegime().setConfidence(read.getPayload().getRegime().getConfidence());
  root.setId(read.getId());
  root.setSeq(read.getSeq());
  root.setSourceInstance(read.getSourceInstance());
  root.setPublishTime(read.getPublishTime());
  root.setSource(read.getSource());
  if (read.hasTags()) {
    auto tags = root.initTags(read.getTags().size());
    for (unsigned i = 0; i < tags.size(); ++i) {
      tags[i].setKey(read.getTags()[i].getKey());
      tags[i].setValue(read.getTags()[i].getValue());
    }
  }
  const auto words = capnp::messageToFlatArray(message);
  const auto bytes = words.asBytes();
  return {reinterpret_cast<const std::byte*>(bytes.begin()), reinterpret_cast<const std::byte*>(bytes.end())};
}

// Whether a reader meets every word of `event` (nothing unreferenced, nothing outside) and the
// receive path would read it unchecked.
bool readWhole(const evr::Event& event) {
  const auto bytes = event.bytes();
  auto words = kj::heapArray<capnp::word>(bytes.size() / sizeof(capnp::word));
  std::memcpy(words.begin(), bytes.data(), bytes.size());
  capnp::FlatArrayMessageReader reader(words);
  const auto content = evr::contentWords(reader, words.size(), 64);
  return evr::readableUnchecked(words) && content && *content + 2 == words.size();  // + table, root pointer
}

}  // namespace

BOOST_AUTO_TEST_CASE(the_hand_written_source_and_tags_are_the_bytes_cap_n_proto_writes) {
  evr::Bus bus("a-source-of-some-length");
  std::vector<evr::Event> seen;
  bus.subscribeAll([&](const evr::Event& e) { seen.push_back(e); });
  // Texts of every length around a word's end (with the NUL Cap'n Proto keeps), 0 to 5 tags, and
  // tags too large for the storage's first buffer (it grows).
  for (std::size_t tags = 0; tags <= 5; ++tags) {
    for (std::size_t size = 0; size <= 17; ++size) {
      for (const std::size_t big : {std::size_t{0}, std::size_t{600}, std::size_t{20000}}) {
        evr::EventBuilder event(evr::EventType::REGIME);
        event.symbol(std::string(size, 's'));
        event.root().getPayload().getRegime().setConfidence(0.25);
        for (std::size_t t = 0; t < tags; ++t) {
          event.tag(std::string(size + t, 'k'), std::string(t == 1 && big > 0 ? big : size * t, 'v'));
        }
        bus.publish(std::move(event));
        BOOST_REQUIRE_EQUAL(seen.size(), 1u);
        const auto bytes = seen[0].bytes();
        const auto expected = builtByCapnp(seen[0]);
        BOOST_TEST_CONTEXT("tags " << tags << ", size " << size << ", big " << big) {
          BOOST_TEST(std::vector<std::byte>(bytes.begin(), bytes.end()) == expected);
          BOOST_TEST(readWhole(seen[0]));
          BOOST_TEST(seen[0].source() == "a-source-of-some-length");
          BOOST_TEST(seen[0].reader().getTags().size() == tags);
        }
        seen.clear();
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(a_source_or_tags_set_through_root_are_replaced_as_before) {
  evr::Bus bus("unit");
  std::vector<evr::Event> seen;
  bus.subscribeAll([&](const evr::Event& e) { seen.push_back(e); });
  evr::EventBuilder event(evr::EventType::REGIME);
  event.root().setSource("someone-else");
  auto preset = event.root().initTags(2);
  preset[0].setKey("old");
  preset[1].setKey("older");
  event.tag("new", "1");
  bus.publish(std::move(event));
  BOOST_REQUIRE_EQUAL(seen.size(), 1u);
  BOOST_TEST(seen[0].source() == "unit");
  BOOST_TEST(std::string(seen[0].reader().getSource().cStr()) == "unit");
  BOOST_TEST(reparsedTags(seen[0]) == "new=1;");
}

BOOST_AUTO_TEST_CASE(an_event_kept_by_another_thread_outlives_the_thread_that_built_it) {
  std::vector<evr::Event> kept;
  std::thread builder([&] {
    evr::Bus bus("worker");
    bus.subscribeAll([&](const evr::Event& e) { kept.push_back(e); });
    for (int i = 0; i < 100; ++i) bus.publish(evr::EventBuilder(evr::EventType::BAR).symbol("T" + std::to_string(i)));
  });
  builder.join();  // the worker's free list is gone; its events are not
  BOOST_REQUIRE_EQUAL(kept.size(), 100u);
  for (int i = 0; i < 100; ++i) BOOST_TEST(kept[i].symbol() == "T" + std::to_string(i));
  // Released here, on this thread: they join this thread's free list and serve its next events.
  kept.clear();
  evr::Bus bus("main");
  std::vector<evr::Event> seen;
  bus.subscribeAll([&](const evr::Event& e) { seen.push_back(e); });
  bus.publish(evr::EventBuilder(evr::EventType::BAR).symbol("after"));
  BOOST_REQUIRE_EQUAL(seen.size(), 1u);
  BOOST_TEST(seen[0].symbol() == "after");
}

BOOST_AUTO_TEST_CASE(a_builder_dropped_unpublished_and_moved_builders_give_their_storage_back) {
  evr::Bus bus("unit");
  std::vector<evr::Event> seen;
  bus.subscribeAll([&](const evr::Event& e) { seen.push_back(e); });
  {
    evr::EventBuilder dropped(evr::EventType::ORDER);
    dropped.symbol("NEVER").tag("k", "v");
    dropped.root().getPayload().getOrder().setQuantity(7);
  }
  // The next builder takes the dropped one's storage (the free list is last in, first out): it
  // must start as new, whatever the dropped one had written.
  bus.publish(evr::EventBuilder(evr::EventType::ORDER));
  BOOST_REQUIRE_EQUAL(seen.size(), 1u);
  BOOST_TEST(seen[0].symbol() == "");
  BOOST_TEST(seen[0].reader().getTags().size() == 0u);
  BOOST_TEST(seen[0].reader().getPayload().getOrder().getQuantity() == 0.0);
  seen.clear();
  evr::EventBuilder first(evr::EventType::SIGNAL);
  first.symbol("ONE");
  evr::EventBuilder second(evr::EventType::SIGNAL);
  second.symbol("TWO");
  first = std::move(second);  // first's own storage is released, second's moves over
  evr::EventBuilder third(std::move(first));
  bus.publish(std::move(third));
  BOOST_REQUIRE_EQUAL(seen.size(), 1u);
  BOOST_TEST(seen[0].symbol() == "TWO");
  BOOST_TEST(seen[0].reader().getTags().size() == 0u);
}

BOOST_AUTO_TEST_SUITE_END()
