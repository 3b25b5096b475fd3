#include "evr/event_order.hpp"

#include <algorithm>

namespace evr {

std::vector<EventOrder::Entry> EventOrder::setInputs(const std::vector<InputSpec>& inputs) {
  std::vector<Input> next;
  next.reserve(inputs.size());
  for (const auto& spec : inputs) {
    Input input{spec.name, spec.feedback, spec.watermark, {}};
    const auto old = std::find_if(inputs_.begin(), inputs_.end(),
                                  [&](const Input& i) { return i.name == spec.name; });
    if (old != inputs_.end()) {
      input.watermark = std::max(input.watermark, old->watermark);
      input.pending = std::move(old->pending);
    }
    next.push_back(std::move(input));
  }
  std::vector<Entry> orphans;
  for (auto& input : inputs_) {
    const bool kept = std::any_of(next.begin(), next.end(),
                                  [&](const Input& i) { return i.name == input.name; });
    if (kept) continue;
    for (auto& entry : input.pending) orphans.push_back(std::move(entry));
  }
  std::sort(orphans.begin(), orphans.end(),
            [](const Entry& a, const Entry& b) { return a.ticket < b.ticket; });
  inputs_ = std::move(next);
  known_ = true;
  return orphans;
}

EventOrder::Added EventOrder::add(Event& event, std::uint64_t ticket) {
  const auto source = event.source();
  const auto input = std::find_if(inputs_.begin(), inputs_.end(),
                                  [&](const Input& i) { return i.name == source; });
  if (input == inputs_.end()) return Added::NotAnInput;
  const std::int64_t time = event.eventTime();
  if (time <= input->watermark || (!input->feedback && stepped_ && time <= last_step_)) {
    return Added::Late;
  }
  input->pending.push_back(Entry{std::move(event), ticket});
  return Added::Buffered;
}

bool EventOrder::advance(std::string_view source, std::int64_t time) {
  const auto input = std::find_if(inputs_.begin(), inputs_.end(),
                                  [&](const Input& i) { return i.name == source; });
  if (input == inputs_.end()) return false;
  input->watermark = std::max(input->watermark, time);
  return true;
}

std::int64_t EventOrder::minWatermark(bool feedback) const {
  std::int64_t out = kEndWatermark;
  for (const auto& input : inputs_) {
    if (input.feedback == feedback) out = std::min(out, input.watermark);
  }
  return out;
}

void EventOrder::takeFeedback(std::int64_t upto, std::vector<Entry>& out) {
  for (;;) {
    Input* first = nullptr;
    for (auto& input : inputs_) {
      if (!input.feedback || input.pending.empty()) continue;
      const auto time = input.pending.front().event.eventTime();
      if (time > upto) continue;
      // Strictly earlier wins; on a tie the earlier input (the loop's order) keeps it.
      if (first == nullptr || time < first->pending.front().event.eventTime()) first = &input;
    }
    if (first == nullptr) return;
    out.push_back(std::move(first->pending.front()));
    first->pending.pop_front();
  }
}

std::optional<EventOrder::Step> EventOrder::release() {
  std::optional<std::int64_t> next;  // the earliest forward event buffered
  for (const auto& input : inputs_) {
    if (input.feedback || input.pending.empty()) continue;
    const auto time = input.pending.front().event.eventTime();
    if (!next || time < *next) next = time;
  }
  const std::int64_t forward = minWatermark(false);
  const std::int64_t feedback = minWatermark(true);
  if (next) {
    if (*next > forward || (stepped_ && feedback < last_step_)) return std::nullopt;
    Step step;
    step.time = *next;
    if (stepped_) takeFeedback(last_step_, step.entries);
    for (auto& input : inputs_) {
      if (input.feedback) continue;
      while (!input.pending.empty() && input.pending.front().event.eventTime() <= step.time) {
        step.entries.push_back(std::move(input.pending.front()));
        input.pending.pop_front();
      }
    }
    stepped_ = true;
    last_step_ = step.time;
    return step;
  }
  if (forward != kEndWatermark) return std::nullopt;
  // Every forward input has ended (or there is none): feedback events in time order, as their
  // inputs complete.
  std::optional<std::int64_t> first;
  for (const auto& input : inputs_) {
    if (!input.feedback || input.pending.empty()) continue;
    const auto time = input.pending.front().event.eventTime();
    if (!first || time < *first) first = time;
  }
  if (!first || *first > feedback) return std::nullopt;
  Step step;
  step.time = *first;
  takeFeedback(*first, step.entries);
  return step;
}

std::int64_t EventOrder::progress() const {
  std::int64_t out = minWatermark(false);
  for (const auto& input : inputs_) {
    if (input.feedback || input.pending.empty()) continue;
    // A buffered event of time t is still to be handled: what it causes may carry time t.
    const auto time = input.pending.front().event.eventTime();
    out = std::min(out, time == kNoWatermark ? time : time - 1);
  }
  return out;
}

bool EventOrder::hasForwardInputs() const {
  return std::any_of(inputs_.begin(), inputs_.end(), [](const Input& i) { return !i.feedback; });
}

bool EventOrder::ended() const {
  if (inputs_.empty()) return false;
  return std::all_of(inputs_.begin(), inputs_.end(), [](const Input& i) {
    return i.watermark == kEndWatermark && i.pending.empty();
  });
}

std::size_t EventOrder::buffered() const {
  std::size_t out = 0;
  for (const auto& input : inputs_) out += input.pending.size();
  return out;
}

std::vector<std::string> EventOrder::inputNames() const {
  std::vector<std::string> out;
  for (const auto& input : inputs_) out.push_back(input.name);
  return out;
}

}  // namespace evr
