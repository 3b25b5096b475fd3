// The README's container ("A container in a few lines": examples/quickstart/) under the test kit
// (evr::testing::Harness), and the README showing exactly that code.
#include <boost/test/unit_test.hpp>

#include <fstream>
#include <sstream>
#include <string>

#include "evr/testing/harness.hpp"
#include "quickstart/up_strategy.hpp"

namespace {

std::string readSource(const std::string& relative) {
  std::ifstream file(std::string(EVR_SOURCE_DIR) + "/" + relative);
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

// The lines of `text` between the line holding `begin` and the one holding `end`.
std::string between(const std::string& text, const std::string& begin, const std::string& end) {
  const auto from = text.find('\n', text.find(begin)) + 1;
  const auto to = text.rfind('\n', text.find(end)) + 1;
  return text.substr(from, to - from);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(readme_example)

// README: test begin
BOOST_AUTO_TEST_CASE(a_rising_bar_gives_a_long_signal) {
  evr::testing::Harness h("strategy");
  setup(h.bus());  // the container's own code, on the harness's bus
  auto up = h.feed(evr::Bar{.symbol = "AAPL", .time_ns = 1, .open = 100, .close = 101}, "data");
  h.feed(evr::Bar{.symbol = "AAPL", .time_ns = 2, .open = 101, .close = 99}, "data");

  auto out = h.published();
  BOOST_TEST_REQUIRE(out.size() == 1u);
  BOOST_TEST(out[0].reader().getCausationId() == up.id());  // it answers the rising bar
  BOOST_TEST((evr::as<evr::Signal>(out[0]).direction == evr::Direction::Long));
}
// README: test end

BOOST_AUTO_TEST_CASE(the_readme_shows_the_code_that_is_built_and_tested) {
  const std::string readme = readSource("README.md");
  const std::string this_file = readSource("tests/unit/readme_example_test.cpp");
  for (const std::string& code : {readSource("examples/quickstart/up_strategy.hpp"),
                                  readSource("examples/quickstart/up_strategy.cpp"),
                                  between(this_file, "// README: test" " begin", "// README: test" " end")}) {
    BOOST_REQUIRE(!code.empty());
    BOOST_TEST(readme.find("```cpp\n" + code + "```") != std::string::npos, "README lacks:\n" << code);
  }
}

BOOST_AUTO_TEST_SUITE_END()
