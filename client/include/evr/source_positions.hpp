// evr::SourcePositions: what one container has already taken and handled, per source.
//
// A container's connection drops an event from evrouterd that it has taken before, so that no
// handler sees an event twice. Within one daemon's life the link seq tells (Connection checks it
// first); across a daemon restart link seqs start again, so the key is the event's own origin:
// (source name, source instance, source seq). Every route keeps one source's events in order, so
// "at or below the highest seq taken from that source instance" is a duplicate.
//
// Optionally the handled positions live in a file too (ConnectionOptions::position_file): a
// restarted container reads it and drops what it handled before it crashed. The file is mapped
// (MAP_SHARED): a position is in the kernel's page cache the moment it is stored, so a process
// crash cannot lose it; `sync` decides when it is forced to disk against a machine crash.
//
// File layout (native byte order: the file belongs to one machine):
//   header, 64 bytes: "EVRPOS01", u32 slot size (160), u32 capacity, u32 slots in use, zeros
//   slot, 160 bytes: u64 source instance, u64 handled source seq, u32 name length, u32 0,
//                    name (up to 128 bytes, zero padded), u64 source seq whose handlers started
//                    last (at offset 152)
// A slot is filled before the count of slots in use moves past it, so a crash while adding one
// leaves it unused. Slots are never removed: one per source process the container has heard
// from (160 bytes each).

#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace evr {

// When handled positions are forced to disk (fdatasync of the file): before every ack the
// connection sends (`Batch`), at most every interval (`Interval`), or never (`None`: the kernel
// writes back when it likes; a process crash still loses nothing, a machine crash may).
enum class PositionSync { Batch, Interval, None };

// Which position a restarted process takes as handled when its handlers were interrupted by the
// crash (an event whose handlers started and did not finish):
//   AfterHandling (default): it was not handled; it comes again. At-least-once: no event is lost,
//     the interrupted one may act twice.
//   BeforeHandling: it was handled; it does not come again. No event acts twice; the interrupted
//     one may not have finished (logged by name at start, counted `interrupted`). For containers
//     that must never act twice (execution) and reconcile on start instead.
enum class PositionMode { AfterHandling, BeforeHandling };

// An event whose handlers had started and not finished when the process died.
struct InterruptedEvent {
  std::string source;
  std::uint64_t instance = 0;
  std::uint64_t seq = 0;
};

class SourcePositions {
 public:
  SourcePositions() = default;  // in memory only
  ~SourcePositions();
  SourcePositions(const SourcePositions&) = delete;
  SourcePositions& operator=(const SourcePositions&) = delete;

  // Opens the position file at `path` (created when missing) and takes its positions as handled.
  // Throws std::runtime_error naming the path and the reason (unreadable, not a position file).
  // Returns the events whose handlers were interrupted by the last process's death.
  std::vector<InterruptedEvent> openFile(
      const std::string& path, PositionSync sync = PositionSync::Batch,
      std::chrono::milliseconds interval = std::chrono::milliseconds(100),
      PositionMode mode = PositionMode::AfterHandling);

  // False, after recording it as taken, for an event not seen before; true for a duplicate: its
  // source instance sent a seq at least this high already. Instance 0 (an event not published
  // through a connection) is never a duplicate.
  bool takeOrDuplicate(std::string_view source, std::uint64_t instance, std::uint64_t seq);
  // Handlers are about to run for this event (no-op without a file).
  void starting(std::string_view source, std::uint64_t instance, std::uint64_t seq) noexcept;
  // Handlers have run for this event: the file's position moves (no-op without a file).
  // Never throws (it runs while a handler's exception may be unwinding).
  void handled(std::string_view source, std::uint64_t instance, std::uint64_t seq) noexcept;
  // Before an ack leaves: forces the file to disk as `sync` says. Never throws; false on an I/O
  // error (logged by the caller).
  bool syncForAck(std::chrono::steady_clock::time_point now) noexcept;

  bool hasFile() const { return fd_ >= 0; }
  const std::string& path() const { return path_; }
  // Source instances known (from the file, or taken since).
  std::size_t size() const;
  // The highest seq taken from (source, instance); 0 when none.
  std::uint64_t taken(std::string_view source, std::uint64_t instance) const;

  // A source restarts with a new instance; older instances are forgotten in memory beyond this
  // many per source name (their events stopped arriving long ago).
  static constexpr std::size_t kInstancesPerSource = 8;

 private:
  struct Entry {
    std::uint64_t instance = 0;
    std::uint64_t taken = 0;
    std::int64_t slot = -1;  // in the file; -1: none yet
  };
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view text) const { return std::hash<std::string_view>{}(text); }
  };
  Entry* find(std::string_view source, std::uint64_t instance);
  Entry& insert(std::string_view source, std::uint64_t instance);
  bool addSlot(std::string_view source, Entry& entry) noexcept;
  bool grow() noexcept;
  std::byte* slotAt(std::int64_t slot) const;

  // Never erased from (a source's instances are trimmed, not the source).
  std::unordered_map<std::string, std::vector<Entry>, Hash, std::equal_to<>> sources_;
  using Source = decltype(sources_)::value_type;
  // The source looked up last: events come in runs from one source, and a compare of its name is
  // cheaper than hashing it (elements of an unordered_map stay where they are until erased).
  Source* last_ = nullptr;
  Source* lookUp(std::string_view source);

  std::string path_;
  int fd_ = -1;
  std::byte* base_ = nullptr;
  std::size_t mapped_ = 0;
  PositionSync sync_ = PositionSync::Batch;
  std::chrono::milliseconds interval_{100};
  std::chrono::steady_clock::time_point last_sync_{};
  bool dirty_ = false;
  bool failed_ = false;  // the file could not grow: positions stay in memory only (logged once)
};

}  // namespace evr
