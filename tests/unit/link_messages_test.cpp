// HELLO, WELCOME and ERROR bodies (protocol/src/link_messages.cpp): round trips of every field,
// and untrusted bytes refused with a reason, never a throw.
#include <boost/test/unit_test.hpp>

#include <cstring>
#include <vector>

#include "evr/envelope.hpp"
#include "evr/link_messages.hpp"

namespace {

std::vector<std::byte> toBytes(const kj::Array<capnp::word>& words) {
  const auto bytes = words.asBytes();
  std::vector<std::byte> out(bytes.size());
  std::memcpy(out.data(), bytes.begin(), bytes.size());
  return out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(link_messages)

BOOST_AUTO_TEST_CASE(hello_round_trips_every_field) {
  const evr::HelloInfo hello{
      evr::kProtocolVersion, "strategy_a", 0x1122334455667788ull, 41, 4242, "1.2.3"};
  std::string why;
  const auto decoded = evr::decodeHello(toBytes(evr::encodeHello(hello)), why);
  BOOST_REQUIRE_MESSAGE(decoded.has_value(), why);
  BOOST_TEST(decoded->protocol_version == evr::kProtocolVersion);
  BOOST_TEST(decoded->container == "strategy_a");
  BOOST_TEST(decoded->client_instance == 0x1122334455667788ull);
  BOOST_TEST(decoded->base_seq == 41u);
  BOOST_TEST(decoded->pid == 4242u);
  BOOST_TEST(decoded->client_version == "1.2.3");
}

BOOST_AUTO_TEST_CASE(welcome_round_trips_every_field) {
  const evr::WelcomeInfo welcome{evr::kProtocolVersion, 7, 99, 250, 1 << 20, "9.9.9"};
  std::string why;
  const auto decoded = evr::decodeWelcome(toBytes(evr::encodeWelcome(welcome)), why);
  BOOST_REQUIRE_MESSAGE(decoded.has_value(), why);
  BOOST_TEST(decoded->protocol_version == evr::kProtocolVersion);
  BOOST_TEST(decoded->daemon_instance == 7u);
  BOOST_TEST(decoded->ack_seq == 99u);
  BOOST_TEST(decoded->heartbeat_ms == 250u);
  BOOST_TEST(decoded->max_message_size == 1u << 20);
  BOOST_TEST(decoded->daemon_version == "9.9.9");
}

BOOST_AUTO_TEST_CASE(error_round_trips_code_message_and_seq) {
  const evr::ErrorInfo error{evr::schema::ErrorCode::MESSAGE_TOO_LARGE, "too big: 2 MiB", 12};
  std::string why;
  const auto decoded = evr::decodeError(toBytes(evr::encodeError(error)), why);
  BOOST_REQUIRE_MESSAGE(decoded.has_value(), why);
  BOOST_TEST((decoded->code == evr::schema::ErrorCode::MESSAGE_TOO_LARGE));
  BOOST_TEST(decoded->message == "too big: 2 MiB");
  BOOST_TEST(decoded->seq == 12u);
}

BOOST_AUTO_TEST_CASE(empty_and_truncated_bodies_are_refused_with_a_reason) {
  const auto whole = toBytes(evr::encodeHello({evr::kProtocolVersion, "data", 1, 0, 1, "x"}));
  for (const std::size_t size : {std::size_t{0}, std::size_t{4}, whole.size() - 8}) {
    const std::span<const std::byte> cut(whole.data(), size);
    std::string why;
    BOOST_TEST(!evr::decodeHello(cut, why).has_value());
    BOOST_TEST(!why.empty(), "no reason for " << size << " bytes");
    why.clear();
    BOOST_TEST(!evr::decodeWelcome(cut, why).has_value());
    BOOST_TEST(!why.empty());
    why.clear();
    BOOST_TEST(!evr::decodeError(cut, why).has_value());
    BOOST_TEST(!why.empty());
  }
}

BOOST_AUTO_TEST_CASE(a_pointer_out_of_its_segment_is_refused_not_thrown) {
  // One segment of two words: a root struct pointer whose offset points far outside the segment.
  std::vector<std::byte> bytes(8 + 16, std::byte{0});
  bytes[4] = std::byte{2};     // segment 0: 2 words
  bytes[8] = std::byte{0xfc};  // struct pointer, offset 0x3fffffff words
  bytes[9] = std::byte{0xff};
  bytes[10] = std::byte{0xff};
  bytes[11] = std::byte{0x7f};
  bytes[12] = std::byte{1};  // 1 data word
  std::string why;
  BOOST_TEST(!evr::decodeHello(bytes, why).has_value());
  BOOST_TEST(!why.empty());
}

BOOST_AUTO_TEST_CASE(container_names_have_a_length_limit_and_an_alphabet) {
  BOOST_TEST(evr::checkContainerName(std::string(128, 'a')).empty());
  BOOST_TEST(!evr::checkContainerName(std::string(129, 'a')).empty());
  BOOST_TEST(evr::checkContainerName("A-z_0.9").empty());
  for (const char* bad : {"a/b", "a:b", "ä", "a\nb", "a*"}) {
    BOOST_TEST(!evr::checkContainerName(bad).empty(), "accepted '" << bad << "'");
  }
}

BOOST_AUTO_TEST_SUITE_END()
