#include "routing/selective_adapter.hpp"

#include <algorithm>
#include <memory>
#include <optional>
#include <string>

namespace evr::routing {

AdapterKind selectiveAdapterKind() {
  return AdapterKind{
      .type = "selective",
      .keys = {AdapterKey{.name = "source", .required = true},
               AdapterKey{.name = "rules"},
               AdapterKey{.name = "default"},
               AdapterKey{.name = "mode"}},
      .compile = &compileSelectiveAdapter,
  };
}

std::vector<Edge> compileSelectiveAdapter(const config::AdapterConfig& adapter,
                                          const ResolveContainer& resolve,
                                          config::Diagnostics& diagnostics) {
  if (!adapter.source) {
    diagnostics.error(adapter.mark, "selective '" + adapter.name + "' needs a 'source'");
  }
  if (adapter.rules.empty() && !adapter.default_target) {
    diagnostics.error(adapter.mark, "selective '" + adapter.name +
                                        "' needs at least 1 rule (or a 'default' target)");
  }
  std::optional<ContainerId> source;
  if (adapter.source) source = resolve(*adapter.source);

  auto group = std::make_shared<SelectiveGroup>();
  group->mode_all = adapter.mode_all;
  bool ok = source.has_value();
  const auto resolveTarget = [&](const config::Located<std::string>& target) -> std::optional<ContainerId> {
    if (adapter.source && target.value == adapter.source->value) {
      diagnostics.error(target.mark, "selective '" + adapter.name + "' routes its source '" +
                                         target.value + "' to itself");
      return std::nullopt;
    }
    return resolve(target);
  };
  for (const auto& rule : adapter.rules) {
    std::optional<Condition> condition;
    if (rule.structured) {
      // The text was generated from {field, operator, value}: columns inside it mean nothing in
      // the file, so report at the rule's field, quoting the generated condition.
      config::Diagnostics inner;
      condition = compileCondition(rule.condition.text, rule.condition.mark, inner);
      for (const auto& d : inner.all()) {
        if (d.severity == config::Severity::Error) {
          diagnostics.error(rule.condition.mark, d.message + " (in `" + rule.condition.text + "`)");
        } else {
          diagnostics.warning(rule.condition.mark, d.message + " (in `" + rule.condition.text + "`)");
        }
      }
    } else {
      condition = compileCondition(rule.condition.text, rule.condition.mark, diagnostics);
    }
    const auto target = resolveTarget(rule.target);
    if (!condition || !target) {
      ok = false;
      continue;
    }
    group->rules.push_back(SelectiveGroup::Rule{std::move(*condition), *target});
  }
  if (adapter.default_target) {
    group->default_target = resolveTarget(*adapter.default_target);
    if (!group->default_target) ok = false;
  }
  if (!ok) return {};

  // One edge per distinct target: the graph shows who may receive; the group decides who does.
  std::vector<ContainerId> targets;
  for (const auto& rule : group->rules) targets.push_back(rule.target);
  if (group->default_target) targets.push_back(*group->default_target);
  std::vector<Edge> edges;
  const EventTypeSet types = adapterEventTypes(adapter);
  std::shared_ptr<const SelectiveGroup> shared = std::move(group);
  for (const auto target : targets) {
    const bool listed = std::any_of(edges.begin(), edges.end(),
                                    [&](const Edge& edge) { return edge.target == target; });
    if (!listed) edges.push_back(Edge{*source, target, types, nullptr, shared});
  }
  return edges;
}

}  // namespace evr::routing
