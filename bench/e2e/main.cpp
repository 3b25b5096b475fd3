// evr_e2e_bench: the end-to-end benchmark (issue 5) and its cost curves (issue 16). One binary:
//   evr_e2e_bench [options]                 the driver: runs everything, prints the table, writes JSON
//   evr_e2e_bench --curves all|LIST         the cost curves instead (curves.hpp)
//   evr_e2e_bench --role publisher|consumer  a publisher or consumer process (started by the driver)
//   evr_e2e_bench --role stage --stage NAME  a process of the lockstep curve (lockstep.hpp)
//   evr_e2e_bench --role relay --endpoint E  the zmq-relay system's relay (zmq_relay.cpp)
//   evr_e2e_bench --exec-child PID PROG ...  starts PROG so that it dies with the driver (spawn.hpp)

#include <CLI/CLI.hpp>

#include <algorithm>
#include <cstring>
#include <iostream>
#include <string>
#include <vector>

#include "curves.hpp"
#include "driver.hpp"
#include "lockstep.hpp"
#include "roles.hpp"
#include "routers.hpp"
#include "scenarios.hpp"
#include "spawn.hpp"

namespace {

std::vector<std::string> commaSeparated(const std::string& list) {
  std::vector<std::string> items;
  for (std::size_t start = 0; start < list.size();) {
    const auto comma = std::min(list.find(',', start), list.size());
    if (comma > start) items.push_back(list.substr(start, comma - start));
    start = comma + 1;
  }
  return items;
}

int driverMain(int argc, char** argv) {
  CLI::App app{"evr_e2e_bench: events through direct ZeroMQ, a plain ZeroMQ relay, the bare relay, evrouterd and nats-server, side by side"};
  evr::bench::DriverOptions options;
  options.routers = evr::bench::defaultRouterOptions();
  options.out = std::string(EVR_BENCH_RESULTS_DIR) + "/latest.json";
  std::string only, patterns;
  app.add_option("--runs", options.runs, "throughput runs per scenario (the table shows their median, min, max)")->capture_default_str();
  app.add_option("--events", options.events, "events per throughput run")->capture_default_str();
  app.add_option("--latency-rate", options.latency_rate, "offered load of the latency run, events/s")->capture_default_str();
  app.add_option("--latency-seconds", options.latency_seconds, "length of the latency run (after the warm-up)")->capture_default_str();
  app.add_option("--latency-warmup", options.latency_warmup_seconds, "warm-up before the latency samples, seconds")->capture_default_str();
  std::string systems;
  for (const auto& label : evr::bench::systemLabels()) systems += (systems.empty() ? "" : ",") + label;
  app.add_option("--only", only, "systems to run, comma-separated: " + systems);
  app.add_option("--patterns", patterns, "patterns to run, comma-separated: pipeline,broadcast,selective");
  app.add_flag("--smoke", options.smoke, "a few seconds in all (CI): 1 run of 20,000 events, a 0.25 s latency run");
  app.add_option("--out", options.out, "results file (JSON)")->capture_default_str();
  app.add_option("--evrouterd", options.routers.evrouterd, "evrouterd binary")->capture_default_str();
  app.add_option("--bare-relay", options.routers.bare_relay, "evr_bare_relay binary")->capture_default_str();
  app.add_option("--nats-server", options.routers.nats_server, "nats-server binary (default: from PATH)")->capture_default_str();
  app.add_option("--evrouterd-queue-limit", options.routers.evrouterd_queue_limit,
                 "router.queue_limit for evrouterd (0: its default); a consumer slower than the publisher "
                 "loses events beyond it (queue_full), which the table reports");
  app.add_option("--timeout", options.timeout_s, "per-process limit of one run, seconds")->capture_default_str();
  std::string curves;
  std::string curves_dir = EVR_BENCH_RESULTS_DIR;
  app.add_option("--curves", curves,
                 "instead of the table, run cost curves (curves.hpp), comma-separated: fanout,selective,lockstep,size "
                 "or all; each writes DIR/<curve>.json, .gp and .svg (with --smoke: toy size; --runs applies)");
  app.add_option("--curves-dir", curves_dir, "where the curves' files go")->capture_default_str();
  std::vector<std::size_t> fanout_consumers, selective_rules, pad_sizes;
  std::uint64_t lockstep_steps = 0;
  app.add_option("--fanout-consumers", fanout_consumers, "fanout: the consumer counts (default 1,4,16,64,256)")->delimiter(',');
  app.add_option("--selective-rules", selective_rules, "selective: the rule counts (default 4,64,1024)")->delimiter(',');
  app.add_option("--pad-sizes", pad_sizes, "size: the pad tag sizes in bytes (default 64,256,1024,4096,16384,65536)")->delimiter(',');
  app.add_option("--lockstep-steps", lockstep_steps, "lockstep: steps per run (default 20,000)");
  std::string print_config;
  app.add_option("--print-config", print_config,
                 "print the evrouterd config of the table's evrouterd row for PATTERN (pipeline, broadcast, selective) and exit: "
                 "what bench/e2e/count-instructions.sh runs")
      ->option_text("PATTERN");
  CLI11_PARSE(app, argc, argv);

  if (!print_config.empty()) {
    for (const auto& scenario : evr::bench::benchmarkScenarios()) {
      if (scenario.systemLabel() == "evrouterd" && evr::bench::patternName(scenario.pattern) == print_config) {
        std::cout << evr::bench::evrouterdConfig(scenario, options.routers.evrouterd_queue_limit, ".");
        return 0;
      }
    }
    std::cerr << "evr_e2e_bench --print-config: no evrouterd row for pattern '" << print_config << "'\n";
    return 1;
  }

  if (!curves.empty()) {
    evr::bench::CurveOptions curve_options;
    curve_options.curves = curves == "all" ? std::vector<std::string>{} : commaSeparated(curves);
    curve_options.runs = options.runs;
    curve_options.routers = options.routers;
    curve_options.out_dir = curves_dir;
    curve_options.timeout_s = options.timeout_s;
    if (options.smoke) curve_options = evr::bench::smokeSized(std::move(curve_options));
    // Points given on the command line replace the defaults (and --smoke's).
    if (!fanout_consumers.empty()) curve_options.fanout_consumers = fanout_consumers;
    if (!selective_rules.empty()) curve_options.selective_rules = selective_rules;
    if (!pad_sizes.empty()) curve_options.pad_sizes = pad_sizes;
    if (lockstep_steps > 0) curve_options.lockstep_steps = lockstep_steps;
    try {
      return evr::bench::runCurves(curve_options);
    } catch (const std::exception& e) {
      std::cerr << "evr_e2e_bench --curves: " << e.what() << '\n';
      return 1;
    }
  }

  options.only = commaSeparated(only);
  options.patterns = commaSeparated(patterns);
  if (options.smoke) options = evr::bench::smokeSized(std::move(options));
  try {
    return evr::bench::runBenchmark(options);
  } catch (const std::exception& e) {
    std::cerr << "evr_e2e_bench: " << e.what() << '\n';
    return 1;
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1 && std::strcmp(argv[1], "--exec-child") == 0) return evr::bench::execChildMain(argc - 2, argv + 2);
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--role") == 0) {
      if (i + 1 < argc && std::strcmp(argv[i + 1], "stage") == 0) return evr::bench::stageRoleMain(argc, argv);
      if (i + 1 < argc && std::strcmp(argv[i + 1], "relay") == 0) return evr::bench::zmqRelayMain(argc, argv);
      return evr::bench::roleMain(argc, argv);
    }
  }
  return driverMain(argc, argv);
}
