// What the fuzz targets share: the fixed routing config they run against, and fixed events.
#pragma once

#include <capnp/message.h>
#include <kj/array.h>

#include <memory>
#include <string_view>
#include <vector>

#include "config/config.hpp"
#include "routing/routing_table.hpp"

namespace evr::fuzz {

// A config with every route shape the relay loop handles differently: a selective adapter whose
// conditions read header and payload fields (first match, a default target), a pipeline with a
// transform, a broadcast. Sources `a` (everything) and `g`.
extern const std::string_view kRoutingYaml;
// The same config with one rule changed: a reload to it applies (a different table).
extern const std::string_view kRoutingYamlChanged;

struct CompiledRouting {
  config::Config config;
  std::shared_ptr<const routing::RoutingTable> table;
};
// kRoutingYaml loaded and compiled once (it must compile: fail() otherwise).
const CompiledRouting& routing();

// Fixed, valid events (flat array words): REGIME, BAR, SIGNAL, USER with tags, and an empty one.
const std::vector<kj::Array<capnp::word>>& fixedEvents();

}  // namespace evr::fuzz
