#include "journal/segment_log.hpp"

#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <system_error>
#include <utility>

#include <fmt/format.h>

#include "evr/little_endian.hpp"

namespace evr::journal {
namespace {

constexpr std::array<char, 4> kMagic{'E', 'V', 'R', 'J'};
constexpr std::uint32_t kFormatVersion = 1;
constexpr std::size_t kSegmentHeaderBytes = 16;
constexpr std::size_t kRecordHeaderBytes = 8;

std::size_t padded(std::size_t bytes) { return (bytes + 7) & ~std::size_t{7}; }

std::string systemError(int error) { return std::system_category().message(error); }

std::vector<std::byte> readAll(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw JournalError(fmt::format("{}: cannot read: {}", path.string(), systemError(errno)));
  in.seekg(0, std::ios::end);
  std::vector<std::byte> bytes(static_cast<std::size_t>(in.tellg()));
  in.seekg(0);
  in.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  if (!in) throw JournalError(fmt::format("{}: cannot read: {}", path.string(), systemError(errno)));
  return bytes;
}

// Writes all of `bytes` (write(2) may write less, or be interrupted).
bool writeAll(int fd, const std::byte* bytes, std::size_t size) {
  while (size > 0) {
    const ssize_t n = ::write(fd, bytes, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    bytes += n;
    size -= static_cast<std::size_t>(n);
  }
  return true;
}

// The records of one segment's bytes, validated: calls `each(offset, payload)` for each good
// record and returns the offset where the good prefix ends (the file's size when all is well),
// with `why` saying what is wrong at that offset otherwise.
template <typename Each>
std::size_t scanRecords(std::span<const std::byte> file, std::uint32_t max_record, std::string& why, Each&& each) {
  std::size_t at = kSegmentHeaderBytes;
  while (at < file.size()) {
    if (file.size() - at < kRecordHeaderBytes) {
      why = "a record header runs past the end (torn write)";
      return at;
    }
    const auto length = le::load<std::uint32_t>(file.data() + at);
    const auto crc = le::load<std::uint32_t>(file.data() + at + 4);
    if (length > max_record || file.size() - at - kRecordHeaderBytes < padded(length)) {
      why = fmt::format("a record of {} bytes runs past the end (torn write)", length);
      return at;
    }
    const auto payload = file.subspan(at + kRecordHeaderBytes, length);
    if (recordChecksum(payload) != crc) {
      why = "crc mismatch";
      return at;
    }
    each(at, payload);
    at += kRecordHeaderBytes + padded(length);
  }
  return at;
}

// Writes all of `iov` (writev may write less, or be interrupted); `iov` is consumed.
bool writevAll(int fd, std::vector<struct iovec>& iov) {
  std::size_t first = 0;
  while (first < iov.size()) {
    const ssize_t n = ::writev(fd, iov.data() + first, static_cast<int>(std::min<std::size_t>(iov.size() - first, IOV_MAX)));
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    auto left = static_cast<std::size_t>(n);
    while (first < iov.size() && left >= iov[first].iov_len) {
      left -= iov[first].iov_len;
      ++first;
    }
    if (left > 0) {
      iov[first].iov_base = static_cast<std::byte*>(iov[first].iov_base) + left;
      iov[first].iov_len -= left;
    }
  }
  return true;
}

std::optional<std::uint64_t> segmentIndex(const std::filesystem::path& path) {
  const std::string name = path.filename().string();
  if (name.size() != 24 || !name.ends_with(".seg")) return std::nullopt;
  std::uint64_t index = 0;
  for (std::size_t i = 0; i < 20; ++i) {
    if (name[i] < '0' || name[i] > '9') return std::nullopt;
    index = index * 10 + static_cast<std::uint64_t>(name[i] - '0');
  }
  return index;
}

}  // namespace

std::uint32_t recordChecksum(std::span<const std::byte> payload) {
  uLong crc = crc32(0L, Z_NULL, 0);
  // zlib takes a uInt length; records are bounded well below 4 GiB (max_record_bytes).
  crc = crc32(crc, reinterpret_cast<const Bytef*>(payload.data()), static_cast<uInt>(payload.size()));
  return static_cast<std::uint32_t>(crc);
}

SegmentLog SegmentLog::open(const SegmentLogOptions& options, RecoveryReport& report) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (options.read_only) {
    if (!fs::is_directory(options.dir, ec)) {
      throw JournalError(fmt::format("journal directory {}: {}", options.dir.string(),
                                     fs::exists(options.dir, ec) ? "not a directory" : "does not exist"));
    }
    if (::access(options.dir.c_str(), R_OK | X_OK) != 0) {
      throw JournalError(fmt::format("journal directory {}: not readable: {}", options.dir.string(), systemError(errno)));
    }
  } else if (!fs::exists(options.dir, ec)) {
    if (!fs::create_directory(options.dir, ec)) {
      throw JournalError(fmt::format("journal directory {}: cannot create it: {}", options.dir.string(), ec.message()));
    }
  } else if (!fs::is_directory(options.dir, ec)) {
    throw JournalError(fmt::format("journal directory {}: not a directory", options.dir.string()));
  }
  if (!options.read_only && ::access(options.dir.c_str(), W_OK | X_OK) != 0) {
    throw JournalError(fmt::format("journal directory {}: not writable: {}", options.dir.string(), systemError(errno)));
  }

  SegmentLog log;
  log.options_ = options;
  for (const auto& entry : fs::directory_iterator(options.dir, ec)) {
    if (const auto index = segmentIndex(entry.path())) {
      log.segments_.push_back({*index, entry.path(), 0});
    }
  }
  if (ec) throw JournalError(fmt::format("journal directory {}: cannot list it: {}", options.dir.string(), ec.message()));
  std::sort(log.segments_.begin(), log.segments_.end(),
            [](const Segment& a, const Segment& b) { return a.first_index < b.first_index; });

  std::vector<Segment> kept;
  for (auto& segment : log.segments_) {
    const auto bytes = readAll(segment.path);
    const std::string file = segment.path.string();
    const bool header_ok = bytes.size() >= kSegmentHeaderBytes &&
                           std::memcmp(bytes.data(), kMagic.data(), kMagic.size()) == 0 &&
                           le::load<std::uint32_t>(bytes.data() + 4) == kFormatVersion &&
                           le::load<std::uint64_t>(bytes.data() + 8) == segment.first_index;
    if (!header_ok) {
      // Nothing in it can be trusted: set aside (kept for inspection), not deleted.
      if (options.read_only) {
        report.problems.push_back(fmt::format("{}: offset 0: bad segment header; not read", file));
      } else {
        report.problems.push_back(fmt::format("{}: offset 0: bad segment header; set aside as {}.corrupt", file,
                                              segment.path.filename().string()));
        fs::rename(segment.path, segment.path.string() + ".corrupt", ec);
      }
      report.truncated_bytes += bytes.size();
      continue;
    }
    std::uint64_t records = 0;
    std::string why;
    const std::size_t good = scanRecords(std::span(bytes), options.max_record_bytes, why,
                                         [&](std::size_t, std::span<const std::byte>) { ++records; });
    if (good < bytes.size()) {
      report.problems.push_back(fmt::format("{}: offset {}: {}; {} {} bytes after {} good records", file, good, why,
                                            options.read_only ? "ignored" : "cut", bytes.size() - good, records));
      report.truncated_bytes += bytes.size() - good;
      if (!options.read_only && ::truncate(segment.path.c_str(), static_cast<off_t>(good)) != 0) {
        throw JournalError(fmt::format("{}: cannot cut the torn tail: {}", file, systemError(errno)));
      }
    }
    segment.bytes = good;
    report.records += records;
    log.next_index_ = segment.first_index + records;
    kept.push_back(segment);
  }
  log.segments_ = std::move(kept);
  report.segments = log.segments_.size();
  if (!log.segments_.empty() && !options.read_only) {
    const auto& last = log.segments_.back();
    log.fd_ = ::open(last.path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
    if (log.fd_ < 0) throw JournalError(fmt::format("{}: cannot open for append: {}", last.path.string(), systemError(errno)));
  }
  return log;
}

SegmentLog::SegmentLog(SegmentLog&& other) noexcept { *this = std::move(other); }

SegmentLog& SegmentLog::operator=(SegmentLog&& other) noexcept {
  if (this != &other) {
    closeFile();
    options_ = std::move(other.options_);
    segments_ = std::move(other.segments_);
    next_index_ = other.next_index_;
    fd_ = std::exchange(other.fd_, -1);
    dirty_ = other.dirty_;
    last_sync_ = other.last_sync_;
    last_error_ = std::move(other.last_error_);
    fsyncs_ = other.fsyncs_;
    iov_ = std::move(other.iov_);
  }
  return *this;
}

SegmentLog::~SegmentLog() { closeFile(); }

void SegmentLog::closeFile() {
  if (fd_ >= 0) {
    if (dirty_ && options_.fsync != FsyncPolicy::None && ::fdatasync(fd_) == 0) ++fsyncs_;
    ::close(fd_);
    fd_ = -1;
  }
}

bool SegmentLog::startSegment() {
  closeFile();
  const auto path = options_.dir / fmt::format("{:020}.seg", next_index_);
  const int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
  if (fd < 0) {
    last_error_ = fmt::format("{}: cannot create: {}", path.string(), systemError(errno));
    return false;
  }
  std::array<std::byte, kSegmentHeaderBytes> header{};
  std::memcpy(header.data(), kMagic.data(), kMagic.size());
  le::store<std::uint32_t>(header.data() + 4, kFormatVersion);
  le::store<std::uint64_t>(header.data() + 8, next_index_);
  if (!writeAll(fd, header.data(), header.size())) {
    last_error_ = fmt::format("{}: cannot write: {}", path.string(), systemError(errno));
    ::close(fd);
    ::unlink(path.c_str());
    return false;
  }
  if (options_.fsync != FsyncPolicy::None) {
    // The new name must survive a crash as well as the records in it.
    if (const int dir = ::open(options_.dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); dir >= 0) {
      ::fsync(dir);
      ::close(dir);
    }
  }
  fd_ = fd;
  segments_.push_back({next_index_, path, kSegmentHeaderBytes});
  return true;
}

std::uint64_t SegmentLog::append(std::span<const std::byte> payload, SegmentRoll roll) {
  const std::span<const std::byte> parts[] = {payload};
  return append(std::span<const std::span<const std::byte>>(parts), roll);
}

bool SegmentLog::nextAppendStartsSegment() const {
  return fd_ < 0 || segments_.back().bytes >= options_.segment_bytes;
}

std::uint64_t SegmentLog::append(std::span<const std::span<const std::byte>> parts, SegmentRoll roll) {
  if (options_.read_only) {
    last_error_ = fmt::format("journal directory {}: opened read-only", options_.dir.string());
    return 0;
  }
  std::size_t size = 0;
  for (const auto& part : parts) size += part.size();
  if (size > options_.max_record_bytes) {
    last_error_ = fmt::format("a record of {} bytes is over the journal's limit of {}", size,
                              options_.max_record_bytes);
    return 0;
  }
  if (fd_ < 0 || (roll == SegmentRoll::Allowed && segments_.back().bytes >= options_.segment_bytes)) {
    if (!startSegment()) return 0;
  }
  uLong crc = crc32(0L, Z_NULL, 0);
  for (const auto& part : parts) {
    // Skip empty parts: zlib's crc32 with a null buffer returns the initial value, not `crc`.
    if (!part.empty()) crc = crc32(crc, reinterpret_cast<const Bytef*>(part.data()), static_cast<uInt>(part.size()));
  }
  std::array<std::byte, kRecordHeaderBytes> header{};
  le::store<std::uint32_t>(header.data(), static_cast<std::uint32_t>(size));
  le::store<std::uint32_t>(header.data() + 4, static_cast<std::uint32_t>(crc));
  static constexpr std::array<std::byte, 8> kZeros{};
  const std::size_t padding = padded(size) - size;

  iov_.clear();
  iov_.push_back({header.data(), header.size()});
  for (const auto& part : parts) {
    if (!part.empty()) iov_.push_back({const_cast<std::byte*>(part.data()), part.size()});
  }
  if (padding > 0) iov_.push_back({const_cast<std::byte*>(kZeros.data()), padding});

  Segment& segment = segments_.back();
  const std::size_t total = kRecordHeaderBytes + size + padding;
  if (!writevAll(fd_, iov_)) {
    last_error_ = fmt::format("{}: cannot append: {}", segment.path.string(), systemError(errno));
    // Leave no half record behind for the next append to follow.
    if (::ftruncate(fd_, static_cast<off_t>(segment.bytes)) != 0) closeFile();
    return 0;
  }
  segment.bytes += total;
  dirty_ = true;
  return next_index_++;
}

bool SegmentLog::fdatasyncOpenSegment() {
  if (::fdatasync(fd_) != 0) {
    last_error_ = fmt::format("{}: fdatasync: {}", segments_.back().path.string(), systemError(errno));
    return false;
  }
  ++fsyncs_;
  dirty_ = false;
  return true;
}

bool SegmentLog::sync(std::chrono::steady_clock::time_point now) {
  if (!dirty_ || fd_ < 0 || options_.fsync == FsyncPolicy::None) return true;
  if (options_.fsync == FsyncPolicy::Interval && now - last_sync_ < options_.interval) return true;
  if (!fdatasyncOpenSegment()) return false;
  last_sync_ = now;
  return true;
}

bool SegmentLog::syncNow() {
  if (!dirty_ || fd_ < 0 || options_.fsync == FsyncPolicy::None) return true;
  return fdatasyncOpenSegment();
}

void SegmentLog::forEach(const std::function<void(std::uint64_t, std::span<const std::byte>)>& each) const {
  forEachFrom(0, [&](std::uint64_t index, std::span<const std::byte> payload) {
    each(index, payload);
    return true;
  });
}

void SegmentLog::forEachFrom(std::uint64_t from,
                             const std::function<bool(std::uint64_t, std::span<const std::byte>)>& each) const {
  for (std::size_t i = 0; i < segments_.size(); ++i) {
    if (i + 1 < segments_.size() && segments_[i + 1].first_index <= from) continue;
    const auto& segment = segments_[i];
    const auto bytes = readAll(segment.path);
    const auto file = std::span(bytes).first(std::min<std::size_t>(bytes.size(), segment.bytes));
    std::uint64_t index = segment.first_index;
    std::string why;
    bool more = true;
    // scanRecords has no early exit: once `each` says stop, the rest of the segment is skipped.
    scanRecords(file, options_.max_record_bytes, why, [&](std::size_t, std::span<const std::byte> payload) {
      const std::uint64_t at = index++;
      if (more && at >= from) more = each(at, payload);
    });
    if (!more) return;
  }
}

std::size_t SegmentLog::dropBefore(std::uint64_t index) {
  std::size_t dropped = 0;
  if (options_.read_only) return 0;
  while (segments_.size() > 1 && segments_[1].first_index <= index) {
    std::error_code ec;
    std::filesystem::remove(segments_.front().path, ec);
    if (ec) {
      last_error_ = fmt::format("{}: cannot delete: {}", segments_.front().path.string(), ec.message());
      break;
    }
    segments_.erase(segments_.begin());
    ++dropped;
  }
  return dropped;
}

std::size_t SegmentLog::segmentsBefore(std::uint64_t index) const {
  if (options_.read_only) return 0;
  std::size_t count = 0;
  while (count + 1 < segments_.size() && segments_[count + 1].first_index <= index) ++count;
  return count;
}

std::uint64_t SegmentLog::firstIndex() const {
  return segments_.empty() ? next_index_ : segments_.front().first_index;
}

}  // namespace evr::journal
