// The loop every demo strategy shares: BARs in event-time order (Container::onSteps), one decision
// state per symbol, and per bar a SIGNAL with the strategy's target direction once it has warmed
// up, LONG (strength 1) or FLAT (strength 0). END_OF_DATA on when its inputs have ended.
//
// A strategy signals its target on every bar rather than only on changes: risk and execution
// then act on changes of target. (Downstream stages no longer need to hear from it each day to
// move on: its watermark says how far it is, docs/determinism.md.) SIGNAL.strategy is the
// container name.
// A strategy's own logic is then only `Decide`: one bar in, a target out.

#pragma once

#include <functional>
#include <optional>

#include "common/container.hpp"

namespace evr::examples {

// Target direction after this bar, or nullopt while still warming up.
using Decide = std::function<std::optional<evr::Direction>(const evr::Bar& bar)>;
// Makes the decision state of one symbol.
using DecideFactory = std::function<Decide()>;

// Runs the container until its inputs have ended; returns the exit code.
int runBarStrategy(const ContainerArgs& args, const DecideFactory& make_decide);

}  // namespace evr::examples
