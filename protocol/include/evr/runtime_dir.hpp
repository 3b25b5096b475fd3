// Where evrouterd's sockets live when nobody says otherwise, shared by the daemon and every
// client: $RUNTIME_DIRECTORY (systemd's RuntimeDirectory=; the first of several), else ./run.
#pragma once

#include <cstdlib>
#include <string>

namespace evr {

inline std::string defaultRuntimeDir() {
  const char* runtime = std::getenv("RUNTIME_DIRECTORY");
  if (runtime == nullptr || *runtime == 0) return "./run";
  std::string dir = runtime;
  if (const auto colon = dir.find(':'); colon != std::string::npos) dir.resize(colon);
  return dir;
}

// `env` if set and non-empty, else ipc://<default runtime dir>/<file>.
inline std::string defaultIpcEndpoint(const char* env, const std::string& file) {
  if (const char* endpoint = std::getenv(env); endpoint != nullptr && *endpoint != 0) return endpoint;
  return "ipc://" + defaultRuntimeDir() + "/" + file;
}

}  // namespace evr
