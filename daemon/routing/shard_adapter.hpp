// The shard adapter: spreads the events of `source` over `targets` by a stable hash of one field
// (`key:`, default `event.symbol`), so that N workers split a universe of symbols and each symbol
// always reaches the same worker: what Kafka partitions and NATS queue groups give, in config.
//
// One of the adapter types of routing/adapter_registry (stages 1 and 2 of YAML -> Config ->
// Topology -> RoutingTable -> relay loop): parses its keys into a ShardConfig and compiles it to
// one edge per target, all sharing a SelectiveGroup whose Chooser (defined in the .cpp) picks the
// target of each event in the relay loop.
//
// The target of an event: its key field as bytes (text as is; an enum by its name; numbers and
// bools as the condition language writes them), hashed with FNV-1a 64, then spread over the
// targets with jump consistent hash (Lamping & Veach, 2014): the same bytes reach the same
// target in every run and on every machine, and appending a target moves only the keys the new
// one takes (about 1/(N+1) of them). An event without the field, or with it empty, hashes as the
// empty string: it goes to one fixed target. Event types listed in `broadcast_types:` (default
// [END_OF_DATA]) go to every target instead. `events:` filters before either.
//
// Keys: `source` (required), `targets` (required, at least 1; not the source, no repeats), `key`
// (a field name of evr/event_fields.hpp, `event.` optional), `broadcast_types` (event types).

#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "routing/adapter_registry.hpp"

namespace evr::routing {

struct ShardConfig {
  std::optional<config::Located<std::string>> source;
  std::vector<config::Located<std::string>> targets;
  config::Located<std::string> key{"symbol", {}};  // a field name, without `event.`
  std::optional<config::Located<EventTypeSet>> broadcast_types;  // default {END_OF_DATA}
};

// FNV-1a, 64-bit, over the bytes of `bytes` (offset basis 0xcbf29ce484222325, prime
// 0x100000001b3).
constexpr std::uint64_t fnv1a64(std::string_view bytes) {
  std::uint64_t hash = 0xcbf29ce484222325u;
  for (const char c : bytes) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 0x100000001b3u;
  }
  return hash;
}

// The index in [0, shards) of the target that key bytes `key` go to: jump consistent hash of
// fnv1a64(key). `shards` > 0.
std::size_t shardIndex(std::string_view key, std::size_t shards);

AdapterKind shardAdapterKind();

}  // namespace evr::routing
