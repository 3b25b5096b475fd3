// Micro-benchmarks of the routing decision per adapter type: what the relay loop does for one
// event between reading its envelope and sending it (table lookup, and for selective adapters the
// in-place decode and rule evaluation). Sockets are not involved; see the end-to-end benchmark
// for those.
#include <benchmark/benchmark.h>
#include <capnp/message.h>
#include <capnp/serialize.h>

#include <memory>
#include <string>

#include "config/config_loader.hpp"
#include "evr/framing.hpp"
#include "routing/routing_table.hpp"
#include "topology/topology.hpp"

namespace {

using evr::routing::ContainerId;
using evr::routing::RoutingTable;

std::shared_ptr<const RoutingTable> compile(const std::string& yaml) {
  evr::config::Diagnostics diagnostics;
  auto config = evr::config::loadConfigText(yaml, "bench.yaml", diagnostics);
  auto table = config ? evr::topology::compileTopology(*config, diagnostics) : nullptr;
  if (!table) throw std::runtime_error("bench config invalid: " + diagnostics.toString());
  return table;
}

const char* kConfig = R"(
event_communication:
  adapters:
    - {type: pipeline, name: pipe, containers: [p_src, p_dst]}
    - {type: broadcast, name: fan, source: b_src, targets: [b1, b2, b3]}
    - {type: hierarchical, name: tree, parent: h_parent, children: [h1, h2, h3]}
    - type: selective
      name: pick
      source: s_src
      rules:
        - {condition: "event.regime == 'BULL'", target: bull}
        - {condition: "event.regime == 'BEAR'", target: bear}
        - {condition: "event.regime == 'NEUTRAL' and event.confidence > 0.5", target: neutral}
        - {condition: "event.regime in ['CRASH', 'MELTUP']", target: extreme}
)";

kj::Array<capnp::word> regimeEvent(const char* regime) {
  capnp::MallocMessageBuilder builder;
  auto event = builder.initRoot<evr::schema::Event>();
  event.setType(evr::EventType::REGIME);
  event.setSource("s_src");
  event.setSymbol("SPY");
  event.setSeq(1);
  auto payload = event.initPayload().initRegime();
  payload.setClassifier("hmm");
  payload.setRegime(regime);
  payload.setConfidence(0.8);
  return capnp::messageToFlatArray(builder);
}

void routeStatic(benchmark::State& state, const char* source, evr::EventType type) {
  const auto table = compile(kConfig);
  const ContainerId id = *table->find(source);
  const auto ordinal = static_cast<std::uint8_t>(type);
  std::uint64_t sum = 0;
  for (auto _ : state) {
    const auto& entry = table->route(id, ordinal);
    for (const auto target : entry.targets) sum += target;
    benchmark::DoNotOptimize(sum);
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_RoutePipeline(benchmark::State& state) { routeStatic(state, "p_src", evr::EventType::BAR); }
void BM_RouteBroadcast(benchmark::State& state) { routeStatic(state, "b_src", evr::EventType::BAR); }
void BM_RouteHierarchicalContext(benchmark::State& state) {
  routeStatic(state, "h_parent", evr::EventType::REGIME);
}

// Selective: the relay decodes the event in place (framing already checked) and runs the rules.
void selective(benchmark::State& state, const char* regime) {
  const auto table = compile(kConfig);
  const ContainerId id = *table->find("s_src");
  const auto words = regimeEvent(regime);
  const auto bytes = words.asBytes();
  const std::span<const std::byte> raw(reinterpret_cast<const std::byte*>(bytes.begin()), bytes.size());
  std::uint64_t sum = 0;
  for (auto _ : state) {
    const auto& entry = table->route(id, static_cast<std::uint8_t>(evr::EventType::REGIME));
    evr::AlignedWords aligned(raw);
    capnp::FlatArrayMessageReader message(aligned.words(), evr::peerReaderOptions(raw.size()));
    const evr::routing::EventView view{message.getRoot<evr::schema::Event>(), 1};
    for (const auto& step : entry.selective) {
      step.group->choose(view, [&](ContainerId target) { sum += target; });
    }
    benchmark::DoNotOptimize(sum);
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_RouteSelectiveFirstRule(benchmark::State& state) { selective(state, "BULL"); }
void BM_RouteSelectiveLastRule(benchmark::State& state) { selective(state, "MELTUP"); }
void BM_RouteSelectiveUnmatched(benchmark::State& state) { selective(state, "SIDEWAYS"); }

}  // namespace

BENCHMARK(BM_RoutePipeline);
BENCHMARK(BM_RouteBroadcast);
BENCHMARK(BM_RouteHierarchicalContext);
BENCHMARK(BM_RouteSelectiveFirstRule);
BENCHMARK(BM_RouteSelectiveLastRule);
BENCHMARK(BM_RouteSelectiveUnmatched);
