// The daemon's log: spdlog on stderr (journald and docker collect it), as plain text or as JSON
// lines (`--log-format json`: one object per line with time, level and msg, the message
// JSON-escaped so any text is safe to parse).
#pragma once

#include <memory>
#include <string>

#include <spdlog/logger.h>

namespace evr::daemon {

// `format`: "text" or "json"; `level`: spdlog level name. Returns the logger, also made default.
std::shared_ptr<spdlog::logger> configureLogging(const std::string& format, const std::string& level);

}  // namespace evr::daemon
