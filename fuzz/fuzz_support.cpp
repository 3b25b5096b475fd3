#include "fuzz_support.hpp"

#include <capnp/serialize.h>

#include <cstdio>
#include <cstdlib>

#include "config/config_loader.hpp"
#include "event.capnp.h"
#include "evr/event_types.hpp"
#include "fuzz_targets.hpp"
#include "topology/topology.hpp"

namespace evr::fuzz {

void fail(std::string_view what) {
  std::fprintf(stderr, "evr fuzz finding: %.*s\n", static_cast<int>(what.size()), what.data());
  std::abort();
}

const std::string_view kRoutingYaml = R"(event_communication:
  adapters:
    - type: selective
      name: pick
      source: a
      events: [REGIME, BAR, SIGNAL, USER]
      default: h
      rules:
        - condition: "event.regime == 'BULL' or event.close > 100.5"
          target: b
        - condition: "event.symbol in ['AAPL', 'SPY'] and not event.hops > 2"
          target: c
        - condition: "event.regime matches '^BE' || event.strength >= 0.5 && event.seq != 7"
          target: d
        - condition: "event.source contains 'x' or event.id == 15596777657834930177"
          target: d
    - type: pipeline
      name: flow
      containers: [a, e]
      transform:
        retype: {SIGNAL: ORDER}
        tags: {stage: fuzz}
    - type: broadcast
      name: all
      source: g
      targets: [a, f]
)";

const std::string_view kRoutingYamlChanged = R"(event_communication:
  adapters:
    - type: selective
      name: pick
      source: a
      events: [REGIME]
      rules:
        - condition: "event.regime == 'BEAR'"
          target: b
    - type: broadcast
      name: all
      source: g
      targets: [a, f]
)";

const CompiledRouting& routing() {
  static const CompiledRouting compiled = [] {
    config::Diagnostics diagnostics;
    auto config = config::loadConfigText(kRoutingYaml, "fuzz-routing.yaml", diagnostics);
    if (!config) fail("fuzz routing config does not load: " + diagnostics.toString());
    auto table = topology::compileTopology(*config, diagnostics);
    if (!table) fail("fuzz routing config does not compile: " + diagnostics.toString());
    return CompiledRouting{std::move(*config), std::move(table)};
  }();
  return compiled;
}

const std::vector<kj::Array<capnp::word>>& fixedEvents() {
  static const std::vector<kj::Array<capnp::word>> events = [] {
    std::vector<kj::Array<capnp::word>> out;
    auto header = [](schema::Event::Builder event, EventType type, std::uint64_t seq) {
      event.setType(type);
      event.setSource("a");
      event.setSeq(seq);
      event.setId(15596777657834930177ull);
      event.setSymbol("SPY");
    };
    {
      capnp::MallocMessageBuilder message;
      auto event = message.initRoot<schema::Event>();
      header(event, EventType::REGIME, 1);
      auto regime = event.initPayload().initRegime();
      regime.setRegime("BULL");
      regime.setConfidence(0.75);
      out.push_back(capnp::messageToFlatArray(message));
    }
    {
      capnp::MallocMessageBuilder message;
      auto event = message.initRoot<schema::Event>();
      header(event, EventType::BAR, 2);
      event.setSymbol("AAPL");
      auto bar = event.initPayload().initBar();
      bar.setClose(101.25);
      bar.setPeriodSeconds(86400);
      out.push_back(capnp::messageToFlatArray(message));
    }
    {
      capnp::MallocMessageBuilder message;
      auto event = message.initRoot<schema::Event>();
      header(event, EventType::SIGNAL, 7);
      auto signal = event.initPayload().initSignal();
      signal.setStrategy("momentum");
      signal.setDirection(schema::Direction::SHORT);
      signal.setStrength(0.5);
      out.push_back(capnp::messageToFlatArray(message));
    }
    {
      capnp::MallocMessageBuilder message;
      auto event = message.initRoot<schema::Event>();
      header(event, EventType::USER, 4);
      auto tags = event.initTags(2);
      tags[0].setKey("k");
      tags[0].setValue("v");
      tags[1].setKey("stage");
      tags[1].setValue("raw");
      auto user = event.initPayload().initUser();
      user.setName("custom");
      auto fields = user.initFields(2);
      fields[0].setKey("x");
      fields[0].getValue().setInt(3);
      fields[1].setKey("label");
      fields[1].getValue().setText("BULL");
      out.push_back(capnp::messageToFlatArray(message));
    }
    {
      capnp::MallocMessageBuilder message;
      message.initRoot<schema::Event>();
      out.push_back(capnp::messageToFlatArray(message));
    }
    return out;
  }();
  return events;
}

}  // namespace evr::fuzz
