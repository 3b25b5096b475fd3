// evrctl graph: the routing topology in force, as Graphviz DOT, Mermaid or JSON.

#include <map>
#include <string>

#include "control_client.hpp"

namespace evr::ctl {
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

Command addGraphCommand(CLI::App& parent) {
  auto* app = parent.add_subcommand("graph", "Print the routing topology in force: containers (green: connected) and adapter edges (dashed: conditional).");
  auto options = std::make_shared<ControlOptions>();
  auto format = std::make_shared<std::string>("dot");
  app->add_option("--format", *format, "dot (Graphviz), mermaid or json")
      ->check(CLI::IsMember({"dot", "mermaid", "json"}))
      ->capture_default_str();
  addControlEndpointOption(*app, *options);
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
