#include "journal/journal.hpp"

#include <capnp/serialize.h>
#include <kj/exception.h>

#include <algorithm>
#include <cstring>
#include <limits>

#include <fmt/format.h>

#include "evr/little_endian.hpp"

namespace evr::journal {
namespace {

// First segment of every record built by the journal: an event record is its event's bytes plus
// ~100 bytes, so 8 KiB holds all but unusually large events in one segment without allocating.
constexpr std::size_t kScratchWords = 1024;

// Calls `each(record)` with the JournalRecord in `payload`; false with `error` set when the bytes
// are not one (a crc-good record the journal did not write, or from a newer, incompatible format).
template <typename Each>
bool readRecord(std::span<const std::byte> payload, std::string& error, Each&& each) {
  if (payload.size() % sizeof(capnp::word) != 0) {
    error = fmt::format("{} bytes is not a whole number of words", payload.size());
    return false;
  }
  // SegmentLog places payloads 8-byte aligned within a buffer from operator new; copy if not.
  kj::Array<capnp::word> copy;
  kj::ArrayPtr<const capnp::word> words;
  if (reinterpret_cast<std::uintptr_t>(payload.data()) % alignof(capnp::word) == 0) {
    words = kj::arrayPtr(reinterpret_cast<const capnp::word*>(payload.data()), payload.size() / sizeof(capnp::word));
  } else {
    copy = kj::heapArray<capnp::word>(payload.size() / sizeof(capnp::word));
    std::memcpy(copy.begin(), payload.data(), payload.size());
    words = copy;
  }
  try {
    capnp::ReaderOptions options;
    options.traversalLimitInWords = words.size() * 4 + 64;
    capnp::FlatArrayMessageReader message(words, options);
    each(message.getRoot<schema::JournalRecord>());
    return true;
  } catch (const kj::Exception& e) {
    error = e.getDescription().cStr();
    return false;
  }
}

std::string_view viewOf(capnp::Text::Reader text) { return {text.begin(), text.size()}; }

}  // namespace

std::size_t JournalRecovery::undeliveredCount(std::string_view target) const {
  const auto it = undelivered.find(target);
  return it == undelivered.end() ? 0 : it->second.size();
}

Journal::Journal(const JournalOptions& options, SegmentLog&& log)
    : options_(options), log_(std::move(log)), scratch_(new capnp::word[kScratchWords]()) {}

Journal::Journal(Journal&&) noexcept = default;
Journal& Journal::operator=(Journal&&) noexcept = default;

Journal::~Journal() {
  if (!scratch_) return;  // moved from
  flushAcks();
  log_.sync();
}

Journal Journal::open(const JournalOptions& options, JournalRecovery& out) {
  SegmentLogOptions log_options;
  log_options.dir = options.dir;
  log_options.fsync = options.fsync;
  log_options.interval = options.interval;
  log_options.segment_bytes = options.segment_bytes;
  out = JournalRecovery{};
  Journal journal(options, SegmentLog::open(log_options, out.log));
  journal.stats_.problems_at_open = out.log.problems.size();
  journal.stats_.truncated_bytes_at_open = out.log.truncated_bytes;

  // One pass, oldest first. A target's undelivered list drops its front as positions pass it, so
  // memory holds what is still owed, not the whole journal.
  std::map<std::string, std::deque<std::shared_ptr<const RecoveredEvent>>, std::less<>> owed;
  journal.log_.forEach([&](std::uint64_t index, std::span<const std::byte> payload) {
    ++out.records;
    std::string error;
    const bool ok = readRecord(payload, error, [&](schema::JournalRecord::Reader record) {
      switch (record.which()) {
        case schema::JournalRecord::EVENT: {
          const auto event = record.getEvent();
          auto recovered = std::make_shared<RecoveredEvent>();
          recovered->index = index;
          recovered->source = std::string(viewOf(event.getSource()));
          recovered->source_instance = event.getSourceInstance();
          recovered->source_seq = event.getSourceSeq();
          recovered->generation = event.getGeneration();
          recovered->event_type = event.getEventType();
          recovered->hops = event.getHops();
          const auto bytes = event.getEvent();
          recovered->event.resize(bytes.size());
          std::memcpy(recovered->event.data(), bytes.begin(), bytes.size());
          auto& highest = out.highest_source_seq[SourceKey{recovered->source, recovered->source_instance}];
          highest = std::max(highest, recovered->source_seq);
          std::shared_ptr<const RecoveredEvent> shared = std::move(recovered);
          for (const auto target : event.getTargets()) {
            const auto name = viewOf(target);
            const auto position = out.positions.find(name);
            if (position != out.positions.end() && index <= position->second) continue;
            auto slot = owed.find(name);
            if (slot == owed.end()) slot = owed.emplace(std::string(name), std::deque<std::shared_ptr<const RecoveredEvent>>{}).first;
            slot->second.push_back(shared);
          }
          ++out.event_records;
          break;
        }
        case schema::JournalRecord::TARGET_ACKED: {
          const auto acked = record.getTargetAcked();
          const auto name = viewOf(acked.getTarget());
          auto position = out.positions.find(name);
          if (position == out.positions.end()) position = out.positions.emplace(std::string(name), 0).first;
          position->second = std::max(position->second, acked.getIndex());
          if (const auto slot = owed.find(name); slot != owed.end()) {
            while (!slot->second.empty() && slot->second.front()->index <= position->second) slot->second.pop_front();
          }
          ++out.ack_records;
          break;
        }
        default:
          throw KJ_EXCEPTION(FAILED, "unknown record kind");
      }
    });
    if (!ok) {
      ++out.unreadable_records;
      out.log.problems.push_back(
          fmt::format("{}: record {}: not a journal record ({}); skipped", options.dir.string(), index, error));
    }
  });

  for (auto& [name, events] : owed) {
    auto& state = journal.target(name);
    for (const auto& event : events) state.pending.push_back(event->index);
    if (!events.empty()) out.undelivered.emplace(name, std::vector(events.begin(), events.end()));
  }
  for (const auto& [name, position] : out.positions) {
    auto& state = journal.target(name);
    state.position = position;
    state.written = position;
  }
  return journal;
}

Journal::TargetState& Journal::target(std::string_view name) {
  auto it = targets_.find(name);
  if (it == targets_.end()) it = targets_.emplace(std::string(name), TargetState{}).first;
  return it->second;
}

std::uint64_t Journal::appendMessage(capnp::MessageBuilder& message, SegmentRoll roll) {
  // The flat serialization (capnp/serialize.h), gathered: segment table, then each segment in
  // place. No copy until writev.
  const auto segments = message.getSegmentsForOutput();
  const std::size_t table_words = (segments.size() + 2) / 2;  // u32 count-1, u32 sizes, padded
  segment_table_.assign(table_words * sizeof(capnp::word), std::byte{0});
  le::store<std::uint32_t>(segment_table_.data(), static_cast<std::uint32_t>(segments.size() - 1));
  parts_.clear();
  parts_.emplace_back(segment_table_);
  std::uint64_t bytes = segment_table_.size();
  for (std::size_t i = 0; i < segments.size(); ++i) {
    le::store<std::uint32_t>(segment_table_.data() + 4 * (i + 1), static_cast<std::uint32_t>(segments[i].size()));
    parts_.emplace_back(reinterpret_cast<const std::byte*>(segments[i].begin()), segments[i].size() * sizeof(capnp::word));
    bytes += segments[i].size() * sizeof(capnp::word);
  }
  const std::uint64_t index = log_.append(std::span<const std::span<const std::byte>>(parts_), roll);
  if (index == 0) {
    ++stats_.errors;
    return 0;
  }
  ++stats_.records_appended;
  stats_.bytes_appended += bytes;
  return index;
}

Journal::Checkpoint Journal::prepareSegment(Clock::time_point now) {
  if (!log_.nextAppendStartsSegment()) return Checkpoint::NotNeeded;
  bool first = true;
  for (auto& [name, state] : targets_) {
    if (state.position == 0) continue;
    capnp::MallocMessageBuilder message(kj::arrayPtr(scratch_.get(), kScratchWords));
    auto acked = message.initRoot<schema::JournalRecord>().initTargetAcked();
    acked.setTarget(capnp::Text::Reader(name.data(), name.size()));
    acked.setIndex(state.position);
    // The first record begins the segment; the rest stay in it, however small segment_bytes is.
    if (appendMessage(message, first ? SegmentRoll::Allowed : SegmentRoll::Forbidden) == 0) return Checkpoint::Failed;
    first = false;
    state.written = state.position;
    state.last_write = now;
    ++stats_.acks_appended;
  }
  if (first) return Checkpoint::NotNeeded;  // no position known yet: nothing to carry over
  ++stats_.checkpoints;
  return Checkpoint::Written;
}

std::uint64_t Journal::appendEvent(const EventRecordView& view) {
  const auto checkpoint = prepareSegment(Clock::now());
  if (checkpoint == Checkpoint::Failed) return 0;
  std::uint64_t index = 0;
  {
    capnp::MallocMessageBuilder message(kj::arrayPtr(scratch_.get(), kScratchWords));
    auto event = message.initRoot<schema::JournalRecord>().initEvent();
    event.setSource(capnp::Text::Reader(view.source.data(), view.source.size()));
    event.setSourceInstance(view.source_instance);
    event.setSourceSeq(view.source_seq);
    event.setGeneration(view.generation);
    auto targets = event.initTargets(static_cast<capnp::uint>(view.targets.size()));
    for (std::size_t i = 0; i < view.targets.size(); ++i) {
      targets.set(static_cast<capnp::uint>(i), capnp::Text::Reader(view.targets[i].data(), view.targets[i].size()));
    }
    event.setEventType(view.event_type);
    event.setHops(view.hops);
    event.setEvent(capnp::Data::Reader(reinterpret_cast<const capnp::byte*>(view.event.data()), view.event.size()));
    index = appendMessage(message, checkpoint == Checkpoint::Written ? SegmentRoll::Forbidden : SegmentRoll::Allowed);
  }
  if (index == 0) return 0;
  ++stats_.events_appended;
  for (const auto name : view.targets) target(name).pending.push_back(index);
  return index;
}

bool Journal::writePosition(std::string_view name, TargetState& state, Clock::time_point now) {
  switch (prepareSegment(now)) {
    case Checkpoint::Failed:
      return false;
    case Checkpoint::Written:
      return true;  // the checkpoint carried this position too
    case Checkpoint::NotNeeded:
      break;
  }
  capnp::MallocMessageBuilder message(kj::arrayPtr(scratch_.get(), kScratchWords));
  auto acked = message.initRoot<schema::JournalRecord>().initTargetAcked();
  acked.setTarget(capnp::Text::Reader(name.data(), name.size()));
  acked.setIndex(state.position);
  if (appendMessage(message, SegmentRoll::Allowed) == 0) return false;
  state.written = state.position;
  state.last_write = now;
  ++stats_.acks_appended;
  return true;
}

void Journal::targetAcked(std::string_view name, std::uint64_t index, Clock::time_point now) {
  TargetState& state = target(name);
  if (index <= state.position) return;
  state.position = index;
  while (!state.pending.empty() && state.pending.front() <= index) state.pending.pop_front();
  if (now - state.last_write >= options_.ack_interval) writePosition(name, state, now);
}

bool Journal::flushAcks(Clock::time_point now) {
  bool ok = true;
  for (auto& [name, state] : targets_) {
    if (state.position != state.written && !writePosition(name, state, now)) ok = false;
  }
  return ok;
}

bool Journal::sync(Clock::time_point now) {
  bool ok = true;
  for (auto& [name, state] : targets_) {
    if (state.position != state.written && now - state.last_write >= options_.ack_interval &&
        !writePosition(name, state, now)) {
      ok = false;
    }
  }
  if (!log_.sync(now)) {
    ++stats_.errors;
    ok = false;
  }
  return applyRetention() && ok;
}

bool Journal::applyRetention() {
  if (options_.keep_all || log_.segmentCount() < 2) return true;
  std::uint64_t oldest_pending = log_.nextIndex();
  for (const auto& [name, state] : targets_) {
    if (!state.pending.empty()) oldest_pending = std::min(oldest_pending, state.pending.front());
  }
  if (log_.segmentsBefore(oldest_pending) == 0) return true;
  // Every kept segment begins with a checkpoint; it must be on disk before the segments holding
  // older positions go.
  if (!log_.syncNow()) {
    ++stats_.errors;
    return false;
  }
  stats_.segments_deleted += log_.dropBefore(oldest_pending);
  return true;
}

std::uint64_t Journal::position(std::string_view name) const {
  const auto it = targets_.find(name);
  return it == targets_.end() ? 0 : it->second.position;
}

std::size_t Journal::pendingCount(std::string_view name) const {
  const auto it = targets_.find(name);
  return it == targets_.end() ? 0 : it->second.pending.size();
}

JournalStats Journal::stats() const {
  JournalStats out = stats_;
  out.fsyncs = log_.fsyncs();
  out.segments = log_.segmentCount();
  return out;
}

void forEachRecord(const std::filesystem::path& dir, std::uint64_t from,
                   const std::function<bool(std::uint64_t, schema::JournalRecord::Reader)>& each,
                   RecoveryReport& report) {
  SegmentLogOptions options;
  options.dir = dir;
  options.read_only = true;
  const SegmentLog log = SegmentLog::open(options, report);
  log.forEachFrom(from, [&](std::uint64_t index, std::span<const std::byte> payload) {
    bool more = true;
    std::string error;
    if (!readRecord(payload, error, [&](schema::JournalRecord::Reader record) { more = each(index, record); })) {
      report.problems.push_back(fmt::format("{}: record {}: not a journal record ({}); skipped", dir.string(), index, error));
    }
    return more;
  });
}

}  // namespace evr::journal
