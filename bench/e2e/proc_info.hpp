// What the benchmark reads from the kernel: a router process's CPU time and peak resident set
// (/proc/PID/stat, /proc/PID/status), and a description of the machine for the results file.

#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

namespace evr::bench {

// utime + stime of `pid` (all its threads), or nullopt when it cannot be read.
std::optional<std::chrono::nanoseconds> cpuTime(pid_t pid);

// VmHWM of `pid` in bytes: the peak resident set size over its life.
std::optional<std::uint64_t> peakRssBytes(pid_t pid);

// The 1-minute load average (/proc/loadavg), or nullopt.
std::optional<double> loadAverage();

// `git rev-parse HEAD` of the source tree this binary was built from, "+dirty" when it has
// uncommitted changes; "unknown" without git or outside a checkout.
std::string sourceCommit();

// nproc, CPU model, kernel, date (UTC): what a reader needs to judge the numbers.
nlohmann::json machineInfo();

}  // namespace evr::bench
