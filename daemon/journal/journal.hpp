// The journal's event layer (docs/delivery.md, "The journal"): what evrouterd writes to disk so
// that a daemon crash loses nothing it acked to a source. It sits beside the relay loop, which
// owns it: the loop appends each journaled event before it acks the event's source, reports each
// target's acks, and after a restart queues what open() recovered ahead of everything else.
//
// Records (schemas/journal.capnp `JournalRecord`) are the payloads of a SegmentLog
// (segment_log.hpp: segments, crc32 per record, torn-tail cut, fsync policy); a record's journal
// index is its SegmentLog index. Two kinds:
//   event        one routed event with its targets;
//   targetAcked  a target's position: it has acked every event routed to it up to an index.
// A target's position is written at most every ack_interval, and in full at the start of each
// segment (a *checkpoint*: one targetAcked per known target), so the latest written position of
// every target always lives in a kept segment even after retention deleted the segment holding
// its last targetAcked.
//
// Retention: a segment is deleted once every target of every event in it has acked past it
// (keep_all: never; the directory grows until an operator removes old segments).
//
// One owner, one thread (the relay loop's); not copyable. Data-plane calls never throw: an I/O
// error is a 0 / false result with lastError(). open() throws JournalError.
#pragma once

#include <capnp/message.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "journal.capnp.h"
#include "journal/segment_log.hpp"

namespace evr::journal {

struct JournalOptions {
  std::filesystem::path dir;  // created if its parent exists
  FsyncPolicy fsync = FsyncPolicy::Batch;
  std::chrono::milliseconds interval{100};  // FsyncPolicy::Interval
  std::uint64_t segment_bytes = 64ull << 20;
  // A target's ack is written at most this often (the latest one is kept in memory meanwhile and
  // written by sync() once due, by flushAcks(), by a checkpoint, and by the destructor).
  std::chrono::milliseconds ack_interval{50};
  // `types: all`: keep every segment whatever the acks. Nothing deletes them: the directory grows
  // until an operator removes old segments (oldest first; the journal copes with any prefix gone).
  bool keep_all = false;
};

// One event to append. Views: nothing is kept after appendEvent returns.
struct EventRecordView {
  std::string_view source;
  std::uint64_t source_instance = 0;
  std::uint64_t source_seq = 0;
  std::uint64_t generation = 0;
  std::span<const std::string_view> targets;
  std::uint8_t event_type = 0;
  std::uint8_t hops = 0;
  std::span<const std::byte> event;  // the event's Cap'n Proto bytes, as routed
};

// An event found by open() that some target has not acked. Shared by every target it is owed to.
struct RecoveredEvent {
  std::uint64_t index = 0;
  std::string source;
  std::uint64_t source_instance = 0;
  std::uint64_t source_seq = 0;
  std::uint64_t generation = 0;
  std::uint8_t event_type = 0;
  std::uint8_t hops = 0;
  std::vector<std::byte> event;
};

struct SourceKey {
  std::string source;
  std::uint64_t instance = 0;
  friend auto operator<=>(const SourceKey&, const SourceKey&) = default;
};

// What open() found and rebuilt.
struct JournalRecovery {
  RecoveryReport log;  // SegmentLog's: problems with file and offset, bytes cut
  // Per target: the events routed to it after its last position, in index order.
  std::map<std::string, std::vector<std::shared_ptr<const RecoveredEvent>>, std::less<>> undelivered;
  // Per target with a written position: that position.
  std::map<std::string, std::uint64_t, std::less<>> positions;
  // Per (source, source instance): the highest journaled source seq.
  std::map<SourceKey, std::uint64_t> highest_source_seq;
  std::uint64_t records = 0;        // good records read
  std::uint64_t event_records = 0;  // of which events
  std::uint64_t ack_records = 0;    // of which targetAcked
  std::uint64_t unreadable_records = 0;  // crc good but not a JournalRecord (skipped, reported)

  std::size_t undeliveredCount(std::string_view target) const;
};

// Counters, snapshotted on request (value type).
struct JournalStats {
  std::uint64_t records_appended = 0;  // since open, checkpoints and positions included
  std::uint64_t events_appended = 0;
  std::uint64_t acks_appended = 0;     // targetAcked records, checkpoints included
  std::uint64_t checkpoints = 0;
  std::uint64_t bytes_appended = 0;    // payload bytes
  std::uint64_t errors = 0;            // appends or syncs that failed
  std::uint64_t fsyncs = 0;
  std::uint64_t segments = 0;          // now
  std::uint64_t segments_deleted = 0;  // by retention
  std::uint64_t problems_at_open = 0;  // torn or corrupt tails, bad headers found by open()
  std::uint64_t truncated_bytes_at_open = 0;
};

class Journal {
 public:
  using Clock = std::chrono::steady_clock;

  // Opens `options.dir` (SegmentLog::open: torn tails cut and reported) and rebuilds `out`.
  // Throws JournalError when the directory cannot be used (missing parent, not a directory, not
  // writable, unreadable segment).
  static Journal open(const JournalOptions& options, JournalRecovery& out);

  Journal(Journal&&) noexcept;
  Journal& operator=(Journal&&) noexcept;
  Journal(const Journal&) = delete;
  Journal& operator=(const Journal&) = delete;
  // Writes the positions not yet written (best effort) and syncs per the policy.
  ~Journal();

  // Appends one event; returns its journal index, or 0 on an I/O error (lastError(); the caller
  // holds the source's ack rather than drop the event). Durable once sync() returned true.
  std::uint64_t appendEvent(const EventRecordView& event);

  // Writes the positions that are due (ack_interval passed), forces appended records to disk per
  // the fsync policy, and applies retention. False on an I/O error. Called once per burst.
  bool sync(Clock::time_point now = Clock::now());

  // `target` has acked every event routed to it with an index <= `index`. Cheap; call as often
  // as acks arrive. Ignored if it does not move the position.
  void targetAcked(std::string_view target, std::uint64_t index, Clock::time_point now = Clock::now());
  // Writes every position not yet written (shutdown, or before an operator-visible checkpoint).
  bool flushAcks(Clock::time_point now = Clock::now());

  std::uint64_t position(std::string_view target) const;  // 0: none known
  std::size_t pendingCount(std::string_view target) const;  // journaled, not acked
  std::uint64_t nextIndex() const { return log_.nextIndex(); }
  std::uint64_t firstIndex() const { return log_.firstIndex(); }
  JournalStats stats() const;
  const std::string& lastError() const { return log_.lastError(); }

 private:
  struct TargetState {
    std::deque<std::uint64_t> pending;  // indexes routed to it, not acked, ascending
    std::uint64_t position = 0;         // acked up to here (in memory)
    std::uint64_t written = 0;          // position last written to the log
    Clock::time_point last_write{};
  };
  struct NameHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view name) const { return std::hash<std::string_view>{}(name); }
  };

  enum class Checkpoint { NotNeeded, Written, Failed };

  Journal(const JournalOptions& options, SegmentLog&& log);
  TargetState& target(std::string_view name);
  // Before a record that would begin a new segment: writes the checkpoint (when any position is
  // known) as the new segment's first records. The record that follows must then not roll again.
  Checkpoint prepareSegment(Clock::time_point now);
  std::uint64_t appendMessage(capnp::MessageBuilder& message, SegmentRoll roll);
  bool writePosition(std::string_view name, TargetState& state, Clock::time_point now);
  bool applyRetention();

  JournalOptions options_;
  SegmentLog log_;
  std::unordered_map<std::string, TargetState, NameHash, std::equal_to<>> targets_;
  // The first segment of every record's message: zeroed, reused (MallocMessageBuilder writes
  // zeros back when it is destroyed), so a record under 8 KiB needs no allocation.
  std::unique_ptr<capnp::word[]> scratch_;
  std::vector<std::byte> segment_table_;
  std::vector<std::span<const std::byte>> parts_;
  JournalStats stats_;
};

// Reads a journal directory for tools, never changing it (SegmentLog read-only): calls
// `each(index, record)` for every good record from `from` on, oldest first, until it returns
// false. The reader lives until `each` returns. Problems (torn tails, bad headers, records that
// are not JournalRecords) go to `report.problems` with file and offset or index. Throws
// JournalError when the directory cannot be read.
void forEachRecord(const std::filesystem::path& dir, std::uint64_t from,
                   const std::function<bool(std::uint64_t, schema::JournalRecord::Reader)>& each,
                   RecoveryReport& report);

}  // namespace evr::journal
