// AdapterRegistry: the catalogue of adapter types (pipeline, broadcast, ...), by type name.
//
// Sits between stage 1 and stage 2 of YAML -> Config -> Topology -> RoutingTable -> relay loop.
// An adapter type owns its config: it declares its keys (AdapterKey: the loader rejects others,
// and checks required keys and list lengths), parses them into its own value
// (config::AdapterConfig::settings, through config::AdapterYaml) and compiles that value into
// the directed edges the adapter contributes. The loader and compileTopology only dispatch by
// `type`. The registry is a plain value built by builtinAdapterRegistry(); there is no global
// instance and no self-registration at static initialisation time.
//
// Adding an adapter type: write routing/<type>_adapter.{hpp,cpp} exposing `<type>AdapterKind()`
// and add one `registry.add(...)` line (and its #include) to builtinAdapterRegistry()
// (docs/adapters.md).

#pragma once

#include <any>
#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"
#include "config/diagnostics.hpp"
#include "routing/routing_table.hpp"

namespace evr::config {
class AdapterYaml;
}

namespace evr::routing {

// Interns a container name and returns its id. It reports the problem (with the name's mark) and
// returns nullopt when the name cannot be used, e.g. when it is empty.
using ResolveContainer =
    std::function<std::optional<ContainerId>(const config::Located<std::string>& name)>;

// An adapter type's parser: reads the type's own keys from `yaml` (the common ones, `type`, `name`
// and `events`, are read already, and the declared AdapterKey rules checked by the loader) and
// returns the type's value for AdapterConfig::settings. Reports problems through `yaml` with
// their place; never throws for bad input.
using ParseAdapter = std::any (*)(config::AdapterYaml& yaml);

// An adapter type's compiler. Reads its value with `adapter.as<ItsConfig>()`, reports every
// problem that needs names resolved or the whole adapter (self-routes, repeated targets,
// conditions) to `diagnostics` and returns the edges of the parts that are valid. Never throws.
// The edges' `types` are the adapter's `events:` filter (every type when absent) unless the
// adapter type says otherwise.
using CompileAdapter = std::vector<Edge> (*)(const config::AdapterConfig& adapter,
                                             const ResolveContainer& resolve,
                                             config::Diagnostics& diagnostics);

// A key an adapter type accepts besides the common ones (`type`, `name`, `events`).
struct AdapterKey {
  std::string_view name;
  bool required = false;
  std::size_t min_items = 0;  // list-valued keys: fewest entries allowed
};

struct AdapterKind {
  std::string_view type;
  std::vector<AdapterKey> keys;
  ParseAdapter parse = nullptr;
  CompileAdapter compile = nullptr;

  const AdapterKey* findKey(std::string_view key) const;
  // Every key this type accepts, common ones included, sorted: for "expected one of" messages.
  std::vector<std::string_view> acceptedKeys() const;
};

// Keys every adapter type accepts.
inline constexpr std::string_view kCommonAdapterKeys[] = {"type", "name", "events"};

class AdapterRegistry {
 public:
  // Registers a type; a second registration of the same name replaces the first.
  void add(AdapterKind kind);
  // Declares a type the spec names but this build does not implement yet, so that using it is
  // reported as "not implemented yet" rather than as a typo.
  void addPlanned(std::string_view type);

  const AdapterKind* find(std::string_view type) const;
  // Implemented type names, sorted.
  std::vector<std::string_view> typeNames() const;
  // For a type that find() does not know: "adapter type 'selective' is not implemented yet
  // (implemented: broadcast, pipeline)" or "unknown adapter type 'pipline'; known types:
  // broadcast, pipeline (did you mean 'pipeline'?)".
  std::string unknownTypeMessage(std::string_view type) const;

 private:
  std::vector<AdapterKind> kinds_;
  std::vector<std::string_view> planned_;
};

// The adapter types this build ships.
AdapterRegistry builtinAdapterRegistry();

// The edges' event types for an adapter: its `events:` filter, or every type.
EventTypeSet adapterEventTypes(const config::AdapterConfig& adapter);

// The one wording of the declared key rules, wherever they are checked:
// "broadcast adapter 'fanout' needs 'source'".
std::string missingKeyMessage(const config::AdapterConfig& adapter, std::string_view key);
// "pipeline adapter 'main' needs at least 2 containers, got 1".
std::string tooFewItemsMessage(const config::AdapterConfig& adapter, std::string_view key,
                               std::size_t min_items, std::size_t got);

// How a fan-out adapter names its parts in messages: broadcast {"source", "targets", "target"},
// hierarchical {"parent", "children", "child"}.
struct FanOutWords {
  std::string_view from;
  std::string_view list;
  std::string_view item;
};

// A fan-out resolved: its source (nullopt when absent or refused) and one entry per target.
struct FanOut {
  std::optional<ContainerId> from;
  std::vector<std::optional<ContainerId>> targets;
};

// Resolves a fan-out (a broadcast's source and targets, a hierarchical's parent and children):
// `from` first, then the targets in list order. A target equal to `from` ("broadcast 'b' lists
// its source 'x' among its targets") or listed twice ("target 'x' is listed twice in broadcast
// 'b'") is reported at its mark and left out (nullopt), as is a name resolve refused.
FanOut resolveFanOut(const config::AdapterConfig& adapter,
                     const std::optional<config::Located<std::string>>& from,
                     const std::vector<config::Located<std::string>>& targets,
                     const FanOutWords& words, const ResolveContainer& resolve,
                     config::Diagnostics& diagnostics);

}  // namespace evr::routing
