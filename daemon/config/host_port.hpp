// HostPort: the `host:port` form of an address in the config (`router.metrics`, `--metrics`).
//
// Stage 1 of the chain (config/): config_loader checks the value with it, and main parses it
// again to start stats/metrics_server. It lives here, not beside the HTTP server, so that whoever
// checks a config (evrctl check) needs no HTTP library.

#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace evr::config {

struct HostPort {
  std::string host;  // as written, without brackets for IPv6
  int port = 0;
};

// "127.0.0.1:9464", "localhost:0", "[::1]:9464" -> host and port (0..65535); nullopt otherwise.
std::optional<HostPort> parseHostPort(std::string_view text);
// 127.0.0.0/8, ::1 and localhost.
bool isLoopbackHost(std::string_view host);

}  // namespace evr::config
