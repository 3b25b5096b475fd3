// Daily OHLCV bars from CSV files: the data container's input (docs/demo.md, "Bringing your own
// CSV").
//
// One file per symbol, named <SYMBOL>.csv, with a header naming at least the columns
// date,open,high,low,close,volume (any order; extra columns are ignored). Dates are ISO
// (YYYY-MM-DD), strictly increasing within a file. Splitting, quoting and header matching are
// done by the Fast C++ CSV Parser (Debian libfccp-dev, io::CSVReader); the numbers are converted
// here with std::from_chars, so a bad value is reported exactly.
//
// Failure: any problem (missing file, missing column, a value that is not a number, a date out of
// order, high below low, ...) throws CsvError whose message starts with `FILE:LINE:` (LINE 0 when
// it concerns the whole file). Nothing is skipped silently.

#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "evr/events.hpp"

namespace evr::examples {

class CsvError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

inline constexpr std::int64_t kDayNs = 86'400'000'000'000;

// "2021-01-04" -> ns since the Unix epoch at 00:00 UTC; nullopt when not a valid ISO date.
std::optional<std::int64_t> parseIsoDate(std::string_view text);
// ns since the epoch -> "2021-01-04".
std::string isoDate(std::int64_t time_ns);

// Every bar of one file, in file order; `symbol` names them.
std::vector<evr::Bar> readBarFile(const std::filesystem::path& path, const std::string& symbol);

// The bar files named by `paths`: each a file (its stem is the symbol) or a directory (every
// *.csv in it). Bars of all symbols merged by date, symbols in name order within a date; only
// the first `slice` dates when slice > 0. Throws CsvError also when nothing is found.
std::vector<evr::Bar> readBars(const std::vector<std::filesystem::path>& paths, std::size_t slice = 0);

}  // namespace evr::examples
