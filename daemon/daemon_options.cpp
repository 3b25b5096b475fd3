#include "daemon_options.hpp"

#include "evr/runtime_dir.hpp"

#include <cstdlib>

namespace evr::daemon {

std::filesystem::path resolveRuntimeDir(const std::optional<std::string>& flag) {
  if (flag && !flag->empty()) return *flag;
  return defaultRuntimeDir();
}

std::string resolveEndpoint(const std::string& endpoint, const std::filesystem::path& runtime_dir) {
  constexpr std::string_view kIpc = "ipc://";
  if (endpoint.rfind(kIpc, 0) != 0) return endpoint;
  const std::filesystem::path path = endpoint.substr(kIpc.size());
  if (path.is_absolute() || path.string().starts_with('@')) return endpoint;  // '@': abstract socket
  return std::string(kIpc) + (runtime_dir / path).string();
}

std::vector<std::string> listenEndpoints(const config::RouterSettings& router,
                                         const std::filesystem::path& runtime_dir) {
  std::vector<std::string> endpoints;
  for (const auto& listen : router.listen) endpoints.push_back(resolveEndpoint(listen.value, runtime_dir));
  if (endpoints.empty()) endpoints.push_back(resolveEndpoint(kDefaultListen, runtime_dir));
  return endpoints;
}

}  // namespace evr::daemon
