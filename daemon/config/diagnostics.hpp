// Diagnostics: config and control errors with their place, collected rather than thrown.
//
// Every stage that reads outside configuration (config_loader, topology compilation) appends to
// a Diagnostics instead of stopping at the first problem, so an operator sees all of them at once
// as `file:line:col: error: message` (nats-server's processConfigFile does the same).

#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace evr::config {

// A place in a config file. Lines and columns are 1-based; 0 means unknown.
struct Mark {
  std::string file;
  std::uint32_t line = 0;
  std::uint32_t column = 0;
};

enum class Severity : std::uint8_t { Error, Warning };

struct Diagnostic {
  Severity severity = Severity::Error;
  Mark mark;
  std::string message;
  // "file:line:col: error: message"
  std::string toString() const;
};

class Diagnostics {
 public:
  void error(const Mark& mark, std::string message);
  void warning(const Mark& mark, std::string message);

  bool hasErrors() const { return error_count_ > 0; }
  std::size_t errorCount() const { return error_count_; }
  std::size_t warningCount() const { return items_.size() - error_count_; }
  const std::vector<Diagnostic>& all() const { return items_; }
  // One diagnostic per line, in the order found.
  std::string toString() const;

 private:
  std::vector<Diagnostic> items_;
  std::size_t error_count_ = 0;
};

// "file:line:col" ("file:line" when the column is unknown, "file" when the line is too;
// "<config>" stands in for an empty file name).
std::string toString(const Mark& mark);

// For "unknown name" messages: " (did you mean 'x'?)" when one candidate is a plausible typo of
// `word` (edit distance at most 2, and less than half the word), "" otherwise.
std::string didYouMean(std::string_view word, std::span<const std::string_view> candidates);

// Levenshtein distance (used for "did you mean" and for the typo warning of the topology).
std::size_t editDistance(std::string_view a, std::string_view b);

}  // namespace evr::config
