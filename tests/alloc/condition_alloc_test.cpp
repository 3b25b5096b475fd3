// Condition::evaluate must not allocate (routing/condition.hpp), through a reader or from an
// event's words as the relay reads it (routing::EventWords), nor a selective adapter's rule
// lookup (RuleIndex::targets, routing/routing_table.hpp): checked by counting every call of the
// allocator (alloc_counter.hpp). Replacing it affects a whole program, so this is its own
// small executable with its own main, not a Boost.Test suite in evr_unit_tests.
// `matches` is the documented exception; it is evaluated once at the end to show the counter
// sees std::regex's allocations.

#include <capnp/message.h>
#include <capnp/serialize.h>

#include <cstdio>
#include <cstdlib>
#include <new>
#include <string>
#include <vector>

#include "alloc_counter.hpp"
#include "routing/condition.hpp"
#include "routing/routing_table.hpp"

namespace {

namespace schema = evr::schema;
using evr::routing::Condition;
using evr::routing::EventView;

// Events as the daemon sees them: flat bytes read in place.
struct TestEvent {
  kj::Array<capnp::word> words;
  std::unique_ptr<capnp::FlatArrayMessageReader> reader;
};

template <class Fill>
TestEvent makeEvent(Fill fill) {
  capnp::MallocMessageBuilder message;
  auto root = message.initRoot<schema::Event>();
  root.setSource("source");
  root.setSymbol("AAPL");
  root.setSeq(42);
  root.setId(15596777657834930177ull);
  fill(root);
  TestEvent out;
  out.words = capnp::messageToFlatArray(message);
  out.reader = std::make_unique<capnp::FlatArrayMessageReader>(out.words.asPtr());
  return out;
}

}  // namespace

int main() {
  const std::vector<std::string> texts = {
      "event.regime == 'BULL'",
      "event.regime != 'BEAR' and event.confidence >= 0.5",
      "not event.regime == 'BULL'",
      "event.symbol in ['MSFT', 'AAPL', 'GOOG', 'AMZN', 'SPY']",
      "event.symbol not in ['MSFT', 'GOOG']",
      "event.direction == 'LONG' or event.strength > 0.75",
      "event.side in ['BUY', 'SELL'] and event.quantity > 100",
      "event.type in ['BAR', 'TICK'] || event.hops > 2",
      "event.id > 9223372036854775807 and event.seq == 42.0",
      "event.price > 100 and event.price < 200.5",
      "event.symbol contains 'AP' and event.source contains event.source",
      "(event.close > event.open) == true",
      "event.name == 'sma_20' or event.order_id == 'o-1'",
      "event.symbol < 'B' and event.symbol >= 'AAPL'",
      "!(event.period_seconds != 86400) && true",
  };
  std::vector<Condition> conditions;
  for (const auto& text : texts) {
    evr::config::Diagnostics diagnostics;
    auto condition =
        evr::routing::compileCondition(text, evr::config::Mark{"alloc", 1, 1}, diagnostics);
    if (!condition) {
      std::fprintf(stderr, "does not compile: %s\n%s", text.c_str(),
                   diagnostics.toString().c_str());
      return 1;
    }
    conditions.push_back(std::move(*condition));
  }

  std::vector<TestEvent> events;
  events.push_back(makeEvent([](schema::Event::Builder e) {
    auto r = e.getPayload().initRegime();
    r.setRegime("BULL");
    r.setConfidence(0.8);
  }));
  events.push_back(makeEvent([](schema::Event::Builder e) {
    auto b = e.getPayload().initBar();
    b.setOpen(100);
    b.setClose(101.5);
    b.setPeriodSeconds(86400);
  }));
  events.push_back(makeEvent([](schema::Event::Builder e) {
    auto s = e.getPayload().initSignal();
    s.setDirection(schema::Direction::LONG);
    s.setStrength(0.9);
    s.setPrice(150);
  }));
  events.push_back(makeEvent([](schema::Event::Builder e) {
    auto o = e.getPayload().initOrder();
    o.setSide(schema::Side::SELL);
    o.setQuantity(250);
    o.setOrderId("o-1");
  }));
  events.push_back(makeEvent(
      [](schema::Event::Builder e) { e.getPayload().initIndicator().setName("sma_20"); }));
  events.push_back(makeEvent([](schema::Event::Builder) {}));  // no payload

  std::vector<EventView> views;
  for (const auto& event : events) {
    views.push_back(EventView{event.reader->getRoot<schema::Event>(), 1});
  }

  std::size_t matched = 0, evaluations = 0, allocations = 0;
  {
    Counting counting;
    for (int round = 0; round < 1000; ++round) {
      for (const auto& condition : conditions) {
        for (const auto& view : views) {
          matched += condition.evaluate(view) ? 1 : 0;
          ++evaluations;
        }
        // As the relay loop reads an event: from its words, by hand where it can.
        for (const auto& event : events) {
          evr::routing::EventWords words(event.words.asPtr(), condition.fieldReads());
          matched += condition.evaluate(EventView(words, 1)) ? 1 : 0;
          ++evaluations;
        }
      }
    }
    allocations = counting.allocations();
  }

  // Rules that are all equality tests of one field, looked up instead of evaluated.
  std::vector<evr::routing::SelectiveGroup::Rule> rules;
  evr::routing::ContainerId target = 1;
  for (const char* text : {"event.regime == 'BULL'", "event.regime in ['BEAR', 'BULL']", "'NEUTRAL' == event.regime"}) {
    evr::config::Diagnostics diagnostics;
    rules.push_back({*evr::routing::compileCondition(text, evr::config::Mark{"alloc", 1, 1}, diagnostics), target++, {}});
  }
  const auto index = evr::routing::RuleIndex::build(rules, true);
  std::size_t lookups = 0, found = 0, lookup_allocations = 0;
  if (index) {
    Counting counting;
    for (int round = 0; round < 1000; ++round) {
      for (const auto& view : views) {
        found += index->targets(view).size();
        ++lookups;
      }
    }
    lookup_allocations = counting.allocations();
  }

  // The counter works: `matches` (the documented exception) allocates.
  evr::config::Diagnostics diagnostics;
  const auto regex = evr::routing::compileCondition("event.symbol matches '^A+PL$'",
                                                    evr::config::Mark{"alloc", 1, 1}, diagnostics);
  std::size_t regex_allocations = 0;
  bool regex_matched = false;
  {
    Counting counting;
    regex_matched = regex && regex->evaluate(views[0]);
    regex_allocations = counting.allocations();
  }

  std::printf("%zu evaluations of %zu conditions, %zu matched, %zu allocations\n", evaluations,
              conditions.size(), matched, allocations);
  std::printf("matches: %s, %zu allocations (allowed)\n", regex_matched ? "true" : "false",
              regex_allocations);
  if (allocations != 0) {
    std::fprintf(stderr, "FAIL: Condition::evaluate allocated\n");
    return 1;
  }
  std::printf("%zu rule lookups, %zu targets found, %zu allocations\n", lookups, found, lookup_allocations);
  if (!index || found == 0 || found == lookups * rules.size()) {
    std::fprintf(stderr, "FAIL: the rules were not indexed, or the lookups found nothing or everything\n");
    return 1;
  }
  if (lookup_allocations != 0) {
    std::fprintf(stderr, "FAIL: RuleIndex::targets allocated\n");
    return 1;
  }
  if (!regex_matched || regex_allocations == 0) {
    std::fprintf(stderr, "FAIL: the allocation counter does not see allocations\n");
    return 1;
  }
  if (matched == 0 || matched == evaluations) {
    std::fprintf(stderr, "FAIL: the conditions should match some events and not others\n");
    return 1;
  }
  std::printf("PASS\n");
  return 0;
}
