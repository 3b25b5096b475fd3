#include "process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <system_error>

namespace evr::test {
namespace {

#ifdef EVR_SANITIZE
constexpr bool kSanitized = true;
#else
constexpr bool kSanitized = false;
#endif

using Clock = std::chrono::steady_clock;

int pidfdOpen(pid_t pid) { return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)); }

}  // namespace

Process::Process(std::vector<std::string> argv, Options options) {
  for (const auto& arg : argv) command_line_ += (command_line_.empty() ? "" : " ") + arg;
  int out_pipe[2] = {-1, -1};
  int err_pipe[2] = {-1, -1};
  if (options.capture_stdout && ::pipe2(out_pipe, O_CLOEXEC) != 0) throw std::system_error(errno, std::generic_category(), "pipe2");
  if (options.capture_stderr && ::pipe2(err_pipe, O_CLOEXEC) != 0) throw std::system_error(errno, std::generic_category(), "pipe2");

  std::vector<char*> args;
  for (auto& arg : argv) args.push_back(arg.data());
  args.push_back(nullptr);

  pid_ = ::fork();
  if (pid_ < 0) throw std::system_error(errno, std::generic_category(), "fork");
  if (pid_ == 0) {
    // Child: only async-signal-safe calls from here on.
    ::setpgid(0, 0);
    sigset_t all;
    sigemptyset(&all);
    ::sigprocmask(SIG_SETMASK, &all, nullptr);
    if (out_pipe[1] >= 0) ::dup2(out_pipe[1], STDOUT_FILENO);
    if (err_pipe[1] >= 0) ::dup2(err_pipe[1], STDERR_FILENO);
    for (auto& [key, value] : options.env) ::setenv(key.c_str(), value.c_str(), 1);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  if (out_pipe[1] >= 0) ::close(out_pipe[1]);
  if (err_pipe[1] >= 0) ::close(err_pipe[1]);
  pidfd_ = pidfdOpen(pid_);
  if (pidfd_ < 0) throw std::system_error(errno, std::generic_category(), "pidfd_open");
  if (out_pipe[0] >= 0) startReader(out_, out_pipe[0]); else out_.eof = true;
  if (err_pipe[0] >= 0) startReader(err_, err_pipe[0]); else err_.eof = true;
}

Process::~Process() {
  if (!exit_code_ && kSanitized) {
    // Sanitizer builds: SIGTERM first, so a daemon still running at the end of a test leaves
    // through its normal exit and LeakSanitizer checks it (SIGKILL would hide its leaks);
    // SIGCONT for one a test left stopped.
    ::kill(pid_, SIGTERM);
    ::kill(pid_, SIGCONT);
    waitFor(std::chrono::seconds(20));
  }
  if (!exit_code_) {
    ::kill(pid_, SIGKILL);
    waitFor(std::chrono::seconds(10));
  }
  // The child is gone, so its pipes reach EOF and the readers end.
  for (Capture* c : {&out_, &err_}) {
    if (c->reader.joinable()) c->reader.join();
  }
  if (pidfd_ >= 0) ::close(pidfd_);
}

void Process::startReader(Capture& capture, int fd) {
  capture.reader = std::thread([this, &capture, fd]() {
    char chunk[65536];
    for (;;) {
      const ssize_t got = ::read(fd, chunk, sizeof(chunk));
      if (got < 0 && errno == EINTR) continue;
      std::lock_guard lock(mutex_);
      if (got <= 0) {
        capture.eof = true;
        changed_.notify_all();
        break;
      }
      capture.unread.append(chunk, static_cast<std::size_t>(got));
      changed_.notify_all();
    }
    ::close(fd);
  });
}

void Process::signal(int sig) {
  if (!exit_code_) ::kill(pid_, sig);
}

std::optional<int> Process::waitFor(std::chrono::milliseconds timeout) {
  if (exit_code_) return exit_code_;
  pollfd item{pidfd_, POLLIN, 0};
  const int ready = ::poll(&item, 1, static_cast<int>(bound(timeout).count()));
  if (ready <= 0) return std::nullopt;
  int status = 0;
  if (::waitpid(pid_, &status, 0) != pid_) return std::nullopt;
  exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  checkSanitizerReport();
  return exit_code_;
}

void Process::checkSanitizerReport() {
  // The sanitizers' log_path is $EVR_SANITIZER_LOG_DIR/report (set by make test-asan/test-tsan),
  // so whatever this child reported is in report.<pid>.
  const char* dir = std::getenv("EVR_SANITIZER_LOG_DIR");
  if (dir == nullptr || *dir == '\0') return;
  const std::string path = std::string(dir) + "/report." + std::to_string(pid_);
  std::ostringstream text;
  {
    std::ifstream file(path);
    if (!file) return;
    text << file.rdbuf();
  }
  // Renamed, so a later child with a reused pid is not blamed for it (sanitize.sh still counts it).
  std::rename(path.c_str(), (path + ".seen").c_str());
  const std::string message = "sanitizer report from child " + std::to_string(pid_) + " (" +
                              command_line_ + "):\n" + text.str();
  if (sanitizerReportHook()) {
    sanitizerReportHook()(message);
  } else {
    std::fputs(message.c_str(), stderr);
  }
}

std::function<void(const std::string&)>& Process::sanitizerReportHook() {
  static std::function<void(const std::string&)> hook;
  return hook;
}

bool Process::running() { return !waitFor(std::chrono::milliseconds(0)).has_value(); }

template <typename Ready>
bool Process::waitUntil(std::unique_lock<std::mutex>& lock, Capture& capture,
                        Clock::time_point deadline, Ready ready) {
  return changed_.wait_until(lock, deadline, [&]() { return ready(capture) || capture.eof; }) &&
         ready(capture);
}

std::optional<std::string> Process::readLine(std::chrono::milliseconds timeout, Stream stream) {
  return readLineBefore(Clock::now() + bound(timeout), stream);
}

std::optional<std::string> Process::readLineBefore(Clock::time_point deadline, Stream stream) {
  Capture& c = capture(stream);
  std::unique_lock lock(mutex_);
  const auto has_line = [](const Capture& cap) {
    return cap.unread.find('\n', cap.offset) != std::string::npos;
  };
  if (!waitUntil(lock, c, deadline, has_line)) return std::nullopt;
  const auto newline = c.unread.find('\n', c.offset);
  std::string line = c.unread.substr(c.offset, newline - c.offset);
  c.offset = newline + 1;
  if (c.offset >= (1u << 16) && c.offset * 2 >= c.unread.size()) {
    c.unread.erase(0, c.offset);
    c.offset = 0;
  }
  (stream == Stream::Stdout ? stdout_seen_ : stderr_seen_) += line + '\n';
  return line;
}

std::optional<std::string> Process::waitForLine(const std::string& needle,
                                                std::chrono::milliseconds timeout, Stream stream) {
  const auto deadline = Clock::now() + bound(timeout);
  while (auto line = readLineBefore(deadline, stream)) {
    if (line->find(needle) != std::string::npos) return line;
  }
  return std::nullopt;
}

std::string Process::readAllStdout(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  changed_.wait_until(lock, Clock::now() + bound(timeout), [&]() { return out_.eof; });
  std::string rest = out_.unread.substr(out_.offset);
  out_.unread.clear();
  out_.offset = 0;
  return rest;
}

std::string Process::readAllStderr(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  changed_.wait_until(lock, Clock::now() + bound(timeout), [&]() { return err_.eof; });
  std::string rest = err_.unread.substr(err_.offset);
  err_.unread.clear();
  err_.offset = 0;
  return rest;
}

}  // namespace evr::test
