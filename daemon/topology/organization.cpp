#include "topology/organization.hpp"

#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>

#include "routing/broadcast_adapter.hpp"
#include "routing/hierarchical_adapter.hpp"
#include "routing/pipeline_adapter.hpp"

namespace evr::topology {
namespace {

using config::AdapterConfig;
using config::ContainerDecl;
using config::Located;
using config::Mark;
using Name = Located<std::string>;

class Generator {
 public:
  Generator(const config::Config& config, config::Diagnostics& diagnostics)
      : config_(config),
        diagnostics_(diagnostics),
        organization_(config.organization->value),
        mark_(config.organization->mark) {
    for (const auto& decl : config_.containers) by_name_.emplace(decl.name.value, &decl);
  }

  std::vector<AdapterConfig> generate() {
    if (organization_ == "strategy_first") {
      strategyFirst();
    } else if (organization_ == "classifier_first") {
      classifierFirst();
    } else if (organization_ == "risk_first") {
      riskFirst();
    } else if (organization_ == "portfolio_first") {
      portfolioFirst();
    }
    warnOnUnrouted();
    return std::move(adapters_);
  }

 private:
  // ---- the patterns ---------------------------------------------------------------------------

  // The spec's Strategy-First default.
  void strategyFirst() {
    const auto strategies = withRole("strategy");
    if (strategies.empty()) missing("strategies", "strategies");
    const Name data = infrastructure(kDataRole);
    const Name execution = infrastructure(kExecutionRole);
    for (const auto* strategy : strategies) pipeline({data, strategy->name, execution});
    broadcast(execution, {infrastructure(kPerformanceTrackerRole)}, std::nullopt);
  }

  // The spec's Classifier-First default.
  void classifierFirst() {
    const auto classifiers = withRole("classifier");
    if (classifiers.empty()) missing("classifiers", "classifiers");
    const Name data = infrastructure(kDataRole);
    const Name indicators = infrastructure(kIndicatorsRole);
    const Name execution = infrastructure(kExecutionRole);
    // Risk profiles declared at the top level (not inside a classifier) serve every classifier.
    std::vector<const ContainerDecl*> shared;
    for (const auto* risk : withRole("risk")) {
      if (risk->parent.empty()) shared.push_back(risk);
    }
    std::vector<const ContainerDecl*> all_risk;
    for (const auto* classifier : classifiers) {
      pipeline({data, indicators, classifier->name});
      std::vector<Name> children;
      for (const auto* risk : withRole("risk")) {
        const bool mine = risk->parent == classifier->name.value;
        if (!mine && !risk->parent.empty()) continue;
        children.push_back(risk->name);
        if (std::find(all_risk.begin(), all_risk.end(), risk) == all_risk.end()) {
          all_risk.push_back(risk);
        }
      }
      if (children.empty()) {
        diagnostics_.warning(classifier->name.mark,
                             "classifier '" + classifier->name.value +
                                 "' has no named risk profiles: the classifier_first default "
                                 "adapters route nothing past it");
        continue;
      }
      hierarchical(classifier->name, children, std::nullopt, std::nullopt);
    }
    for (const auto* risk : all_risk) pipeline({risk->name, execution});
  }

  // The spec's Risk-First default; a strategy inside a named risk profile goes through that
  // profile instead of the shared risk_manager.
  void riskFirst() {
    const auto strategies = withRole("strategy");
    if (strategies.empty()) missing("strategies", "strategies");
    const Name data = infrastructure(kDataRole);
    const Name execution = infrastructure(kExecutionRole);
    std::vector<Name> targets;
    for (const auto* strategy : strategies) targets.push_back(strategy->name);
    if (!targets.empty()) broadcast(data, targets, std::nullopt);
    for (const auto* strategy : strategies) {
      pipeline({strategy->name, riskOf(*strategy), execution});
    }
  }

  // Not in the spec. Portfolios own strategies the way a classifier owns risk profiles, so the
  // shape is Classifier-First's with the portfolio as the parent:
  // - market data goes to strategies (they compute signals from it) and to portfolios (they
  //   value positions with it), directly: a container never re-exports what it received, so a
  //   portfolio could not pass bars on;
  // - each portfolio is the hierarchical parent of its strategies: it sends them its context
  //   (PORTFOLIO state: capital, positions; REGIME if it classifies) and receives their SIGNALs;
  // - the portfolio sizes signals into orders: pipeline portfolio -> risk -> execution;
  // - fills come back to the portfolios (FILL only), which track positions and performance; the
  //   loop portfolio -> risk -> execution -> portfolio is the trading loop, bounded by max_hops.
  void portfolioFirst() {
    const auto portfolios = withRole("portfolio");
    if (portfolios.empty()) missing("portfolios", "portfolios");
    const Name data = infrastructure(kDataRole);
    const Name execution = infrastructure(kExecutionRole);

    std::vector<Name> market;
    for (const auto& decl : config_.containers) {
      if (decl.role == "portfolio" || decl.role == "strategy") market.push_back(decl.name);
    }
    if (!market.empty()) broadcast(data, market, std::nullopt);

    EventTypeSet context = EventTypeSet::of(EventType::PORTFOLIO);
    context.add(EventType::REGIME);
    const EventTypeSet results = EventTypeSet::of(EventType::SIGNAL);
    for (const auto* portfolio : portfolios) {
      std::vector<Name> children;
      for (const auto* strategy : withRole("strategy")) {
        const ContainerDecl* owner = enclosing(*strategy, "portfolio");
        if (owner == portfolio) children.push_back(strategy->name);
      }
      if (children.empty()) {
        diagnostics_.warning(portfolio->name.mark,
                             "portfolio '" + portfolio->name.value +
                                 "' has no strategies: under portfolio_first it only receives "
                                 "market data and fills");
      } else {
        hierarchical(portfolio->name, children, context, results);
      }
      pipeline({portfolio->name, riskOf(*portfolio), execution});
    }
    for (const auto* strategy : withRole("strategy")) {
      if (enclosing(*strategy, "portfolio") != nullptr) continue;
      diagnostics_.warning(strategy->name.mark,
                           "strategy '" + strategy->name.value +
                               "' is in no portfolio: under portfolio_first its signals go "
                               "nowhere (declare it under a portfolio's 'strategies:')");
    }
    std::vector<Name> owners;
    for (const auto* portfolio : portfolios) owners.push_back(portfolio->name);
    if (!owners.empty()) broadcast(execution, owners, EventTypeSet::of(EventType::FILL));
  }

  // A declared container no default adapter names (a classifier under strategy_first, a
  // strategy nested in a classifier_first risk profile) would never hear from the router.
  void warnOnUnrouted() {
    for (const auto& decl : config_.containers) {
      const std::string& name = decl.name.value;
      if (routed_.contains(name)) continue;
      diagnostics_.warning(decl.name.mark,
                           "'" + name + "' is declared but the " + organization_ +
                               " default adapters do not route it (write 'adapters:' to route it)");
    }
  }

  // ---- declared containers ------------------------------------------------------------------

  std::vector<const ContainerDecl*> withRole(std::string_view role) const {
    std::vector<const ContainerDecl*> out;
    for (const auto& decl : config_.containers) {
      if (decl.role == role) out.push_back(&decl);
    }
    return out;
  }

  // The nearest enclosing declared container of `role`, or nullptr.
  const ContainerDecl* enclosing(const ContainerDecl& decl, std::string_view role) const {
    std::string parent = decl.parent;
    for (std::size_t depth = 0; !parent.empty() && depth < config_.containers.size(); ++depth) {
      const auto it = by_name_.find(parent);
      if (it == by_name_.end()) return nullptr;
      if (it->second->role == role) return it->second;
      parent = it->second->parent;
    }
    return nullptr;
  }

  // The risk container `decl`'s orders go through: its enclosing risk profile, else the shared
  // risk manager.
  Name riskOf(const ContainerDecl& decl) {
    if (const ContainerDecl* risk = enclosing(decl, "risk")) return risk->name;
    return infrastructure(kRiskManagerRole);
  }

  // The container that plays an infrastructure role: the first `containers:` entry with that
  // role, else the role's own name.
  Name infrastructure(std::string_view role) {
    const auto holders = withRole(role);
    if (holders.empty()) return Name{std::string(role), mark_};
    if (holders.size() > 1 && warned_roles_.emplace(role, true).second) {
      diagnostics_.warning(holders[1]->name.mark,
                           "containers '" + holders[0]->name.value + "' and '" +
                               holders[1]->name.value + "' both have role '" + std::string(role) +
                               "'; the default adapters use '" + holders[0]->name.value + "'");
    }
    return holders.front()->name;
  }

  void missing(std::string_view section, std::string_view what) {
    diagnostics_.warning(mark_, "organization '" + organization_ + "' declares no " +
                                    std::string(what) + " (a '" + std::string(section) +
                                    ":' section): its default adapters have none to route");
  }

  // ---- adapters -----------------------------------------------------------------------------

  AdapterConfig adapter(std::string type, const std::string& what) {
    AdapterConfig out;
    out.type = std::move(type);
    out.name = "default:" + organization_ + ":" + what;
    out.mark = mark_;
    out.type_mark = mark_;
    out.name_mark = mark_;
    out.generated = true;
    return out;
  }

  static std::string joined(const std::vector<Name>& names, std::string_view separator) {
    std::string out;
    for (const auto& name : names) {
      if (!out.empty()) out += separator;
      out += name.value;
    }
    return out;
  }

  // `names`: the containers it routes.
  void add(AdapterConfig&& generated, const std::vector<Name>& names) {
    // Names come from unique declared names, so they differ; should two ever coincide, the
    // second adapter would route the same containers again: keep the first.
    const bool seen = std::any_of(adapters_.begin(), adapters_.end(), [&](const AdapterConfig& a) {
      return a.name == generated.name;
    });
    if (seen) return;
    for (const auto& name : names) routed_.insert(name.value);
    adapters_.push_back(std::move(generated));
  }

  void pipeline(std::vector<Name> containers) {
    AdapterConfig out = adapter("pipeline", joined(containers, "->"));
    out.settings = routing::PipelineConfig{.containers = containers, .transform = std::nullopt};
    add(std::move(out), containers);
  }

  void broadcast(const Name& source, std::vector<Name> targets,
                 std::optional<EventTypeSet> events) {
    AdapterConfig out = adapter("broadcast", source.value + "->" + joined(targets, ","));
    if (events) out.events = Located<EventTypeSet>{*events, mark_};
    out.settings = routing::BroadcastConfig{.source = source, .targets = targets};
    targets.push_back(source);
    add(std::move(out), targets);
  }

  void hierarchical(const Name& parent, std::vector<Name> children,
                    std::optional<EventTypeSet> context, std::optional<EventTypeSet> results) {
    AdapterConfig out = adapter("hierarchical", parent.value + "->" + joined(children, ","));
    routing::HierarchicalConfig settings;
    settings.parent = parent;
    settings.children = children;
    if (context) settings.context_events = Located<EventTypeSet>{*context, mark_};
    if (results) settings.result_events = Located<EventTypeSet>{*results, mark_};
    out.settings = std::move(settings);
    children.push_back(parent);
    add(std::move(out), children);
  }

  const config::Config& config_;
  config::Diagnostics& diagnostics_;
  std::string organization_;
  Mark mark_;
  std::map<std::string, const ContainerDecl*, std::less<>> by_name_;
  std::map<std::string_view, bool> warned_roles_;
  std::vector<AdapterConfig> adapters_;
  std::set<std::string, std::less<>> routed_;  // every container a generated adapter names
};

}  // namespace

std::vector<config::AdapterConfig> defaultAdapters(const config::Config& config,
                                                   config::Diagnostics& diagnostics) {
  if (!config.organization) return {};
  return Generator(config, diagnostics).generate();
}

}  // namespace evr::topology
