#include "security/access_list.hpp"

#include <algorithm>

namespace evr::security {

std::shared_ptr<const AccessList> AccessList::compile(const config::SecuritySettings& settings) {
  auto list = std::make_shared<AccessList>();
  for (const auto& client : settings.clients) {
    ClientKey key;
    key.public_key = client.public_key;
    key.control = client.control;
    for (const auto& name : client.names) key.names.push_back(name.value);
    list->keys_.emplace(client.public_key, std::move(key));
  }
  return list;
}

const ClientKey* AccessList::find(std::string_view public_key) const {
  const auto it = keys_.find(std::string(public_key));
  return it == keys_.end() ? nullptr : &it->second;
}

bool AccessList::mayJoin(std::string_view public_key, std::string_view name) const {
  const ClientKey* key = find(public_key);
  return key != nullptr && std::find(key->names.begin(), key->names.end(), name) != key->names.end();
}

ControlRole AccessList::role(std::string_view public_key) const {
  const ClientKey* key = find(public_key);
  return key == nullptr ? ControlRole::None : key->control;
}

}  // namespace evr::security
