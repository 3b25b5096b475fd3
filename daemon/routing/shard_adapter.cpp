#include "routing/shard_adapter.hpp"

#include <charconv>
#include <memory>
#include <span>
#include <utility>

#include "config/adapter_yaml.hpp"
#include "evr/event_fields.hpp"

namespace evr::routing {

std::size_t shardIndex(std::string_view key, std::size_t shards) {
  // Jump consistent hash: walks the "jumps" a key makes as the number of buckets grows, with a
  // 64-bit linear congruential generator seeded by the key; the last jump below `shards` wins.
  std::uint64_t state = fnv1a64(key);
  std::int64_t bucket = -1;
  std::int64_t next = 0;
  const auto count = static_cast<std::int64_t>(shards);
  while (next < count) {
    bucket = next;
    state = state * 2862933555777941757u + 1;
    next = static_cast<std::int64_t>(static_cast<double>(bucket + 1) *
                                     (static_cast<double>(std::int64_t{1} << 31) /
                                      static_cast<double>((state >> 33) + 1)));
  }
  return static_cast<std::size_t>(bucket);
}

namespace {

using config::Located;
using config::YamlEntry;

// Picks one target per event by its key field's hash; every target for `broadcast_types`.
class ShardChooser final : public Chooser {
 public:
  ShardChooser(const fields::FieldInfo& key, EventTypeSet broadcast_types,
               std::vector<ContainerId> targets)
      : key_(key), broadcast_types_(broadcast_types), targets_(std::move(targets)) {}

  std::span<const ContainerId> choose(const EventView& view) const override {
    if (broadcast_types_.containsOrdinal(static_cast<std::uint8_t>(view.read(type_).enumOrdinal()))) {
      return targets_;
    }
    char buffer[32];
    const std::string_view bytes = keyBytes(view.read(key_), buffer);
    return std::span<const ContainerId>(&targets_[shardIndex(bytes, targets_.size())], 1);
  }

  std::string edgeLabel() const override {
    return "hash of event." + std::string(key_.name);
  }

  std::size_t fieldReads() const override { return 1; }  // the key

  std::string describe(const RoutingTable& table) const override {
    std::string out = "one target by hash of event." + std::string(key_.name) + ":";
    for (std::size_t i = 0; i < targets_.size(); ++i) {
      out += (i == 0 ? " " : ", ") + table.name(targets_[i]);
    }
    out += "\n";
    if (!broadcast_types_.empty()) {
      out += "    " + broadcast_types_.toString() + " -> every target\n";
    }
    return out;
  }

 private:
  // The field's value as the bytes that are hashed; `buffer` holds numbers' text.
  static std::string_view keyBytes(const fields::FieldValue& value, char (&buffer)[32]) {
    using Type = fields::FieldValue::Type;
    std::to_chars_result written{buffer, std::errc()};
    switch (value.type()) {
      case Type::Absent:
        return {};
      case Type::Text:
      case Type::Enum:
        return value.asText();
      case Type::Bool:
        return value.asBool() ? "true" : "false";
      case Type::Integer:
        written = std::to_chars(buffer, buffer + sizeof buffer, value.asInteger());
        break;
      case Type::Unsigned:
        written = std::to_chars(buffer, buffer + sizeof buffer, value.asUnsigned());
        break;
      case Type::Number:
        written = std::to_chars(buffer, buffer + sizeof buffer, value.asNumber());
        break;
    }
    if (written.ec != std::errc()) return {};
    return std::string_view(buffer, static_cast<std::size_t>(written.ptr - buffer));
  }

  const fields::FieldInfo& key_;  // an entry of the static field table
  const fields::FieldInfo& type_ = *fields::findField("type");
  EventTypeSet broadcast_types_;
  std::vector<ContainerId> targets_;
};

std::optional<Located<std::string>> readKey(config::YamlReader& reader, const YamlEntry& entry) {
  const auto text = reader.readString(entry, "a field name such as event.symbol");
  if (!text) return std::nullopt;
  std::string name = *text;
  if (name.starts_with("event.")) name.erase(0, 6);
  if (fields::findField(name) == nullptr) {
    std::vector<std::string_view> names;
    for (const auto& field : fields::allFields()) names.push_back(field.name);
    reader.diagnostics().error(entry.value_mark, "unknown field '" + *text + "' for 'key'; fields: " +
                                                     fields::fieldNameList() +
                                                     config::didYouMean(name, names));
    return std::nullopt;
  }
  return Located<std::string>{name, entry.value_mark};
}

std::any parseShard(config::AdapterYaml& yaml) {
  ShardConfig out;
  out.source = yaml.containerName("source");
  out.targets = yaml.containerNames("targets");
  if (auto key = yaml.read("key", [&](const YamlEntry& entry) { return readKey(yaml.reader(), entry); })) {
    out.key = std::move(*key);
  }
  out.broadcast_types = yaml.read("broadcast_types", [&](const YamlEntry& entry) {
    return yaml.reader().readEventTypes(entry, true);
  });
  return out;
}

std::vector<Edge> compileShard(const config::AdapterConfig& adapter,
                               const ResolveContainer& resolve,
                               config::Diagnostics& diagnostics) {
  const auto& shard = adapter.as<ShardConfig>();
  const FanOut fan = resolveFanOut(adapter, shard.source, shard.targets,
                                   {"source", "targets", "target"}, resolve, diagnostics);
  const fields::FieldInfo* key = fields::findField(shard.key.value);
  if (key == nullptr) {  // a config built in code; a loaded one was checked by parseShard
    diagnostics.error(shard.key.mark.line != 0 ? shard.key.mark : adapter.mark,
                      "unknown field '" + shard.key.value + "' for 'key'; fields: " +
                          fields::fieldNameList());
  }
  std::vector<ContainerId> targets;
  for (const auto& target : fan.targets) {
    if (target) targets.push_back(*target);
  }
  // The shard a key goes to depends on the number of targets: with any of them unusable there
  // is no table to route by.
  if (!fan.from || key == nullptr || targets.empty() || targets.size() != fan.targets.size()) {
    return {};
  }

  auto group = std::make_shared<SelectiveGroup>();
  group->chooser = std::make_shared<const ShardChooser>(
      *key,
      shard.broadcast_types ? shard.broadcast_types->value : EventTypeSet::of(EventType::END_OF_DATA),
      targets);
  std::shared_ptr<const SelectiveGroup> shared = std::move(group);
  const EventTypeSet types = adapterEventTypes(adapter);
  std::vector<Edge> edges;
  for (const auto target : targets) edges.push_back(Edge{*fan.from, target, types, nullptr, shared});
  return edges;
}

}  // namespace

AdapterKind shardAdapterKind() {
  return AdapterKind{
      .type = "shard",
      .keys = {AdapterKey{.name = "source", .required = true},
               AdapterKey{.name = "targets", .required = true, .min_items = 1},
               AdapterKey{.name = "key"},
               AdapterKey{.name = "broadcast_types"}},
      .parse = &parseShard,
      .compile = &compileShard,
  };
}

}  // namespace evr::routing
