#include "step_merger.hpp"

#include <algorithm>
#include <iostream>
#include <limits>
#include <stdexcept>

namespace evr::examples {

StepMerger::StepMerger(evr::Bus& bus, std::vector<std::string> inputs, StepHandler on_step, EndHandler on_end)
    : on_step_(std::move(on_step)), on_end_(std::move(on_end)) {
  if (inputs.empty()) throw std::invalid_argument("a StepMerger needs at least one input");
  for (auto& name : inputs) inputs_.push_back({std::move(name), std::numeric_limits<std::int64_t>::min()});
  bus.subscribeAll([this](const evr::Event& event) { onEvent(event); }, evr::Origin::Router);
}

void StepMerger::onEvent(const evr::Event& event) {
  const auto source = event.source();
  const auto input = std::find_if(inputs_.begin(), inputs_.end(), [&](const Input& i) { return i.name == source; });
  if (input == inputs_.end() || ended_) {
    ++ignored_;
    return;
  }
  if (event.type() == evr::EventType::END_OF_DATA) {
    input->ended = true;
    input->watermark = std::numeric_limits<std::int64_t>::max();
  } else {
    const auto time = event.eventTime();
    if (steps_released_ > 0 && time <= last_time_) {
      // The contract was broken (an input went back in time): process it with the next step
      // rather than lose it, and say so.
      std::cerr << "warning: " << source << " sent an event for an already processed time step" << std::endl;
    }
    input->watermark = std::max(input->watermark, time);
    pending_[time].emplace_back(static_cast<std::size_t>(input - inputs_.begin()), event);
  }
  release();
}

void StepMerger::release() {
  std::int64_t complete_before = std::numeric_limits<std::int64_t>::max();
  bool all_ended = true;
  for (const auto& input : inputs_) {
    if (!input.ended) {
      all_ended = false;
      complete_before = std::min(complete_before, input.watermark);
    }
  }
  while (!pending_.empty() && (all_ended || pending_.begin()->first < complete_before)) {
    auto node = pending_.extract(pending_.begin());
    auto& entries = node.mapped();
    std::stable_sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    std::vector<evr::Event> events;
    events.reserve(entries.size());
    for (auto& entry : entries) events.push_back(std::move(entry.second));
    last_time_ = node.key();
    ++steps_released_;
    on_step_(node.key(), events);
  }
  if (all_ended && !ended_) {
    ended_ = true;
    on_end_(last_time_);
  }
}

}  // namespace evr::examples
