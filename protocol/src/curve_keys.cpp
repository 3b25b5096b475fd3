#include "evr/curve_keys.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

#include <array>
#include <atomic>
#include <cstdio>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <ctime>
#include <fstream>
#include <sstream>

namespace evr {
namespace {

constexpr std::size_t kZ85KeyLength = 40;

std::string_view trim(std::string_view text) {
  const auto first = text.find_first_not_of(" \t\r");
  if (first == std::string_view::npos) return {};
  const auto last = text.find_last_not_of(" \t\r");
  return text.substr(first, last - first + 1);
}

// `name = "value"` (ZPL); nullopt when the line is not that.
std::optional<std::string> zplValue(std::string_view line, std::string_view name) {
  line = trim(line);
  if (!line.starts_with(name)) return std::nullopt;
  line = trim(line.substr(name.size()));
  if (!line.starts_with('=')) return std::nullopt;
  line = trim(line.substr(1));
  if (line.size() >= 2 && (line.front() == '"' || line.front() == '\'') && line.back() == line.front()) {
    line = line.substr(1, line.size() - 2);
  }
  return std::string(line);
}

std::string timestamp() {
  const std::time_t now = std::time(nullptr);
  std::tm parts{};
  gmtime_r(&now, &parts);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%d %H:%M:%S UTC", &parts);
  return text;
}

void writeFile(const std::string& path, const std::string& text, mode_t mode) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) {
    throw KeyFileError(path + ": " + (errno == EEXIST ? std::string("already exists; not overwritten")
                                                       : std::string(std::strerror(errno))));
  }
  // The mode is set explicitly too: open() applies the umask, which could only narrow it.
  ::fchmod(fd, mode);
  std::size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      const std::string why = std::strerror(errno);
      ::close(fd);
      throw KeyFileError(path + ": " + why);
    }
    done += static_cast<std::size_t>(n);
  }
  if (::close(fd) != 0) throw KeyFileError(path + ": " + std::strerror(errno));
}

}  // namespace

bool isZ85Key(std::string_view text) {
  if (text.size() != kZ85KeyLength) return false;
  std::array<std::uint8_t, 32> bytes{};
  const std::string terminated(text);
  return zmq_z85_decode(bytes.data(), terminated.c_str()) != nullptr;
}

CurveKeys readKeyFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw KeyFileError(path + ": cannot read: " + std::strerror(errno));
  std::optional<std::string> public_key;
  std::optional<std::string> secret_key;
  std::string line;
  std::size_t number = 0;
  while (std::getline(in, line)) {
    ++number;
    const std::string_view text = trim(line);
    if (text.empty() || text.front() == '#') continue;
    for (const auto& [name, slot] : {std::pair{"public-key", &public_key}, std::pair{"secret-key", &secret_key}}) {
      if (auto value = zplValue(text, name)) {
        if (!isZ85Key(*value)) {
          throw KeyFileError(path + ":" + std::to_string(number) + ": " + name +
                             " is not 40 characters of Z85");
        }
        *slot = std::move(*value);
      }
    }
  }
  if (in.bad()) throw KeyFileError(path + ": cannot read: " + std::strerror(errno));
  if (!public_key) {
    throw KeyFileError(path + ": no public-key in it; expected a ZeroMQ CURVE certificate "
                              "(`evrctl keygen` writes one)");
  }
  if (secret_key) {
    std::array<char, kZ85KeyLength + 1> derived{};
    if (zmq_curve_public(derived.data(), secret_key->c_str()) != 0 || *public_key != derived.data()) {
      throw KeyFileError(path + ": its secret-key does not belong to its public-key");
    }
  }
  return CurveKeys{*public_key, secret_key};
}

CurveKeys readSecretKeyFile(const std::string& path) {
  CurveKeys keys = readKeyFile(path);
  if (!keys.secret_key) {
    throw KeyFileError(path + ": has no secret-key (a public key file? give the .key file, whose "
                              "public half is the .pub)");
  }
  return keys;
}

CurveKeys generateKeys() {
  std::array<char, kZ85KeyLength + 1> public_key{};
  std::array<char, kZ85KeyLength + 1> secret_key{};
  if (zmq_curve_keypair(public_key.data(), secret_key.data()) != 0) {
    throw KeyFileError(std::string("cannot make a key pair: ") + zmq_strerror(zmq_errno()) +
                       " (libzmq built without CURVE?)");
  }
  return CurveKeys{public_key.data(), std::string(secret_key.data())};
}

void writeKeyFiles(const std::string& prefix, const CurveKeys& keys) {
  if (!keys.secret_key) throw KeyFileError(prefix + ".key: no secret key to write");
  const std::string when = timestamp();
  std::ostringstream secret;
  secret << "#   ****  Generated on " << when << " by evrctl keygen  ****\n"
         << "#   ZeroMQ CURVE **Secret** Certificate\n"
         << "#   DO NOT PROVIDE THIS FILE TO OTHER USERS nor change its permissions.\n\n"
         << "metadata\n"
         << "curve\n"
         << "    public-key = \"" << keys.public_key << "\"\n"
         << "    secret-key = \"" << *keys.secret_key << "\"\n";
  std::ostringstream pub;
  pub << "#   ****  Generated on " << when << " by evrctl keygen  ****\n"
      << "#   ZeroMQ CURVE Public Certificate\n"
      << "#   Exchange securely, or use a secure mechanism to verify the contents\n"
      << "#   of this file after exchange. Store public certificates in your home\n"
      << "#   directory, in the .curve subdirectory.\n\n"
      << "metadata\n"
      << "curve\n"
      << "    public-key = \"" << keys.public_key << "\"\n";
  // Both names are checked first, so a refusal leaves neither file half-written.
  for (const auto& path : {prefix + ".key", prefix + ".pub"}) {
    if (::access(path.c_str(), F_OK) == 0) throw KeyFileError(path + ": already exists; not overwritten");
  }
  writeFile(prefix + ".key", secret.str(), 0600);
  writeFile(prefix + ".pub", pub.str(), 0644);
}

void makeCurveClient(zmq::socket_t& socket, const std::string& server_key_file, const std::string& key_file) {
  const CurveKeys server = readKeyFile(server_key_file);
  const CurveKeys own = readSecretKeyFile(key_file);
  socket.set(zmq::sockopt::curve_serverkey, server.public_key);
  socket.set(zmq::sockopt::curve_publickey, own.public_key);
  socket.set(zmq::sockopt::curve_secretkey, *own.secret_key);
}

HandshakeWatch::HandshakeWatch(zmq::context_t& context, zmq::socket_t& socket, bool curve)
    : monitor_(context, zmq::socket_type::pair), curve_(curve) {
  static std::atomic<std::uint64_t> next{0};
  const std::string address = "inproc://evr-handshake-" + std::to_string(::getpid()) + "-" +
                              std::to_string(next.fetch_add(1));
  if (zmq_socket_monitor(socket.handle(), address.c_str(),
                         ZMQ_EVENT_HANDSHAKE_FAILED_AUTH | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |
                             ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL | ZMQ_EVENT_HANDSHAKE_SUCCEEDED) != 0) {
    throw zmq::error_t();
  }
  monitor_.set(zmq::sockopt::linger, 0);
  monitor_.connect(address);
}

std::string HandshakeWatch::hint() const {
  return curve_ ? "is the server key evrouterd's public key, and does it run with router.security?"
                : "evrouterd runs with router.security: give evrouterd's public key and this "
                  "process's secret key (--server-key, --key; $EVR_SERVER_KEY, $EVR_KEY)";
}

std::optional<std::string> HandshakeWatch::failure() {
  std::optional<std::string> out;
  zmq::message_t event;
  while (monitor_.recv(event, zmq::recv_flags::dontwait)) {
    zmq::message_t where;
    if (event.more()) (void)monitor_.recv(where, zmq::recv_flags::none);
    if (event.size() < 6) continue;
    std::uint16_t id = 0;
    std::uint32_t value = 0;
    std::memcpy(&id, event.data(), sizeof id);
    std::memcpy(&value, static_cast<const char*>(event.data()) + 2, sizeof value);
    if (id == ZMQ_EVENT_HANDSHAKE_SUCCEEDED) {
      closed_in_a_row_ = 0;
      out.reset();
    } else if (id == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH) {
      out = "evrouterd refused this CURVE key (ZAP status " + std::to_string(value) +
            "): it is not in router.security.clients, or it has no control role";
    } else if (id == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL) {
      char code[16];
      std::snprintf(code, sizeof code, "0x%x", value);
      out = std::string("the handshake with evrouterd failed (ZMTP protocol error ") + code + "): " + hint();
    } else if (id == ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL && ++closed_in_a_row_ >= kClosedHandshakes) {
      out = "evrouterd closed the connection during the handshake " + std::to_string(closed_in_a_row_) +
            " times in a row" + (value != 0 ? std::string(" (") + std::strerror(static_cast<int>(value)) + ")" : "") +
            ": " + hint();
    }
  }
  return out;
}

std::string keyFingerprint(std::string_view public_key) {
  return std::string(public_key.substr(0, 12));
}

}  // namespace evr
