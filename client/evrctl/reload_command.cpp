// evrctl reload: asks evrouterd to reload its config (or FILE); the route diff, or every error.

#include "control_client.hpp"

namespace evr::ctl {

Command addReloadCommand(CLI::App& parent) {
  auto* app = parent.add_subcommand("reload", "Reload evrouterd's routing config (its own file, or FILE); exit 1 with every error when it is rejected (the running routes stay).");
  auto options = std::make_shared<ControlOptions>();
  auto file = std::make_shared<std::string>();
  app->add_option("file", *file, "Config file to load instead of the daemon's own (absolute path)");
  addControlOptions(*app, *options);
  return {app, [options, file]() {
            return runControlRequest(*options, [&](auto request) { request.setReload(*file); }, [&](schema::ControlReply::Reader reply) {
              const auto result = reply.getReload();
              nlohmann::json json{{"changed", result.getChanged()},
                                  {"generation", result.getGeneration()},
                                  {"digest", result.getDigest().cStr()},
                                  {"routes_added", texts(result.getRoutesAdded())},
                                  {"routes_removed", texts(result.getRoutesRemoved())},
                                  {"warnings", texts(result.getWarnings())}};
              if (!options->json) {
                if (!reply.getOk()) {
                  std::cout << "reload rejected; generation " << result.getGeneration() << " stays in force" << std::endl;
                } else if (!result.getChanged()) {
                  std::cout << "unchanged (generation " << result.getGeneration() << ", digest "
                            << result.getDigest().cStr() << ")" << std::endl;
                } else {
                  std::cout << "applied generation " << result.getGeneration() << " (digest "
                            << result.getDigest().cStr() << ")\n";
                  for (const auto line : result.getRoutesAdded()) std::cout << "+ " << line.cStr() << '\n';
                  for (const auto line : result.getRoutesRemoved()) std::cout << "- " << line.cStr() << '\n';
                  std::cout.flush();
                }
                for (const auto warning : result.getWarnings()) std::cerr << warning.cStr() << '\n';
              }
              return json;
            });
          }};
}

}  // namespace evr::ctl
