// The lockstep curve's two variants (lockstep.hpp) and its stage processes.

#include "lockstep.hpp"

#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>
#include <zmq.hpp>

#include <algorithm>
#include <iostream>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "evr/bus.hpp"
#include "evr/connection.hpp"
#include "evr/events.hpp"
#include "payload.hpp"
#include "proc_info.hpp"
#include "roles.hpp"
#include "run.hpp"
#include "spawn.hpp"
#include "stats.hpp"

namespace evr::bench {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using evr::test::Process;

constexpr auto kReadyTimeout = 20s;
constexpr auto kReportMargin = 15s;
constexpr std::string_view kSymbol = "BENCH";

// What one stage handled: step numbers (the events' time_ns, 1, 2, ...) must come in order, once.
struct StageCount {
  std::uint64_t handled = 0;
  std::uint64_t duplicates = 0;  // a step at or below the last one handled
  std::int64_t last_step = 0;

  void take(std::int64_t step) {
    if (step <= last_step) {
      ++duplicates;
      return;
    }
    last_step = step;
    ++handled;
  }
};

// The four stages' work, the same in both variants: each reads its input as a typed payload and
// publishes the next stage's input for the same step (time_ns carries the step number).
void installStage(evr::Bus& bus, std::string_view stage, StageCount& count, std::optional<evr::Origin> only) {
  if (stage == "strategy") {
    bus.subscribe(evr::EventType::BAR, [&bus, &count](const evr::Event& event) {
      const auto bar = evr::as<evr::Bar>(event);
      count.take(bar.time_ns);
      bus.publish(evr::Signal{.symbol = bar.symbol, .time_ns = bar.time_ns, .strategy = "bench",
                              .direction = evr::Direction::Long, .strength = 1, .price = bar.close});
    }, only);
  } else if (stage == "risk") {
    bus.subscribe(evr::EventType::SIGNAL, [&bus, &count](const evr::Event& event) {
      const auto signal = evr::as<evr::Signal>(event);
      count.take(signal.time_ns);
      bus.publish(evr::Order{.symbol = signal.symbol, .time_ns = signal.time_ns,
                             .order_id = "o" + std::to_string(signal.time_ns), .strategy = signal.strategy,
                             .portfolio = "bench", .side = evr::Side::Buy, .quantity = 10});
    }, only);
  } else if (stage == "execution") {
    bus.subscribe(evr::EventType::ORDER, [&bus, &count](const evr::Event& event) {
      const auto order = evr::as<evr::Order>(event);
      count.take(order.time_ns);
      bus.publish(evr::Fill{.symbol = order.symbol, .time_ns = order.time_ns, .order_id = order.order_id,
                            .strategy = order.strategy, .portfolio = order.portfolio, .side = order.side,
                            .quantity = order.quantity, .price = 100, .commission = 1});
    }, only);
  } else if (stage == "tracker") {
    bus.subscribe(evr::EventType::FILL, [&bus, &count](const evr::Event& event) {
      const auto fill = evr::as<evr::Fill>(event);
      count.take(fill.time_ns);
      bus.publish(evr::PortfolioUpdate{.symbol = fill.symbol, .time_ns = fill.time_ns, .portfolio = fill.portfolio,
                                       .cash = 100000 - fill.quantity * fill.price - fill.commission,
                                       .equity = 100000 - fill.commission});
    }, only);
  } else {
    throw std::invalid_argument("unknown lockstep stage '" + std::string(stage) + "'");
  }
}

// Data's side: the tracker's PORTFOLIO for a step is its step-done signal.
void installStepDone(evr::Bus& bus, StageCount& count, std::optional<evr::Origin> only) {
  bus.subscribe(evr::EventType::PORTFOLIO, [&count](const evr::Event& event) {
    count.take(evr::as<evr::PortfolioUpdate>(event).time_ns);
  }, only);
}

evr::Bar stepBar(std::uint64_t step) {
  const double price = 100 + static_cast<double>(step % 100) / 10;
  return {.symbol = std::string(kSymbol), .time_ns = static_cast<std::int64_t>(step), .open = price,
          .high = price + 1, .low = price - 1, .close = price, .volume = 1000, .period_seconds = 60};
}

void summarise(LockstepResult& result, std::vector<std::int64_t> step_ns, std::int64_t start_ns, std::int64_t end_ns) {
  result.seconds = end_ns > start_ns ? static_cast<double>(end_ns - start_ns) / 1e9 : 0;
  result.steps_per_s = result.seconds > 0 ? static_cast<double>(result.completed) / result.seconds : 0;
  result.p50_ns = percentile(step_ns, 50);
  result.p99_ns = percentile(step_ns, 99);
  result.p999_ns = percentile(step_ns, 99.9);
}

Clock::time_point after(double seconds) {
  return Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
}

struct StageOptions {
  std::string stage;
  std::string endpoint;
  std::uint64_t steps = 0;
  double timeout_s = 120;
  double idle_timeout_s = 10;
};

// Data: releases step 1, waits for its PORTFOLIO, releases step 2, ...; reports the step times.
int runData(evr::Bus& bus, evr::Connection& connection, StageCount& done, const StageOptions& options) {
  const auto deadline = after(options.timeout_s);
  const auto idle = std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(options.idle_timeout_s));
  std::vector<std::int64_t> step_ns;
  step_ns.reserve(options.steps);
  std::uint64_t released = 0;
  bool timed_out = false;
  const std::int64_t start_ns = nowNs();
  for (std::uint64_t step = 1; step <= options.steps && !timed_out; ++step) {
    const std::int64_t sent_ns = nowNs();
    bus.publish(stepBar(step));
    ++released;
    const auto given_up = std::min(deadline, Clock::now() + idle);
    while (done.last_step < static_cast<std::int64_t>(step)) {
      if (Clock::now() >= given_up) {
        timed_out = true;
        break;
      }
      connection.poll(100ms);
    }
    if (!timed_out) step_ns.push_back(nowNs() - sent_ns);
  }
  const std::int64_t end_ns = nowNs();
  connection.flush(timeLeft(deadline));
  std::vector<std::int64_t> sorted = step_ns;
  nlohmann::json report{{"role", "stage"},
                        {"name", std::string(kLockstepData)},
                        {"released", released},
                        {"handled", done.handled},
                        {"duplicates", done.duplicates},
                        {"start_ns", start_ns},
                        {"end_ns", end_ns},
                        {"p50_ns", percentile(sorted, 50)},
                        {"p99_ns", percentile(sorted, 99)},
                        {"p999_ns", percentile(sorted, 99.9)},
                        {"timed_out", timed_out}};
  std::cout << report.dump() << std::endl;
  return 0;
}

// A stage after data: handles its input until every step is in (or it gives up), then reports.
int runStage(evr::Connection& connection, StageCount& count, const StageOptions& options) {
  std::cout << "ready" << std::endl;
  const auto deadline = after(options.timeout_s);
  const auto idle = std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(options.idle_timeout_s));
  auto last_progress = Clock::now();
  std::uint64_t last_handled = 0;
  bool timed_out = false;
  while (count.handled < options.steps) {
    const auto now = Clock::now();
    if (now >= deadline || (last_handled > 0 && now - last_progress > idle)) {
      timed_out = true;
      break;
    }
    connection.poll(100ms);
    if (count.handled != last_handled) {
      last_handled = count.handled;
      last_progress = Clock::now();
    }
  }
  // What the last handler published is acked before this process says it is done.
  const bool flushed = connection.flush(timeLeft(deadline));
  nlohmann::json report{{"role", "stage"},       {"name", options.stage},         {"handled", count.handled},
                        {"duplicates", count.duplicates}, {"timed_out", timed_out}, {"flushed", flushed}};
  std::cout << report.dump() << std::endl;
  return 0;
}

}  // namespace

std::string lockstepConfig() {
  std::string containers(kLockstepData);
  for (const auto stage : kLockstepStages) containers += ", " + std::string(stage);
  containers += ", " + std::string(kLockstepData);
  return "# generated by evr_e2e_bench: the lockstep curve (lockstep.hpp)\n"
         "router:\n  listen: [\"ipc://evrouterd.sock\"]\n"
         "event_communication:\n  adapters:\n"
         "    # One step: BAR -> SIGNAL -> ORDER -> FILL -> PORTFOLIO, and the PORTFOLIO back to data\n"
         "    # (the step-done signal that releases the next BAR): a pipeline that comes back.\n"
         "    - type: pipeline\n      name: step\n      containers: [" +
         containers + "]\n";
}

LockstepResult runLockstepInProcess(std::uint64_t steps) {
  evr::Bus bus("lockstep");
  std::array<StageCount, kLockstepStages.size()> counts{};
  for (std::size_t i = 0; i < kLockstepStages.size(); ++i) installStage(bus, kLockstepStages[i], counts[i], std::nullopt);
  StageCount done;
  installStepDone(bus, done, std::nullopt);

  LockstepResult result;
  std::vector<std::int64_t> step_ns;
  step_ns.reserve(steps);
  const std::int64_t start_ns = nowNs();
  for (std::uint64_t step = 1; step <= steps; ++step) {
    const std::int64_t sent_ns = nowNs();
    // Published outside any handler: the bus dispatches the whole step before publish returns.
    bus.publish(stepBar(step));
    ++result.steps;
    if (done.last_step != static_cast<std::int64_t>(step)) break;
    step_ns.push_back(nowNs() - sent_ns);
  }
  const std::int64_t end_ns = nowNs();
  result.completed = done.handled;
  for (const auto& count : counts) {
    result.lost += result.steps - std::min(result.steps, count.handled);
    result.duplicates += count.duplicates;
  }
  result.lost += result.steps - std::min(result.steps, done.handled);
  result.duplicates += done.duplicates;
  summarise(result, std::move(step_ns), start_ns, end_ns);
  return result;
}

LockstepResult runLockstepProcesses(std::uint64_t steps, const RouterOptions& routers, double timeout_s,
                                    double idle_timeout_s) {
  evr::test::TempDir dir;
  auto router = Router::startEvrouterd(lockstepConfig(), dir, routers, "evrouterd (lockstep)");
  const auto args = [&](std::string_view stage) {
    return std::vector<std::string>{selfExe(), "--role", "stage", "--stage", std::string(stage),
                                    "--endpoint", router->endpoint(), "--events", std::to_string(steps),
                                    "--timeout", std::to_string(timeout_s), "--idle-timeout",
                                    std::to_string(idle_timeout_s)};
  };
  std::vector<std::unique_ptr<Process>> stages;
  for (const auto stage : kLockstepStages) stages.push_back(spawnChild(args(stage)));
  for (std::size_t i = 0; i < stages.size(); ++i) {
    if (!stages[i]->waitForLine("ready", kReadyTimeout)) {
      throw std::runtime_error("stage " + std::string(kLockstepStages[i]) + " did not get ready: " + everythingSaid(*stages[i]));
    }
  }
  const auto report_timeout =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::duration<double>(timeout_s) + kReportMargin);
  auto data = spawnChild(args(kLockstepData));
  const auto data_report = waitForReport(*data, "stage", report_timeout);
  expectExit(*data, "data");

  LockstepResult result;
  result.steps = data_report.at("released").get<std::uint64_t>();
  result.completed = data_report.at("handled").get<std::uint64_t>();
  result.lost = result.steps - std::min(result.steps, result.completed);
  result.duplicates = data_report.at("duplicates").get<std::uint64_t>();
  for (std::size_t i = 0; i < stages.size(); ++i) {
    const auto report = waitForReport(*stages[i], "stage", report_timeout);
    expectExit(*stages[i], "stage " + std::string(kLockstepStages[i]));
    const auto handled = report.at("handled").get<std::uint64_t>();
    result.lost += result.steps - std::min(result.steps, handled);
    result.duplicates += report.at("duplicates").get<std::uint64_t>() + (handled > result.steps ? handled - result.steps : 0);
  }
  const auto start_ns = data_report.at("start_ns").get<std::int64_t>();
  const auto end_ns = data_report.at("end_ns").get<std::int64_t>();
  result.seconds = end_ns > start_ns ? static_cast<double>(end_ns - start_ns) / 1e9 : 0;
  result.steps_per_s = result.seconds > 0 ? static_cast<double>(result.completed) / result.seconds : 0;
  result.p50_ns = data_report.at("p50_ns").get<double>();
  result.p99_ns = data_report.at("p99_ns").get<double>();
  result.p999_ns = data_report.at("p999_ns").get<double>();
  result.router_peak_rss_bytes = peakRssBytes(router->pid());
  router->stop();
  return result;
}

int stageRoleMain(int argc, char** argv) {
  logToStderr("evr-bench-stage");

  CLI::App app{"evr_e2e_bench stage: one process of the lockstep curve (started by the driver)"};
  StageOptions options;
  std::string role;
  app.add_option("--role", role)->required()->check(CLI::IsMember({"stage"}));
  std::vector<std::string> names{std::string(kLockstepData)};
  for (const auto stage : kLockstepStages) names.emplace_back(stage);
  app.add_option("--stage", options.stage)->required()->check(CLI::IsMember(names));
  app.add_option("--endpoint", options.endpoint)->required();
  app.add_option("--events", options.steps, "steps")->required();
  app.add_option("--timeout", options.timeout_s);
  app.add_option("--idle-timeout", options.idle_timeout_s);
  CLI11_PARSE(app, argc, argv);

  try {
    zmq::context_t context(1);
    evr::Bus bus(options.stage);
    evr::Connection connection(context, bus, {.container = options.stage, .endpoint = options.endpoint});
    StageCount count;
    const bool data = options.stage == kLockstepData;
    if (data) {
      installStepDone(bus, count, evr::Origin::Router);
    } else {
      installStage(bus, options.stage, count, evr::Origin::Router);
    }
    if (!connection.waitJoined(timeLeft(after(options.timeout_s)))) {
      std::cerr << options.stage << ": could not join at " << options.endpoint << '\n';
      return 1;
    }
    return data ? runData(bus, connection, count, options) : runStage(connection, count, options);
  } catch (const std::exception& e) {
    std::cerr << "stage " << options.stage << ": " << e.what() << '\n';
    return 1;
  }
}

}  // namespace evr::bench
