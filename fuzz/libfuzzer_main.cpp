// The libFuzzer entry of one target (-DEVR_FUZZ=ON): EVR_FUZZ_TARGET names the function of
// fuzz_targets.hpp this executable runs. The daemon's logging is silenced: a drop logs a line,
// and printing one per input would be most of the fuzzer's time.
#include <spdlog/spdlog.h>

#include "fuzz_targets.hpp"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  spdlog::set_level(spdlog::level::off);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  return evr::fuzz::EVR_FUZZ_TARGET(data, size);
}
