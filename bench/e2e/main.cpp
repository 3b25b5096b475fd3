// evr_e2e_bench: the end-to-end benchmark (issue 5). One binary with three faces:
//   evr_e2e_bench [options]                 the driver: runs everything, prints the table, writes JSON
//   evr_e2e_bench --role publisher|consumer  a publisher or consumer process (started by the driver)
//   evr_e2e_bench --exec-child PID PROG ...  starts PROG so that it dies with the driver (spawn.hpp)

#include <CLI/CLI.hpp>

#include <algorithm>
#include <cstring>
#include <iostream>
#include <string>
#include <vector>

#include "driver.hpp"
#include "roles.hpp"
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
  CLI::App app{"evr_e2e_bench: events through direct ZeroMQ, the bare relay, evrouterd and nats-server, side by side"};
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
  CLI11_PARSE(app, argc, argv);

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
    if (std::strcmp(argv[i], "--role") == 0) return evr::bench::roleMain(argc, argv);
  }
  return driverMain(argc, argv);
}
