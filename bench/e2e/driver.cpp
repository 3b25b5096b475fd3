#include "driver.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "report.hpp"

namespace evr::bench {
namespace {

nlohmann::json settingsJson(const DriverOptions& options) {
  return {{"runs", options.runs},
          {"events", options.events},
          {"latency_rate", options.latency_rate},
          {"latency_seconds", options.latency_seconds},
          {"latency_warmup_seconds", options.latency_warmup_seconds},
          {"smoke", options.smoke},
          {"only", options.only},
          {"patterns", options.patterns},
          {"evrouterd", options.routers.evrouterd},
          {"bare_relay", options.routers.bare_relay},
          {"nats_server", options.routers.nats_server},
          {"evrouterd_queue_limit", options.routers.evrouterd_queue_limit}};
}

bool listed(const std::vector<std::string>& names, const std::string& name) {
  return names.empty() || std::find(names.begin(), names.end(), name) != names.end();
}

bool selected(const DriverOptions& options, const Scenario& scenario) {
  return listed(options.only, scenario.systemLabel()) && listed(options.patterns, std::string(patternName(scenario.pattern)));
}

Row runScenario(const Scenario& scenario, const DriverOptions& options, const std::string& label) {
  Row row{.scenario = scenario};
  if (row.status = unavailableReason(scenario.system, options.routers); !row.status.empty()) return row;
  row.status = "ok";
  RunSettings throughput{.events = options.events, .timeout_s = options.timeout_s, .idle_timeout_s = options.idle_timeout_s};
  // The latency run: warm-up events first (published, counted, left out of the samples).
  const auto warmup = static_cast<std::uint64_t>(options.latency_rate * options.latency_warmup_seconds);
  RunSettings latency{.events = warmup + static_cast<std::uint64_t>(options.latency_rate * options.latency_seconds),
                      .rate = options.latency_rate,
                      .warmup = warmup,
                      .latency = true,
                      .timeout_s = options.timeout_s,
                      .idle_timeout_s = options.idle_timeout_s};
  try {
    for (int run = 1; run <= options.runs; ++run) {
      std::cerr << label << ": throughput run " << run << "/" << options.runs << std::endl;
      row.throughput.push_back(runOnce(scenario, throughput, options.routers));
    }
    for (int run = 1; run <= options.runs; ++run) {
      std::cerr << label << ": latency run " << run << "/" << options.runs << " at " << options.latency_rate
                << " events/s" << std::endl;
      row.latency.push_back(runOnce(scenario, latency, options.routers));
    }
  } catch (const std::exception& e) {
    row.status = std::string("error: ") + e.what();
    std::cerr << label << ": " << row.status << std::endl;
  }
  return row;
}

}  // namespace

DriverOptions smokeSized(DriverOptions options) {
  options.runs = 1;
  options.events = 20000;
  options.latency_seconds = 0.25;
  options.latency_warmup_seconds = 0.05;
  options.timeout_s = 30;
  options.idle_timeout_s = 5;
  return options;
}

int runBenchmark(const DriverOptions& options) {
  const auto labels = systemLabels();
  for (const auto& name : options.only) {
    if (std::find(labels.begin(), labels.end(), name) == labels.end()) {
      std::cerr << "--only: unknown system '" << name << "' (" << fmt::format("{}", fmt::join(labels, ", ")) << ")\n";
      return 1;
    }
  }
  for (const auto& name : options.patterns) {
    if (name != patternName(Pattern::Pipeline) && name != patternName(Pattern::Broadcast) && name != patternName(Pattern::Selective)) {
      std::cerr << "--patterns: unknown pattern '" << name << "' (pipeline, broadcast, selective)\n";
      return 1;
    }
  }
  if (options.runs < 1 || options.events == 0 || options.latency_rate <= 0 || options.latency_seconds <= 0) {
    std::cerr << "--runs, --events, --latency-rate and --latency-seconds must be positive\n";
    return 1;
  }
  std::vector<Scenario> scenarios;
  for (auto& scenario : benchmarkScenarios()) {
    if (selected(options, scenario)) scenarios.push_back(std::move(scenario));
  }
  std::vector<Row> rows;
  for (std::size_t i = 0; i < scenarios.size(); ++i) {
    const auto label = "[" + std::to_string(i + 1) + "/" + std::to_string(scenarios.size()) + "] " +
                       scenarios[i].systemLabel() + " " + std::string(patternName(scenarios[i].pattern));
    rows.push_back(runScenario(scenarios[i], options, label));
  }

  printTable(std::cout, rows);
  const auto results = resultsJson(rows, settingsJson(options));
  const std::filesystem::path out(options.out);
  if (out.has_parent_path()) std::filesystem::create_directories(out.parent_path());
  std::ofstream file(out);
  file << results.dump(2) << '\n';
  if (!file) {
    std::cerr << "cannot write " << options.out << '\n';
    return 1;
  }
  std::cout << "\nwrote " << options.out << std::endl;

  bool failed = false, lost = false;
  for (const auto& row : rows) {
    failed = failed || row.status.rfind("error", 0) == 0 || row.status.rfind("not found", 0) == 0;
    lost = lost || row.total(&RunResult::lost) + row.total(&RunResult::duplicates) + row.total(&RunResult::unreadable) > 0;
  }
  if (lost) std::cerr << "events were lost or duplicated: see the 'lost' column\n";
  return failed ? 1 : lost ? 2 : 0;
}

}  // namespace evr::bench
