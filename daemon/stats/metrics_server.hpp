// MetricsServer: Prometheus /metrics, /healthz and /ready over HTTP (libcpp-httplib), beside the
// relay loop in the chain.
//
// Threads: the server runs on its own thread (plus httplib's small worker pool) and never touches
// loop state. The loop thread hands it immutable snapshots through publish() (a shared_ptr swap
// under a mutex); a request copies the pointer under that mutex and renders outside it
// (prometheus_text.hpp). A resource: one owner, not copyable; the destructor stops and joins.

#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "stats/prometheus_text.hpp"
#include "stats/stats.hpp"

namespace httplib {
class Server;
}

namespace evr::stats {

class MetricsServer {
 public:
  MetricsServer(std::string host, int port);
  ~MetricsServer();
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

  // Binds host:port (port 0: the kernel picks one; see port()) and starts serving. Returns once
  // the server accepts requests; false when the address cannot be bound (error() says why).
  bool start();
  int port() const { return port_; }
  const std::string& host() const { return host_; }
  const std::string& error() const { return error_; }

  // Any thread. /metrics serves the latest published snapshot (an empty one before the first).
  void publish(std::shared_ptr<const Snapshot> snapshot, MetricsExtras extras);
  // Any thread. /ready answers 200 while true, 503 otherwise (false until READY, and again once
  // the daemon begins to stop).
  void setReady(bool ready) { ready_.store(ready, std::memory_order_release); }

 private:
  std::string host_;
  int port_;
  std::string error_;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  std::atomic<bool> ready_{false};
  std::atomic<bool> listen_returned_{false};

  std::mutex mutex_;  // guards snapshot_ and extras_
  std::shared_ptr<const Snapshot> snapshot_;
  MetricsExtras extras_;
};

}  // namespace evr::stats
