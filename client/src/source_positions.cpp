#include "evr/source_positions.hpp"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace evr {
namespace {

constexpr char kMagic[8] = {'E', 'V', 'R', 'P', 'O', 'S', '0', '1'};
constexpr std::size_t kHeaderBytes = 64;
constexpr std::uint32_t kSlotBytes = 160;
constexpr std::size_t kMaxName = 128;
constexpr std::uint32_t kFirstCapacity = 64;
// Header fields.
constexpr std::size_t kSlotSizeAt = 8;
constexpr std::size_t kCapacityAt = 12;
constexpr std::size_t kUsedAt = 16;
// Slot fields.
constexpr std::size_t kInstanceAt = 0;
constexpr std::size_t kSeqAt = 8;
constexpr std::size_t kNameLengthAt = 16;
constexpr std::size_t kNameAt = 24;
constexpr std::size_t kStartedAt = 152;

template <typename T>
T load(const std::byte* at) {
  T value;
  std::memcpy(&value, at, sizeof(T));
  return value;
}

template <typename T>
void store(std::byte* at, T value) {
  std::memcpy(at, &value, sizeof(T));
}

std::size_t fileBytes(std::uint32_t capacity) { return kHeaderBytes + std::size_t{capacity} * kSlotBytes; }

std::runtime_error fileError(const std::string& path, const std::string& what) {
  return std::runtime_error("position file " + path + ": " + what);
}

std::string systemError() { return std::strerror(errno); }

}  // namespace

SourcePositions::~SourcePositions() {
  if (base_ != nullptr) {
    if (dirty_ && sync_ != PositionSync::None) ::msync(base_, mapped_, MS_SYNC);
    ::munmap(base_, mapped_);
  }
  if (fd_ >= 0) ::close(fd_);
}

std::vector<InterruptedEvent> SourcePositions::openFile(const std::string& path, PositionSync sync,
                                                       std::chrono::milliseconds interval,
                                                       PositionMode mode) {
  if (fd_ >= 0) throw fileError(path, "a position file is open already (" + path_ + ")");
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) throw fileError(path, "cannot open: " + systemError());
  struct stat info {};
  if (::fstat(fd, &info) != 0) {
    const std::string why = systemError();
    ::close(fd);
    throw fileError(path, "cannot stat: " + why);
  }
  std::size_t size = static_cast<std::size_t>(info.st_size);
  const bool fresh = size == 0;
  if (fresh) {
    size = fileBytes(kFirstCapacity);
    if (::ftruncate(fd, static_cast<off_t>(size)) != 0) {
      const std::string why = systemError();
      ::close(fd);
      throw fileError(path, "cannot size: " + why);
    }
  } else if (size < kHeaderBytes) {
    ::close(fd);
    throw fileError(path, "not a position file (" + std::to_string(size) + " bytes)");
  }
  void* mapped = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (mapped == MAP_FAILED) {
    const std::string why = systemError();
    ::close(fd);
    throw fileError(path, "cannot map: " + why);
  }
  auto* base = static_cast<std::byte*>(mapped);
  const auto fail = [&](const std::string& what) {
    ::munmap(mapped, size);
    ::close(fd);
    return fileError(path, what);
  };
  if (fresh) {
    std::memcpy(base, kMagic, sizeof(kMagic));
    store<std::uint32_t>(base + kSlotSizeAt, kSlotBytes);
    store<std::uint32_t>(base + kCapacityAt, kFirstCapacity);
    store<std::uint32_t>(base + kUsedAt, 0);
  } else if (std::memcmp(base, kMagic, sizeof(kMagic)) != 0) {
    throw fail("not a position file (no EVRPOS01 header)");
  }
  const auto slot_size = load<std::uint32_t>(base + kSlotSizeAt);
  const auto capacity = load<std::uint32_t>(base + kCapacityAt);
  const auto used = load<std::uint32_t>(base + kUsedAt);
  if (slot_size != kSlotBytes || used > capacity || fileBytes(capacity) > size) {
    throw fail("damaged header (slot size " + std::to_string(slot_size) + ", capacity " +
               std::to_string(capacity) + ", in use " + std::to_string(used) + ", " +
               std::to_string(size) + " bytes)");
  }
  // Read every slot before taking any: a damaged one makes the whole file suspect.
  std::vector<std::pair<std::string, Entry>> found;
  std::vector<InterruptedEvent> interrupted;
  for (std::uint32_t slot = 0; slot < used; ++slot) {
    const std::byte* at = base + kHeaderBytes + std::size_t{slot} * kSlotBytes;
    const auto length = load<std::uint32_t>(at + kNameLengthAt);
    if (length == 0 || length > kMaxName) {
      throw fail("damaged slot " + std::to_string(slot) + " at offset " +
                 std::to_string(kHeaderBytes + std::size_t{slot} * kSlotBytes) +
                 " (name length " + std::to_string(length) + ")");
    }
    Entry entry;
    entry.instance = load<std::uint64_t>(at + kInstanceAt);
    entry.taken = load<std::uint64_t>(at + kSeqAt);
    entry.slot = slot;
    std::string name(reinterpret_cast<const char*>(at + kNameAt), length);
    if (const auto started = load<std::uint64_t>(at + kStartedAt); started > entry.taken) {
      interrupted.push_back({name, entry.instance, started});
      if (mode == PositionMode::BeforeHandling) entry.taken = started;
    }
    found.emplace_back(std::move(name), entry);
  }
  path_ = path;
  fd_ = fd;
  base_ = base;
  mapped_ = size;
  sync_ = sync;
  interval_ = interval;
  for (auto& [name, entry] : found) {
    auto& instances = sources_[name];
    const auto same = std::find_if(instances.begin(), instances.end(),
                                   [&](const Entry& e) { return e.instance == entry.instance; });
    if (same != instances.end()) {
      same->taken = std::max(same->taken, entry.taken);
      continue;
    }
    instances.push_back(entry);
    if (instances.size() > kInstancesPerSource) instances.erase(instances.begin());
  }
  return interrupted;
}

SourcePositions::Source* SourcePositions::lookUp(std::string_view source) {
  if (last_ != nullptr && last_->first == source) return last_;
  const auto it = sources_.find(source);
  if (it == sources_.end()) return nullptr;
  last_ = &*it;
  return last_;
}

SourcePositions::Entry* SourcePositions::find(std::string_view source, std::uint64_t instance) {
  Source* known = lookUp(source);
  if (known == nullptr) return nullptr;
  for (auto& entry : known->second) {
    if (entry.instance == instance) return &entry;
  }
  return nullptr;
}

SourcePositions::Entry& SourcePositions::insert(std::string_view source, std::uint64_t instance) {
  Source* known = lookUp(source);
  if (known == nullptr) known = last_ = &*sources_.emplace(std::string(source), std::vector<Entry>{}).first;
  auto& instances = known->second;
  if (instances.size() >= kInstancesPerSource) instances.erase(instances.begin());
  Entry entry;
  entry.instance = instance;
  instances.push_back(entry);
  return instances.back();
}

bool SourcePositions::takeOrDuplicate(std::string_view source, std::uint64_t instance,
                                      std::uint64_t seq) {
  if (instance == 0) return false;
  Entry* entry = find(source, instance);
  if (entry == nullptr) entry = &insert(source, instance);
  if (seq <= entry->taken) return true;
  entry->taken = seq;
  return false;
}

std::byte* SourcePositions::slotAt(std::int64_t slot) const {
  return base_ + kHeaderBytes + static_cast<std::size_t>(slot) * kSlotBytes;
}

bool SourcePositions::grow() noexcept {
  const auto capacity = load<std::uint32_t>(base_ + kCapacityAt);
  const std::uint32_t bigger = capacity * 2;
  const std::size_t size = fileBytes(bigger);
  if (::ftruncate(fd_, static_cast<off_t>(size)) != 0) return false;
  void* mapped = ::mremap(base_, mapped_, size, MREMAP_MAYMOVE);
  if (mapped == MAP_FAILED) return false;
  base_ = static_cast<std::byte*>(mapped);
  mapped_ = size;
  store<std::uint32_t>(base_ + kCapacityAt, bigger);
  return true;
}

bool SourcePositions::addSlot(std::string_view source, Entry& entry) noexcept {
  if (source.empty() || source.size() > kMaxName) return false;
  const auto used = load<std::uint32_t>(base_ + kUsedAt);
  if (used == load<std::uint32_t>(base_ + kCapacityAt) && !grow()) return false;
  std::byte* at = slotAt(used);
  std::memset(at, 0, kSlotBytes);
  store<std::uint64_t>(at + kInstanceAt, entry.instance);
  store<std::uint64_t>(at + kSeqAt, 0);
  store<std::uint32_t>(at + kNameLengthAt, static_cast<std::uint32_t>(source.size()));
  std::memcpy(at + kNameAt, source.data(), source.size());
  store<std::uint32_t>(base_ + kUsedAt, used + 1);  // the slot counts only once it is whole
  entry.slot = used;
  return true;
}

void SourcePositions::starting(std::string_view source, std::uint64_t instance,
                               std::uint64_t seq) noexcept {
  if (fd_ < 0 || instance == 0) return;
  Entry* entry = find(source, instance);
  if (entry == nullptr || (entry->slot < 0 && !addSlot(source, *entry))) return;
  store<std::uint64_t>(slotAt(entry->slot) + kStartedAt, seq);
}

void SourcePositions::handled(std::string_view source, std::uint64_t instance,
                              std::uint64_t seq) noexcept {
  if (fd_ < 0 || instance == 0) return;
  Entry* entry = find(source, instance);
  if (entry == nullptr) return;  // forgotten already (more than kInstancesPerSource since)
  if (entry->slot < 0 && !addSlot(source, *entry)) {
    if (!failed_) {
      failed_ = true;
      spdlog::error("position file {}: cannot add a slot for source '{}' ({}); its positions are "
                    "kept in memory only",
                    path_, source, std::strerror(errno));
    }
    return;
  }
  std::byte* at = slotAt(entry->slot) + kSeqAt;
  if (load<std::uint64_t>(at) < seq) {
    store<std::uint64_t>(at, seq);
    dirty_ = true;
  }
}

bool SourcePositions::syncForAck(std::chrono::steady_clock::time_point now) noexcept {
  if (fd_ < 0 || !dirty_ || sync_ == PositionSync::None) return true;
  if (sync_ == PositionSync::Interval && now - last_sync_ < interval_) return true;
  last_sync_ = now;
  dirty_ = false;
  return ::msync(base_, mapped_, MS_SYNC) == 0;
}

std::size_t SourcePositions::size() const {
  std::size_t count = 0;
  for (const auto& [name, instances] : sources_) count += instances.size();
  return count;
}

std::uint64_t SourcePositions::taken(std::string_view source, std::uint64_t instance) const {
  const auto it = sources_.find(source);
  if (it == sources_.end()) return 0;
  for (const auto& entry : it->second) {
    if (entry.instance == instance) return entry.taken;
  }
  return 0;
}

}  // namespace evr
