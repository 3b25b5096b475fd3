// Where the daemon puts its sockets: the runtime directory and the resolved listen endpoints.
//
// Runtime directory: --runtime-dir if given (an explicit flag wins), else $RUNTIME_DIRECTORY
// (systemd's RuntimeDirectory=), else ./run. An ipc endpoint with a relative path lives in the
// runtime directory, so `ipc://evrouterd.sock` in a config means <runtime dir>/evrouterd.sock
// wherever the daemon is started from.

#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "config/config.hpp"

namespace evr::daemon {

inline constexpr const char* kDefaultListen = "ipc://evrouterd.sock";

std::filesystem::path resolveRuntimeDir(const std::optional<std::string>& flag);

// ipc://relative -> ipc://<runtime_dir>/relative; anything else unchanged.
std::string resolveEndpoint(const std::string& endpoint, const std::filesystem::path& runtime_dir);

// The configured listen endpoints, resolved; the default when none are configured.
std::vector<std::string> listenEndpoints(const config::RouterSettings& router,
                                         const std::filesystem::path& runtime_dir);

}  // namespace evr::daemon
