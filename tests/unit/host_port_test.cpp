// config/host_port: the host:port form of `router.metrics` and `--metrics`.
#include <boost/test/unit_test.hpp>

#include "config/host_port.hpp"

BOOST_AUTO_TEST_SUITE(host_port)

BOOST_AUTO_TEST_CASE(metrics_address_parses_host_port_and_rejects_the_rest) {
  const auto v4 = evr::config::parseHostPort("127.0.0.1:9464");
  BOOST_REQUIRE(v4);
  BOOST_CHECK_EQUAL(v4->host, "127.0.0.1");
  BOOST_CHECK_EQUAL(v4->port, 9464);
  const auto v6 = evr::config::parseHostPort("[::1]:0");
  BOOST_REQUIRE(v6);
  BOOST_CHECK_EQUAL(v6->host, "::1");
  BOOST_CHECK_EQUAL(v6->port, 0);
  for (const char* bad : {"", "9464", ":9464", "127.0.0.1:", "127.0.0.1:65536", "127.0.0.1:-1",
                          "::1:9464", "[::1:9464", "host name:1", "127.0.0.1:94x"}) {
    BOOST_TEST_INFO(bad);
    BOOST_CHECK(!evr::config::parseHostPort(bad));
  }
  BOOST_CHECK(evr::config::isLoopbackHost("127.0.0.1"));
  BOOST_CHECK(evr::config::isLoopbackHost("localhost"));
  BOOST_CHECK(!evr::config::isLoopbackHost("0.0.0.0"));
}

BOOST_AUTO_TEST_SUITE_END()
