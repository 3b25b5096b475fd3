// The one main() of every Boost.Test executable here: installs a quiet logger (warnings and up to
// stderr) so test output stays readable, the way PowerDNS's testrunner does.
#define BOOST_TEST_MODULE evrouter
#include <boost/test/unit_test.hpp>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include "process.hpp"

namespace {
struct QuietLogger {
  QuietLogger() {
    auto logger = spdlog::stderr_logger_mt("evr-test");
    logger->set_level(spdlog::level::warn);
    spdlog::set_default_logger(logger);
    // Sanitizer builds: what a child process reported fails the test that started it.
    evr::test::Process::sanitizerReportHook() = [](const std::string& report) { BOOST_ERROR(report); };
  }
};
}  // namespace

BOOST_TEST_GLOBAL_FIXTURE(QuietLogger);
