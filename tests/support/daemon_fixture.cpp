#include "daemon_fixture.hpp"

#include <algorithm>
#include <set>

#include <signal.h>

#include <sstream>
#include <stdexcept>

namespace evr::test {

RunningDaemon::RunningDaemon(const std::string& yaml) {
  config_path_ = dir_.write("evrouter.yaml", yaml);
  endpoint_ = dir_.ipc("evrouterd.sock");
  start();
}

void RunningDaemon::start() {
  std::vector<std::string> args{EVR_EVROUTERD_PATH, "-c", config_path_, "--runtime-dir",
                                dir_.path().string()};
  // Tests run in parallel: a free metrics port each, never the default 9464 — unless the test's
  // config chooses the metrics address itself.
  if (readFile(config_path_).find("metrics:") == std::string::npos) {
    args.insert(args.end(), {"--metrics", "127.0.0.1:0"});
  }
  args.insert(args.end(), {"--log-level", "info"});
  process_ = std::make_unique<Process>(std::move(args));
  // Logged by the relay loop as it starts: every socket (data and control) is bound by then.
  if (!process_->waitForLine("evrouterd instance", 20s, Process::Stream::Stderr)) {
    throw std::runtime_error("evrouterd did not start listening: " +
                             process_->seen(Process::Stream::Stderr) + process_->readAllStderr(1s));
  }
}

void RunningDaemon::restart() {
  if (process_ && process_->running()) throw std::logic_error("restart() of a running daemon");
  start();
}

int RunningDaemon::stop(std::chrono::milliseconds timeout) {
  process_->signal(SIGTERM);
  const auto code = process_->waitFor(timeout);
  log_ = process_->seen(Process::Stream::Stderr) + process_->readAllStderr(2s);
  if (!code) throw std::runtime_error("evrouterd did not stop after SIGTERM");
  return *code;
}

std::unique_ptr<Process> RunningDaemon::peer(std::vector<std::string> args) const {
  args.insert(args.begin(), {EVR_TEST_PEER_PATH, "--endpoint", endpoint_});
  return std::make_unique<Process>(std::move(args));
}

std::unique_ptr<Process> RunningDaemon::evrctl(std::vector<std::string> args) const {
  scaleTimeoutOptions(args);
  args.insert(args.begin(), EVR_EVRCTL_PATH);
  args.insert(args.begin() + 2, {"--endpoint", endpoint_});
  return std::make_unique<Process>(std::move(args));
}

std::unique_ptr<Process> RunningDaemon::evrctlControl(std::vector<std::string> args) const {
  // A request/reply command a test gives no --timeout still answers within the test's bound for a
  // control answer (5 s, scaled), not within evrctl's unscaled default.
  static const std::set<std::string> kRequestReply = {"status", "stats", "reload"};
  if (!args.empty() && kRequestReply.contains(args[0]) &&
      std::find(args.begin(), args.end(), "--timeout") == args.end()) {
    args.insert(args.end(), {"--timeout", "5"});
  }
  scaleTimeoutOptions(args);
  args.insert(args.begin(), EVR_EVRCTL_PATH);
  args.insert(args.begin() + 2, {"--control", controlEndpoint()});
  return std::make_unique<Process>(std::move(args));
}

std::map<std::string, std::string> parseFields(const std::string& line) {
  std::map<std::string, std::string> fields;
  std::istringstream words(line);
  std::string word;
  while (words >> word) {
    if (const auto eq = word.find('='); eq != std::string::npos) {
      fields[word.substr(0, eq)] = word.substr(eq + 1);
    }
  }
  return fields;
}

}  // namespace evr::test
