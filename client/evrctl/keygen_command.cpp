// evrctl keygen --out PREFIX: a CURVE key pair for router.security (docs/security.md), in
// ZeroMQ's certificate format: PREFIX.key (secret, mode 0600; it holds the public key too) and
// PREFIX.pub (public, for evrouterd's config or for clients' --server-key).

#include <iostream>

#include "command.hpp"
#include "evr/curve_keys.hpp"

namespace evr::ctl {

Command addKeygenCommand(CLI::App& parent) {
  auto* app = parent.add_subcommand(
      "keygen", "Write a new CURVE key pair: PREFIX.key (secret, mode 0600) and PREFIX.pub (public).");
  auto prefix = std::make_shared<std::string>();
  app->add_option("--out", *prefix, "Path prefix of the two files, e.g. /etc/evrouter/keys/strategy")->required();
  app->footer(
      "The .pub goes into evrouterd's router.security.clients (a container's or an operator's key) "
      "or, for evrouterd's own pair, to every client as --server-key / $EVR_SERVER_KEY. The .key "
      "stays with its owner. Existing files are never overwritten.");
  return {app, [prefix]() {
            const CurveKeys keys = generateKeys();
            try {
              writeKeyFiles(*prefix, keys);
            } catch (const KeyFileError& e) {
              std::cerr << "evrctl keygen: " << e.what() << '\n';
              return kExitError;
            }
            std::cout << "wrote " << *prefix << ".key (secret, mode 0600) and " << *prefix
                      << ".pub (public); fingerprint " << keyFingerprint(keys.public_key) << '\n';
            return kExitOk;
          }};
}

}  // namespace evr::ctl
