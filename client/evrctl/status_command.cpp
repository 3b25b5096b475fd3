// evrctl status: version, uptime, config generation and digest, failed reloads, connected containers.

#include "control_client.hpp"

namespace evr::ctl {

Command addStatusCommand(CLI::App& parent) {
  auto* app = parent.add_subcommand("status", "Show evrouterd's version, uptime, config generation and connected containers.");
  auto options = std::make_shared<ControlOptions>();
  addControlOptions(*app, *options);
  return {app, [options]() {
            return runControlRequest(*options, [](auto request) { request.setStatus(); }, [&](schema::ControlReply::Reader reply) {
              const auto status = reply.getStatus();
              nlohmann::json json{{"version", status.getVersion().cStr()},
                                  {"uptime_ms", status.getUptimeMs()},
                                  {"config", status.getConfigPath().cStr()},
                                  {"generation", status.getGeneration()},
                                  {"digest", status.getDigest().cStr()},
                                  {"instance", status.getInstance()},
                                  {"failed_reloads", status.getFailedReloads()},
                                  {"tap", status.getTapEndpoint().cStr()},
                                  {"connected", texts(status.getConnected())},
                                  {"stalled", texts(status.getStalled())},
                                  {"held", texts(status.getHeld())},
                                  {"journal", status.getJournal().cStr()},
                                  {"rate_limited", texts(status.getRateLimited())},
                                  {"connections", status.getConnections()},
                                  {"connections_limit", status.getConnectionsLimit()},
                                  {"hellos_refused", status.getHellosRefused()}};
              if (!options->json) {
                std::cout << "evrouterd " << status.getVersion().cStr() << ", up "
                          << status.getUptimeMs() / 1000.0 << " s\nconfig " << status.getConfigPath().cStr()
                          << " (generation " << status.getGeneration() << ", digest "
                          << status.getDigest().cStr() << ", " << status.getFailedReloads()
                          << " failed reloads)\nconnected (" << status.getConnected().size() << "):";
                for (const auto name : status.getConnected()) std::cout << ' ' << name.cStr();
                std::cout << "\nconnections " << status.getConnections() << " of "
                          << status.getConnectionsLimit() << " (router.max_connections)";
                if (status.getHellosRefused() > 0) {
                  std::cout << "; OVERLOADED: " << status.getHellosRefused() << " HELLOs refused";
                }
                std::cout << "\njournal: " << status.getJournal().cStr() << '\n';
                if (status.getRateLimited().size() > 0) {
                  std::cout << "RATE LIMITED (acks wait for router.limits):";
                  for (const auto name : status.getRateLimited()) std::cout << ' ' << name.cStr();
                  std::cout << '\n';
                }
                if (status.getStalled().size() > 0) {
                  std::cout << "STALLED (lossless targets that ack nothing):";
                  for (const auto name : status.getStalled()) std::cout << ' ' << name.cStr();
                  std::cout << "\nholding back:";
                  for (const auto name : status.getHeld()) std::cout << ' ' << name.cStr();
                  std::cout << '\n';
                }
                std::cout << std::flush;
              }
              return json;
            });
          }};
}

}  // namespace evr::ctl
