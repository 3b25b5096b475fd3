// Starting the benchmark's child processes so that none outlives the driver.
//
// Every child (routers, publishers, consumers) is a evr::test::Process (tests/support/process.hpp:
// captured stdout/stderr, bounded waits, killed and reaped by its destructor, so an exception in
// the driver leaves no process behind). On top of that each child is started through this binary
// (`evr_e2e_bench --exec-child PARENT_PID PROGRAM ARGS...`), which asks the kernel to SIGKILL it
// when the driver dies (PR_SET_PDEATHSIG) and then execs PROGRAM: even a driver killed by SIGKILL
// or Ctrl-C takes its evrouterd and nats-server with it.

#pragma once

#include <memory>
#include <string>
#include <vector>

#include "process.hpp"

namespace evr::bench {

// The path of the running executable (/proc/self/exe).
std::string selfExe();

// Its command line and everything it printed so far (stdout, then stderr), for error messages.
std::string everythingSaid(evr::test::Process& process);

// Starts argv[0] with argv[1..] as a child that dies with this process.
std::unique_ptr<evr::test::Process> spawnChild(const std::vector<std::string>& argv);

// The `--exec-child` entry: argv[0] is PARENT_PID, argv[1..] the program and its arguments.
// Returns only on failure (exit code).
int execChildMain(int argc, char** argv);

}  // namespace evr::bench
