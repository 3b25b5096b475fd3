#include "run.hpp"

#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>

#include "payload.hpp"
#include "proc_info.hpp"
#include "spawn.hpp"

namespace evr::bench {
namespace {

using namespace std::chrono_literals;
using evr::test::Process;

constexpr auto kReadyTimeout = 20s;
// Beyond a role's own timeout, how long the driver waits for its report.
constexpr auto kReportMargin = 15s;

std::string_view roleSystem(System system) {
  switch (system) {
    case System::Direct: return "direct";
    case System::ZmqRelay: return "zmq";
    case System::BareRelay:
    case System::Evrouterd: return "evr";
    case System::Nats: return "nats";
  }
  return "?";
}

std::string describe(Process& process, const std::string& what) { return what + ": " + everythingSaid(process); }

// What a router said about drops (evrouterd logs each reason, rate-limited; the bare relay counts
// them at exit): the explanation next to a loss.
std::vector<std::string> dropLines(const std::string& log) {
  constexpr std::size_t kMaxLines = 8;
  std::vector<std::string> lines;
  std::istringstream in(log);
  for (std::string line; std::getline(in, line) && lines.size() < kMaxLines;) {
    if (line.find("drop") != std::string::npos) lines.push_back(line);
  }
  return lines;
}

class RunProcesses {
 public:
  // `dir`: the run's temp dir, where a CURVE scenario's key files are (Router::start made them).
  RunProcesses(const Scenario& scenario, const RunSettings& settings, std::string endpoint,
               const evr::test::TempDir& dir)
      : scenario_(scenario), settings_(settings), endpoint_(std::move(endpoint)), dir_(dir) {}

  std::vector<std::string> roleArgs(std::string_view role, const std::string& name) const {
    std::vector<std::string> args{selfExe(), "--role", std::string(role),
                                  "--system", std::string(roleSystem(scenario_.system)),
                                  "--endpoint", endpoint_, "--name", name,
                                  "--events", std::to_string(settings_.events),
                                  "--timeout", std::to_string(settings_.timeout_s)};
    if (scenario_.curve) args.insert(args.end(), {"--curve-keys", dir_.path().string()});
    return args;
  }

  std::unique_ptr<Process> startConsumer(const ConsumerPlan& consumer) const {
    auto args = roleArgs("consumer", consumer.name);
    const std::string subject = std::string(kNatsSubject) +
                                (consumer.route_key ? "." + std::to_string(*consumer.route_key) : "");
    args.insert(args.end(), {"--expect", std::to_string(scenario_.expectedBy(consumer, settings_.events)),
                             "--warmup", std::to_string(settings_.warmup), "--subject", subject,
                             "--idle-timeout", std::to_string(settings_.idle_timeout_s)});
    if (settings_.latency) args.push_back("--latency");
    return spawnChild(args);
  }

  std::unique_ptr<Process> startPublisher() const {
    auto args = roleArgs("publisher", std::string(kPublisherName));
    args.insert(args.end(), {"--rate", std::to_string(settings_.rate), "--subject", std::string(kNatsSubject)});
    if (scenario_.pattern == Pattern::Selective) args.push_back("--route-by-key");
    args.insert(args.end(), {"--route-keys", std::to_string(scenario_.route_keys), "--pad-bytes",
                             std::to_string(scenario_.pad_bytes)});
    return spawnChild(args);
  }

 private:
  const Scenario& scenario_;
  const RunSettings& settings_;
  std::string endpoint_;
  const evr::test::TempDir& dir_;
};

}  // namespace

nlohmann::json waitForReport(Process& process, std::string_view role, std::chrono::milliseconds timeout) {
  const auto line = process.waitForLine("\"role\":\"" + std::string(role) + "\"", timeout);
  if (!line) throw std::runtime_error(describe(process, std::string(role) + " did not report"));
  return nlohmann::json::parse(*line);
}

void expectExit(Process& process, const std::string& role) {
  const auto code = process.waitFor(10s);
  if (code != 0) {
    throw std::runtime_error(describe(process, role + (code ? " exited with " + std::to_string(*code) : " did not exit")));
  }
}

RunResult runOnce(const Scenario& scenario, const RunSettings& settings, const RouterOptions& routers) {
  evr::test::TempDir dir;
  auto router = Router::start(scenario, dir, routers);
  const RunProcesses processes(scenario, settings, router ? router->endpoint() : dir.ipc("direct.sock"), dir);

  std::vector<std::unique_ptr<Process>> consumers;
  for (const auto& plan : scenario.consumers) consumers.push_back(processes.startConsumer(plan));
  for (std::size_t i = 0; i < consumers.size(); ++i) {
    if (!consumers[i]->waitForLine("ready", kReadyTimeout)) {
      throw std::runtime_error(describe(*consumers[i], "consumer " + scenario.consumers[i].name + " did not get ready"));
    }
  }

  const auto cpu_before = router ? cpuTime(router->pid()) : std::nullopt;
  const auto report_timeout = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::duration<double>(settings.timeout_s) + kReportMargin);
  auto publisher = processes.startPublisher();
  const auto published = waitForReport(*publisher, "publisher", report_timeout);
  expectExit(*publisher, "publisher");

  RunResult result;
  std::int64_t last_ns = 0;
  std::int64_t consumer_cpu_ns = 0;
  for (std::size_t i = 0; i < consumers.size(); ++i) {
    const auto report = waitForReport(*consumers[i], "consumer", report_timeout);
    expectExit(*consumers[i], "consumer " + scenario.consumers[i].name);
    result.expected += report.at("expected").get<std::uint64_t>();
    result.delivered += report.at("distinct").get<std::uint64_t>();
    result.lost += report.at("lost").get<std::uint64_t>();
    result.duplicates += report.at("duplicates").get<std::uint64_t>();
    result.unreadable += report.at("unreadable").get<std::uint64_t>();
    last_ns = std::max(last_ns, report.at("last_ns").get<std::int64_t>());
    consumer_cpu_ns += report.at("cpu_ns").get<std::int64_t>();
    if (settings.latency) {
      const auto samples = report.at("latency_ns").get<std::vector<std::int64_t>>();
      result.latency_ns.insert(result.latency_ns.end(), samples.begin(), samples.end());
    }
  }
  const auto start_ns = published.at("start_ns").get<std::int64_t>();
  result.seconds = last_ns > start_ns ? static_cast<double>(last_ns - start_ns) / 1e9 : 0;
  result.events_per_s = result.seconds > 0 ? static_cast<double>(result.delivered) / result.seconds : 0;
  result.publisher_rate = published.at("achieved_rate").get<double>();
  if (result.delivered > 0) {
    const auto delivered = static_cast<double>(result.delivered);
    result.publisher_cpu_ns_per_event = static_cast<double>(published.at("cpu_ns").get<std::int64_t>()) / delivered;
    result.consumer_cpu_ns_per_event = static_cast<double>(consumer_cpu_ns) / delivered;
  }

  if (router) {
    const auto cpu_after = cpuTime(router->pid());
    if (cpu_before && cpu_after && result.delivered > 0) {
      result.router_cpu_ns_per_event =
          static_cast<double>((*cpu_after - *cpu_before).count()) / static_cast<double>(result.delivered);
    }
    result.router_peak_rss_bytes = peakRssBytes(router->pid());
    const std::string log = router->stop();
    if (result.lost + result.duplicates > 0) result.router_says = dropLines(log);
  }
  return result;
}

}  // namespace evr::bench
