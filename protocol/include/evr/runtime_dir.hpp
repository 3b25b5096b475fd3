// Where evrouterd's sockets live when nobody says otherwise, shared by the daemon and every
// client: $RUNTIME_DIRECTORY (systemd's RuntimeDirectory=; the first of several), else ./run.
// A client outside the service (an operator's shell, a container started by hand) has no
// $RUNTIME_DIRECTORY: it uses ./run's socket when that exists, else the service's in /run/evrouter
// when that exists, else ./run (a daemon yet to start), so `evrctl status` on a machine running
// the unit needs no flag.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <string>

namespace evr {

// The directory systemd's unit gives the daemon (RuntimeDirectory=evrouter).
inline constexpr const char* kServiceRuntimeDir = "/run/evrouter";

inline std::string defaultRuntimeDir() {
  const char* runtime = std::getenv("RUNTIME_DIRECTORY");
  if (runtime == nullptr || *runtime == 0) return "./run";
  std::string dir = runtime;
  if (const auto colon = dir.find(':'); colon != std::string::npos) dir.resize(colon);
  return dir;
}

// `env` if set and non-empty, else ipc://<dir>/<file> with dir = defaultRuntimeDir(); except that
// a client without $RUNTIME_DIRECTORY whose ./run has no such socket uses the service's socket
// when that exists (an operator's shell on a machine running the unit, whatever its directory).
// (`service_dir` is kServiceRuntimeDir but for tests.)
inline std::string defaultIpcEndpoint(const char* env, const std::string& file,
                                      const std::string& service_dir = kServiceRuntimeDir) {
  if (const char* endpoint = std::getenv(env); endpoint != nullptr && *endpoint != 0) return endpoint;
  std::string dir = defaultRuntimeDir();
  const char* runtime = std::getenv("RUNTIME_DIRECTORY");
  if (runtime == nullptr || *runtime == 0) {
    std::error_code ec;
    const std::string service = service_dir + "/" + file;
    if (!std::filesystem::exists(dir + "/" + file, ec) && std::filesystem::exists(service, ec)) {
      dir = service_dir;
    }
  }
  return "ipc://" + dir + "/" + file;
}

// How defaultIpcEndpoint(env, file) decides, for a command's --help.
inline std::string defaultIpcEndpointHelp(const char* env, const std::string& file) {
  return std::string("default: $") + env + ", else ipc://$RUNTIME_DIRECTORY/" + file +
         "; without it ./run/" + file + ", or the service's " + kServiceRuntimeDir + "/" + file +
         " when only that exists";
}

}  // namespace evr
