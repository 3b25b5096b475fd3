// AdapterRegistry: the catalogue of adapter types (pipeline, broadcast, ...), by type name.
//
// Sits between stage 1 and stage 2 of YAML -> Config -> Topology -> RoutingTable -> relay loop:
// config_loader asks it which keys an adapter of a given type accepts (and which are required),
// and compileTopology asks it for the type's compiler, which turns one AdapterConfig into the
// directed edges the adapter contributes. The registry is a plain value built by
// builtinAdapterRegistry(); there is no global instance and no self-registration at static
// initialisation time.
//
// Adding an adapter type: write routing/<type>_adapter.{hpp,cpp} exposing `<type>AdapterKind()`
// and add one `registry.add(...)` line to builtinAdapterRegistry(). A type that needs keys the
// config model does not have yet also adds them to config::AdapterConfig and to config_loader's
// key parsers.

#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"
#include "config/diagnostics.hpp"
#include "routing/routing_table.hpp"

namespace evr::routing {

// Interns a container name and returns its id. It reports the problem (with the name's mark) and
// returns nullopt when the name cannot be used, e.g. when it is empty.
using ResolveContainer =
    std::function<std::optional<ContainerId>(const config::Located<std::string>& name)>;

// An adapter type's compiler. Reports every problem of the adapter to `diagnostics` and returns
// the edges of the parts that are valid. Never throws. The edges' `types` are the adapter's
// `events:` filter (every type when absent) unless the adapter type says otherwise.
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

}  // namespace evr::routing
