// The benchmark's results: one Row per scenario (its runs, or why it did not run), printed as a
// table and written as JSON with the machine, the settings, every run's raw numbers and the
// ratios the targets are stated in (evrouterd / bare relay and evrouterd / nats-server,
// per pattern, for throughput and p99 latency), plus each journal variant / evrouterd without it.

#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "run.hpp"
#include "scenarios.hpp"

namespace evr::bench {

struct Row {
  Scenario scenario;
  std::string status = "ok";  // or "not installed: ...", "not found: ...", "error: ..."
  std::vector<RunResult> throughput{};
  std::vector<RunResult> latency{};  // as many runs as throughput; percentiles are their medians

  bool ok() const { return status == "ok"; }
  // A count summed over every run of the row, e.g. total(&RunResult::lost).
  std::uint64_t total(std::uint64_t RunResult::*count) const;
};

// One run's raw numbers as the results file has them; `kind` "throughput" or "latency" (a latency
// run adds its percentiles).
nlohmann::json runJson(const RunResult& run, std::string_view kind);

void printTable(std::ostream& out, const std::vector<Row>& rows);

// `settings`: the command line's values, copied into the file as they are.
nlohmann::json resultsJson(const std::vector<Row>& rows, const nlohmann::json& settings);

}  // namespace evr::bench
