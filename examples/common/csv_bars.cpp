#include "csv_bars.hpp"

// Read synchronously: no reader thread for files of a few hundred kilobytes. The library copies
// file names with strncpy into a fixed buffer, which GCC flags once inlined here; the truncation
// is intended (its error messages hold at most 255 characters of the name).
#define CSV_IO_NO_THREAD
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wstringop-truncation"
#include <libfccp/csv.h>
#pragma GCC diagnostic pop

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <charconv>
#include <chrono>
#include <map>
#include <set>

namespace evr::examples {

namespace fs = std::filesystem;

std::optional<std::int64_t> parseIsoDate(std::string_view text) {
  int y = 0;
  unsigned m = 0;
  unsigned d = 0;
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return std::nullopt;
  const auto number = [&](std::size_t at, std::size_t length, auto& out) {
    const char* end = text.data() + at + length;
    const auto result = std::from_chars(text.data() + at, end, out);
    return result.ec == std::errc{} && result.ptr == end;
  };
  if (!number(0, 4, y) || !number(5, 2, m) || !number(8, 2, d)) return std::nullopt;
  const std::chrono::year_month_day date{std::chrono::year{y}, std::chrono::month{m}, std::chrono::day{d}};
  if (!date.ok()) return std::nullopt;
  const auto since_epoch = std::chrono::sys_days{date}.time_since_epoch();
  return std::chrono::duration_cast<std::chrono::nanoseconds>(since_epoch).count();
}

std::string isoDate(std::int64_t time_ns) {
  const auto days = std::chrono::floor<std::chrono::days>(std::chrono::sys_time<std::chrono::nanoseconds>{
      std::chrono::nanoseconds{time_ns}});
  const std::chrono::year_month_day date{days};
  char text[16];
  std::snprintf(text, sizeof text, "%04d-%02u-%02u", static_cast<int>(date.year()),
                static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()));
  return text;
}

namespace {

std::string where(const fs::path& path, unsigned line) {
  return path.string() + ":" + std::to_string(line) + ": ";
}

double number(const fs::path& path, unsigned line, const char* column, const std::string& text) {
  double value = 0;
  const auto result = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || result.ec != std::errc{} || result.ptr != text.data() + text.size() || !std::isfinite(value)) {
    throw CsvError(where(path, line) + "column '" + column + "': '" + text + "' is not a number");
  }
  return value;
}

}  // namespace

std::vector<evr::Bar> readBarFile(const fs::path& path, const std::string& symbol) {
  std::vector<evr::Bar> bars;
  unsigned line = 0;
  try {
    io::CSVReader<6, io::trim_chars<' ', '\t'>, io::double_quote_escape<',', '"'>> reader(path.string());
    line = 1;  // a header problem is reported on the header's line
    reader.read_header(io::ignore_extra_column, "date", "open", "high", "low", "close", "volume");
    std::string date, open, high, low, close, volume;
    while (reader.read_row(date, open, high, low, close, volume)) {
      line = reader.get_file_line();
      const auto time_ns = parseIsoDate(date);
      if (!time_ns) throw CsvError(where(path, line) + "column 'date': '" + date + "' is not a date (YYYY-MM-DD)");
      if (!bars.empty() && *time_ns <= bars.back().time_ns) {
        throw CsvError(where(path, line) + "date " + date + " does not come after " + isoDate(bars.back().time_ns));
      }
      evr::Bar bar{.symbol = symbol, .time_ns = *time_ns,
                   .open = number(path, line, "open", open), .high = number(path, line, "high", high),
                   .low = number(path, line, "low", low), .close = number(path, line, "close", close),
                   .volume = number(path, line, "volume", volume), .period_seconds = 86400};
      if (bar.low <= 0 || bar.high < std::max(bar.open, bar.close) || bar.low > std::min(bar.open, bar.close)) {
        throw CsvError(where(path, line) + "inconsistent bar: need 0 < low <= open, close <= high (open " + open +
                       ", high " + high + ", low " + low + ", close " + close + ")");
      }
      if (bar.volume < 0) throw CsvError(where(path, line) + "column 'volume': negative volume " + volume);
      bars.push_back(std::move(bar));
    }
  } catch (const io::error::base& e) {
    // Splitting errors (too few columns, a missing header column, an unreadable file): the
    // library's own message, with the line it was on in front like ours.
    if (const auto* at = dynamic_cast<const io::error::with_file_line*>(&e); at != nullptr && at->file_line > 0) {
      line = static_cast<unsigned>(at->file_line);
    }
    throw CsvError(where(path, line) + e.what());
  }
  if (bars.empty()) throw CsvError(where(path, 0) + "no bars after the header");
  return bars;
}

std::vector<evr::Bar> readBars(const std::vector<fs::path>& paths, std::size_t slice) {
  std::map<std::string, fs::path> files;  // symbol -> file, in name order
  for (const auto& path : paths) {
    std::error_code error;
    if (fs::is_directory(path, error)) {
      for (const auto& entry : fs::directory_iterator(path)) {
        if (entry.is_regular_file() && entry.path().extension() == ".csv") files[entry.path().stem().string()] = entry.path();
      }
    } else if (fs::is_regular_file(path, error)) {
      files[path.stem().string()] = path;
    } else {
      throw CsvError(where(path, 0) + "no such file or directory");
    }
  }
  if (files.empty()) throw CsvError("no *.csv files in the given paths");

  std::vector<evr::Bar> all;
  for (const auto& [symbol, path] : files) {
    auto bars = readBarFile(path, symbol);
    all.insert(all.end(), std::make_move_iterator(bars.begin()), std::make_move_iterator(bars.end()));
  }
  // By date, then symbol: the replay order. stable_sort keeps symbols in name order.
  std::stable_sort(all.begin(), all.end(), [](const evr::Bar& a, const evr::Bar& b) { return a.time_ns < b.time_ns; });
  if (slice > 0) {
    std::set<std::int64_t> dates;
    std::size_t keep = 0;
    for (; keep < all.size(); ++keep) {
      dates.insert(all[keep].time_ns);
      if (dates.size() > slice) break;
    }
    all.resize(keep);
  }
  return all;
}

}  // namespace evr::examples
