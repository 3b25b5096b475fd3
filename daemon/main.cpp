// evrouterd: wires the stages together and nothing else. Everything it calls lives in
// evr::daemon_core (config -> topology -> routing table -> relay loop), which the tests link.

#include <CLI/CLI.hpp>
#include <signal.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <sys/signalfd.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <iostream>
#include <zmq.hpp>

#include "config/config_loader.hpp"
#include "config/host_port.hpp"
#include "daemon_options.hpp"
#include "logging.hpp"
#include "topology/check_config.hpp"
#include "topology/topology.hpp"
#include "control/control_server.hpp"
#include "control/requests.hpp"
#include "control/tap.hpp"
#include "control/reloader.hpp"
#include "transport/relay_loop.hpp"
#include "stats/metrics_server.hpp"

namespace {

// Loads and compiles `path`; prints every diagnostic; nullptr when there were errors.
std::shared_ptr<const evr::routing::RoutingTable> loadTable(const std::string& path,
                                                            std::optional<evr::config::Config>& config_out) {
  evr::config::Diagnostics diagnostics;
  auto config = evr::config::loadConfigFile(path, diagnostics);
  std::shared_ptr<const evr::routing::RoutingTable> table;
  if (config) table = evr::topology::compileTopology(*config, diagnostics);
  for (const auto& diagnostic : diagnostics.all()) {
    if (diagnostic.severity == evr::config::Severity::Error) {
      spdlog::error("{}", diagnostic.toString());
    } else {
      spdlog::warn("{}", diagnostic.toString());
    }
  }
  if (diagnostics.hasErrors()) {
    spdlog::error("{}: {} error(s); see above", path, diagnostics.errorCount());
    return nullptr;
  }
  config_out = std::move(config);
  return table;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"evrouterd: relays Cap'n Proto events between container processes over ZeroMQ, "
               "as the event_communication section of its config says"};
  std::string config_path = EVR_DEFAULT_CONFIG;
  bool check = false;
  std::optional<std::string> runtime_dir;
  std::string log_level = "info";
  std::optional<std::string> metrics_override;
  app.add_option("-c,--config", config_path, "config file (YAML)")->capture_default_str();
  app.add_flag("--check", check, "validate the config, print the compiled routes, and exit (0: valid, 1: not)");
  app.add_option("--runtime-dir", runtime_dir,
                 "directory for ipc sockets (default: $RUNTIME_DIRECTORY, else ./run)");
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error"}))
      ->capture_default_str();
  std::string log_format = "text";
  app.add_option("--log-format", log_format, "text, or json (one JSON object per line)")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  app.add_option("--metrics", metrics_override,
                 "HTTP address for /metrics, /healthz, /ready (host:port, port 0: any; or off); "
                 "overrides router.metrics");
  app.set_version_flag("--version", std::string("evrouterd ") + EVR_VERSION);
  app.footer("Exit codes: 0 stopped cleanly (or --check: valid), 1 bad config or cannot listen.\n"
             "Signals: SIGTERM/SIGINT drain queues for router.shutdown_grace_ms and stop; "
             "SIGHUP reloads the config (a bad config is rejected and the running routes stay).");
  CLI11_PARSE(app, argc, argv);

  if (check) return evr::topology::checkConfigFile(config_path, std::cout, std::cerr);

  // Logs go to stderr (journald and docker collect it); stdout is for --check output.
  evr::daemon::configureLogging(log_format, log_level);

  // Signals arrive on a signalfd polled by the loop. Block them before the zmq context starts its
  // I/O threads, so those threads inherit the mask and never take them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGHUP);
  sigprocmask(SIG_BLOCK, &signals, nullptr);
  const int signal_fd = signalfd(-1, &signals, SFD_CLOEXEC | SFD_NONBLOCK);
  ::signal(SIGPIPE, SIG_IGN);

  std::optional<evr::config::Config> config;
  auto table = loadTable(config_path, config);
  if (!table) return 1;

  const auto runtime = evr::daemon::resolveRuntimeDir(runtime_dir);
  std::error_code ec;
  std::filesystem::create_directories(runtime, ec);
  if (ec) {
    spdlog::error("cannot create runtime directory {}: {}", runtime.string(), ec.message());
    return 1;
  }

  zmq::context_t context(1);
  evr::transport::RelayLoop loop(context, config->router,
                                 evr::daemon::listenEndpoints(config->router, runtime));
  try {
    loop.bind();
  } catch (const std::exception& e) {
    spdlog::error("{}", e.what());
    return 1;
  }
  loop.installTable(table);
  spdlog::info("config {} loaded: {} containers, {} adapters", config_path,
               table->containers().size(), table->adapters().size());

  // One reload path for SIGHUP and `evrctl reload`: parse -> compile -> diff -> swap.
  evr::control::Reloader reloader(config_path, *config, table);
  // Reload outcomes for evrouter_reloads_total; loop thread only (SIGHUP and evrctl both reload
  // there, and the metrics snapshot sink runs there too).
  std::uint64_t reloads_applied = 0;
  std::uint64_t reloads_unchanged = 0;
  std::uint64_t reloads_rejected = 0;
  const auto applyReload = [&](const std::string& path) {
    timespec now{};
    clock_gettime(CLOCK_MONOTONIC, &now);
    sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%llu",
               static_cast<unsigned long long>(now.tv_sec) * 1000000ULL +
                   static_cast<unsigned long long>(now.tv_nsec) / 1000ULL);
    auto outcome = reloader.reload(path);
    for (const auto& warning : outcome.warnings) spdlog::warn("{}", warning);
    if (!outcome.ok) {
      ++reloads_rejected;
      for (const auto& error : outcome.errors) spdlog::error("{}", error);
      spdlog::error("reload rejected ({} failed so far): the running routes stay in force",
                    reloader.failures());
    } else if (!outcome.changed) {
      ++reloads_unchanged;
      spdlog::info("reload: {} is unchanged (generation {}); nothing to do", reloader.configPath(),
                   outcome.generation);
    } else {
      ++reloads_applied;
      loop.installTable(outcome.table);
      spdlog::info("reload applied: generation {} digest {} from {}: {} routes added, {} removed",
                   outcome.generation, outcome.digest, reloader.configPath(),
                   outcome.routes_added.size(), outcome.routes_removed.size());
    }
    sd_notify(0, "READY=1");
    return outcome;
  };
  loop.setReloadHandler([&]() {
    spdlog::info("SIGHUP: reloading {}", reloader.configPath());
    applyReload({});
  });

  // A live copy of routed events for `evrctl tap`; costs one compare per event when unused.
  evr::control::Tap tap(context, evr::daemon::resolveEndpoint(evr::control::kDefaultTap, runtime));
  try {
    tap.bind();
  } catch (const std::exception& e) {
    spdlog::error("{}", e.what());
    return 1;
  }
  loop.addSidePoller(tap.socket(), [&]() { tap.serve(); });
  loop.setTap(&tap);

  const auto started = std::chrono::steady_clock::now();
  evr::control::ControlServer control(
      context,
      evr::daemon::resolveEndpoint(config->router.control ? config->router.control->value
                                                          : evr::control::kDefaultControl,
                                   runtime),
      [&](evr::schema::ControlRequest::Reader request, evr::schema::ControlReply::Builder reply) {
        evr::control::answer(request, reply,
                             evr::control::ControlContext{loop, reloader, started, applyReload, tap.endpoint()});
      });
  try {
    control.bind();
  } catch (const std::exception& e) {
    spdlog::error("{}", e.what());
    return 1;
  }
  loop.addSidePoller(control.socket(), [&]() { control.serve(); });


  // WatchdogSec= in the unit: ping at half the interval from the loop itself, so a stuck loop
  // (not merely a live process) makes systemd restart the daemon.
  std::uint64_t watchdog_usec = 0;
  if (sd_watchdog_enabled(0, &watchdog_usec) > 0 && watchdog_usec > 0) {
    const auto every = std::chrono::milliseconds(std::max<std::uint64_t>(watchdog_usec / 2000, 1));
    loop.addPeriodic(every, []() { sd_notify(0, "WATCHDOG=1"); });
    spdlog::info("systemd watchdog: pinging every {} ms", every.count());
  }

  // Prometheus /metrics, /healthz, /ready on their own thread; the loop publishes snapshots.
  std::unique_ptr<evr::stats::MetricsServer> metrics;
  const auto metricsExtras = [&]() {
    return evr::stats::MetricsExtras{
        reloader.generation(), reloads_applied, reloads_unchanged, reloads_rejected,
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count()};
  };
  if (metrics_override) {
    if (*metrics_override != "off" && !evr::config::parseHostPort(*metrics_override)) {
      spdlog::error("--metrics must be host:port or off, got '{}'", *metrics_override);
      return 1;
    }
    config->router.metrics = *metrics_override;
  }
  if (config->router.metrics != "off") {
    const auto address = evr::config::parseHostPort(config->router.metrics);  // checked by the loader
    metrics = std::make_unique<evr::stats::MetricsServer>(address->host, address->port);
    if (!metrics->start()) {
      spdlog::error("{}", metrics->error());
      return 1;
    }
    const bool v6 = metrics->host().find(':') != std::string::npos;
    spdlog::info("metrics on http://{}{}{}:{}", v6 ? "[" : "", metrics->host(), v6 ? "]" : "",
                 metrics->port());
    metrics->publish(std::make_shared<const evr::stats::Snapshot>(loop.snapshot()), metricsExtras());
    // The HTTP thread only ever sees immutable snapshots the loop hands it.
    loop.addPeriodic(std::chrono::milliseconds(250), [&]() {
      metrics->publish(std::make_shared<const evr::stats::Snapshot>(loop.snapshot()), metricsExtras());
    });
  }

  sd_notify(0, "READY=1");
  if (metrics) metrics->setReady(true);
  loop.run(signal_fd);
  if (metrics) {
    metrics->setReady(false);
    metrics->publish(std::make_shared<const evr::stats::Snapshot>(loop.snapshot()), metricsExtras());
  }
  sd_notify(0, "STOPPING=1");
  ::close(signal_fd);
  return 0;
}
