#include "routing/selective_adapter.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <memory>
#include <utility>

#include "config/adapter_yaml.hpp"

namespace evr::routing {
namespace {

using config::ConditionText;
using config::describe;
using config::didYouMean;
using config::join;
using config::Mark;
using config::YamlEntry;
using config::YamlReader;

constexpr std::string_view kRuleKeys[] = {"condition", "field", "operator", "target", "value"};
constexpr std::string_view kModes[] = {"first", "all"};
// Structured rule operators and their condition-language spelling.
struct RuleOperator {
  std::string_view name;
  std::string_view text;
  bool list = false;  // takes a list value
};
constexpr RuleOperator kRuleOperators[] = {
    {"equals", "=="},  {"not_equals", "!="},        {"gt", ">"},
    {"gte", ">="},     {"lt", "<"},                 {"lte", "<="},
    {"in", "in", true}, {"not_in", "not in", true}, {"contains", "contains"},
    {"matches", "matches"}};

// Reads `rules:` entries, in either form.
class RuleReader {
 public:
  explicit RuleReader(YamlReader& reader) : reader_(reader) {}

  std::vector<SelectiveRuleConfig> loadRules(const YamlEntry& entry) {
    std::vector<SelectiveRuleConfig> rules;
    if (!entry.value.IsSequence()) {
      reader_.diagnostics().error(entry.value_mark, "expected a list of rules for 'rules', got " +
                                                        describe(entry.value));
      return rules;
    }
    for (const auto& item : entry.value) {
      if (auto rule = loadRule(item, reader_.itemMark(item, entry.value_mark))) {
        rules.push_back(std::move(*rule));
      }
    }
    return rules;
  }

 private:
  // `{condition: "...", target: x}` or the structured `{field, operator, value, target}`, which
  // becomes the condition text `event.<field> <op> <literal>`.
  std::optional<SelectiveRuleConfig> loadRule(const YAML::Node& node, const Mark& mark) {
    if (!node.IsMap()) {
      reader_.diagnostics().error(mark, "expected a rule (a map with 'condition' and 'target'), got " +
                                   describe(node));
      return std::nullopt;
    }
    SelectiveRuleConfig rule;
    rule.mark = mark;
    bool ok = true;
    const YamlEntry* condition = nullptr;
    const YamlEntry* field = nullptr;
    const YamlEntry* op = nullptr;
    const YamlEntry* value = nullptr;
    bool has_target = false;
    const std::vector<YamlEntry> keys = reader_.entries(node);
    for (const auto& entry : keys) {
      if (entry.key == "condition") {
        condition = &entry;
      } else if (entry.key == "field") {
        field = &entry;
      } else if (entry.key == "operator") {
        op = &entry;
      } else if (entry.key == "value") {
        value = &entry;
      } else if (entry.key == "target") {
        has_target = true;
        if (auto target = reader_.readContainerName(entry)) {
          rule.target = std::move(*target);
        } else {
          ok = false;
        }
      } else {
        reader_.unknownKey(entry, "key", "selective rule", kRuleKeys);
        ok = false;
      }
    }
    if (!has_target) {
      reader_.diagnostics().error(mark, "a selective rule needs a 'target'");
      ok = false;
    }

    if (condition != nullptr) {
      for (const YamlEntry* structured : {field, op, value}) {
        if (structured == nullptr) continue;
        reader_.diagnostics().error(structured->key_mark,
                           "a rule has either 'condition' or 'field', 'operator' and 'value', "
                           "not both");
        ok = false;
      }
      const auto text = reader_.readString(*condition, "a condition");
      if (!text) return std::nullopt;
      if (text->find_first_not_of(" \t\r\n") == std::string::npos) {
        reader_.diagnostics().error(condition->value_mark, "empty condition");
        return std::nullopt;
      }
      rule.condition = ConditionText{*text, reader_.textMark(condition->value)};
    } else if (field != nullptr || op != nullptr || value != nullptr) {
      auto text = structuredCondition(mark, field, op, value);
      if (!text) return std::nullopt;
      rule.condition = ConditionText{std::move(*text), reader_.textMark(field->value)};
      rule.structured = true;
    } else {
      reader_.diagnostics().error(mark, "a selective rule needs a 'condition' (or 'field', 'operator' and "
                               "'value')");
      return std::nullopt;
    }
    if (!ok) return std::nullopt;
    return rule;
  }

  std::optional<std::string> structuredCondition(const Mark& mark, const YamlEntry* field,
                                                 const YamlEntry* op, const YamlEntry* value) {
    bool ok = true;
    for (const auto& [entry, key] :
         {std::pair{field, "field"}, std::pair{op, "operator"}, std::pair{value, "value"}}) {
      if (entry == nullptr) {
        reader_.diagnostics().error(mark, std::string("a structured rule needs '") + key +
                                     "' (or write a 'condition' instead)");
        ok = false;
      }
    }
    if (!ok) return std::nullopt;

    std::string name;
    if (const auto text = reader_.readString(*field, "a field name")) {
      name = *text;
      if (name.starts_with("event.")) name.erase(0, 6);
      const bool valid =
          !name.empty() && (std::isalpha(static_cast<unsigned char>(name[0])) != 0 || name[0] == '_') &&
          std::all_of(name.begin(), name.end(), [](unsigned char c) {
            return std::isalnum(c) != 0 || c == '_' || c == '.';
          });
      if (!valid) {
        reader_.diagnostics().error(field->value_mark, "'" + *text + "' is not a field name (fields: "
                                              "docs/events.md)");
        ok = false;
      }
    } else {
      ok = false;
    }

    const RuleOperator* found = nullptr;
    if (const auto text = reader_.readString(*op, "an operator")) {
      for (const auto& candidate : kRuleOperators) {
        if (candidate.name == *text) found = &candidate;
      }
      if (found == nullptr) {
        std::vector<std::string_view> names;
        for (const auto& candidate : kRuleOperators) names.push_back(candidate.name);
        reader_.diagnostics().error(op->value_mark, "unknown operator '" + *text + "'; expected one of: " +
                                               join(names) + didYouMean(*text, names));
        ok = false;
      }
    } else {
      ok = false;
    }
    if (!ok) return std::nullopt;

    std::string literal;
    const bool as_text = found->name == "matches";  // a regex is always a string
    if (found->list) {
      if (!value->value.IsSequence() || value->value.size() == 0) {
        reader_.diagnostics().error(value->value_mark, "operator '" + std::string(found->name) +
                                                  "' needs a non-empty list value, e.g. [BULL, "
                                                  "BEAR], got " + describe(value->value));
        return std::nullopt;
      }
      literal = "[";
      for (const auto& item : value->value) {
        const auto one = literalOf(item, item.IsNull() ? value->value_mark : reader_.markOf(item), false);
        if (!one) return std::nullopt;
        if (literal.size() > 1) literal += ", ";
        literal += *one;
      }
      literal += "]";
    } else {
      if (value->value.IsSequence() || value->value.IsMap()) {
        reader_.diagnostics().error(value->value_mark, "operator '" + std::string(found->name) +
                                                  "' needs a single value, got " +
                                                  describe(value->value) +
                                                  " (use 'in' to compare with a list)");
        return std::nullopt;
      }
      const auto one = literalOf(value->value, value->value_mark, as_text);
      if (!one) return std::nullopt;
      literal = *one;
    }
    return "event." + name + " " + std::string(found->text) + " " + literal;
  }

  // A structured rule's value as a condition literal: a plain number or true/false as it is,
  // anything else (and anything quoted) as a single-quoted string with `\` and `'` escaped.
  std::optional<std::string> literalOf(const YAML::Node& node, const Mark& mark, bool as_text) {
    if (!node.IsScalar()) {
      reader_.diagnostics().error(mark, "expected a value (a string, number or true/false), got " +
                                   describe(node));
      return std::nullopt;
    }
    const std::string& text = node.Scalar();
    const bool plain = node.Tag() == "?";
    if (plain && !as_text) {
      std::string lower = text;
      std::transform(lower.begin(), lower.end(), lower.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      if (lower == "true" || lower == "false") return lower;
      if (auto number = numberLiteral(text)) return number;
    }
    std::string quoted = "'";
    for (const char c : text) {
      if (c == '\\' || c == '\'') quoted += '\\';
      quoted += c;
    }
    quoted += '\'';
    return quoted;
  }

  // "12", "-0.5", "1e6" as the condition language writes them; nullopt when `text` is not a
  // decimal number.
  static std::optional<std::string> numberLiteral(std::string_view text) {
    if (!text.empty() && text.front() == '+') text.remove_prefix(1);
    if (text.empty()) return std::nullopt;
    const bool negative = text.front() == '-';
    const std::string_view digits = negative ? text.substr(1) : text;
    if (digits.empty()) return std::nullopt;
    if (std::all_of(digits.begin(), digits.end(),
                    [](unsigned char c) { return std::isdigit(c) != 0; })) {
      return std::string(text);  // an integer, kept exactly
    }
    if (std::isdigit(static_cast<unsigned char>(digits.front())) == 0 && digits.front() != '.') {
      return std::nullopt;  // "inf", "nan", ".inf": not numbers a condition can compare
    }
    double value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
    char buffer[64];
    const auto [out, out_ec] = std::to_chars(buffer, buffer + sizeof buffer, value);
    if (out_ec != std::errc()) return std::nullopt;
    std::string canonical(buffer, out);
    // "0.5" stays; "5" (from "5.") gains a fraction so that it reads as a float.
    if (canonical.find_first_of(".eE") == std::string::npos) canonical += ".0";
    return canonical;
  }

  YamlReader& reader_;
};

std::any parseSelective(config::AdapterYaml& yaml) {
  SelectiveConfig out;
  out.source = yaml.containerName("source");
  out.rules = yaml.read("rules", [&](const YamlEntry& entry) {
    return RuleReader(yaml.reader()).loadRules(entry);
  });
  out.default_target = yaml.containerName("default");
  yaml.read("mode", [&](const YamlEntry& entry) {
    const auto mode = yaml.reader().readString(entry, "a mode");
    if (!mode) return 0;
    if (config::contains(kModes, *mode)) {
      out.mode_all = *mode == "all";
    } else {
      yaml.reader().diagnostics().error(entry.value_mark, "unknown mode '" + *mode +
                                                              "'; accepted: " + join(kModes) +
                                                              didYouMean(*mode, kModes));
    }
    return 0;
  });
  // Somewhere to send: a rule, or at least a `default:` target.
  if (out.rules.empty() && !out.default_target) {
    const config::AdapterConfig& adapter = yaml.adapter();
    if (const YamlEntry* rules = yaml.find("rules"); rules == nullptr) {
      yaml.error(adapter.mark, adapter.type + " adapter '" + adapter.name +
                                   "' needs 'rules' (or a 'default' target)");
    } else if (rules->value.IsSequence() && rules->value.size() == 0) {
      yaml.error(rules->value_mark, adapter.type + " adapter '" + adapter.name +
                                        "' needs at least 1 rule (or a 'default' target)");
    }
  }
  return out;
}

std::vector<Edge> compileSelective(const config::AdapterConfig& adapter,
                                   const ResolveContainer& resolve,
                                   config::Diagnostics& diagnostics) {
  const auto& selective = adapter.as<SelectiveConfig>();
  std::optional<ContainerId> source;
  if (selective.source) source = resolve(*selective.source);

  auto group = std::make_shared<SelectiveGroup>();
  group->mode_all = selective.mode_all;
  bool ok = source.has_value();
  const auto resolveTarget = [&](const config::Located<std::string>& target) -> std::optional<ContainerId> {
    if (selective.source && target.value == selective.source->value) {
      diagnostics.error(target.mark, "selective '" + adapter.name + "' routes its source '" +
                                         target.value + "' to itself");
      return std::nullopt;
    }
    return resolve(target);
  };
  for (const auto& rule : selective.rules) {
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
    group->rules.push_back(SelectiveGroup::Rule{std::move(*condition), *target, rule.condition.mark});
  }
  if (selective.default_target) {
    group->default_target = resolveTarget(*selective.default_target);
    if (!group->default_target) ok = false;
  }
  if (!ok) return {};
  group->index = RuleIndex::build(group->rules, group->mode_all);

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

}  // namespace

AdapterKind selectiveAdapterKind() {
  return AdapterKind{
      .type = "selective",
      .keys = {AdapterKey{.name = "source", .required = true},
               AdapterKey{.name = "rules"},
               AdapterKey{.name = "default"},
               AdapterKey{.name = "mode"}},
      .parse = &parseSelective,
      .compile = &compileSelective,
  };
}

}  // namespace evr::routing
