// evrctl check: validates a config offline, as `evrouterd --check` does (no daemon needed).

#include <iostream>

#include "command.hpp"
#include "topology/check_config.hpp"

namespace evr::ctl {

Command addCheckCommand(CLI::App& parent) {
  auto* app = parent.add_subcommand("check", "Validate a config offline (no daemon needed): every error as file:line:col, then the compiled routes. Exit 0 valid, 1 not.");
  auto file = std::make_shared<std::string>();
  app->add_option("file", *file, "Config file")->required();
  return {app, [file]() { return topology::checkConfigFile(*file, std::cout, std::cerr); }};
}

}  // namespace evr::ctl
