// evrctl: the operator's and developer's command line for evrouter.
//
// main() only wires: it builds the top-level CLI11 app, lets each command file register its
// subcommand (command.hpp), parses, and runs the chosen command. It also owns process-wide setup
// that commands must not do themselves: the logger goes to stderr, because stdout carries command
// output (events, JSON) that scripts read.

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <zmq.hpp>

#include <array>
#include <exception>
#include <iostream>
#include <string>

#include "command.hpp"
#include "evr/connection.hpp"
#include "evr/envelope.hpp"

int main(int argc, char** argv) {
  namespace ctl = evr::ctl;

  CLI::App app{"evrctl: talk to evrouterd and the containers it links."};
  app.set_version_flag("--version", std::string("evrctl ") + EVR_VERSION + " (link protocol " +
                                        std::to_string(evr::kProtocolVersion) + ")");
  std::string log_level = "warn";
  app.add_option("--log-level", log_level, "Log level on stderr: trace, debug, info, warn, error, off")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "critical", "off"}))
      ->capture_default_str();
  app.footer(ctl::kExitCodeHelp);
  app.require_subcommand(1);

  const std::array commands = {
      ctl::addSendCommand(app),
      ctl::addRecvCommand(app),
      ctl::addStatusCommand(app),
      ctl::addStatsCommand(app),
      ctl::addReloadCommand(app),
      ctl::addGraphCommand(app),
      ctl::addTopCommand(app),
      ctl::addTapCommand(app),
      ctl::addCheckCommand(app),
      ctl::addJournalCommand(app),
      ctl::addTraceCommand(app),
      ctl::addKeygenCommand(app),
      ctl::addRecordCommand(app),
      ctl::addReplayCommand(app),
      ctl::addCompletionCommand(app),  // last: it lists the commands above
  };

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version are "errors" with exit code 0; real usage errors exit 1.
    return app.exit(e) == 0 ? ctl::kExitOk : ctl::kExitError;
  }

  auto logger = spdlog::stderr_logger_st("evrctl");
  logger->set_level(spdlog::level::from_str(log_level));
  spdlog::set_default_logger(logger);

  for (const auto& command : commands) {
    if (!command.app->parsed()) continue;
    const std::string name = command.app->get_name();
    try {
      return command.run();
    } catch (const evr::ConnectionError& e) {
      std::cerr << "evrctl " << name << ": " << e.what() << '\n';
    } catch (const zmq::error_t& e) {
      std::cerr << "evrctl " << name << ": link error: " << e.what() << '\n';
    } catch (const std::exception& e) {
      std::cerr << "evrctl " << name << ": " << e.what() << '\n';
    }
    return ctl::kExitError;
  }
  return ctl::kExitError;  // unreachable: require_subcommand(1)
}
