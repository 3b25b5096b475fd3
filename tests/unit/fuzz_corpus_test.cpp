// The fuzz corpora (fuzz/corpus/<target>/, docs/fuzzing.md) replayed through the fuzz targets in
// the normal build: every seed and every finding the fuzzer ever made stays a regression input.
// A target aborts on a finding (EVR_FUZZ_CHECK), which fails this test as a crash.
#include <boost/test/unit_test.hpp>
#include <spdlog/spdlog.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "fuzz_targets.hpp"

namespace {

// The targets' inputs are mostly bad on purpose: their drops and rejected reloads would log
// thousands of lines.
struct Silenced {
  Silenced() : level_(spdlog::get_level()) { spdlog::set_level(spdlog::level::off); }
  ~Silenced() { spdlog::set_level(level_); }
  spdlog::level::level_enum level_;
};

}  // namespace

BOOST_AUTO_TEST_SUITE(fuzz_corpus)

BOOST_AUTO_TEST_CASE(every_corpus_file_of_every_target_runs_clean) {
  const Silenced silenced;
  const std::filesystem::path root = std::filesystem::path(EVR_SOURCE_DIR) / "fuzz" / "corpus";
  for (const auto& target : evr::fuzz::kTargets) {
    const auto dir = root / std::string(target.name);
    BOOST_TEST_REQUIRE(std::filesystem::is_directory(dir), dir);
    std::size_t files = 0;
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
      if (!entry.is_regular_file()) continue;
      std::ifstream in(entry.path(), std::ios::binary);
      const std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      BOOST_TEST_INFO(entry.path().string());
      int result = -1;
      BOOST_REQUIRE_NO_THROW(
          result = target.run(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()));
      BOOST_TEST(result == 0);
      ++files;
    }
    BOOST_TEST_MESSAGE(target.name << ": " << files << " corpus files");
    BOOST_TEST(files > 0u, target.name << " has no corpus files");
  }
}

BOOST_AUTO_TEST_CASE(empty_and_tiny_inputs_run_clean) {
  const Silenced silenced;
  const std::uint8_t bytes[] = {0x01, 0xff, 0xff, 0x00};
  for (const auto& target : evr::fuzz::kTargets) {
    for (std::size_t size = 0; size <= sizeof(bytes); ++size) {
      BOOST_TEST_INFO(target.name << " with " << size << " bytes");
      BOOST_REQUIRE_NO_THROW(BOOST_TEST(target.run(bytes, size) == 0));
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()
