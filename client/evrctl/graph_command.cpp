// evrctl status / stats / reload: requests over evrouterd's control socket (schemas/control.capnp).
//
// One DEALER, one request frame, one reply frame, bounded by --timeout. --json prints the reply
// as one JSON object for scripts; the default is a short human-readable form.

#include <capnp/message.h>
#include <capnp/serialize.h>
#include <nlohmann/json.hpp>

#include <csignal>
#include <cstdlib>
#include <unistd.h>
#include <map>
#include <iostream>

#include "command.hpp"
#include "control.capnp.h"
#include "evr/frames.hpp"
#include "evr/framing.hpp"
#include "evr/runtime_dir.hpp"
#include "topology/check_config.hpp"

namespace evr::ctl {
namespace {

std::string defaultControlEndpoint() { return defaultIpcEndpoint("EVR_CONTROL", "evrouterd.ctl"); }

struct ControlOptions {
  std::string endpoint;
  double timeout = 5;
  bool json = false;
};

void addControlOptions(CLI::App& app, ControlOptions& options) {
  app.add_option("--control", options.endpoint,
                 "evrouterd control endpoint (default: $EVR_CONTROL, else "
                 "ipc://$RUNTIME_DIRECTORY/evrouterd.ctl, ./run when unset)");
  app.add_option("--timeout", options.timeout, "Seconds to wait for the answer")->capture_default_str();
  app.add_flag("--json", options.json, "Print the answer as one JSON object");
}

// Sends `request`, returns the reply's words, or throws / returns nullopt on timeout.
std::optional<kj::Array<capnp::word>> exchange(const ControlOptions& options,
                                               capnp::MallocMessageBuilder& request) {
  zmq::context_t context(1);
  zmq::socket_t socket(context, zmq::socket_type::dealer);
  socket.set(zmq::sockopt::linger, 0);
  const std::string endpoint = options.endpoint.empty() ? defaultControlEndpoint() : options.endpoint;
  try {
    socket.connect(endpoint);
  } catch (const zmq::error_t& e) {
    throw std::runtime_error("cannot connect to '" + endpoint + "': " + e.what());
  }
  auto out = wordsMessage(capnp::messageToFlatArray(request));
  socket.send(out, zmq::send_flags::none);
  zmq::pollitem_t item{socket.handle(), 0, ZMQ_POLLIN, 0};
  const Deadline deadline(options.timeout);
  while (!deadline.expired()) {
    if (zmq::poll(&item, 1, deadline.remaining(std::chrono::milliseconds(1000))) > 0) {
      zmq::message_t reply;
      (void)socket.recv(reply, zmq::recv_flags::none);
      while (reply.more()) (void)socket.recv(reply, zmq::recv_flags::none);  // the last frame is the reply
      const auto bytes = bytesOf(reply);
      if (checkFraming(bytes) != FramingError::None) throw std::runtime_error("malformed reply from evrouterd");
      AlignedWords aligned(bytes);
      auto words = kj::heapArray<capnp::word>(aligned.words());
      return words;
    }
  }
  std::cerr << "evrctl: no answer from evrouterd at " << endpoint << " within "
            << describeSeconds(options.timeout) << " (is it running?)\n";
  return std::nullopt;
}

nlohmann::json texts(capnp::List<capnp::Text>::Reader list) {
  auto out = nlohmann::json::array();
  for (const auto text : list) out.push_back(std::string(text.cStr()));
  return out;
}

nlohmann::json counters(capnp::List<schema::Counter>::Reader list) {
  auto out = nlohmann::json::object();
  for (const auto counter : list) out[counter.getName().cStr()] = counter.getValue();
  return out;
}

// Runs one request and prints the reply; the exit code.
template <typename Fill, typename Print>
int run(const ControlOptions& options, Fill fill, Print print) {
  capnp::MallocMessageBuilder request;
  fill(request.initRoot<schema::ControlRequest>());
  const auto words = exchange(options, request);
  if (!words) return kExitTimeout;
  capnp::FlatArrayMessageReader message(*words);
  const auto reply = message.getRoot<schema::ControlReply>();
  nlohmann::json json = print(reply);
  json["ok"] = reply.getOk();
  if (reply.getErrors().size() > 0) json["errors"] = texts(reply.getErrors());
  if (options.json) {
    std::cout << json.dump() << std::endl;
  } else {
    for (const auto error : reply.getErrors()) std::cerr << error.cStr() << '\n';
  }
  return reply.getOk() ? kExitOk : kExitError;
}

}  // namespace

std::optional<std::string> tapEndpointOf(const std::string& control, double timeout) {
  ControlOptions options;
  options.endpoint = control;
  options.timeout = timeout;
  capnp::MallocMessageBuilder request;
  request.initRoot<schema::ControlRequest>().setStatus();
  const auto words = exchange(options, request);
  if (!words) return std::nullopt;
  capnp::FlatArrayMessageReader message(*words);
  return std::string(message.getRoot<schema::ControlReply>().getStatus().getTapEndpoint().cStr());
}

Command addStatusCommand(CLI::App& parent) {
  auto* app = parent.add_subcommand("status", "Show evrouterd's version, uptime, config generation and connected containers.");
  auto options = std::make_shared<ControlOptions>();
  addControlOptions(*app, *options);
  return {app, [options]() {
            return run(*options, [](auto request) { request.setStatus(); }, [&](schema::ControlReply::Reader reply) {
              const auto status = reply.getStatus();
              nlohmann::json json{{"version", status.getVersion().cStr()},
                                  {"uptime_ms", status.getUptimeMs()},
                                  {"config", status.getConfigPath().cStr()},
                                  {"generation", status.getGeneration()},
                                  {"digest", status.getDigest().cStr()},
                                  {"instance", status.getInstance()},
                                  {"failed_reloads", status.getFailedReloads()},
                                  {"tap", status.getTapEndpoint().cStr()},
                                  {"connected", texts(status.getConnected())}};
              if (!options->json) {
                std::cout << "evrouterd " << status.getVersion().cStr() << ", up "
                          << status.getUptimeMs() / 1000.0 << " s\nconfig " << status.getConfigPath().cStr()
                          << " (generation " << status.getGeneration() << ", digest "
                          << status.getDigest().cStr() << ", " << status.getFailedReloads()
                          << " failed reloads)\nconnected (" << status.getConnected().size() << "):";
                for (const auto name : status.getConnected()) std::cout << ' ' << name.cStr();
                std::cout << std::endl;
              }
              return json;
            });
          }};
}

Command addStatsCommand(CLI::App& parent) {
  auto* app = parent.add_subcommand("stats", "Show counters per container and adapter: events and bytes in and out, queue depth, drops by reason, unrouted, unmatched.");
  auto options = std::make_shared<ControlOptions>();
  addControlOptions(*app, *options);
  return {app, [options]() {
            return run(*options, [](auto request) { request.setStats(); }, [&](schema::ControlReply::Reader reply) {
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
              if (!options->json) {
                std::cout << "in " << stats.getEventsIn() << ", delivered " << stats.getDeliveries()
                          << ", unrouted " << stats.getUnrouted() << ", unmatched " << stats.getUnmatched()
                          << ", backpressure holds " << stats.getBackpressureHolds()
                          << ", drops " << json["drops"].dump() << "\n";
                std::printf("%-24s %-5s %10s %10s %8s %s\n", "container", "conn", "in", "out", "queued", "drops (from / to)");
                for (const auto& c : containers) {
                  std::printf("%-24s %-5s %10llu %10llu %8llu %s / %s\n", c["name"].get<std::string>().c_str(),
                              c["connected"].get<bool>() ? "yes" : "no",
                              static_cast<unsigned long long>(c["events_in"].get<std::uint64_t>()),
                              static_cast<unsigned long long>(c["events_out"].get<std::uint64_t>()),
                              static_cast<unsigned long long>(c["queue_depth"].get<std::uint64_t>()),
                              c["drops_from"].dump().c_str(), c["drops_to"].dump().c_str());
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

Command addReloadCommand(CLI::App& parent) {
  auto* app = parent.add_subcommand("reload", "Reload evrouterd's routing config (its own file, or FILE); exit 1 with every error when it is rejected (the running routes stay).");
  auto options = std::make_shared<ControlOptions>();
  auto file = std::make_shared<std::string>();
  app->add_option("file", *file, "Config file to load instead of the daemon's own (absolute path)");
  addControlOptions(*app, *options);
  return {app, [options, file]() {
            return run(*options, [&](auto request) { request.setReload(*file); }, [&](schema::ControlReply::Reader reply) {
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

namespace {

// DOT and Mermaid want safe identifiers and quoted labels.
std::string quoted(const std::string& text) {
  std::string out = "\"";
  for (const char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

std::string edgeLabel(const nlohmann::json& edge) {
  std::string label = edge["adapter"].get<std::string>() + ": " + edge["types"].get<std::string>();
  if (!edge["condition"].get<std::string>().empty()) label += " if " + edge["condition"].get<std::string>();
  if (!edge["transform"].get<std::string>().empty()) label += " (" + edge["transform"].get<std::string>() + ")";
  return label;
}

std::string renderDot(const nlohmann::json& graph) {
  std::string out = "digraph evrouter {\n  rankdir=LR;\n  node [shape=box, style=rounded, fontname=\"Helvetica\"];\n"
                    "  edge [fontname=\"Helvetica\", fontsize=10];\n";
  for (const auto& node : graph["containers"]) {
    out += "  " + quoted(node["name"].get<std::string>()) +
           (node["connected"].get<bool>() ? " [color=darkgreen, penwidth=2];\n" : " [color=gray50];\n");
  }
  for (const auto& edge : graph["edges"]) {
    const bool conditional = !edge["condition"].get<std::string>().empty();
    out += "  " + quoted(edge["source"].get<std::string>()) + " -> " + quoted(edge["target"].get<std::string>()) +
           " [label=" + quoted(edgeLabel(edge)) + (conditional ? ", style=dashed" : "") + "];\n";
  }
  return out + "}\n";
}

std::string renderMermaid(const nlohmann::json& graph) {
  std::string out = "flowchart LR\n";
  std::map<std::string, std::string> ids;
  for (const auto& node : graph["containers"]) {
    const std::string id = "n" + std::to_string(ids.size());
    ids[node["name"].get<std::string>()] = id;
    std::string name = node["name"].get<std::string>();
    out += "  " + id + "[\"" + name + "\"]\n";
  }
  for (const auto& edge : graph["edges"]) {
    std::string label = edgeLabel(edge);
    for (char& c : label) {
      if (c == '"') c = '\'';
      if (c == '|') c = '/';
    }
    const bool conditional = !edge["condition"].get<std::string>().empty();
    out += "  " + ids[edge["source"].get<std::string>()] + (conditional ? " -.->|\"" : " -->|\"") + label + "\"| " +
           ids[edge["target"].get<std::string>()] + "\n";
  }
  return out;
}

}  // namespace

Command addCheckCommand(CLI::App& parent) {
  auto* app = parent.add_subcommand("check", "Validate a config offline (no daemon needed): every error as file:line:col, then the compiled routes. Exit 0 valid, 1 not.");
  auto file = std::make_shared<std::string>();
  app->add_option("file", *file, "Config file")->required();
  return {app, [file]() { return topology::checkConfigFile(*file, std::cout, std::cerr); }};
}

Command addTopCommand(CLI::App& parent) {
  auto* app = parent.add_subcommand("top", "A live table of event rates, queue depths and drops per container, refreshed every --interval (Ctrl-C ends it).");
  auto options = std::make_shared<ControlOptions>();
  auto interval = std::make_shared<double>(1.0);
  auto iterations = std::make_shared<unsigned>(0);
  app->add_option("--control", options->endpoint,
                  "evrouterd control endpoint (default: $EVR_CONTROL, else "
                  "ipc://$RUNTIME_DIRECTORY/evrouterd.ctl, ./run when unset)");
  app->add_option("--timeout", options->timeout, "Seconds to wait for each answer")->capture_default_str();
  app->add_option("--interval", *interval, "Seconds between refreshes")->check(CLI::PositiveNumber)->capture_default_str();
  app->add_option("--iterations", *iterations, "Stop after this many refreshes (0: until Ctrl-C)")->capture_default_str();
  return {app, [options, interval, iterations]() {
            // Ctrl-C and SIGTERM end the loop cleanly: wait for them instead of sleeping.
            sigset_t stop_signals;
            sigemptyset(&stop_signals);
            sigaddset(&stop_signals, SIGINT);
            sigaddset(&stop_signals, SIGTERM);
            sigprocmask(SIG_BLOCK, &stop_signals, nullptr);
            const bool tty = ::isatty(STDOUT_FILENO) != 0;
            std::map<std::string, std::pair<std::uint64_t, std::uint64_t>> previous;  // name -> in, out
            std::uint64_t previous_in = 0, previous_out = 0;
            auto previous_time = std::chrono::steady_clock::now();
            for (unsigned n = 0; *iterations == 0 || n < *iterations; ++n) {
              capnp::MallocMessageBuilder request;
              request.initRoot<schema::ControlRequest>().setStats();
              const auto words = exchange(*options, request);
              if (!words) return kExitTimeout;
              capnp::FlatArrayMessageReader message(*words);
              const auto stats = message.getRoot<schema::ControlReply>().getStats();
              const auto now = std::chrono::steady_clock::now();
              const double seconds = n == 0 ? 0 : std::chrono::duration<double>(now - previous_time).count();
              const auto rate = [&](std::uint64_t now_count, std::uint64_t before) {
                return seconds > 0 ? static_cast<double>(now_count - before) / seconds : 0.0;
              };
              std::uint64_t drops = 0;
              for (const auto drop : stats.getDrops()) drops += drop.getValue();
              if (tty) std::printf("\x1b[H\x1b[2J");
              std::printf("evrouterd  in %.0f ev/s  delivered %.0f ev/s  unrouted %llu  unmatched %llu  drops %llu\n",
                          rate(stats.getEventsIn(), previous_in), rate(stats.getDeliveries(), previous_out),
                          static_cast<unsigned long long>(stats.getUnrouted()),
                          static_cast<unsigned long long>(stats.getUnmatched()),
                          static_cast<unsigned long long>(drops));
              std::printf("%-24s %-5s %12s %12s %8s %8s\n", "container", "conn", "in ev/s", "out ev/s", "queued", "drops");
              for (const auto c : stats.getContainers()) {
                const std::string name = c.getName().cStr();
                const auto [in_before, out_before] = previous[name];
                std::uint64_t container_drops = 0;
                for (const auto drop : c.getDropsTo()) container_drops += drop.getValue();
                for (const auto drop : c.getDropsFrom()) container_drops += drop.getValue();
                std::printf("%-24s %-5s %12.0f %12.0f %8llu %8llu\n", name.c_str(), c.getConnected() ? "yes" : "no",
                            rate(c.getEventsIn(), in_before), rate(c.getEventsOut(), out_before),
                            static_cast<unsigned long long>(c.getQueueDepth()),
                            static_cast<unsigned long long>(container_drops));
                previous[name] = {c.getEventsIn(), c.getEventsOut()};
              }
              std::fflush(stdout);
              previous_in = stats.getEventsIn();
              previous_out = stats.getDeliveries();
              previous_time = now;
              if (*iterations != 0 && n + 1 == *iterations) break;
              const auto wait = std::chrono::duration<double>(*interval);
              timespec timeout{};
              timeout.tv_sec = static_cast<time_t>(wait.count());
              timeout.tv_nsec = static_cast<long>((wait.count() - static_cast<double>(timeout.tv_sec)) * 1e9);
              if (sigtimedwait(&stop_signals, nullptr, &timeout) > 0) break;  // Ctrl-C: done
            }
            return kExitOk;
          }};
}

Command addGraphCommand(CLI::App& parent) {
  auto* app = parent.add_subcommand("graph", "Print the routing topology in force: containers (green: connected) and adapter edges (dashed: conditional).");
  auto options = std::make_shared<ControlOptions>();
  auto format = std::make_shared<std::string>("dot");
  app->add_option("--format", *format, "dot (Graphviz), mermaid or json")
      ->check(CLI::IsMember({"dot", "mermaid", "json"}))
      ->capture_default_str();
  app->add_option("--control", options->endpoint,
                  "evrouterd control endpoint (default: $EVR_CONTROL, else "
                  "ipc://$RUNTIME_DIRECTORY/evrouterd.ctl, ./run when unset)");
  app->add_option("--timeout", options->timeout, "Seconds to wait for the answer")->capture_default_str();
  return {app, [options, format]() {
            capnp::MallocMessageBuilder request;
            request.initRoot<schema::ControlRequest>().setGraph();
            const auto words = exchange(*options, request);
            if (!words) return kExitTimeout;
            capnp::FlatArrayMessageReader message(*words);
            const auto reply = message.getRoot<schema::ControlReply>();
            if (!reply.getOk() || !reply.isGraph()) {
              for (const auto error : reply.getErrors()) std::cerr << error.cStr() << '\n';
              return kExitError;
            }
            const auto graph = reply.getGraph();
            nlohmann::json json{{"generation", graph.getGeneration()}};
            json["containers"] = nlohmann::json::array();
            for (const auto node : graph.getContainers()) {
              json["containers"].push_back({{"name", node.getName().cStr()}, {"connected", node.getConnected()}});
            }
            json["edges"] = nlohmann::json::array();
            for (const auto edge : graph.getEdges()) {
              json["edges"].push_back({{"adapter", edge.getAdapter().cStr()}, {"type", edge.getAdapterType().cStr()},
                                       {"source", edge.getSource().cStr()}, {"target", edge.getTarget().cStr()},
                                       {"types", edge.getTypes().cStr()}, {"condition", edge.getCondition().cStr()},
                                       {"transform", edge.getTransform().cStr()}});
            }
            if (*format == "json") {
              std::cout << json.dump() << std::endl;
            } else if (*format == "mermaid") {
              std::cout << renderMermaid(json) << std::flush;
            } else {
              std::cout << renderDot(json) << std::flush;
            }
            return kExitOk;
          }};
}

}  // namespace evr::ctl
