#include "container.hpp"

#include <signal.h>

#include <atomic>
#include <cerrno>
#include <iostream>

namespace evr::examples {

namespace {
evr::Connection* g_connection = nullptr;
std::atomic<bool> g_interrupted{false};

void onSignal(int) {
  g_interrupted = true;
  if (g_connection != nullptr) g_connection->stop();  // async-signal-safe: an atomic and a write()
}

std::string joinInputs(const std::vector<std::string>& names) {
  std::string text;
  for (const auto& name : names) text += (text.empty() ? "" : ",") + name;
  return text;
}
}  // namespace

void addContainerOptions(CLI::App& app, ContainerArgs& args, std::string default_name, bool with_inputs) {
  args.name = std::move(default_name);
  app.add_option("--as", args.name, "container name (as the config names it)")->capture_default_str();
  app.add_option("--endpoint", args.endpoint, "evrouterd endpoint (default: $EVR_ENDPOINT or ./run/evrouterd.sock)");
  if (with_inputs) {
    app.add_option("--inputs", args.inputs,
                   "containers that send this one END_OF_DATA (the launcher derives them from the config's routes); "
                   "their events are processed in event-time order")
        ->delimiter(',')
        ->required();
  }
}

Container::Container(const ContainerArgs& args)
    : name_(args.name),
      bus_(args.name),
      connection_(context_, bus_, {.container = args.name, .endpoint = args.endpoint}) {
  if (!args.inputs.empty()) std::cout << name_ << ": inputs " << joinInputs(args.inputs) << std::endl;
  g_connection = &connection_;
  struct sigaction action {};
  action.sa_handler = onSignal;
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
}

Container::~Container() { g_connection = nullptr; }

bool Container::interrupted() const { return g_interrupted; }

bool Container::poll(std::chrono::milliseconds timeout) {
  return connection_.poll(timeout);
}

int Container::run() {
  int code = 0;
  try {
    if (!finished_ && !g_interrupted) connection_.run();
    if (g_interrupted) {
      std::cerr << name_ << ": interrupted" << std::endl;
      code = 130;
    } else if (!connection_.flush(std::chrono::seconds(10))) {
      std::cerr << name_ << ": evrouterd did not acknowledge every event within 10 s" << std::endl;
      code = 1;
    }
  } catch (const std::exception& e) {  // evr::ConnectionError, or a link error zmq reports
    std::cerr << name_ << ": " << e.what() << std::endl;
    code = 1;
  }
  return code;
}

void Container::finish(std::int64_t time_ns, const std::string& reason) {
  bus_.publish(evr::EndOfData{.time_ns = time_ns, .reason = reason});
  finished_ = true;
  connection_.stop();
}

}  // namespace evr::examples
