// evrouterd: wires the stages together and nothing else. Everything it calls lives in
// evr::daemon_core (config -> topology -> routing table -> relay loop), which the tests link.

#include <CLI/CLI.hpp>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/signalfd.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <iostream>
#include <zmq.hpp>

#include "config/host_port.hpp"
#include "control/control_server.hpp"
#include "control/reloader.hpp"
#include "control/requests.hpp"
#include "control/tap.hpp"
#include "daemon_options.hpp"
#include "evr/curve_keys.hpp"
#include "evr/heap.hpp"
#include "logging.hpp"
#include "security/zap_handler.hpp"
#include "stats/metrics_server.hpp"
#include "topology/check_config.hpp"
#include "topology/compile_config.hpp"
#include "transport/relay_loop.hpp"

namespace {

void logDiagnostic(const evr::config::Diagnostic& diagnostic) {
  if (diagnostic.severity == evr::config::Severity::Error) {
    spdlog::error("{}", diagnostic.toString());
  } else {
    spdlog::warn("{}", diagnostic.toString());
  }
}

// Signals arrive on a signalfd polled by the loop. Blocks them; call before the zmq context starts
// its I/O threads, so those threads inherit the mask and never take them.
int takeSignals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGHUP);
  sigprocmask(SIG_BLOCK, &signals, nullptr);
  ::signal(SIGPIPE, SIG_IGN);
  return signalfd(-1, &signals, SFD_CLOEXEC | SFD_NONBLOCK);
}

// WatchdogSec= in the unit: ping at half the interval from the loop itself, so a stuck loop
// (not merely a live process) makes systemd restart the daemon.
// Opens router.journal and hands it, with what it recovered, to the loop. False (logged) when the
// directory cannot be used: a journal that was asked for and cannot be had stops the start.
bool openJournal(const evr::config::JournalSettings& settings, evr::transport::RelayLoop& loop) {
  using Fsync = evr::config::JournalSettings::Fsync;
  evr::journal::JournalOptions options;
  options.dir = settings.path;
  options.fsync = settings.fsync == Fsync::Batch      ? evr::journal::FsyncPolicy::Batch
                  : settings.fsync == Fsync::Interval ? evr::journal::FsyncPolicy::Interval
                                                      : evr::journal::FsyncPolicy::None;
  options.interval = std::chrono::milliseconds(settings.interval_ms);
  options.keep_all = settings.all_types;
  evr::journal::JournalRecovery recovery;
  try {
    auto journal = std::make_unique<evr::journal::Journal>(evr::journal::Journal::open(options, recovery));
    for (const auto& problem : recovery.log.problems) spdlog::warn("journal: {}", problem);
    if (recovery.log.truncated_bytes > 0) {
      spdlog::warn("journal: cut {} bytes of torn or corrupt records (written when the last "
                   "evrouterd died); the records before them are used",
                   recovery.log.truncated_bytes);
    }
    spdlog::info("journal {} (fsync {}, {} types)", settings.path, evr::config::fsyncName(settings.fsync),
                 settings.all_types ? "all" : "lossless");
    loop.setJournal(std::move(journal), recovery, settings.all_types);
  } catch (const evr::journal::JournalError& e) {
    spdlog::error("router.journal: {}", e.what());
    return false;
  }
  return true;
}

void pingWatchdogFrom(evr::transport::RelayLoop& loop) {
  std::uint64_t watchdog_usec = 0;
  if (sd_watchdog_enabled(0, &watchdog_usec) <= 0 || watchdog_usec == 0) return;
  const auto every = std::chrono::milliseconds(std::max<std::uint64_t>(watchdog_usec / 2000, 1));
  loop.addPeriodic(every, []() { sd_notify(0, "WATCHDOG=1"); });
  spdlog::info("systemd watchdog: pinging every {} ms", every.count());
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "evrouterd: relays Cap'n Proto events between container processes over ZeroMQ, "
      "as the event_communication section of its config says"};
  std::string config_path = EVR_DEFAULT_CONFIG;
  bool check = false;
  std::optional<std::string> runtime_dir;
  std::string log_level = "info";
  std::string log_format = "text";
  std::optional<std::string> metrics_override;
  app.add_option("-c,--config", config_path, "config file (YAML)")->capture_default_str();
  app.add_flag("--check", check,
               "validate the config, print the compiled routes, and exit (0: valid, 1: not)");
  app.add_option("--runtime-dir", runtime_dir,
                 "directory for ipc sockets (default: $RUNTIME_DIRECTORY, else ./run)");
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error"}))
      ->capture_default_str();
  app.add_option("--log-format", log_format, "text, or json (one JSON object per line)")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  app.add_option("--metrics", metrics_override,
                 "HTTP address for /metrics, /healthz, /ready (host:port, port 0: any; or off); "
                 "overrides router.metrics");
  app.set_version_flag("--version", std::string("evrouterd ") + EVR_VERSION);
  app.footer(
      "Exit codes: 0 stopped cleanly (or --check: valid), 1 bad config or cannot listen.\n"
      "Signals: SIGTERM/SIGINT drain queues for router.shutdown_grace_ms and stop; "
      "SIGHUP reloads the config (a bad config is rejected and the running routes stay).");
  CLI11_PARSE(app, argc, argv);

  if (check) return evr::topology::checkConfigFile(config_path, std::cout, std::cerr);

  // Logs go to stderr (journald and docker collect it); stdout is for --check output.
  evr::daemon::configureLogging(log_format, log_level);
  evr::keepFreedHeap();  // evr/heap.hpp: bursts reuse freed memory instead of faulting it in
  evr::useOneArena();    // before the first thread: libzmq's I/O thread allocates on the main heap
  if (evr::heapInHugePages() == true) {
    spdlog::info("memory: the heap is marked for transparent huge pages");
  } else {
    spdlog::info("memory: the heap is not marked for transparent huge pages; evrouterd spends about a fifth "
                 "more CPU per event without them: run it with GLIBC_TUNABLES={}, as the systemd unit "
                 "and the image do (docs/performance.md, \"The heap in huge pages\")",
                 EVR_DAEMON_GLIBC_TUNABLES);
  }
  const int signal_fd = takeSignals();

  auto compiled = evr::topology::compileConfigFile(config_path, logDiagnostic);
  if (!compiled.ok()) {
    spdlog::error("{}: {} error(s); see above", config_path, compiled.errors);
    return 1;
  }
  const auto& config = *compiled.config;  // as the file says: reloads compare with it
  const std::string metrics_address = metrics_override.value_or(config.router.metrics);
  if (metrics_address != "off" && !evr::config::parseHostPort(metrics_address)) {
    spdlog::error("--metrics must be host:port or off, got '{}'", metrics_address);
    return 1;
  }

  const auto runtime = evr::daemon::resolveRuntimeDir(runtime_dir);
  std::error_code ec;
  std::filesystem::create_directories(runtime, ec);
  if (ec) {
    spdlog::error("cannot create runtime directory {}: {}", runtime.string(), ec.message());
    return 1;
  }

  zmq::context_t context(1);
  evr::transport::RelayLoop loop(context, config.router,
                                 evr::daemon::listenEndpoints(config.router, runtime));
  // One reload path for SIGHUP and `evrctl reload`: parse -> compile -> diff -> swap.
  evr::control::Reloader reloader(config_path, config, compiled.table);
  loop.setReloadHandler([&]() {
    spdlog::info("SIGHUP: reloading {}", reloader.configPath());
    evr::control::applyReload(reloader, loop, {});
  });
  // A live copy of routed events for `evrctl tap`; costs one compare per event when unused.
  evr::control::Tap tap(context, evr::daemon::resolveEndpoint(evr::control::kDefaultTap, runtime));
  const auto started = std::chrono::steady_clock::now();
  evr::control::ControlServer control(
      context,
      evr::daemon::resolveEndpoint(
          config.router.control ? config.router.control->value : evr::control::kDefaultControl,
          runtime),
      [&](evr::schema::ControlRequest::Reader request, evr::schema::ControlReply::Builder reply,
          std::string_view key) {
        const auto* access = loop.access();
        evr::control::answer(request, reply,
                             evr::control::ControlContext{loop, reloader, started, tap.endpoint(),
                                                          access ? access->role(key) : evr::config::ControlRole::Admin});
      });
  // router.security: CURVE on every socket, judged by our ZAP handler, which must be in place
  // before the first of them binds (without one, libzmq lets every key in).
  std::optional<evr::security::ZapHandler> zap;
  loop.setPermissions(config.router.permissions);
  if (const auto& security = config.router.security) {
    zap.emplace(context, [&loop]() { return loop.access(); }, loop.authCounts());
    loop.setAccess(evr::security::AccessList::compile(*security));
    loop.enableCurve(security->secret_key);
    evr::security::makeCurveServer(control.socket(), security->secret_key, evr::security::kControlDomain);
    evr::security::makeCurveServer(tap.socket(), security->secret_key, evr::security::kControlDomain);
    spdlog::info("router.security: CURVE on every endpoint; evrouterd's key {} (read from {}); {} client keys",
                 evr::keyFingerprint(security->public_key), security->secret_key_read_from,
                 security->clients.size());
  }
  try {
    if (zap) zap->bind();
    loop.bind();
    tap.bind();
    control.bind();
  } catch (const std::exception& e) {
    spdlog::error("{}", e.what());
    return 1;
  }
  loop.installTable(compiled.table);
  spdlog::info("config {} loaded: {} containers, {} adapters", config_path,
               compiled.table->containers().size(), compiled.table->adapters().size());
  if (config.router.journal && !openJournal(*config.router.journal, loop)) return 1;
  loop.addSidePoller(tap.socket(), [&]() { tap.serve(); });
  loop.setTap(&tap);
  loop.addSidePoller(control.socket(), [&]() { control.serve(); });
  if (zap) loop.addSidePoller(zap->socket(), [&]() { zap->serve(); });
  pingWatchdogFrom(loop);

  // Prometheus /metrics, /healthz, /ready on their own thread; the loop publishes snapshots, which
  // the HTTP thread only ever sees as immutable copies.
  std::unique_ptr<evr::stats::MetricsServer> metrics;
  const auto publishMetrics = [&]() {
    const auto& reloads = reloader.counts();
    metrics->publish(
        std::make_shared<const evr::stats::Snapshot>(loop.snapshot()),
        {reloader.generation(), reloads.applied, reloads.unchanged, reloads.rejected,
         std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count()});
  };
  if (metrics_address != "off") {
    const auto address = evr::config::parseHostPort(metrics_address);
    metrics = std::make_unique<evr::stats::MetricsServer>(address->host, address->port);
    if (!metrics->start()) {
      spdlog::error("{}", metrics->error());
      return 1;
    }
    const bool v6 = metrics->host().find(':') != std::string::npos;
    spdlog::info("metrics on http://{}{}{}:{}", v6 ? "[" : "", metrics->host(), v6 ? "]" : "",
                 metrics->port());
    publishMetrics();
    loop.addPeriodic(std::chrono::milliseconds(250), publishMetrics);
  }

  sd_notify(0, "READY=1");
  if (metrics) metrics->setReady(true);
  loop.run(signal_fd);
  if (metrics) {
    metrics->setReady(false);
    publishMetrics();
  }
  sd_notify(0, "STOPPING=1");
  ::close(signal_fd);
  return 0;
}
