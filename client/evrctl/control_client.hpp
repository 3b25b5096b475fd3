// What the evrctl commands that talk to evrouterd's control socket share (status, stats, reload,
// top, graph, and tap finding its endpoint): the --control/--timeout/--json options and one
// request/reply exchange (schemas/control.capnp).
//
// One DEALER, one request frame, one reply frame, bounded by --timeout. --json prints the reply
// as one JSON object for scripts; the default is a short human-readable form.

#pragma once

#include <capnp/message.h>
#include <capnp/serialize.h>
#include <kj/array.h>
#include <nlohmann/json.hpp>

#include <iostream>
#include <optional>
#include <string>

#include "command.hpp"
#include "control.capnp.h"

namespace evr::ctl {

struct ControlOptions {
  std::string endpoint;
  double timeout = 5;
  bool json = false;
  KeyOptions keys;
};

// --control ENDPOINT and the key options (top and graph word --timeout their own way).
void addControlEndpointOption(CLI::App& app, ControlOptions& options);
// --control, --timeout and --json.
void addControlOptions(CLI::App& app, ControlOptions& options);

// Sends `request`, returns the reply's words, or throws / returns nullopt on timeout (saying so
// on stderr).
std::optional<kj::Array<capnp::word>> exchange(const ControlOptions& options,
                                               capnp::MallocMessageBuilder& request);

nlohmann::json texts(capnp::List<capnp::Text>::Reader list);
nlohmann::json counters(capnp::List<schema::Counter>::Reader list);

// Runs one request (`fill` sets it) and prints the reply (`print` returns it as JSON, and prints
// the human-readable form itself unless --json); the exit code.
template <typename Fill, typename Print>
int runControlRequest(const ControlOptions& options, Fill fill, Print print) {
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

}  // namespace evr::ctl
