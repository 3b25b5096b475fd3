// Child processes for integration tests: start a real binary, read its output with a deadline,
// signal it, wait for it with a deadline. Never sleeps to synchronise: every wait is a poll() on
// a pidfd or a condition variable, bounded by the caller's timeout. A reader thread per captured
// stream drains the pipe as the child writes, so a chatty child never blocks on a full pipe. The
// destructor kills and reaps whatever is still running, so a failing test leaves no strays.

#pragma once

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "time_scale.hpp"

namespace evr::test {

class Process {
 public:
  struct Options {
    bool capture_stdout = true;
    bool capture_stderr = true;
    std::vector<std::pair<std::string, std::string>> env;  // added to the parent's environment
  };

  explicit Process(std::vector<std::string> argv) : Process(std::move(argv), Options{}) {}
  Process(std::vector<std::string> argv, Options options);
  ~Process();
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  pid_t pid() const { return pid_; }
  void signal(int sig);

  // Every timeout below is a bound, multiplied by kTimeScale (time_scale.hpp) in slower builds.
  // Exit code (or 128 + signal number), or nullopt when still running after `timeout`.
  std::optional<int> waitFor(std::chrono::milliseconds timeout);
  bool running();

  enum class Stream { Stdout, Stderr };
  // The next line (without '\n'), or nullopt at EOF or timeout.
  std::optional<std::string> readLine(std::chrono::milliseconds timeout, Stream stream = Stream::Stdout);
  // Reads lines until one contains `needle`; returns it, or nullopt at EOF/timeout. Lines read
  // on the way are kept in seen(stream).
  std::optional<std::string> waitForLine(const std::string& needle, std::chrono::milliseconds timeout,
                                         Stream stream = Stream::Stdout);
  const std::string& seen(Stream stream) const { return stream == Stream::Stdout ? stdout_seen_ : stderr_seen_; }
  // All of stdout / stderr read so far plus whatever arrives until EOF or `timeout`.
  std::string readAllStdout(std::chrono::milliseconds timeout);
  std::string readAllStderr(std::chrono::milliseconds timeout);

  const std::string& commandLine() const { return command_line_; }

  // Sanitizer builds (docs/sanitizers.md): once a child is reaped, a report it wrote to
  // $EVR_SANITIZER_LOG_DIR/report.<pid> goes to this hook (the test main makes it a test error),
  // or to stderr when none is set.
  static std::function<void(const std::string&)>& sanitizerReportHook();

 private:
  struct Capture {
    std::string unread;  // arrived; from `offset` on not yet returned by readLine/readAll
    std::size_t offset = 0;  // (a line at a time leaves the front in place until it is large:
                             // erasing it per line would cost O(n^2) on a busy consumer)
    bool eof = false;
    std::thread reader;
  };
  Capture& capture(Stream stream) { return stream == Stream::Stdout ? out_ : err_; }
  void startReader(Capture& capture, int fd);
  void checkSanitizerReport();
  std::optional<std::string> readLineBefore(std::chrono::steady_clock::time_point deadline, Stream stream);
  // Waits until `ready(capture)` holds, EOF, or the deadline. Called with lock held.
  template <typename Ready>
  bool waitUntil(std::unique_lock<std::mutex>& lock, Capture& capture,
                 std::chrono::steady_clock::time_point deadline, Ready ready);

  pid_t pid_ = -1;
  int pidfd_ = -1;
  std::mutex mutex_;
  std::condition_variable changed_;
  Capture out_;
  Capture err_;
  std::string stdout_seen_;
  std::string stderr_seen_;
  std::optional<int> exit_code_;
  std::string command_line_;
};

}  // namespace evr::test
