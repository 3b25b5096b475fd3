#include "spawn.hpp"

#include <sys/prctl.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <iostream>

namespace evr::bench {

std::string selfExe() { return std::filesystem::read_symlink("/proc/self/exe").string(); }

std::string everythingSaid(evr::test::Process& process) {
  using evr::test::Process;
  constexpr auto kDrain = std::chrono::milliseconds(200);
  return process.commandLine() + "\n" + process.seen(Process::Stream::Stdout) + process.readAllStdout(kDrain) +
         process.seen(Process::Stream::Stderr) + process.readAllStderr(kDrain);
}

std::unique_ptr<evr::test::Process> spawnChild(const std::vector<std::string>& argv) {
  std::vector<std::string> wrapped{selfExe(), "--exec-child", std::to_string(::getpid())};
  wrapped.insert(wrapped.end(), argv.begin(), argv.end());
  return std::make_unique<evr::test::Process>(std::move(wrapped));
}

int execChildMain(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "--exec-child PARENT_PID PROGRAM [ARGS...]\n";
    return 127;
  }
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  // The parent may have died before the line above: then nobody is left to stop us.
  if (std::to_string(::getppid()) != argv[0]) return 127;
  ::execv(argv[1], argv + 1);
  std::cerr << "cannot run " << argv[1] << ": " << std::strerror(errno) << '\n';
  return 127;
}

}  // namespace evr::bench
