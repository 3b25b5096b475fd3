// StepMerger: makes a container's view of its inputs independent of process timing.
//
// A container that listens to several others (risk hears strategies, the classifier and the data
// feed) gets their events interleaved in whatever order the processes happened to run. The
// merger buffers the events of its inputs and hands them to the container one time step (one
// event time, e.g. one trading day) at a time, in event-time order, and within a step ordered by
// input (the order of --inputs) and then by each input's publish order. Given the same events,
// the container therefore sees the same sequence on every run.
//
// Contract: each input publishes in non-decreasing event time, and evrouterd delivers one
// source's events to one target in order. Step t is released once every input has moved past t
// (published something later, or END_OF_DATA); an input that publishes nothing for a while only
// delays release, never changes it. When every input has sent END_OF_DATA, the remaining steps
// are released and `on_end` runs (normally Container::finish). Events from containers that are
// not inputs (a child's PORTFOLIO reported up a hierarchy, say) are counted and otherwise ignored:
// their timing is not under control, so the demo's containers never decide anything on them.
//
// Owner thread only (the Bus's), like every handler.

#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "evr/bus.hpp"
#include "evr/event.hpp"

namespace evr::examples {

class StepMerger {
 public:
  using StepHandler = std::function<void(std::int64_t time_ns, const std::vector<evr::Event>& events)>;
  using EndHandler = std::function<void(std::int64_t last_time_ns)>;

  // Subscribes to every event `bus` receives from the router. `inputs` must not be empty.
  StepMerger(evr::Bus& bus, std::vector<std::string> inputs, StepHandler on_step, EndHandler on_end);

  std::uint64_t stepsReleased() const { return steps_released_; }
  bool ended() const { return ended_; }
  std::uint64_t ignored() const { return ignored_; }  // events from non-inputs, or after the end

 private:
  struct Input {
    std::string name;
    std::int64_t watermark;  // latest event time seen; max() after END_OF_DATA
    bool ended = false;
  };
  void onEvent(const evr::Event& event);
  void release();

  std::vector<Input> inputs_;
  StepHandler on_step_;
  EndHandler on_end_;
  // time -> (input index, event) in arrival order
  std::map<std::int64_t, std::vector<std::pair<std::size_t, evr::Event>>> pending_;
  std::int64_t last_time_ = 0;
  std::uint64_t steps_released_ = 0;
  std::uint64_t ignored_ = 0;
  bool ended_ = false;
};

}  // namespace evr::examples
