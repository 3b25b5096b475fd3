#include "process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <system_error>

namespace evr::test {
namespace {

using Clock = std::chrono::steady_clock;

int pidfdOpen(pid_t pid) { return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)); }

int remainingMs(Clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return left.count() < 0 ? 0 : static_cast<int>(left.count());
}

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
  stdout_fd_ = out_pipe[0];
  stderr_fd_ = err_pipe[0];
  pidfd_ = pidfdOpen(pid_);
  if (pidfd_ < 0) throw std::system_error(errno, std::generic_category(), "pidfd_open");
}

Process::~Process() {
  if (!exit_code_) {
    ::kill(pid_, SIGKILL);
    waitFor(std::chrono::seconds(10));
  }
  for (int fd : {pidfd_, stdout_fd_, stderr_fd_}) {
    if (fd >= 0) ::close(fd);
  }
}

void Process::signal(int sig) {
  if (!exit_code_) ::kill(pid_, sig);
}

std::optional<int> Process::waitFor(std::chrono::milliseconds timeout) {
  if (exit_code_) return exit_code_;
  pollfd item{pidfd_, POLLIN, 0};
  const int ready = ::poll(&item, 1, static_cast<int>(timeout.count()));
  if (ready <= 0) return std::nullopt;
  int status = 0;
  if (::waitpid(pid_, &status, 0) != pid_) return std::nullopt;
  exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return exit_code_;
}

bool Process::running() { return !waitFor(std::chrono::milliseconds(0)).has_value(); }

bool Process::fill(int fd, std::string& buffer, std::chrono::milliseconds timeout) {
  if (fd < 0) return false;
  pollfd item{fd, POLLIN, 0};
  if (::poll(&item, 1, static_cast<int>(timeout.count())) <= 0) return false;
  char chunk[65536];
  const ssize_t got = ::read(fd, chunk, sizeof(chunk));
  if (got <= 0) return false;
  buffer.append(chunk, static_cast<std::size_t>(got));
  return true;
}

std::optional<std::string> Process::readLine(std::chrono::milliseconds timeout, Stream stream) {
  const auto deadline = Clock::now() + timeout;
  std::string& buffer = stream == Stream::Stdout ? stdout_buffer_ : stderr_buffer_;
  const int fd = stream == Stream::Stdout ? stdout_fd_ : stderr_fd_;
  for (;;) {
    if (const auto newline = buffer.find('\n'); newline != std::string::npos) {
      std::string line = buffer.substr(0, newline);
      buffer.erase(0, newline + 1);
      (stream == Stream::Stdout ? stdout_seen_ : stderr_seen_) += line + '\n';
      return line;
    }
    if (!fill(fd, buffer, std::chrono::milliseconds(remainingMs(deadline)))) return std::nullopt;
  }
}

std::optional<std::string> Process::waitForLine(const std::string& needle,
                                                std::chrono::milliseconds timeout, Stream stream) {
  const auto deadline = Clock::now() + timeout;
  while (auto line = readLine(std::chrono::milliseconds(remainingMs(deadline)), stream)) {
    if (line->find(needle) != std::string::npos) return line;
  }
  return std::nullopt;
}

std::string Process::readAllStdout(std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (fill(stdout_fd_, stdout_buffer_, std::chrono::milliseconds(remainingMs(deadline)))) {
  }
  return std::exchange(stdout_buffer_, {});
}

std::string Process::readAllStderr(std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (fill(stderr_fd_, stderr_buffer_, std::chrono::milliseconds(remainingMs(deadline)))) {
  }
  return std::exchange(stderr_buffer_, {});
}

}  // namespace evr::test
