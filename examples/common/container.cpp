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

}  // namespace

void addContainerOptions(CLI::App& app, ContainerArgs& args, std::string default_name) {
  args.name = std::move(default_name);
  app.add_option("--as", args.name, "container name (as the config names it)")->capture_default_str();
  app.add_option("--endpoint", args.endpoint, "evrouterd endpoint (default: $EVR_ENDPOINT or ./run/evrouterd.sock)");
}

Container::Container(const ContainerArgs& args)
    : name_(args.name),
      bus_(args.name),
      connection_(context_, bus_,
                  {.container = args.name, .endpoint = args.endpoint, .ordering = evr::Ordering::EventTime}) {
  g_connection = &connection_;
  struct sigaction action {};
  action.sa_handler = onSignal;
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
}

Container::~Container() {
  g_connection = nullptr;
  // The connection's destructor serves the link once more (a last flush), which may release a
  // step or end the inputs: the handlers set in onSteps capture what their caller declared after
  // this container, gone by now, and step_ goes before connection_. Nothing of ours runs then;
  // what arrives is not acked, and evrouterd gives it to the next process under this name.
  connection_.onStepEnd({});
  connection_.onInputsEnded({});
  if (step_subscription_) bus_.unsubscribe(*step_subscription_);
}

bool Container::interrupted() const { return g_interrupted; }

void Container::onSteps(StepHandler on_step, EndHandler on_end) {
  on_step_ = std::move(on_step);
  on_end_ = std::move(on_end);
  step_subscription_ = bus_.subscribeAll(
      [this](const evr::Event& event) {
        if (event.type() != evr::EventType::END_OF_DATA) step_.push_back(event);
      },
      evr::Origin::Router);
  connection_.onStepEnd([this](std::int64_t time) {
    if (step_.empty()) return;
    last_step_ = time;
    std::vector<evr::Event> events;
    events.swap(step_);
    on_step_(time, events);
  });
  connection_.onInputsEnded([this]() {
    std::cout << name_ << ": inputs " << [this] {
      std::string text;
      for (const auto& input : connection_.inputs()) text += (text.empty() ? "" : ",") + input;
      return text;
    }() << " ended" << std::endl;
    on_end_(last_step_);
  });
}

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
