#include "stats/metrics_server.hpp"

#include <httplib.h>
#include <sys/socket.h>

#include <chrono>

namespace evr::stats {

namespace {

constexpr const char* kMetricsContentType = "text/plain; version=0.0.4; charset=utf-8";
// httplib's default pool is max(8, cores - 1) threads; scrapes are rare and cheap.
constexpr std::size_t kWorkerThreads = 2;
constexpr auto kStartTimeout = std::chrono::seconds(5);

}  // namespace

MetricsServer::MetricsServer(std::string host, int port)
    : host_(std::move(host)), port_(port), server_(std::make_unique<httplib::Server>()) {
  server_->new_task_queue = [] { return new httplib::ThreadPool(kWorkerThreads); };
  server_->set_keep_alive_timeout(1);
  // httplib's default sets SO_REUSEPORT, which lets a second daemon bind the same port and the
  // kernel split scrapes between the two. SO_REUSEADDR only: a taken port fails start().
  server_->set_socket_options([](socket_t sock) {
    int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  });  // bounds how long a kept-alive scrape delays shutdown
  server_->Get("/metrics", [this](const httplib::Request&, httplib::Response& response) {
    std::shared_ptr<const Snapshot> snapshot;
    MetricsExtras extras;
    {
      std::lock_guard lock(mutex_);
      snapshot = snapshot_;
      extras = extras_;
    }
    response.set_content(renderPrometheus(snapshot ? *snapshot : Snapshot{}, extras),
                         kMetricsContentType);
  });
  server_->Get("/healthz", [](const httplib::Request&, httplib::Response& response) {
    response.set_content("ok\n", "text/plain");
  });
  server_->Get("/ready", [this](const httplib::Request&, httplib::Response& response) {
    const bool ready = ready_.load(std::memory_order_acquire);
    response.status = ready ? 200 : 503;
    response.set_content(ready ? "ready\n" : "not ready\n", "text/plain");
  });
}

MetricsServer::~MetricsServer() {
  ready_.store(false, std::memory_order_release);
  if (thread_.joinable()) {
    // start() returned true only once is_running(), so this stop() reaches the accept loop.
    if (!listen_returned_.load(std::memory_order_acquire)) server_->stop();
    thread_.join();
  }
}

bool MetricsServer::start() {
  if (port_ == 0) {
    const int bound = server_->bind_to_any_port(host_);
    if (bound < 0) {
      error_ = "cannot bind metrics server to " + host_ + ":0";
      return false;
    }
    port_ = bound;
  } else if (!server_->bind_to_port(host_, port_)) {
    error_ = "cannot bind metrics server to " + host_ + ":" + std::to_string(port_) +
             " (in use, or not an address of this host)";
    return false;
  }
  thread_ = std::thread([this] {
    server_->listen_after_bind();
    listen_returned_.store(true, std::memory_order_release);
  });
  // httplib's stop() is a no-op until the accept loop runs (is_running()), so wait for it here:
  // a destructor right after start() would otherwise join a server that never stops. Startup
  // only, bounded; the loop is entered within microseconds.
  const auto deadline = std::chrono::steady_clock::now() + kStartTimeout;
  while (!server_->is_running()) {
    if (listen_returned_.load(std::memory_order_acquire) ||
        std::chrono::steady_clock::now() > deadline) {
      error_ = "metrics server on " + host_ + ":" + std::to_string(port_) + " did not start";
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

void MetricsServer::publish(std::shared_ptr<const Snapshot> snapshot, MetricsExtras extras) {
  std::lock_guard lock(mutex_);
  snapshot_ = std::move(snapshot);
  extras_ = extras;
}

}  // namespace evr::stats
