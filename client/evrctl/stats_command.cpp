// evrctl stats: counters per container, route and adapter, as a table or one JSON object.

#include <cstdio>

#include "control_client.hpp"

namespace evr::ctl {

Command addStatsCommand(CLI::App& parent) {
  auto* app = parent.add_subcommand("stats", "Show counters per container and adapter: events and bytes in and out, queue depth, drops by reason, unrouted, unmatched.");
  auto options = std::make_shared<ControlOptions>();
  addControlOptions(*app, *options);
  return {app, [options]() {
            return runControlRequest(*options, [](auto request) { request.setStats(); }, [&](schema::ControlReply::Reader reply) {
              const auto stats = reply.getStats();
              nlohmann::json json{{"events_in", stats.getEventsIn()},
                                  {"deliveries", stats.getDeliveries()},
                                  {"unrouted", stats.getUnrouted()},
                                  {"unmatched", stats.getUnmatched()},
                                  {"backpressure_holds", stats.getBackpressureHolds()},
                                  {"drops", counters(stats.getDrops())}};
              auto containers = nlohmann::json::array();
              for (const auto c : stats.getContainers()) {
                containers.push_back({{"name", c.getName().cStr()}, {"connected", c.getConnected()},
                                      {"declared", c.getDeclared()}, {"queue_depth", c.getQueueDepth()},
                                      {"events_in", c.getEventsIn()}, {"bytes_in", c.getBytesIn()},
                                      {"events_out", c.getEventsOut()}, {"bytes_out", c.getBytesOut()},
                                      {"unrouted", c.getUnrouted()}, {"joins", c.getJoins()},
                                      {"unacked", c.getUnacked()}, {"redelivered", c.getRedelivered()},
                                      {"replayed", c.getReplayed()}, {"stalled", c.getStalled()},
                                      {"rate_limited", c.getRateLimited()}, {"queue_bytes", c.getQueueBytes()},
                                      {"drops_from", counters(c.getDropsFrom())},
                                      {"drops_to", counters(c.getDropsTo())},
                                      {"last_seen_ms_ago", c.getEverHeard() ? nlohmann::json(c.getIdleMs()) : nlohmann::json()}});
              }
              json["containers"] = containers;
              auto adapters = nlohmann::json::array();
              for (const auto a : stats.getAdapters()) {
                adapters.push_back({{"name", a.getName().cStr()}, {"matched", a.getMatched()}, {"unmatched", a.getUnmatched()}});
              }
              json["adapters"] = adapters;
              auto routes = nlohmann::json::array();
              for (const auto r : stats.getRoutes()) {
                routes.push_back({{"source", r.getSource().cStr()}, {"target", r.getTarget().cStr()}, {"events", r.getEvents()}});
              }
              json["routes"] = routes;
              if (stats.getAuth().getSecured()) {
                json["auth"] = {{"accepted", stats.getAuth().getAccepted()},
                                {"refused", counters(stats.getAuth().getRefused())}};
              }
              if (!options->json) {
                std::cout << "in " << stats.getEventsIn() << ", delivered " << stats.getDeliveries()
                          << ", unrouted " << stats.getUnrouted() << ", unmatched " << stats.getUnmatched()
                          << ", backpressure holds " << stats.getBackpressureHolds()
                          << ", drops " << json["drops"].dump() << "\n";
                if (json.contains("auth")) {
                  std::cout << "security: " << json["auth"]["accepted"] << " handshakes let in, refused "
                            << json["auth"]["refused"].dump() << "\n";
                }
                std::printf("%-24s %-5s %10s %10s %8s %8s %8s %s\n", "container", "conn", "in", "out", "queued",
                            "unacked", "resent", "drops (from / to)");
                for (const auto& c : containers) {
                  std::printf("%-24s %-5s %10llu %10llu %8llu %8llu %8llu %s / %s%s\n", c["name"].get<std::string>().c_str(),
                              c["connected"].get<bool>() ? "yes" : "no",
                              static_cast<unsigned long long>(c["events_in"].get<std::uint64_t>()),
                              static_cast<unsigned long long>(c["events_out"].get<std::uint64_t>()),
                              static_cast<unsigned long long>(c["queue_depth"].get<std::uint64_t>()),
                              static_cast<unsigned long long>(c["unacked"].get<std::uint64_t>()),
                              static_cast<unsigned long long>(c["redelivered"].get<std::uint64_t>() +
                                                              c["replayed"].get<std::uint64_t>()),
                              c["drops_from"].dump().c_str(), c["drops_to"].dump().c_str(),
                              c["stalled"].get<bool>() ? "  STALLED" : "");
                  if (const auto limited = c["rate_limited"].get<std::uint64_t>(); limited > 0) {
                    std::printf("%-24s rate limited: %llu events waited for their ack\n", "",
                                static_cast<unsigned long long>(limited));
                  }
                }
                for (const auto& r : routes) {
                  std::printf("route %s -> %s: %llu\n", r["source"].get<std::string>().c_str(),
                              r["target"].get<std::string>().c_str(),
                              static_cast<unsigned long long>(r["events"].get<std::uint64_t>()));
                }
                for (const auto& a : adapters) {
                  std::printf("adapter %-40s matched %llu unmatched %llu\n", a["name"].get<std::string>().c_str(),
                              static_cast<unsigned long long>(a["matched"].get<std::uint64_t>()),
                              static_cast<unsigned long long>(a["unmatched"].get<std::uint64_t>()));
                }
                std::fflush(stdout);
              }
              return json;
            });
          }};
}

}  // namespace evr::ctl
