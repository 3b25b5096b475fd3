// Target `condition`: a condition text (a selective rule's `condition:`) through compileCondition,
// then, when it compiles, its canonical text compiled again (it must compile to the same text) and
// evaluate() on each of the fixed events of fuzz_support.cpp with hops 0 and 3.
//
// Findings: any exception, a rejection without an error diagnostic, a canonical text that does
// not compile back to itself.
#include <capnp/serialize.h>

#include <string_view>

#include "fuzz_support.hpp"
#include "fuzz_targets.hpp"
#include "routing/condition.hpp"

namespace evr::fuzz {

int fuzzCondition(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  config::Diagnostics diagnostics;
  const config::Mark mark{"fuzz.yaml", 3, 20};
  const auto condition = routing::compileCondition(text, mark, diagnostics);
  if (!condition) {
    EVR_FUZZ_CHECK(diagnostics.hasErrors(), "a condition was rejected without an error");
    return 0;
  }
  config::Diagnostics again;
  const auto canonical = routing::compileCondition(condition->text(), mark, again);
  EVR_FUZZ_CHECK(canonical.has_value(), "a condition's canonical text does not compile");
  EVR_FUZZ_CHECK(canonical->text() == condition->text(), "a condition's canonical text is not stable");
  for (const auto& words : fixedEvents()) {
    capnp::FlatArrayMessageReader message(words.asPtr());
    const auto event = message.getRoot<schema::Event>();
    for (const std::uint8_t hops : {0, 3}) {
      const bool result = condition->evaluate(routing::EventView{event, hops});
      EVR_FUZZ_CHECK(result == canonical->evaluate(routing::EventView{event, hops}),
                     "a condition and its canonical text disagree");
    }
  }
  return 0;
}

}  // namespace evr::fuzz
