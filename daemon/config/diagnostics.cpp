#include "config/diagnostics.hpp"

#include <algorithm>
#include <utility>

namespace evr::config {

std::string toString(const Mark& mark) {
  std::string out = mark.file.empty() ? std::string("<config>") : mark.file;
  if (mark.line > 0) {
    out += ':';
    out += std::to_string(mark.line);
    if (mark.column > 0) {
      out += ':';
      out += std::to_string(mark.column);
    }
  }
  return out;
}

std::string Diagnostic::toString() const {
  std::string out = config::toString(mark);
  out += severity == Severity::Error ? ": error: " : ": warning: ";
  out += message;
  return out;
}

void Diagnostics::error(const Mark& mark, std::string message) {
  items_.push_back(Diagnostic{Severity::Error, mark, std::move(message)});
  ++error_count_;
}

void Diagnostics::warning(const Mark& mark, std::string message) {
  items_.push_back(Diagnostic{Severity::Warning, mark, std::move(message)});
}

std::string Diagnostics::toString() const {
  std::string out;
  for (const auto& item : items_) {
    out += item.toString();
    out += '\n';
  }
  return out;
}

// The words are names and keys, so O(n*m) is nothing.
std::size_t editDistance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t substitution = diagonal + (a[i - 1] == b[j - 1] ? 0 : 1);
      diagonal = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, substitution});
    }
  }
  return row[b.size()];
}

std::string didYouMean(std::string_view word, std::span<const std::string_view> candidates) {
  std::string_view best;
  std::size_t best_distance = 3;
  for (const auto candidate : candidates) {
    const std::size_t distance = editDistance(word, candidate);
    if (distance < best_distance && distance * 2 < std::max(word.size(), candidate.size())) {
      best = candidate;
      best_distance = distance;
    }
  }
  if (best.empty()) return {};
  return " (did you mean '" + std::string(best) + "'?)";
}

}  // namespace evr::config
