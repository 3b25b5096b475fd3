// The fuzz targets (docs/fuzzing.md): each takes one input and runs it through the daemon's real
// code for outside input, the way the daemon would meet it. They are plain functions so that two
// builds share them: libfuzzer_main.cpp wraps one per executable in LLVMFuzzerTestOneInput
// (-DEVR_FUZZ=ON, clang, sanitizers), and tests/unit/fuzz_corpus_test.cpp replays every corpus
// file through all of them in the normal build.
//
// Contract: a target returns 0 for every input. A bug it finds (an exception escaping a stage
// that must not throw, a failed invariant) aborts through EVR_FUZZ_CHECK, which the fuzzer
// reports as a crash and the replay test as a failure.
#pragma once

#include <capnp/common.h>
#include <kj/common.h>

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace evr::fuzz {

// One message sequence on a container link, through a real RelayLoop (fuzz/message_target.cpp).
int fuzzMessage(const std::uint8_t* data, std::size_t size);
// A config text through the loader and the topology compile, as `evrouterd --check` runs them.
int fuzzConfig(const std::uint8_t* data, std::size_t size);
// A condition text through compileCondition, then evaluated on fixed events.
int fuzzCondition(const std::uint8_t* data, std::size_t size);
// One control request frame, answered against a real RelayLoop and Reloader.
int fuzzControl(const std::uint8_t* data, std::size_t size);
// Any bytes as a Cap'n Proto message: contentWords against Cap'n Proto's own count.
int fuzzCapnp(const std::uint8_t* data, std::size_t size);

// Part of fuzzCapnp, also run by tests/unit/event_schema_test.cpp: every event field read by hand
// from `words` (fields::FlatEvent) and through a Cap'n Proto reader with no traversal limit. Where
// the hand reader gives a value, the reader must read the same one without throwing; where its
// root is readable, the reader's must be. Counts the fields it read by hand and those it left.
struct FlatReads {
  std::size_t by_hand = 0;
  std::size_t left = 0;
};
FlatReads compareFlatReads(kj::ArrayPtr<const capnp::word> words);

using Target = int (*)(const std::uint8_t*, std::size_t);
struct NamedTarget {
  std::string_view name;  // also the corpus directory: fuzz/corpus/<name>/
  Target run;
};
inline constexpr NamedTarget kTargets[] = {
    {"message", &fuzzMessage},
    {"config", &fuzzConfig},
    {"condition", &fuzzCondition},
    {"control", &fuzzControl},
    {"capnp", &fuzzCapnp},
};

// Aborts with `what` on stderr: a finding.
[[noreturn]] void fail(std::string_view what);

}  // namespace evr::fuzz

#define EVR_FUZZ_CHECK(condition, what) \
  do {                                  \
    if (!(condition)) ::evr::fuzz::fail(what); \
  } while (false)
