// The lockstep curve (curves.hpp): one backtest step, BAR -> strategy -> risk -> execution ->
// tracker, the next BAR released only when the tracker has handled the step's FILL, as the
// backtest demo runs. Measured two ways with the same five handlers:
//
//   processes: data, strategy, risk, execution and tracker are each their own process with our
//     client (`evr_e2e_bench --role stage --stage NAME`), routed by evrouterd with one pipeline
//     that comes back, [data, strategy, risk, execution, tracker, data]: the tracker's PORTFOLIO
//     (the step-done signal) goes back to data, which then publishes the next BAR;
//   in-process: the five handlers on one evr::Bus in the driver, no daemon, no sockets.
//
// The difference is the price of process isolation per step. Each stage counts what it handled;
// a stage that handled fewer or more steps than data published is loss or duplication.

#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "routers.hpp"

namespace evr::bench {

inline constexpr std::string_view kLockstepData = "data";
// The four stages after data, in step order.
inline constexpr std::array<std::string_view, 4> kLockstepStages{"strategy", "risk", "execution", "tracker"};

struct LockstepResult {
  std::uint64_t steps = 0;       // steps data released
  std::uint64_t completed = 0;   // steps whose PORTFOLIO came back to data
  std::uint64_t lost = 0;        // over every stage: steps it should have handled and did not
  std::uint64_t duplicates = 0;  // over every stage: inputs handled twice (or out of order)
  double seconds = 0;            // first BAR to the last step done
  double steps_per_s = 0;
  // Per step, the BAR's publish call in data to the step's PORTFOLIO handled in data: percentiles.
  double p50_ns = 0;
  double p99_ns = 0;
  double p999_ns = 0;
  std::optional<std::uint64_t> router_peak_rss_bytes;
};

// The evrouterd config of the process variant.
std::string lockstepConfig();

// `steps` steps through five processes and evrouterd (started fresh, stopped at the end). Throws
// std::runtime_error, quoting the process, when one fails or does not answer in time.
LockstepResult runLockstepProcesses(std::uint64_t steps, const RouterOptions& routers, double timeout_s,
                                    double idle_timeout_s);

// `steps` steps through the same five handlers on one evr::Bus in this process.
LockstepResult runLockstepInProcess(std::uint64_t steps);

// `evr_e2e_bench --role stage ...`: one stage process. Returns the exit code.
int stageRoleMain(int argc, char** argv);

}  // namespace evr::bench
