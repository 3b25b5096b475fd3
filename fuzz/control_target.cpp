// Target `control`: one control request frame, read by control::answerFrame (the code the control
// server runs on every request) and answered by control::answer against a real RelayLoop (the
// routing table of fuzz_support.cpp installed, not bound) and a Reloader; the reply is built and
// flattened as the server sends it.
//
// Reload requests name a file, and the fuzzer must not read arbitrary ones: the harness answers a
// reload request as one naming a file of its own, in a temporary directory written once per
// process (removed at exit): an empty path stays empty (the reloader's own config: unchanged, a no-op), a path
// whose first byte is even names a changed valid config (the reload applies: a diff and a new
// table installed), an odd one a broken config (rejected with diagnostics).
//
// Findings: an exception out of answerFrame, or a handler that threw (answerFrame logs it and
// answers not-ok, but no request may make answer() throw).
#include <capnp/message.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "control/control_server.hpp"
#include "control/reloader.hpp"
#include "control/requests.hpp"
#include "fuzz_support.hpp"
#include "fuzz_targets.hpp"
#include "transport/relay_loop.hpp"

namespace evr::fuzz {
namespace {

struct ConfigFiles {
  std::string dir, current, changed, broken;
  ~ConfigFiles() {
    std::error_code ignored;
    std::filesystem::remove_all(dir, ignored);
  }
};

const ConfigFiles& configFiles() {
  static const ConfigFiles files = [] {
    const auto base = std::filesystem::temp_directory_path() / "evr-fuzz-control-XXXXXX";
    std::string pattern = base.string();
    if (::mkdtemp(pattern.data()) == nullptr) fail("cannot create a temporary directory");
    ConfigFiles out{pattern, pattern + "/current.yaml", pattern + "/changed.yaml", pattern + "/broken.yaml"};
    std::ofstream(out.current) << kRoutingYaml;
    std::ofstream(out.changed) << kRoutingYamlChanged;
    std::ofstream(out.broken) << "event_communication:\n  adapters: [{type: selective, name: x\n";
    return out;
  }();
  return files;
}

zmq::context_t& context() {
  static zmq::context_t instance(1);
  return instance;
}

}  // namespace

int fuzzControl(const std::uint8_t* data, std::size_t size) {
  const ConfigFiles& files = configFiles();
  transport::RelayLoop loop(context(), config::RouterSettings{}, {"inproc://evr-fuzz-control-unbound"});
  loop.installTable(routing().table);
  control::Reloader reloader(files.current, routing().config, routing().table);
  const control::ControlContext answering{loop, reloader, std::chrono::steady_clock::now(), "inproc://tap"};
  bool threw = false;
  const control::ControlServer::Handler handler = [&](schema::ControlRequest::Reader request,
                                                       schema::ControlReply::Builder reply, std::string_view) {
    try {
      if (request.which() != schema::ControlRequest::RELOAD) {
        control::answer(request, reply, answering);
        return;
      }
      const auto named = request.getReload();
      capnp::MallocMessageBuilder own;
      auto substitute = own.initRoot<schema::ControlRequest>();
      substitute.setReload(named.size() == 0                           ? std::string()
                           : static_cast<std::uint8_t>(named[0]) % 2 == 0 ? files.changed
                                                                            : files.broken);
      control::answer(substitute.asReader(), reply, answering);
    } catch (const kj::Exception&) {
      throw;  // an unreadable request: answerFrame answers not-ok, as the server does
    } catch (...) {
      threw = true;
      throw;
    }
  };
  const auto bytes = std::span<const std::byte>(reinterpret_cast<const std::byte*>(data), size);
  const auto reply = control::answerFrame(bytes, {}, handler);
  EVR_FUZZ_CHECK(reply.size() > 0, "an empty control reply");
  EVR_FUZZ_CHECK(!threw, "control::answer threw for a request");
  return 0;
}

}  // namespace evr::fuzz
