// The publisher and consumer loops shared by every system (see roles.hpp), and the role's
// command line.

#include "roles.hpp"

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <iostream>
#include <nlohmann/json.hpp>
#include <thread>

#include "proc_info.hpp"

namespace evr::bench {
namespace {

using Clock = std::chrono::steady_clock;

// An unpaced publisher lets its client do periodic work (acks, heartbeats) this often.
constexpr std::uint64_t kServeEvery = 256;
// How long a consumer waits per receive call before it checks its deadlines again.
constexpr std::chrono::milliseconds kReceiveSlice{100};

// This process's CPU time (every thread: the client's I/O thread too), in ns; 0 when unreadable.
std::int64_t ownCpuNs() {
  const auto cpu = cpuTime(::getpid());
  return cpu ? static_cast<std::int64_t>(cpu->count()) : 0;
}

Clock::time_point after(double seconds) {
  return Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
}

// Publishes events 0..events-1: as fast as the client API allows (rate 0), or paced on a fixed
// schedule (event i is due at start + i / rate; a publisher that falls behind catches up without
// sleeping, so the average offered rate is exact). The send time is taken right before each
// publish call: latency includes everything the client API does.
int runPublisher(PublisherLink& link, const RoleOptions& options) {
  const auto deadline = after(options.timeout_s);
  if (!link.connect(deadline)) {
    std::cerr << options.name << ": could not connect to " << options.endpoint << '\n';
    return 1;
  }
  const bool paced = options.rate > 0;
  const auto interval = std::chrono::duration<double>(paced ? 1.0 / options.rate : 0.0);
  Payload payload{};
  const std::int64_t cpu_start = ownCpuNs();
  const auto start = Clock::now();
  const std::int64_t start_ns = nowNs();
  for (std::uint64_t i = 0; i < options.events; ++i) {
    if (paced) {
      link.serve();
      std::this_thread::sleep_until(start + std::chrono::duration_cast<Clock::duration>(interval * static_cast<double>(i)));
    } else if (i % kServeEvery == 0) {
      link.serve();
      if (Clock::now() > deadline) {
        std::cerr << options.name << ": timed out after publishing " << i << " events\n";
        return 1;
      }
    }
    writePayload(payload, i, nowNs());
    link.publish(i, payload);
  }
  const std::int64_t end_ns = nowNs();
  if (!link.finish(deadline)) {
    std::cerr << options.name << ": published events were not all taken by the system before the timeout\n";
    return 1;
  }
  const double seconds = static_cast<double>(end_ns - start_ns) / 1e9;
  nlohmann::json report{{"role", "publisher"},
                        {"name", options.name},
                        {"published", options.events},
                        {"start_ns", start_ns},
                        {"end_ns", end_ns},
                        {"flushed_ns", nowNs()},
                        {"cpu_ns", ownCpuNs() - cpu_start},
                        {"offered_rate", options.rate},
                        {"achieved_rate", seconds > 0 ? static_cast<double>(options.events) / seconds : 0.0}};
  std::cout << report.dump() << std::endl;
  return 0;
}

// Receives until every expected event is in, or the overall timeout, or no new event for the
// idle timeout once events have started to arrive (lost events must not hang the benchmark).
int runConsumer(ConsumerLink& link, ConsumerTally& tally, const RoleOptions& options) {
  const auto deadline = after(options.timeout_s);
  if (!link.subscribe(deadline)) {
    std::cerr << options.name << ": could not subscribe at " << options.endpoint << '\n';
    return 1;
  }
  std::cout << "ready" << std::endl;
  const std::int64_t cpu_start = ownCpuNs();
  const auto idle_limit = std::chrono::duration<double>(options.idle_timeout_s);
  auto last_progress = Clock::now();
  std::uint64_t last_distinct = 0;
  bool timed_out = false;
  while (!tally.done()) {
    const auto now = Clock::now();
    if (now >= deadline || (last_distinct > 0 && now - last_progress > idle_limit)) {
      timed_out = true;
      break;
    }
    link.receive(kReceiveSlice);
    if (tally.distinct() != last_distinct) {
      last_distinct = tally.distinct();
      last_progress = Clock::now();
    }
  }
  std::cout << tally.report(options.name, timed_out, ownCpuNs() - cpu_start) << std::endl;
  return 0;
}

}  // namespace

ConsumerTally::ConsumerTally(std::uint64_t events, std::uint64_t expect, std::uint64_t warmup, bool latency)
    : seen_(events, false), expect_(expect), warmup_(warmup), latency_(latency) {
  if (latency_ && expect_ > warmup_) latency_ns_.reserve(expect_);
}

void ConsumerTally::onPayload(std::span<const char> bytes) {
  const std::int64_t arrived_ns = nowNs();
  ++received_;
  const auto stamp = readPayload(bytes);
  if (!stamp || stamp->index >= seen_.size()) {
    ++unreadable_;
    return;
  }
  if (seen_[stamp->index]) {
    ++duplicates_;
    return;
  }
  seen_[stamp->index] = true;
  ++distinct_;
  if (first_ns_ == 0) first_ns_ = arrived_ns;
  last_ns_ = arrived_ns;
  if (latency_ && stamp->index >= warmup_) latency_ns_.push_back(arrived_ns - stamp->send_ns);
}

std::string ConsumerTally::report(const std::string& name, bool timed_out, std::int64_t cpu_ns) const {
  nlohmann::json report{{"role", "consumer"},
                        {"name", name},
                        {"expected", expect_},
                        {"received", received_},
                        {"distinct", distinct_},
                        {"lost", expect_ > distinct_ ? expect_ - distinct_ : 0},
                        {"duplicates", duplicates_},
                        {"unreadable", unreadable_},
                        {"first_ns", first_ns_},
                        {"last_ns", last_ns_},
                        {"timed_out", timed_out},
                        {"cpu_ns", cpu_ns}};
  if (latency_) report["latency_ns"] = latency_ns_;
  return report.dump();
}

void logToStderr(const std::string& name) {
  auto logger = spdlog::stderr_logger_mt(name);
  logger->set_level(spdlog::level::warn);
  spdlog::set_default_logger(logger);
}

int roleMain(int argc, char** argv) {
  logToStderr("evr-bench-role");

  CLI::App app{"evr_e2e_bench role: one publisher or consumer process (started by the driver)"};
  RoleOptions options;
  app.add_option("--role", options.role)->required()->check(CLI::IsMember({"publisher", "consumer"}));
  app.add_option("--system", options.system)->required()->check(CLI::IsMember({"direct", "zmq", "evr", "nats"}));
  app.add_option("--endpoint", options.endpoint)->required();
  app.add_option("--name", options.name)->required();
  app.add_option("--subject", options.subject);
  app.add_option("--events", options.events)->required();
  app.add_option("--expect", options.expect);
  app.add_option("--rate", options.rate);
  app.add_option("--warmup", options.warmup);
  app.add_flag("--latency", options.latency);
  app.add_flag("--route-by-key", options.route_by_key);
  app.add_option("--route-keys", options.route_keys)->check(CLI::PositiveNumber);
  app.add_option("--pad-bytes", options.pad_bytes);
  app.add_option("--timeout", options.timeout_s);
  app.add_option("--idle-timeout", options.idle_timeout_s);
  app.add_option("--curve-keys", options.curve_keys);
  CLI11_PARSE(app, argc, argv);

  try {
    const bool publisher = options.role == "publisher";
    if (publisher) {
      auto link = options.system == "direct" ? makeDirectPublisher(options)
                  : options.system == "zmq"  ? makeZmqRelayPublisher(options)
                  : options.system == "evr"  ? makeEvrPublisher(options)
                                             : makeNatsPublisher(options);
      if (!link) throw std::runtime_error("built without libnats: no nats publisher");
      return runPublisher(*link, options);
    }
    ConsumerTally tally(options.events, options.expect, options.warmup, options.latency);
    auto link = options.system == "direct" ? makeDirectConsumer(options, tally)
                : options.system == "zmq"  ? makeZmqRelayConsumer(options, tally)
                : options.system == "evr"  ? makeEvrConsumer(options, tally)
                                           : makeNatsConsumer(options, tally);
    if (!link) throw std::runtime_error("built without libnats: no nats consumer");
    return runConsumer(*link, tally, options);
  } catch (const std::exception& e) {
    std::cerr << options.role << " " << options.name << " (" << options.system << "): " << e.what() << '\n';
    return 1;
  }
}

}  // namespace evr::bench
