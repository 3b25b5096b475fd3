// ns per Condition::evaluate for the shapes selective rules take, on a flat event read in place
// the way the relay loop reads it (by hand from its words, routing::EventWords), and once through a
// Cap'n Proto reader. A hand-written check of the same field through the reader is for scale.

#include <benchmark/benchmark.h>
#include <capnp/message.h>
#include <capnp/serialize.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string_view>

#include "routing/condition.hpp"

namespace {

namespace schema = evr::schema;
using evr::routing::Condition;
using evr::routing::EventView;

// A REGIME event from "hmm" about SPY: BULL at 0.8 confidence.
class RegimeEvent {
 public:
  RegimeEvent() {
    capnp::MallocMessageBuilder message;
    auto root = message.initRoot<schema::Event>();
    root.setType(schema::EventType::REGIME);
    root.setSource("hmm_classifier");
    root.setSymbol("SPY");
    root.setSeq(1234);
    auto regime = root.getPayload().initRegime();
    regime.setClassifier("hmm");
    regime.setRegime("BULL");
    regime.setConfidence(0.8);
    words_ = capnp::messageToFlatArray(message);
    // Every read counts against a reader's traversal limit; the relay makes a reader per event
    // (when it needs one), a benchmark reads one event millions of times.
    capnp::ReaderOptions options;
    options.traversalLimitInWords = kj::maxValue;
    reader_ = std::make_unique<capnp::FlatArrayMessageReader>(words_.asPtr(), options);
    flat_ = std::make_unique<evr::routing::EventWords>(words_.asPtr(), 1);
  }
  // As the relay reads it: from the words, by hand (fields::FlatEvent).
  EventView view() const { return EventView(*flat_, 1); }
  // Through a Cap'n Proto reader (what the relay did before, and does for what it cannot read by hand).
  EventView readerView() const { return EventView(reader_->getRoot<schema::Event>(), 1); }

 private:
  kj::Array<capnp::word> words_;
  std::unique_ptr<capnp::FlatArrayMessageReader> reader_;
  std::unique_ptr<evr::routing::EventWords> flat_;
};

Condition compile(std::string_view text) {
  evr::config::Diagnostics diagnostics;
  auto condition =
      evr::routing::compileCondition(text, evr::config::Mark{"bench", 1, 1}, diagnostics);
  if (!condition) {
    std::fprintf(stderr, "%s", diagnostics.toString().c_str());
    std::abort();
  }
  return std::move(*condition);
}

// The argument `reader`: 0 reads the event from its words as the relay does, 1 through a reader.
void evaluate(benchmark::State& state, std::string_view text, bool expected) {
  const RegimeEvent event;
  const EventView view = state.range(0) == 0 ? event.view() : event.readerView();
  const Condition condition = compile(text);
  if (condition.evaluate(view) != expected) {
    state.SkipWithError("unexpected result");
    return;
  }
  for (auto _ : state) {
    benchmark::DoNotOptimize(condition.evaluate(view));
  }
  // evaluate() answers false when reading throws: make sure the loop measured real reads.
  if (condition.evaluate(view) != expected) state.SkipWithError("result changed while running");
}

void BM_TextEquality(benchmark::State& state) { evaluate(state, "event.regime == 'BULL'", true); }
void BM_NumericComparison(benchmark::State& state) {
  evaluate(state, "event.confidence > 0.5", true);
}
void BM_ThreeClauseAndOr(benchmark::State& state) {
  evaluate(state, "(event.regime == 'BEAR' or event.regime == 'BULL') and event.confidence > 0.5",
           true);
}
void BM_InListOf5(benchmark::State& state) {
  // The match is the last item: every item is compared.
  evaluate(state, "event.symbol in ['AAPL', 'MSFT', 'GOOG', 'AMZN', 'SPY']", true);
}
void BM_AbsentFieldMiss(benchmark::State& state) { evaluate(state, "event.strength > 0.5", false); }
void BM_Matches(benchmark::State& state) { evaluate(state, "event.regime matches '^BU'", true); }

// The floor: the same test as BM_TextEquality, written by hand against the reader.
void BM_HandWrittenTextEquality(benchmark::State& state) {
  const RegimeEvent event;
  const EventView view = event.readerView();
  for (auto _ : state) {
    const auto payload = view.event().getPayload();
    bool result = false;
    if (payload.which() == schema::Event::Payload::REGIME) {
      const auto regime = payload.getRegime().getRegime();
      result = std::string_view(regime.cStr(), regime.size()) == "BULL";
    }
    benchmark::DoNotOptimize(result);
  }
}

}  // namespace

BENCHMARK(BM_TextEquality)->ArgName("reader")->DenseRange(0, 1);
BENCHMARK(BM_NumericComparison)->ArgName("reader")->DenseRange(0, 1);
BENCHMARK(BM_ThreeClauseAndOr)->ArgName("reader")->DenseRange(0, 1);
BENCHMARK(BM_InListOf5)->ArgName("reader")->DenseRange(0, 1);
BENCHMARK(BM_AbsentFieldMiss)->ArgName("reader")->DenseRange(0, 1);
BENCHMARK(BM_Matches)->ArgName("reader")->DenseRange(0, 1);
BENCHMARK(BM_HandWrittenTextEquality);


