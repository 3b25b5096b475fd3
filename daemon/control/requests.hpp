// answer(): what each control request does. Runs on the loop thread (via ControlServer), so it
// reads the loop's counters and swaps its table (applyReload, the path SIGHUP takes too) without
// locks.

#pragma once

#include <chrono>
#include <string>

#include "control.capnp.h"
#include "control/reloader.hpp"
#include "transport/relay_loop.hpp"

namespace evr::control {

struct ControlContext {
  transport::RelayLoop& loop;
  Reloader& reloader;
  std::chrono::steady_clock::time_point started;
  std::string tap_endpoint;
  // What the request's key may do (router.security); Admin without security, where the control
  // socket's file mode and group decide who reaches it.
  config::ControlRole role = config::ControlRole::Admin;
};

void answer(schema::ControlRequest::Reader request, schema::ControlReply::Builder reply,
            const ControlContext& context);

}  // namespace evr::control
