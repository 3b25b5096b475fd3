// Target `config`: a config text through what `evrouterd --check` runs (topology/check_config.cpp),
// minus the file: the loader and the topology compile (compileConfigText), then, when it is
// accepted, the table's --check description.
//
// Findings: any exception (the stages collect diagnostics and never throw), or a rejection
// without an error diagnostic.
#include <string_view>

#include "fuzz_targets.hpp"
#include "topology/compile_config.hpp"

namespace evr::fuzz {

int fuzzConfig(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  std::size_t reported = 0;
  const auto compiled = topology::compileConfigText(text, "fuzz.yaml", [&](const config::Diagnostic& d) {
    reported += d.toString().empty() ? 0 : 1;
  });
  if (compiled.ok()) {
    const std::string described = compiled.table->describe() + compiled.table->describeDelivery();
    EVR_FUZZ_CHECK(!described.empty(), "an accepted config has an empty --check description");
  } else {
    EVR_FUZZ_CHECK(compiled.errors > 0 && reported >= compiled.errors, "a config was rejected without an error");
  }
  return 0;
}

}  // namespace evr::fuzz
