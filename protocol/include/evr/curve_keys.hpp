// CURVE keys as files (docs/security.md): ZeroMQ's certificate text format, the one zmq's own
// tools read and write (pyzmq's zmq.auth, czmq's zcert):
//
//   #   ZeroMQ CURVE **Secret** Certificate
//   metadata
//   curve
//       public-key = "<40 Z85 characters>"
//       secret-key = "<40 Z85 characters>"
//
// A public file has no secret-key line; a secret file holds the public key too. Shared by
// evrouterd (its own secret key, the clients' public keys), the client library and evrctl.

#pragma once

#include <zmq.hpp>

#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace evr {

// A key file that cannot be read or is not a certificate; what() names the file and the problem.
class KeyFileError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct CurveKeys {
  std::string public_key;                 // Z85, 40 characters
  std::optional<std::string> secret_key;  // Z85, 40 characters; only in a secret file
};

// True for 40 characters that decode as Z85 to 32 bytes.
bool isZ85Key(std::string_view text);

// Reads a certificate file. Throws KeyFileError when it cannot be read, has no valid public key,
// has an invalid secret key, or its secret key does not belong to its public key.
CurveKeys readKeyFile(const std::string& path);

// Reads a secret certificate: as readKeyFile, and throws when it has no secret key (a .pub file
// given where the .key is wanted).
CurveKeys readSecretKeyFile(const std::string& path);

// A new key pair (libzmq's zmq_curve_keypair, from libsodium's random source).
CurveKeys generateKeys();

// Writes PREFIX.key (mode 0600: public and secret key) and PREFIX.pub (public key only).
// Refuses to overwrite either file. Throws KeyFileError naming the file.
void writeKeyFiles(const std::string& prefix, const CurveKeys& keys);

// Makes `socket` a CURVE client of the evrouterd whose public key file is `server_key_file`,
// speaking with the secret key file `key_file`. Before connect. Throws KeyFileError.
void makeCurveClient(zmq::socket_t& socket, const std::string& server_key_file, const std::string& key_file);

// Watches a connecting socket for a handshake the other side refused: a CURVE key its ZAP
// handler does not let in, or CURVE on one side of the link only (both fail without an error a
// caller would otherwise see: libzmq just retries). Create before connect.
//
// A mechanism mismatch is seen by both ends, but only the end that reads the other's whole
// greeting reports it (ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL). When the server reads ours first it
// closes the connection before its own greeting is written, and this end only sees a handshake
// that ended without detail. One such close is what a restarting server also looks like, so that
// counts as a refusal only `kClosedHandshakes` times in a row, with no handshake done between.
class HandshakeWatch {
 public:
  static constexpr int kClosedHandshakes = 3;

  HandshakeWatch(zmq::context_t& context, zmq::socket_t& socket, bool curve);
  // Why the last handshake failed, in words for the user; nullopt while none has.
  std::optional<std::string> failure();

 private:
  std::string hint() const;

  zmq::socket_t monitor_;
  bool curve_;
  int closed_in_a_row_ = 0;  // handshakes the other side ended without detail, since the last done
};

// The short name of a public key in logs and `evrctl keygen`'s output: its first 12 Z85
// characters (a prefix of what the .pub file says, so `grep` finds the file).
std::string keyFingerprint(std::string_view public_key);

}  // namespace evr
