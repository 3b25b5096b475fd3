// The benchmark driver: runs every selected scenario (scenarios.hpp) the configured number of
// times for throughput plus once for latency, then prints the table and writes the JSON file
// (report.hpp). A scenario that fails is reported as an error row and the others still run.

#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "routers.hpp"

namespace evr::bench {

struct DriverOptions {
  int runs = 3;
  std::uint64_t events = 1'000'000;
  double latency_rate = 20000;
  double latency_seconds = 2;
  double latency_warmup_seconds = 0.25;
  std::vector<std::string> only;      // system names (Scenario::systemLabel()); empty: all
  std::vector<std::string> patterns;  // pattern names; empty: all
  bool smoke = false;             // CI: small and short; proves the harness runs, measures nothing
  std::string out;
  RouterOptions routers;
  double timeout_s = 120;
  double idle_timeout_s = 10;
};

// Applies --smoke's sizes.
DriverOptions smokeSized(DriverOptions options);

// Exit code: 0 every scenario ran and every event arrived once; 1 a scenario failed or the
// options are wrong; 2 events were lost or duplicated (the table and the file say where).
int runBenchmark(const DriverOptions& options);

}  // namespace evr::bench
