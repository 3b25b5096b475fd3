// Packaging: the systemd unit (systemd/evrouterd.service.in), the Docker image and compose files
// (docker/), and the sd_notify sequence the unit's Type=notify relies on, checked against a real
// evrouterd talking to a fake $NOTIFY_SOCKET (a unix datagram socket this test owns).
#include <boost/test/unit_test.hpp>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <optional>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "process.hpp"
#include "temp_dir.hpp"

using namespace evr::test;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

const fs::path kSource = EVR_SOURCE_DIR;

std::vector<std::string> words(const std::string& line) {
  std::istringstream in(line);
  std::vector<std::string> out;
  for (std::string word; in >> word;) out.push_back(word);
  return out;
}

std::vector<std::string> lines(const std::string& text) {
  std::istringstream in(text);
  std::vector<std::string> out;
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

// systemd/evrouterd.service.in with the CMake placeholders filled in for this build tree.
// A bin directory as `make install` lays it out: evrouterd and evrctl side by side (links to the
// build's binaries, which live in different build folders).
fs::path installedBinDir(const TempDir& dir) {
  const fs::path bin = dir.path() / "bin";
  fs::create_directories(bin);
  fs::create_symlink(EVR_EVROUTERD_PATH, bin / "evrouterd");
  fs::create_symlink(EVR_EVRCTL_PATH, bin / "evrctl");
  return bin;
}

std::string configuredUnit(const fs::path& bindir) {
  std::string unit = readFile((kSource / "systemd/evrouterd.service.in").string());
  const std::pair<std::string, std::string> substitutions[] = {
      {"@EVR_BINDIR@", bindir.string()},
      {"@EVR_UNIT_CONFIG_FILE@", "${CONFIGURATION_DIRECTORY}/evrouter.yaml"},
      {"@EVR_DOCDIR@", "/usr/share/doc/evrouter"},
      {"@EVR_DAEMON_GLIBC_TUNABLES@", EVR_DAEMON_GLIBC_TUNABLES},
  };
  for (const auto& [from, to] : substitutions) {
    for (auto at = unit.find(from); at != std::string::npos; at = unit.find(from, at + to.size())) {
      unit.replace(at, from.size(), to);
    }
  }
  return unit;
}

bool hasLine(const std::string& text, const std::string& wanted) {
  for (const auto& line : lines(text)) {
    if (line == wanted) return true;
  }
  return false;
}

std::optional<fs::path> findInPath(const std::string& program) {
  const char* path = std::getenv("PATH");
  std::istringstream dirs(path != nullptr ? path : "/usr/bin:/bin");
  for (std::string dir; std::getline(dirs, dir, ':');) {
    const fs::path candidate = fs::path(dir) / program;
    if (!dir.empty() && ::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return std::nullopt;
}

// The fake $NOTIFY_SOCKET: a bound unix datagram socket, read with bounded polls.
class NotifySocket {
 public:
  explicit NotifySocket(const fs::path& path) : path_(path.string()) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    BOOST_REQUIRE(fd_ >= 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    BOOST_REQUIRE(path_.size() < sizeof(address.sun_path));
    std::memcpy(address.sun_path, path_.c_str(), path_.size() + 1);
    BOOST_REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0);
  }
  ~NotifySocket() { ::close(fd_); }
  NotifySocket(const NotifySocket&) = delete;
  NotifySocket& operator=(const NotifySocket&) = delete;

  const std::string& path() const { return path_; }

  // The next datagram, or nullopt when none arrives within `timeout`.
  std::optional<std::string> next(std::chrono::milliseconds timeout) {
    pollfd item{.fd = fd_, .events = POLLIN, .revents = 0};
    if (::poll(&item, 1, static_cast<int>(timeout.count())) <= 0) return std::nullopt;
    char buffer[4096];
    const auto size = ::recv(fd_, buffer, sizeof(buffer), 0);
    if (size < 0) return std::nullopt;
    return std::string(buffer, static_cast<std::size_t>(size));
  }

 private:
  std::string path_;
  int fd_ = -1;
};

std::uint64_t monotonicMicros() {
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  return static_cast<std::uint64_t>(now.tv_sec) * 1000000ULL + static_cast<std::uint64_t>(now.tv_nsec) / 1000ULL;
}

const char* kConfig = R"(
event_communication:
  adapters:
    - type: pipeline
      containers: [a, b]
)";

// evrouterd on `config` in `dir`, announcing itself on `notify`.
std::unique_ptr<Process> startNotifyingDaemon(const TempDir& dir, const std::string& config,
                                              const NotifySocket& notify,
                                              std::optional<std::string> watchdog_usec = std::nullopt) {
  Process::Options options;
  options.env.emplace_back("NOTIFY_SOCKET", notify.path());
  if (watchdog_usec) options.env.emplace_back("WATCHDOG_USEC", *watchdog_usec);
  return std::make_unique<Process>(
      std::vector<std::string>{EVR_EVROUTERD_PATH, "-c", config, "--runtime-dir", dir.path().string(),
                               "--metrics", "127.0.0.1:0"},
      options);
}

// RELOADING=1 with a MONOTONIC_USEC within [before, after], as systemd >= 253 requires.
void expectReloading(const std::optional<std::string>& message, std::uint64_t before, std::uint64_t after) {
  BOOST_REQUIRE_MESSAGE(message, "no RELOADING=1 after SIGHUP");
  const auto fields = lines(*message);
  BOOST_REQUIRE_EQUAL(fields.size(), 2u);
  BOOST_CHECK_EQUAL(fields[0], "RELOADING=1");
  std::smatch match;
  BOOST_REQUIRE_MESSAGE(std::regex_match(fields[1], match, std::regex("MONOTONIC_USEC=([0-9]+)")), fields[1]);
  const auto usec = std::stoull(match[1]);
  BOOST_CHECK_GE(usec, before);
  BOOST_CHECK_LE(usec, after);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(packaging)

BOOST_AUTO_TEST_CASE(dockerfile_copies_only_paths_that_exist) {
  const auto dockerfile = readFile((kSource / "docker/Dockerfile").string());
  BOOST_REQUIRE(!dockerfile.empty());
  int copies = 0;
  for (const auto& line : lines(dockerfile)) {
    auto tokens = words(line);
    if (tokens.empty() || tokens[0] != "COPY") continue;
    tokens.erase(tokens.begin());
    bool from_stage = false;
    std::vector<std::string> paths;
    for (const auto& token : tokens) {
      if (token.starts_with("--from=")) from_stage = true;
      if (!token.starts_with("--")) paths.push_back(token);
    }
    if (from_stage) continue;  // copies between build stages, not from the repository
    BOOST_REQUIRE_MESSAGE(paths.size() >= 2, "COPY needs source(s) and a destination: " << line);
    paths.pop_back();
    for (const auto& source : paths) {
      ++copies;
      BOOST_CHECK_MESSAGE(fs::exists(kSource / source), "Dockerfile copies missing " << source);
    }
  }
  BOOST_CHECK_GE(copies, 1);
  // evrouterd with the unit's malloc tunables (CMakeLists.txt's EVR_DAEMON_GLIBC_TUNABLES, which the
  // Dockerfile repeats); tests/image/run.sh runs this entrypoint and checks its heap.
  BOOST_CHECK(hasLine(dockerfile, R"(ENTRYPOINT ["env", "GLIBC_TUNABLES=)" EVR_DAEMON_GLIBC_TUNABLES
                                  R"(", "evrouterd", "-c", "/etc/evrouter/evrouter.yaml", "--runtime-dir", "/run/evrouter"])"));
  // The image is built from the repository root; build trees must not go into the context.
  const auto ignore = readFile((kSource / ".dockerignore").string());
  for (const char* pattern : {"build*/", "run/", "results/"}) BOOST_CHECK_MESSAGE(hasLine(ignore, pattern), pattern);
}

BOOST_AUTO_TEST_CASE(compose_references_only_files_and_programs_that_exist) {
  const fs::path compose_dir = kSource / "docker";
  const auto compose = readFile((compose_dir / "docker-compose.yml").string());
  BOOST_REQUIRE(!compose.empty());
  std::optional<fs::path> context;
  int files = 0;
  int programs = 0;
  const std::regex key_value(R"(^\s*(context|dockerfile):\s*(\S+)\s*$)");
  const std::regex bind_mount(R"(^\s*-\s*(\.{1,2}/[^:]+):.*$)");
  const std::regex entrypoint(R"(^\s*entrypoint:\s*\[\s*"([^"]+)\".*$)");
  std::smatch match;
  for (const auto& line : lines(compose)) {
    if (std::regex_match(line, match, key_value)) {
      if (match[1] == "context") {
        context = compose_dir / match[2].str();
        BOOST_CHECK_MESSAGE(fs::is_directory(*context), "build context " << *context);
      } else {
        BOOST_REQUIRE_MESSAGE(context, "dockerfile: before context:");
        BOOST_CHECK_MESSAGE(fs::is_regular_file(*context / match[2].str()), "dockerfile " << match[2]);
      }
      ++files;
    } else if (std::regex_match(line, match, bind_mount)) {
      BOOST_CHECK_MESSAGE(fs::exists(compose_dir / match[1].str()), "bind mount of missing " << match[1]);
      ++files;
    } else if (std::regex_match(line, match, entrypoint)) {
      // Every container is one of the demo's example programs, built into the image, and every
      // option it is given is one that program has (its --help lists it).
      const std::string program = match[1].str();
      BOOST_CHECK_MESSAGE(fs::exists(kSource / "examples/containers" / (program + ".cpp")),
                          "entrypoint " << program << " is not an example container");
      Process help({(fs::path(EVR_EXAMPLES_DIR) / program).string(), "--help"});
      const std::string usage = help.readAllStdout(30s);
      BOOST_CHECK_EQUAL(help.waitFor(30s).value_or(-1), 0);
      const std::regex option(R"re("(--[a-z-]+)")re");
      for (std::sregex_iterator it(line.begin(), line.end(), option), end; it != end; ++it) {
        BOOST_CHECK_MESSAGE(usage.find((*it)[1].str() + " ") != std::string::npos ||
                                usage.find((*it)[1].str() + ",") != std::string::npos,
                            program << " has no option " << (*it)[1] << " (docker-compose.yml)");
      }
      ++programs;
    }
  }
  BOOST_CHECK_EQUAL(files, 3);  // context, dockerfile, the config mount
  BOOST_CHECK_EQUAL(programs, 5);
  BOOST_CHECK(compose.find("EVR_ENDPOINT: ipc:///run/evrouter/evrouterd.sock") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(unit_is_type_notify_with_reload_runtime_dir_and_an_unprivileged_user) {
  TempDir dir;
  const auto bindir = installedBinDir(dir);
  const auto unit = configuredUnit(bindir);
  BOOST_CHECK(hasLine(unit, "Type=notify"));
  // evrctl waits for the outcome, so `systemctl reload` fails when the config is rejected.
  BOOST_CHECK(hasLine(unit, "ExecReload=" + (bindir / "evrctl").string() + " reload --timeout 30"));
  BOOST_CHECK(hasLine(unit, "RuntimeDirectory=evrouter"));
  BOOST_CHECK(hasLine(unit, "ConfigurationDirectory=evrouter"));
  BOOST_CHECK(hasLine(unit, "DynamicUser=yes") || unit.find("\nUser=") != std::string::npos);
  BOOST_CHECK(hasLine(unit, "ExecStart=" + (bindir / "evrouterd").string() +
                                " -c ${CONFIGURATION_DIRECTORY}/evrouter.yaml"));
  BOOST_CHECK_MESSAGE(unit.find("@EVR_") == std::string::npos, "unsubstituted placeholder in the unit");
}

BOOST_AUTO_TEST_CASE(unit_verifies_and_its_exposure_is_at_most_2_5) {
  const auto analyze = findInPath("systemd-analyze");
  TempDir dir;
  const auto unit_path = dir.write("evrouterd.service", configuredUnit(installedBinDir(dir)));
  if (!analyze) {
    BOOST_TEST_MESSAGE("systemd-analyze not found: `verify` and `security` skipped; "
                       "checking the hardening settings in the unit text instead");
    const auto unit = readFile(unit_path);
    for (const char* setting :
         {"NoNewPrivileges=yes", "ProtectSystem=strict", "ProtectHome=yes", "PrivateTmp=yes",
          "PrivateDevices=yes", "CapabilityBoundingSet=", "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6",
          "IPAddressDeny=any", "IPAddressAllow=localhost", "SystemCallFilter=@system-service",
          "SystemCallFilter=~@privileged @resources", "MemoryDenyWriteExecute=yes", "UMask=0007"}) {
      BOOST_CHECK_MESSAGE(hasLine(unit, setting), "missing " << setting);
    }
    return;
  }
  {
    Process verify({analyze->string(), "verify", unit_path});
    const auto code = verify.waitFor(60s);
    const auto errors = verify.readAllStderr(2s);
    BOOST_TEST_INFO("systemd-analyze verify: " << errors);
    BOOST_REQUIRE(code.has_value());
    BOOST_CHECK_EQUAL(*code, 0);
    // verify also exits 0 on warnings about the unit; those name the unit file.
    BOOST_CHECK_MESSAGE(errors.find("evrouterd.service") == std::string::npos, errors);
  }
  Process security({analyze->string(), "security", "--offline=yes", "--no-pager", unit_path});
  const auto report = security.readAllStdout(60s);
  BOOST_REQUIRE(security.waitFor(60s).has_value());
  std::smatch match;
  BOOST_REQUIRE_MESSAGE(std::regex_search(report, match, std::regex(R"(Overall exposure level for \S+: ([0-9.]+))")),
                        "no exposure level in: " << report << security.readAllStderr(1s));
  const double exposure = std::stod(match[1]);
  BOOST_TEST_MESSAGE("systemd-analyze security --offline=yes: exposure " << exposure);
  BOOST_CHECK_LE(exposure, 2.5);
}

BOOST_AUTO_TEST_CASE(notifies_ready_reloading_ready_stopping_and_exits_0) {
  TempDir dir;
  NotifySocket notify(dir.path() / "notify.sock");
  const auto config = dir.write("evrouter.yaml", kConfig);
  auto daemon = startNotifyingDaemon(dir, config, notify);

  BOOST_REQUIRE_EQUAL(notify.next(20s).value_or("<none>"), "READY=1");
  // READY=1 comes after bind: the socket is already there for containers.
  BOOST_CHECK(fs::exists(dir.path() / "evrouterd.sock"));

  const auto before = monotonicMicros();
  daemon->signal(SIGHUP);
  const auto reloading = notify.next(20s);
  expectReloading(reloading, before, monotonicMicros());
  BOOST_CHECK_EQUAL(notify.next(20s).value_or("<none>"), "READY=1");

  daemon->signal(SIGTERM);
  BOOST_CHECK_EQUAL(notify.next(20s).value_or("<none>"), "STOPPING=1");
  BOOST_CHECK_EQUAL(daemon->waitFor(20s).value_or(-1), 0);
}

BOOST_AUTO_TEST_CASE(rejected_reload_still_returns_to_ready) {
  // systemd holds the unit in "reloading" until READY=1: a bad config must not leave it there.
  TempDir dir;
  NotifySocket notify(dir.path() / "notify.sock");
  const auto config = dir.write("evrouter.yaml", kConfig);
  auto daemon = startNotifyingDaemon(dir, config, notify);
  BOOST_REQUIRE_EQUAL(notify.next(20s).value_or("<none>"), "READY=1");

  dir.write("evrouter.yaml", "event_communication:\n  adapters:\n    - type: no_such_adapter\n");
  const auto before = monotonicMicros();
  daemon->signal(SIGHUP);
  const auto reloading = notify.next(20s);
  expectReloading(reloading, before, monotonicMicros());
  BOOST_CHECK_EQUAL(notify.next(20s).value_or("<none>"), "READY=1");
  BOOST_CHECK(daemon->waitForLine("reload rejected", 20s, Process::Stream::Stderr));

  daemon->signal(SIGTERM);
  BOOST_CHECK_EQUAL(notify.next(20s).value_or("<none>"), "STOPPING=1");
  BOOST_CHECK_EQUAL(daemon->waitFor(20s).value_or(-1), 0);
}

BOOST_AUTO_TEST_CASE(with_a_watchdog_the_loop_pings_it) {
  TempDir dir;
  NotifySocket notify(dir.path() / "notify.sock");
  const auto config = dir.write("evrouter.yaml", std::string("router:\n  heartbeat_ms: 100\n") + kConfig);
  auto daemon = startNotifyingDaemon(dir, config, notify, "400000");  // WatchdogSec=0.4s
  BOOST_REQUIRE_EQUAL(notify.next(20s).value_or("<none>"), "READY=1");
  // Pings every 200 ms from the relay loop: two in a row prove they repeat.
  BOOST_CHECK_EQUAL(notify.next(5s).value_or("<none>"), "WATCHDOG=1");
  BOOST_CHECK_EQUAL(notify.next(5s).value_or("<none>"), "WATCHDOG=1");
  daemon->signal(SIGTERM);
  BOOST_CHECK_EQUAL(daemon->waitFor(20s).value_or(-1), 0);
}

BOOST_AUTO_TEST_SUITE_END()
