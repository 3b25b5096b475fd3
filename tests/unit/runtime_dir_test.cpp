// Where clients look for evrouterd when nobody says (protocol/include/evr/runtime_dir.hpp):
// $EVR_* first, then $RUNTIME_DIRECTORY, then ./run's socket, then the service's socket when only
// that exists, else ./run (a daemon that has not started yet).
#include <boost/test/unit_test.hpp>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>

#include "evr/runtime_dir.hpp"
#include "temp_dir.hpp"

using evr::test::TempDir;
namespace fs = std::filesystem;

namespace {

// Sets (or unsets, with nullopt) an environment variable for one scope.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, std::optional<std::string> value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value) ::setenv(name, value->c_str(), 1); else ::unsetenv(name);
  }
  ~ScopedEnv() { if (old_) ::setenv(name_, old_->c_str(), 1); else ::unsetenv(name_); }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

// Runs in `dir` for one scope.
class ScopedCwd {
 public:
  explicit ScopedCwd(const fs::path& dir) : old_(fs::current_path()) { fs::current_path(dir); }
  ~ScopedCwd() { fs::current_path(old_); }

 private:
  fs::path old_;
};

}  // namespace

BOOST_AUTO_TEST_SUITE(runtime_dir)

BOOST_AUTO_TEST_CASE(the_variable_then_runtime_directory_win) {
  TempDir tmp;
  ScopedCwd cwd(tmp.path());
  {
    ScopedEnv endpoint("EVR_ENDPOINT", "tcp://127.0.0.1:5555");
    BOOST_CHECK_EQUAL(evr::defaultIpcEndpoint("EVR_ENDPOINT", "evrouterd.sock"), "tcp://127.0.0.1:5555");
  }
  ScopedEnv endpoint("EVR_ENDPOINT", std::nullopt);
  ScopedEnv runtime("RUNTIME_DIRECTORY", "/run/x:/run/y");
  BOOST_CHECK_EQUAL(evr::defaultIpcEndpoint("EVR_ENDPOINT", "evrouterd.sock"), "ipc:///run/x/evrouterd.sock");
}

BOOST_AUTO_TEST_CASE(without_runtime_directory_the_service_socket_is_used_only_when_run_has_none) {
  TempDir tmp;
  const fs::path service = tmp.path() / "service";
  fs::create_directories(service);
  fs::create_directories(tmp.path() / "work");
  ScopedCwd cwd(tmp.path() / "work");
  ScopedEnv endpoint("EVR_ENDPOINT", std::nullopt);
  ScopedEnv runtime("RUNTIME_DIRECTORY", std::nullopt);
  // Neither has a socket: ./run (a daemon that is still to start there).
  BOOST_CHECK_EQUAL(evr::defaultIpcEndpoint("EVR_ENDPOINT", "evrouterd.sock", service.string()),
                    "ipc://./run/evrouterd.sock");
  // Only the service's: the service.
  std::ofstream(service / "evrouterd.sock") << "";
  BOOST_CHECK_EQUAL(evr::defaultIpcEndpoint("EVR_ENDPOINT", "evrouterd.sock", service.string()),
                    "ipc://" + service.string() + "/evrouterd.sock");
  // ./run has one too: ./run, the developer's own daemon.
  fs::create_directories("run");
  std::ofstream("run/evrouterd.sock") << "";
  BOOST_CHECK_EQUAL(evr::defaultIpcEndpoint("EVR_ENDPOINT", "evrouterd.sock", service.string()),
                    "ipc://./run/evrouterd.sock");
}

BOOST_AUTO_TEST_CASE(help_text_names_every_place_looked_at) {
  const std::string help = evr::defaultIpcEndpointHelp("EVR_CONTROL", "evrouterd.ctl");
  for (const char* part : {"$EVR_CONTROL", "$RUNTIME_DIRECTORY/evrouterd.ctl", "./run/evrouterd.ctl",
                           "/run/evrouter/evrouterd.ctl"}) {
    BOOST_CHECK_MESSAGE(help.find(part) != std::string::npos, help << " lacks " << part);
  }
}

BOOST_AUTO_TEST_SUITE_END()
