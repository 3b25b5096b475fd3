// `router.security:` and `router.permissions:` (docs/security.md). Key files are read here, so a
// missing or malformed one is a config error naming the file, reported by `evrouterd --check`
// and refused by a reload like any other.

#include <cstdlib>
#include <filesystem>
#include <map>
#include <string>

#include "config/sections.hpp"
#include "evr/curve_keys.hpp"

namespace evr::config {
namespace {

constexpr std::string_view kSecurityKeys[] = {"clients", "secret_key_file"};
constexpr std::string_view kClientKeys[] = {"control", "key", "names"};
constexpr std::string_view kRoleNames[] = {"none", "read", "admin"};
constexpr std::string_view kPermissionKeys[] = {"publish"};

// systemd's LoadCredential= puts a root-only file where the service's DynamicUser can read it:
// $CREDENTIALS_DIRECTORY/<id>. The unit names the credential after the key file's base name, so
// the config keeps the path an operator knows.
std::string credentialOrPath(const std::string& path) {
  if (const char* dir = std::getenv("CREDENTIALS_DIRECTORY"); dir != nullptr && *dir != '\0') {
    const auto credential = std::filesystem::path(dir) / std::filesystem::path(path).filename();
    std::error_code ec;
    if (std::filesystem::is_regular_file(credential, ec)) return credential.string();
  }
  return path;
}

void loadSecretKey(YamlReader& reader, const YamlEntry& entry, SecuritySettings& security) {
  const auto written = reader.readString(entry, "the path of evrouterd's secret key file");
  if (!written) return;
  if (written->empty()) {
    reader.diagnostics().error(entry.value_mark, "secret_key_file must not be empty");
    return;
  }
  security.secret_key_file = Located<std::string>{resolveAgainstConfig(reader.file(), *written), entry.value_mark};
  security.secret_key_read_from = credentialOrPath(security.secret_key_file.value);
  try {
    const CurveKeys keys = readSecretKeyFile(security.secret_key_read_from);
    security.public_key = keys.public_key;
    security.secret_key = *keys.secret_key;
  } catch (const KeyFileError& e) {
    reader.diagnostics().error(entry.value_mark, std::string("secret_key_file: ") + e.what());
  }
}

std::optional<ControlRole> readRole(YamlReader& reader, const YamlEntry& entry) {
  const auto name = reader.readString(entry, "none, read or admin");
  if (!name) return std::nullopt;
  for (std::size_t i = 0; i < std::size(kRoleNames); ++i) {
    if (*name == kRoleNames[i]) return static_cast<ControlRole>(i);
  }
  reader.diagnostics().error(entry.value_mark, "unknown control role '" + *name + "'; expected one of: " +
                                                   join(kRoleNames) + didYouMean(*name, kRoleNames));
  return std::nullopt;
}

std::optional<ClientKeyConfig> loadClient(YamlReader& reader, const YAML::Node& item, const Mark& mark) {
  Diagnostics& diagnostics = reader.diagnostics();
  if (!item.IsMap()) {
    diagnostics.error(mark, "expected a client with 'key' and 'names', got " + describe(item));
    return std::nullopt;
  }
  ClientKeyConfig client;
  client.mark = mark;
  bool has_key = false;
  bool has_names = false;
  bool ok = true;
  for (const auto& entry : reader.entries(item)) {
    if (entry.key == "key") {
      has_key = true;
      client.mark = entry.value_mark;
      const auto text = reader.readString(entry, "a public key file, or its 40 Z85 characters");
      if (!text) {
        ok = false;
      } else if (isZ85Key(*text)) {
        client.public_key = *text;
      } else {
        try {
          client.public_key = readKeyFile(resolveAgainstConfig(reader.file(), *text)).public_key;
        } catch (const KeyFileError& e) {
          diagnostics.error(entry.value_mark, std::string("client key: ") + e.what());
          ok = false;
        }
      }
    } else if (entry.key == "names") {
      has_names = true;
      client.names = reader.readContainerList(entry);
    } else if (entry.key == "control") {
      if (const auto role = readRole(reader, entry)) client.control = *role;
    } else {
      reader.unknownKey(entry, "key", "a security client", kClientKeys);
    }
  }
  if (!has_key) {
    diagnostics.error(mark, "a security client needs 'key' (a .pub file, or its Z85 text)");
    return std::nullopt;
  }
  if (!has_names) {
    diagnostics.error(mark, "a security client needs 'names' (the container names its key may join "
                            "as; [] for an operator's key)");
  }
  if (!ok) return std::nullopt;
  return client;
}

void loadClients(YamlReader& reader, const YamlEntry& entry, SecuritySettings& security) {
  Diagnostics& diagnostics = reader.diagnostics();
  if (!entry.value.IsSequence()) {
    diagnostics.error(entry.value_mark, "expected a list of clients ({key, names, control}) for "
                                        "'clients', got " + describe(entry.value));
    return;
  }
  std::map<std::string, Mark> name_holders;
  for (const auto& item : entry.value) {
    auto client = loadClient(reader, item, reader.itemMark(item, entry.value_mark));
    if (!client) continue;
    const auto same = std::find_if(security.clients.begin(), security.clients.end(), [&](const auto& other) {
      return other.public_key == client->public_key;
    });
    if (same != security.clients.end()) {
      diagnostics.error(client->mark, "key " + keyFingerprint(client->public_key) +
                                          " is listed twice (first at " + lineColumn(same->mark) +
                                          "); give one entry all its names");
      continue;
    }
    if (client->public_key == security.public_key) {
      diagnostics.error(client->mark, "this is evrouterd's own key (secret_key_file's public half); "
                                      "give each client a key of its own (evrctl keygen)");
      continue;
    }
    for (const auto& name : client->names) {
      const auto [held, fresh] = name_holders.emplace(name.value, name.mark);
      if (!fresh) {
        diagnostics.error(name.mark, "container '" + name.value + "' is claimed by two keys (first at " +
                                         lineColumn(held->second) + "); a name belongs to one key");
      }
    }
    security.clients.push_back(std::move(*client));
  }
}

}  // namespace

std::string_view controlRoleName(ControlRole role) { return kRoleNames[static_cast<std::size_t>(role)]; }

void loadSecurity(YamlReader& reader, const YamlEntry& section, RouterSettings& router) {
  Diagnostics& diagnostics = reader.diagnostics();
  if (!section.value.IsMap()) {
    diagnostics.error(section.value_mark, "expected a map with 'secret_key_file' and 'clients' for "
                                          "'security', got " + describe(section.value));
    return;
  }
  SecuritySettings security;
  const std::size_t errors_before = diagnostics.errorCount();
  std::optional<YamlEntry> clients;
  bool has_secret = false;
  for (const auto& entry : reader.entries(section.value)) {
    if (entry.key == "secret_key_file") {
      has_secret = true;
      loadSecretKey(reader, entry, security);
    } else if (entry.key == "clients") {
      clients = entry;  // after the secret key, whatever the order: a client must not reuse it
    } else {
      reader.unknownKey(entry, "key", "security", kSecurityKeys);
    }
  }
  if (!has_secret) {
    diagnostics.error(section.key_mark, "security needs 'secret_key_file' (evrouterd's own key: "
                                        "evrctl keygen --out server)");
  }
  if (clients) loadClients(reader, *clients, security);
  if (diagnostics.errorCount() == errors_before) router.security = std::move(security);
}

void loadPermissions(YamlReader& reader, const YamlEntry& section, RouterSettings& router) {
  Diagnostics& diagnostics = reader.diagnostics();
  if (!section.value.IsMap()) {
    diagnostics.error(section.value_mark, "expected a map of container name -> {publish: [types]} "
                                          "for 'permissions', got " + describe(section.value));
    return;
  }
  for (const auto& entry : reader.entries(section.value)) {
    if (!entry.value.IsMap()) {
      diagnostics.error(entry.value_mark, "expected {publish: [types]} for container '" + entry.key +
                                              "', got " + describe(entry.value));
      continue;
    }
    std::optional<Located<EventTypeSet>> publish;
    for (const auto& rule : reader.entries(entry.value)) {
      if (rule.key == "publish") {
        publish = reader.readEventTypes(rule, /*allow_empty=*/true);
      } else {
        reader.unknownKey(rule, "key", "a permission", kPermissionKeys);
      }
    }
    if (!publish) {
      diagnostics.error(entry.key_mark, "permission for '" + entry.key + "' needs 'publish' "
                                        "(the event types it may publish; [] for none)");
      continue;
    }
    router.permissions.push_back(PublishPermission{Located<std::string>{entry.key, entry.key_mark}, *publish});
  }
}

}  // namespace evr::config
