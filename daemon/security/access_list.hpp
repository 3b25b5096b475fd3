// AccessList: router.security compiled for lookups (docs/security.md). Immutable; the relay loop
// holds the one in force and a reload swaps it. Keys are Z85 text, as ZAP's User-Id carries them.
//
// Who may do what: a connection's CURVE key is checked by the ZAP handler (security/zap_handler)
// when it connects, and the name in its HELLO against the names its key holds; a control request
// is answered per its key's control role.

#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "config/config.hpp"

namespace evr::security {

using config::ControlRole;

// ZAP domains: which socket a handshake is for. Data links and the control plane (control socket
// and tap) are told apart so that a container's key cannot read the control plane.
inline constexpr const char* kDataDomain = "evrouter";
inline constexpr const char* kControlDomain = "evrouter-control";

struct ClientKey {
  std::string public_key;           // Z85
  std::vector<std::string> names;   // container names it may join as
  ControlRole control = ControlRole::None;
};

class AccessList {
 public:
  static std::shared_ptr<const AccessList> compile(const config::SecuritySettings& settings);

  // The key's entry; nullptr when it is not listed.
  const ClientKey* find(std::string_view public_key) const;
  // True when `public_key` is listed and holds `name`.
  bool mayJoin(std::string_view public_key, std::string_view name) const;
  // The key's control role; None when it is not listed.
  ControlRole role(std::string_view public_key) const;
  std::size_t size() const { return keys_.size(); }

 private:
  std::unordered_map<std::string, ClientKey> keys_;
};

}  // namespace evr::security
