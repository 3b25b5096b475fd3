// The journal's storage (docs/delivery.md, "The journal"): an append-only log of opaque records in
// segment files, each record framed by its length and a crc32, so that a record half-written when
// the process died is found on the next start and cut. It knows nothing of events: the relay loop
// decides what a record holds. One owner, one thread (the relay loop's); not copyable.
//
// On disk, in one directory:
//   NNNNNNNNNNNNNNNNNNNN.seg   (20 digits: the index of the segment's first record)
//   segment header, 16 bytes:  "EVRJ", u32 format version (1), u64 first record index
//   record, repeated:          u32 payload length, u32 crc32 of the payload, payload,
//                              zero padding to a multiple of 8
// All integers little-endian. Record indexes run 1, 2, 3, ... over the log's whole life; a record's
// index is its segment's first index plus its position in the segment.
//
// A read-only open (SegmentLogOptions::read_only, for tools such as `evrctl journal dump`) reads
// the same files and reports the same problems but never changes the directory: nothing is
// created, cut, renamed or deleted, and append() is refused.
#pragma once

#include <sys/uio.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

namespace evr::journal {

// When appended records are forced to disk (fdatasync): at every sync() (the relay loop calls it
// once per receive burst, before it acks the sources), at most every `interval`, or never (the
// kernel writes back when it likes; a machine crash may lose the tail, a process crash does not).
enum class FsyncPolicy { Batch, Interval, None };

struct SegmentLogOptions {
  std::filesystem::path dir;
  FsyncPolicy fsync = FsyncPolicy::Batch;
  std::chrono::milliseconds interval{100};
  // A segment is closed and a new one begun once it holds this many bytes.
  std::uint64_t segment_bytes = 64ull << 20;
  // A record larger than this is refused by append() (and a length above it read back from disk
  // marks a torn record).
  std::uint32_t max_record_bytes = 64u << 20;
  // Open to read only: see the header comment.
  bool read_only = false;
};

// Whether an append may close the open segment and begin a new one when the open one is full.
// The journal writes a checkpoint as a run of records that must share one segment: the first
// record of the run may start a segment, the rest stay in it even past segment_bytes.
enum class SegmentRoll { Allowed, Forbidden };

// What opening found: every problem names its file and byte offset.
struct RecoveryReport {
  std::uint64_t records = 0;          // good records found
  std::uint64_t segments = 0;
  std::uint64_t truncated_bytes = 0;  // cut from torn or corrupt tails
  std::vector<std::string> problems;  // "DIR/00..17.seg: offset 4096: crc mismatch; cut 80 bytes"
};

// Raised by open() when the directory cannot be used: missing parent, not a directory, not
// writable, a segment that cannot be read. The message names the path and the system's reason.
class JournalError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class SegmentLog {
 public:
  // Opens (creating `options.dir` itself if its parent exists) and recovers: torn or corrupt
  // tails are cut and reported; records after a bad one in the same segment are not trusted.
  static SegmentLog open(const SegmentLogOptions& options, RecoveryReport& report);

  SegmentLog(SegmentLog&&) noexcept;
  SegmentLog& operator=(SegmentLog&&) noexcept;
  SegmentLog(const SegmentLog&) = delete;
  SegmentLog& operator=(const SegmentLog&) = delete;
  ~SegmentLog();

  // Appends one record; returns its index, or 0 when it could not be written (disk full, I/O
  // error: see lastError(); the caller holds what it would have acked rather than drop it).
  std::uint64_t append(std::span<const std::byte> payload, SegmentRoll roll = SegmentRoll::Allowed);
  // The same, with the payload given as consecutive parts (a Cap'n Proto segment table and its
  // segments), written with one writev and no copy.
  std::uint64_t append(std::span<const std::span<const std::byte>> parts,
                       SegmentRoll roll = SegmentRoll::Allowed);
  // True when the next append with SegmentRoll::Allowed begins a new segment (none is open, or
  // the open one holds segment_bytes or more). The journal checks it to write its checkpoint first.
  bool nextAppendStartsSegment() const;
  // Forces what was appended to disk per the fsync policy; false on an I/O error.
  bool sync(std::chrono::steady_clock::time_point now = std::chrono::steady_clock::now());
  // Forces what was appended to disk now, whatever the interval (not with FsyncPolicy::None).
  // The journal calls it before retention deletes a segment. False on an I/O error.
  bool syncNow();

  // Calls `each(index, payload)` for every record still in the log, oldest first. The payload
  // view lives until `each` returns.
  void forEach(const std::function<void(std::uint64_t, std::span<const std::byte>)>& each) const;
  // The same from record `from` on (segments wholly before it are not read), until `each`
  // returns false.
  void forEachFrom(std::uint64_t from,
                   const std::function<bool(std::uint64_t, std::span<const std::byte>)>& each) const;

  // Deletes every segment all of whose records have an index below `index` (retention: the
  // caller knows which records every target has acked). The open segment is never deleted.
  std::size_t dropBefore(std::uint64_t index);
  // How many segments dropBefore(index) would delete (none when read-only).
  std::size_t segmentsBefore(std::uint64_t index) const;

  std::uint64_t firstIndex() const;  // oldest record still kept (next index when empty)
  std::uint64_t nextIndex() const { return next_index_; }
  std::size_t segmentCount() const { return segments_.size(); }
  const std::string& lastError() const { return last_error_; }
  std::uint64_t fsyncs() const { return fsyncs_; }  // fdatasync calls that succeeded

 private:
  struct Segment {
    std::uint64_t first_index;
    std::filesystem::path path;
    std::uint64_t bytes;
  };
  SegmentLog() = default;
  bool startSegment();
  void closeFile();
  bool fdatasyncOpenSegment();

  SegmentLogOptions options_;
  std::vector<Segment> segments_;
  std::uint64_t next_index_ = 1;
  int fd_ = -1;  // the open (last) segment, O_APPEND
  bool dirty_ = false;
  std::chrono::steady_clock::time_point last_sync_{};
  std::string last_error_;
  std::uint64_t fsyncs_ = 0;
  std::vector<struct iovec> iov_;  // reused by append: no allocation per record
};

// The crc32 the records carry (zlib's, IEEE polynomial).
std::uint32_t recordChecksum(std::span<const std::byte> payload);

}  // namespace evr::journal
