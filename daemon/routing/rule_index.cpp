// RuleIndex (routing_table.hpp): a selective adapter's equality rules as a hash table.

#include "routing/routing_table.hpp"

namespace evr::routing {

using fields::FieldValue;

std::shared_ptr<const RuleIndex> RuleIndex::build(std::span<const SelectiveGroup::Rule> rules, bool mode_all) {
  if (rules.empty()) return nullptr;
  auto index = std::make_shared<RuleIndex>();
  // The rule that last added to each list: a value listed twice in one rule's `in` counts once.
  std::unordered_map<const std::vector<ContainerId>*, std::size_t> last_rule;
  for (std::size_t rule = 0; rule < rules.size(); ++rule) {
    const auto equality = rules[rule].condition.equality();
    if (!equality) return nullptr;
    if (index->field_ == nullptr) index->field_ = equality->field;
    if (equality->field != index->field_) return nullptr;
    for (const FieldValue& value : equality->values) {
      std::vector<ContainerId>& list = value.type() == FieldValue::Type::Text
                                           ? index->by_text_[std::string(value.asText())]
                                           : index->by_enum_[value.enumOrdinal()];
      const auto [last, first_time] = last_rule.try_emplace(&list, rule);
      if (!first_time && last->second == rule) continue;
      last->second = rule;
      // Without mode: all, only the first rule a value satisfies decides.
      if (list.empty() || mode_all) list.push_back(rules[rule].target);
    }
  }
  if (index->scanned()) {
    for (const auto& [value, targets] : index->by_text_) index->scanned_.emplace_back(value, targets);
  }
  return index;
}

std::span<const ContainerId> RuleIndex::targets(const EventView& view) const {
  FieldValue value;
  try {
    value = view.read(*field_);
  } catch (...) {
    // A malformed message (Cap'n Proto reports it by throwing): as Condition::evaluate, every
    // rule is false.
    return {};
  }
  if (value.type() == FieldValue::Type::Text) {
    if (scanned()) {
      for (const auto& [text, targets] : scanned_) {
        if (text == value.asText()) return targets;
      }
      return {};
    }
    const auto found = by_text_.find(value.asText());
    if (found != by_text_.end()) return found->second;
  } else if (value.type() == FieldValue::Type::Enum) {
    const auto found = by_enum_.find(value.enumOrdinal());
    if (found != by_enum_.end()) return found->second;
  }
  return {};
}

}  // namespace evr::routing
