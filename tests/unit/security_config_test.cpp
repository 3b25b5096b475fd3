// router.security and router.permissions: key files in ZeroMQ's certificate format (read by
// pyzmq's own loader, and ours reading what pyzmq writes), and every config error naming its
// file or its file:line:col.

#include <boost/test/unit_test.hpp>
#include <sys/stat.h>

#include <filesystem>
#include <string>

#include "config/config_loader.hpp"
#include "evr/curve_keys.hpp"
#include "process.hpp"
#include "security/access_list.hpp"
#include "temp_dir.hpp"

using namespace evr;
using namespace std::chrono_literals;

namespace {

struct Keys {
  test::TempDir dir;
  std::string server;  // prefix of each pair
  std::string strategy;
  std::string ops;
  Keys() {
    for (auto* prefix : {&server, &strategy, &ops}) {
      static int n = 0;
      *prefix = (dir.path() / ("key" + std::to_string(n++))).string();
      writeKeyFiles(*prefix, generateKeys());
    }
  }
};

std::string securityYaml(const Keys& keys, const std::string& clients) {
  return "router:\n"
         "  security:\n"
         "    secret_key_file: " + keys.server + ".key\n"
         "    clients:\n" + clients +
         "event_communication:\n"
         "  adapters:\n"
         "    - type: pipeline\n"
         "      containers: [strategy_a, execution]\n";
}

std::optional<config::Config> load(const std::string& yaml, config::Diagnostics& diagnostics) {
  return config::loadConfigText(yaml, "test.yaml", diagnostics);
}

// The one error of loading `yaml`: its text, with "test.yaml:L:C: error: " in front.
std::string onlyError(const std::string& yaml) {
  config::Diagnostics diagnostics;
  const auto config = load(yaml, diagnostics);
  BOOST_TEST_INFO("diagnostics:\n" << diagnostics.toString());
  BOOST_TEST(!config.has_value());
  BOOST_TEST_REQUIRE(diagnostics.errorCount() == 1u);
  return diagnostics.all().front().toString();
}

int runPython(const std::string& script) {
  test::Process python({"/usr/bin/python3", "-c", script});
  const auto code = python.waitFor(60s);
  BOOST_TEST_INFO("python stderr: " << python.readAllStderr(1s));
  return code.value_or(-1);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(security_config)

BOOST_AUTO_TEST_CASE(keygen_files_are_zeromq_certificates_both_ways) {
  test::TempDir dir;
  const std::string prefix = (dir.path() / "strategy").string();
  const CurveKeys keys = generateKeys();
  writeKeyFiles(prefix, keys);
  struct stat secret {};
  BOOST_REQUIRE_EQUAL(::stat((prefix + ".key").c_str(), &secret), 0);
  BOOST_TEST((secret.st_mode & 0777) == 0600u);
  // Never overwritten.
  BOOST_CHECK_THROW(writeKeyFiles(prefix, generateKeys()), KeyFileError);
  BOOST_TEST(readKeyFile(prefix + ".pub").public_key == keys.public_key);
  BOOST_TEST(!readKeyFile(prefix + ".pub").secret_key.has_value());
  BOOST_TEST(*readSecretKeyFile(prefix + ".key").secret_key == *keys.secret_key);
  BOOST_CHECK_THROW(readSecretKeyFile(prefix + ".pub"), KeyFileError);

  // pyzmq's loader reads ours: the same public and secret keys.
  BOOST_TEST(runPython("import zmq.auth, sys\n"
                       "p, s = zmq.auth.load_certificate('" + prefix + ".key')\n"
                       "q, n = zmq.auth.load_certificate('" + prefix + ".pub')\n"
                       "sys.exit(0 if p == q == b'" + keys.public_key + "' and s == b'" + *keys.secret_key +
                       "' and n is None else 1)\n") == 0);
  // And we read what pyzmq writes.
  BOOST_REQUIRE(runPython("import zmq.auth\nzmq.auth.create_certificates('" + dir.path().string() + "', 'py')\n") == 0);
  const CurveKeys from_python = readSecretKeyFile((dir.path() / "py.key_secret").string());
  BOOST_TEST(readKeyFile((dir.path() / "py.key").string()).public_key == from_python.public_key);
}

BOOST_AUTO_TEST_CASE(malformed_key_files_are_errors_naming_the_file) {
  test::TempDir dir;
  const std::string empty = dir.write("empty.pub", "# nothing here\n");
  const std::string short_key = dir.write("short.pub", "curve\n    public-key = \"abc\"\n");
  const auto keys = generateKeys();
  const auto other = generateKeys();
  const std::string mismatched = dir.write(
      "mismatch.key", "curve\n    public-key = \"" + keys.public_key + "\"\n    secret-key = \"" + *other.secret_key + "\"\n");
  BOOST_CHECK_EXCEPTION(readKeyFile(empty), KeyFileError, [&](const KeyFileError& e) {
    return std::string(e.what()).find(empty + ": no public-key") == 0;
  });
  BOOST_CHECK_EXCEPTION(readKeyFile(short_key), KeyFileError, [&](const KeyFileError& e) {
    return std::string(e.what()).find(short_key + ":2: public-key is not 40 characters of Z85") == 0;
  });
  BOOST_CHECK_EXCEPTION(readKeyFile(mismatched), KeyFileError, [&](const KeyFileError& e) {
    return std::string(e.what()).find("does not belong") != std::string::npos;
  });
  BOOST_CHECK_EXCEPTION(readKeyFile(dir.path().string() + "/missing.pub"), KeyFileError, [&](const KeyFileError& e) {
    return std::string(e.what()).find("missing.pub: cannot read") != std::string::npos;
  });

  // In a config: an error at the key's place, with the file's name and problem.
  Keys k;
  const std::string error = onlyError(securityYaml(k, "      - key: " + short_key + "\n        names: [strategy_a]\n"));
  BOOST_TEST(error.find("test.yaml:5:") == 0);
  BOOST_TEST(error.find(short_key + ":2: public-key is not 40 characters") != std::string::npos);
  const std::string unreadable_secret = onlyError(
      "router:\n  security:\n    secret_key_file: " + dir.path().string() + "/nope.key\n    clients: []\n");
  BOOST_TEST(unreadable_secret.find("test.yaml:3:22: error: secret_key_file: ") == 0);
  BOOST_TEST(unreadable_secret.find("nope.key: cannot read") != std::string::npos);
  // A public key where the secret one is wanted.
  const std::string public_as_secret = onlyError(
      "router:\n  security:\n    secret_key_file: " + k.server + ".pub\n    clients: []\n");
  BOOST_TEST(public_as_secret.find("has no secret-key") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_key_twice_or_a_name_claimed_twice_is_an_error_at_its_place) {
  Keys k;
  const std::string twice = onlyError(securityYaml(k,
                                                   "      - key: " + k.strategy + ".pub\n"
                                                   "        names: [strategy_a]\n"
                                                   "      - key: " + k.strategy + ".pub\n"
                                                   "        names: [execution]\n"));
  BOOST_TEST(twice.find("test.yaml:7:14: error: key ") == 0);
  BOOST_TEST(twice.find("is listed twice (first at 5:14)") != std::string::npos);

  const std::string claimed = onlyError(securityYaml(k,
                                                     "      - key: " + k.strategy + ".pub\n"
                                                     "        names: [strategy_a, execution]\n"
                                                     "      - key: " + k.ops + ".pub\n"
                                                     "        names: [execution]\n"));
  BOOST_TEST(claimed.find("test.yaml:8:17: error: container 'execution' is claimed by two keys (first at 6:29)") == 0);

  const std::string role = onlyError(securityYaml(k, "      - key: " + k.ops + ".pub\n        names: []\n        control: amdin\n"));
  BOOST_TEST(role.find("unknown control role 'amdin'") != std::string::npos);
  BOOST_TEST(role.find("did you mean 'admin'") != std::string::npos);

  const std::string own = onlyError(securityYaml(k, "      - key: " + k.server + ".pub\n        names: [strategy_a]\n"));
  BOOST_TEST(own.find("evrouterd's own key") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(clients_compile_to_an_access_list) {
  Keys k;
  const std::string ops_public = readKeyFile(k.ops + ".pub").public_key;
  config::Diagnostics diagnostics;
  const auto config = load(securityYaml(k,
                                        "      - key: " + k.strategy + ".pub\n"
                                        "        names: [strategy_a]\n"
                                        "      - key: \"" + ops_public + "\"\n"  // the Z85 text itself
                                        "        names: []\n"
                                        "        control: read\n"
                                        "  permissions:\n    strategy_a: {publish: [ORDER]}\n"),
                           diagnostics);
  BOOST_TEST_INFO(diagnostics.toString());
  BOOST_TEST_REQUIRE(config.has_value());
  BOOST_TEST_REQUIRE(config->router.security.has_value());
  BOOST_TEST(config->router.security->public_key == readKeyFile(k.server + ".pub").public_key);
  const auto access = security::AccessList::compile(*config->router.security);
  const std::string strategy_public = readKeyFile(k.strategy + ".pub").public_key;
  BOOST_TEST(access->mayJoin(strategy_public, "strategy_a"));
  BOOST_TEST(!access->mayJoin(strategy_public, "execution"));
  BOOST_TEST(!access->mayJoin(ops_public, "strategy_a"));
  BOOST_TEST((access->role(ops_public) == config::ControlRole::Read));
  BOOST_TEST((access->role(strategy_public) == config::ControlRole::None));
  BOOST_TEST(access->find(readKeyFile(k.server + ".pub").public_key) == nullptr);
}

BOOST_AUTO_TEST_CASE(permissions_and_tcp_without_security) {
  config::Diagnostics diagnostics;
  const auto config = load("router:\n"
                           "  listen: [\"tcp://127.0.0.1:0\"]\n"
                           "  permissions:\n"
                           "    risk_manager: {publish: [ORDER, SIGNAL]}\n"
                           "    feed: {publish: []}\n",
                           diagnostics);
  BOOST_TEST_INFO(diagnostics.toString());
  BOOST_TEST_REQUIRE(config.has_value());
  BOOST_TEST_REQUIRE(config->router.permissions.size() == 2u);
  BOOST_TEST(config->router.permissions[0].container.value == "risk_manager");
  BOOST_TEST(config->router.permissions[0].publish.value.contains(EventType::ORDER));
  BOOST_TEST(!config->router.permissions[0].publish.value.contains(EventType::BAR));
  BOOST_TEST(config->router.permissions[1].publish.value.empty());
  // tcp without security: said at the endpoint's place.
  BOOST_TEST_REQUIRE(diagnostics.warningCount() == 1u);
  BOOST_TEST(diagnostics.all().front().toString().find("test.yaml:2:12: warning: listen endpoint "
                                                       "'tcp://127.0.0.1:0' is tcp without router.security") == 0);
  config::Diagnostics typo;
  BOOST_TEST(!load("router:\n  permissions:\n    feed: {pubish: [BAR]}\n", typo).has_value());
  BOOST_TEST(typo.toString().find("test.yaml:3:12: error: unknown key 'pubish'") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
