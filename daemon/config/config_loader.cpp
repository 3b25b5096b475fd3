#include "config/config_loader.hpp"

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <sstream>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <exception>
#include <limits>
#include <map>
#include <span>
#include <utility>
#include <vector>

#include "routing/adapter_registry.hpp"

namespace evr::config {
namespace {

// Key lists, sorted: they are printed in "expected one of" messages.
constexpr std::string_view kTopLevelKeys[] = {
    "classifiers", "containers",    "event_communication", "organization",
    "portfolios",  "risk_profiles", "router",              "strategies"};
// Organization sections: accepted as they are; a later issue interprets them.
constexpr std::string_view kOrganizationSections[] = {"classifiers", "containers", "portfolios",
                                                      "risk_profiles", "strategies"};
constexpr std::string_view kRouterKeys[] = {"heartbeat_ms", "listen",      "max_hops",
                                            "max_message_size", "queue_limit",
                                            "shutdown_grace_ms"};
constexpr std::string_view kEventCommunicationKeys[] = {"adapters", "pattern"};
constexpr std::string_view kPatterns[] = {"flexible"};
constexpr std::string_view kOrganizations[] = {"strategy_first", "classifier_first", "risk_first",
                                               "portfolio_first"};
constexpr std::string_view kListenSchemes[] = {"ipc://", "tcp://", "inproc://"};

bool contains(std::span<const std::string_view> list, std::string_view word) {
  return std::find(list.begin(), list.end(), word) != list.end();
}

std::string join(std::span<const std::string_view> words) {
  std::string out;
  for (const auto word : words) {
    if (!out.empty()) out += ", ";
    out += word;
  }
  return out;
}

// "a map", "a list", "'text'", "nothing": what a node is, for "expected X, got Y".
std::string describe(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map:
      return "a map";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Scalar:
      return "'" + node.Scalar() + "'";
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      break;
  }
  return "nothing";
}

std::string lineColumn(const Mark& mark) {
  return std::to_string(mark.line) + ":" + std::to_string(mark.column);
}

// Walks one YAML document and fills a Config, reporting every problem it meets. Keeps going after
// an error so that one run shows them all.
class Loader {
 public:
  Loader(std::string file, const routing::AdapterRegistry& registry, Diagnostics& diagnostics)
      : file_(std::move(file)), registry_(registry), diagnostics_(diagnostics) {}

  Mark markOf(const YAML::Mark& mark) const {
    if (mark.is_null() || mark.line < 0 || mark.column < 0) return Mark{file_, 0, 0};
    return Mark{file_, static_cast<std::uint32_t>(mark.line) + 1,
                static_cast<std::uint32_t>(mark.column) + 1};
  }
  Mark markOf(const YAML::Node& node) const { return markOf(node.Mark()); }

  // `root` is the first document; `documents` how many the text holds (counted up to a bound),
  // and `second_document` where the second one starts.
  Config load(const YAML::Node& root, std::size_t documents, const YAML::Mark& second_document) {
    Config config;
    config.file = file_;
    config.router.mark = Mark{file_, 0, 0};
    config.adapters_mark = config.router.mark;
    if (documents == 0) return config;  // empty file or only comments: every default
    if (documents > 1) {
      diagnostics_.error(markOf(second_document),
                         "a config is one YAML document; found more than one (remove the extra '---')");
    }
    if (root.IsNull()) return config;
    if (!root.IsMap()) {
      diagnostics_.error(markOf(root), "expected a map of config sections at the top level, got " +
                                           describe(root));
      return config;
    }
    config.router.mark = markOf(root);
    config.adapters_mark = config.router.mark;

    for (const auto& entry : entries(root)) {
      if (entry.key == "router") {
        config.router.mark = entry.key_mark;
        loadRouter(entry, config.router);
      } else if (entry.key == "event_communication") {
        loadEventCommunication(entry, config);
      } else if (entry.key == "organization") {
        loadOrganization(entry, config);
      } else if (contains(kOrganizationSections, entry.key)) {
        // Accepted as they are; their meaning comes with organization support.
      } else {
        unknownKey(entry, "top-level key", "", kTopLevelKeys);
      }
    }
    return config;
  }

 private:
  struct Entry {
    std::string key;
    YAML::Node value;
    Mark key_mark;
    Mark value_mark;  // an absent value (`key:`) is reported at the key
  };

  // The entries of a mapping in document order. Reports keys that are not plain names and
  // duplicate keys (yaml-cpp 0.7 keeps both); only the first occurrence of a key is returned.
  std::vector<Entry> entries(const YAML::Node& map) {
    std::vector<Entry> out;
    std::map<std::string, Mark> seen;
    // By value: yaml-cpp's iterator_value is a temporary, and `it->first` would dangle.
    for (const auto& pair : map) {
      const YAML::Node key = pair.first;
      const Mark key_mark = markOf(key);
      if (!key.IsScalar()) {
        diagnostics_.error(key_mark, "expected a key name, got " + describe(key));
        continue;
      }
      const auto [first, inserted] = seen.emplace(key.Scalar(), key_mark);
      if (!inserted) {
        diagnostics_.error(key_mark, "duplicate key '" + key.Scalar() + "' (first at " +
                                         lineColumn(first->second) + ")");
        continue;
      }
      const YAML::Node value = pair.second;
      out.push_back(Entry{key.Scalar(), value, key_mark,
                          value.IsNull() ? key_mark : markOf(value)});
    }
    return out;
  }

  void unknownKey(const Entry& entry, std::string_view what, std::string_view where,
                  std::span<const std::string_view> expected) {
    std::string message = "unknown " + std::string(what) + " '" + entry.key + "'";
    if (!where.empty()) message += " in " + std::string(where);
    message += "; expected one of: " + join(expected) + didYouMean(entry.key, expected);
    diagnostics_.error(entry.key_mark, std::move(message));
  }

  std::optional<std::string> readString(const Entry& entry, std::string_view what) {
    if (!entry.value.IsScalar()) {
      diagnostics_.error(entry.value_mark, "expected " + std::string(what) + " for '" + entry.key +
                                               "', got " + describe(entry.value));
      return std::nullopt;
    }
    return entry.value.Scalar();
  }

  // A decimal integer in [min, max]; quoted or not.
  std::optional<std::int64_t> readInteger(const Entry& entry, std::int64_t min, std::int64_t max) {
    const std::string range = entry.key + " must be an integer in " + std::to_string(min) + ".." +
                              std::to_string(max) + ", got ";
    if (!entry.value.IsScalar()) {
      diagnostics_.error(entry.value_mark, range + describe(entry.value));
      return std::nullopt;
    }
    const std::string& text = entry.value.Scalar();
    std::string_view digits = text;
    if (!digits.empty() && digits.front() == '+') digits.remove_prefix(1);
    std::int64_t value = 0;
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
    if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size() ||
        value < min || value > max) {
      diagnostics_.error(entry.value_mark, range + text);
      return std::nullopt;
    }
    return value;
  }

  template <typename T>
  void loadInteger(const Entry& entry, T& field, std::int64_t min, std::int64_t max) {
    if (const auto value = readInteger(entry, min, max)) field = static_cast<T>(*value);
  }

  void loadRouter(const Entry& section, RouterSettings& router) {
    if (!section.value.IsMap()) {
      diagnostics_.error(section.value_mark,
                         "expected a map of router settings, got " + describe(section.value));
      return;
    }
    constexpr std::int64_t kMaxU32 = std::numeric_limits<std::uint32_t>::max();
    for (const auto& entry : entries(section.value)) {
      if (entry.key == "listen") {
        loadListen(entry, router);
      } else if (entry.key == "queue_limit") {
        loadInteger(entry, router.queue_limit, 1, kMaxU32);
      } else if (entry.key == "max_hops") {
        loadInteger(entry, router.max_hops, 1, 255);
      } else if (entry.key == "max_message_size") {
        loadInteger(entry, router.max_message_size, 64, 268435456);
      } else if (entry.key == "heartbeat_ms") {
        loadInteger(entry, router.heartbeat_ms, 10, 600000);
      } else if (entry.key == "shutdown_grace_ms") {
        loadInteger(entry, router.shutdown_grace_ms, 0, 600000);
      } else {
        unknownKey(entry, "key", "router", kRouterKeys);
      }
    }
  }

  // A value that may be given as one scalar or as a list: "an endpoint", "endpoints".
  std::optional<std::vector<YAML::Node>> scalarOrList(const Entry& entry, const std::string& one,
                                                      const std::string& many) {
    std::vector<YAML::Node> items;
    if (entry.value.IsScalar()) {
      items.push_back(entry.value);
    } else if (entry.value.IsSequence()) {
      for (const auto& item : entry.value) items.push_back(item);
    } else {
      diagnostics_.error(entry.value_mark, "expected " + one + " or a list of " + many + " for '" +
                                               entry.key + "', got " + describe(entry.value));
      return std::nullopt;
    }
    return items;
  }

  void loadListen(const Entry& entry, RouterSettings& router) {
    const auto listed = scalarOrList(entry, "an endpoint", "endpoints");
    if (!listed) return;
    const std::vector<YAML::Node>& items = *listed;
    for (const auto& item : items) {
      const Mark mark = item.IsNull() ? entry.value_mark : markOf(item);
      if (!item.IsScalar()) {
        diagnostics_.error(mark, "expected an endpoint such as 'tcp://127.0.0.1:5560', got " +
                                     describe(item));
        continue;
      }
      const std::string& endpoint = item.Scalar();
      if (const auto problem = checkEndpoint(endpoint)) {
        diagnostics_.error(mark, *problem);
        continue;
      }
      const auto same = std::find_if(router.listen.begin(), router.listen.end(),
                                     [&](const auto& other) { return other.value == endpoint; });
      if (same != router.listen.end()) {
        diagnostics_.error(mark, "listen endpoint '" + endpoint + "' is given twice (first at " +
                                     lineColumn(same->mark) + ")");
        continue;
      }
      router.listen.push_back(Located<std::string>{endpoint, mark});
    }
  }

  // Only what can be told without binding: the scheme, and an address after it.
  static std::optional<std::string> checkEndpoint(const std::string& endpoint) {
    if (endpoint.empty()) return "empty listen endpoint";
    const auto scheme =
        std::find_if(std::begin(kListenSchemes), std::end(kListenSchemes),
                     [&](std::string_view prefix) { return endpoint.starts_with(prefix); });
    if (scheme == std::end(kListenSchemes)) {
      return "listen endpoint '" + endpoint + "' has an unsupported scheme; expected " +
             join(kListenSchemes);
    }
    const std::string_view address = std::string_view(endpoint).substr(scheme->size());
    if (address.empty()) return "listen endpoint '" + endpoint + "' has no address";
    if (*scheme == "tcp://") {
      const auto colon = address.rfind(':');
      const std::string_view port =
          colon == std::string_view::npos ? std::string_view() : address.substr(colon + 1);
      const bool numeric = !port.empty() && std::all_of(port.begin(), port.end(), [](char c) {
        return std::isdigit(static_cast<unsigned char>(c)) != 0;
      });
      if (colon == 0 || (!numeric && port != "*")) {
        return "listen endpoint '" + endpoint + "' needs host:port (e.g. tcp://127.0.0.1:5560)";
      }
    }
    return std::nullopt;
  }

  void loadEventCommunication(const Entry& section, Config& config) {
    if (!section.value.IsMap()) {
      diagnostics_.error(section.value_mark, "expected a map with 'pattern' and 'adapters' for "
                                             "'event_communication', got " +
                                                 describe(section.value));
      return;
    }
    for (const auto& entry : entries(section.value)) {
      if (entry.key == "pattern") {
        if (const auto pattern = readString(entry, "a pattern name")) {
          if (contains(kPatterns, *pattern)) {
            config.pattern = *pattern;
          } else {
            diagnostics_.error(entry.value_mark, "unknown pattern '" + *pattern +
                                                     "'; accepted: " + join(kPatterns));
          }
        }
      } else if (entry.key == "adapters") {
        config.adapters_present = true;
        config.adapters_mark = entry.key_mark;
        loadAdapters(entry, config);
      } else {
        unknownKey(entry, "key", "event_communication", kEventCommunicationKeys);
      }
    }
  }

  void loadOrganization(const Entry& entry, Config& config) {
    const auto name = readString(entry, "an organization name");
    if (!name) return;
    if (!contains(kOrganizations, *name)) {
      diagnostics_.error(entry.value_mark, "unknown organization '" + *name +
                                               "'; expected one of: " + join(kOrganizations) +
                                               didYouMean(*name, kOrganizations));
      return;
    }
    config.organization = Located<std::string>{*name, entry.value_mark};
  }

  void loadAdapters(const Entry& entry, Config& config) {
    if (!entry.value.IsSequence()) {
      diagnostics_.error(entry.value_mark,
                         "expected a list of adapters, got " + describe(entry.value));
      return;
    }
    std::size_t index = 0;
    for (const auto& item : entry.value) {
      ++index;
      if (auto adapter = loadAdapter(item, index, entry.value_mark)) {
        config.adapters.push_back(std::move(*adapter));
      }
    }
  }

  std::optional<AdapterConfig> loadAdapter(const YAML::Node& node, std::size_t index,
                                           const Mark& list_mark) {
    const Mark mark = node.IsNull() ? list_mark : markOf(node);
    if (!node.IsMap()) {
      diagnostics_.error(mark, "expected an adapter (a map with 'type:'), got " + describe(node));
      return std::nullopt;
    }
    AdapterConfig adapter;
    adapter.mark = mark;
    adapter.type_mark = mark;
    adapter.name_mark = mark;
    const std::vector<Entry> keys = entries(node);

    // The type decides which other keys are allowed, wherever `type:` is in the mapping.
    const routing::AdapterKind* kind = nullptr;
    const auto type_entry =
        std::find_if(keys.begin(), keys.end(), [](const Entry& e) { return e.key == "type"; });
    if (type_entry == keys.end()) {
      diagnostics_.error(mark, "adapter #" + std::to_string(index) +
                                   " has no 'type'; known types: " + join(registry_.typeNames()));
    } else if (const auto type = readString(*type_entry, "an adapter type")) {
      adapter.type = *type;
      adapter.type_mark = type_entry->value_mark;
      kind = registry_.find(adapter.type);
      if (kind == nullptr || kind->compile == nullptr) {
        diagnostics_.error(adapter.type_mark, registry_.unknownTypeMessage(adapter.type));
        kind = nullptr;
      }
    }

    // Entry count of each list-valued key that is a list, for the registry's `min_items`.
    std::map<std::string, std::pair<Mark, std::size_t>, std::less<>> list_sizes;
    for (const auto& entry : keys) {
      if (entry.key == "type") continue;
      if (entry.key == "name") {
        if (const auto name = readString(entry, "an adapter name")) {
          if (name->empty()) {
            diagnostics_.error(entry.value_mark, "an adapter name must not be empty");
          } else {
            adapter.name = *name;
            adapter.name_mark = entry.value_mark;
          }
        }
      } else if (entry.key == "events") {
        loadEvents(entry, adapter);
      } else if (kind == nullptr) {
        // Unknown or missing type: its keys cannot be judged, and the type is reported already.
      } else if (kind->findKey(entry.key) == nullptr) {
        unknownKey(entry, "key", adapter.type + " adapter", kind->acceptedKeys());
      } else if (entry.key == "containers" || entry.key == "targets") {
        auto& names = entry.key == "containers" ? adapter.containers : adapter.targets;
        names = readContainerList(entry);
        if (entry.value.IsSequence()) {
          list_sizes[entry.key] = {entry.value_mark, entry.value.size()};
        }
      } else if (entry.key == "source") {
        adapter.source = readContainerName(entry);
      } else {
        // The adapter type declares a key the config model has no field for (a registry entry
        // ahead of config.hpp): say so rather than drop it silently.
        diagnostics_.error(entry.key_mark, "key '" + entry.key + "' of " + adapter.type +
                                               " adapters is not supported by this build");
      }
    }

    if (adapter.name.empty()) {
      adapter.name = (adapter.type.empty() ? std::string("adapter") : adapter.type) + "#" +
                     std::to_string(index);
    }

    if (kind != nullptr) {
      for (const auto& key : kind->keys) {
        const bool present = std::any_of(keys.begin(), keys.end(),
                                         [&](const Entry& e) { return e.key == key.name; });
        if (!present) {
          if (key.required) {
            diagnostics_.error(mark, adapter.type + " adapter '" + adapter.name + "' needs '" +
                                         std::string(key.name) + "'");
          }
          continue;
        }
        const auto size = list_sizes.find(key.name);
        if (size != list_sizes.end() && size->second.second < key.min_items) {
          diagnostics_.error(size->second.first,
                             adapter.type + " adapter '" + adapter.name + "' needs at least " +
                                 std::to_string(key.min_items) + " " + std::string(key.name) +
                                 ", got " + std::to_string(size->second.second));
        }
      }
    }
    return adapter;
  }

  std::optional<Located<std::string>> readContainerName(const Entry& entry) {
    const auto name = readString(entry, "a container name");
    if (!name) return std::nullopt;
    if (name->empty()) {
      diagnostics_.error(entry.value_mark, "empty container name");
      return std::nullopt;
    }
    return Located<std::string>{*name, entry.value_mark};
  }

  // Returns the well-formed names; the others are reported.
  std::vector<Located<std::string>> readContainerList(const Entry& entry) {
    std::vector<Located<std::string>> out;
    if (!entry.value.IsSequence()) {
      diagnostics_.error(entry.value_mark, "expected a list of container names for '" +
                                               entry.key + "', got " + describe(entry.value));
      return out;
    }
    for (const auto& item : entry.value) {
      const Mark mark = item.IsNull() ? entry.value_mark : markOf(item);
      if (!item.IsScalar()) {
        diagnostics_.error(mark, "expected a container name, got " + describe(item));
      } else if (item.Scalar().empty()) {
        diagnostics_.error(mark, "empty container name");
      } else {
        out.push_back(Located<std::string>{item.Scalar(), mark});
      }
    }
    return out;
  }

  void loadEvents(const Entry& entry, AdapterConfig& adapter) {
    const auto listed = scalarOrList(entry, "an event type", "event types");
    if (!listed) return;
    const std::vector<YAML::Node>& items = *listed;
    if (items.empty()) {
      diagnostics_.error(entry.value_mark, "an empty 'events' filter would route nothing; leave "
                                           "'events' out to route every type");
      return;
    }
    EventTypeSet types;
    bool ok = true;
    for (const auto& item : items) {
      const Mark mark = item.IsNull() ? entry.value_mark : markOf(item);
      if (!item.IsScalar()) {
        diagnostics_.error(mark, "expected an event type name, got " + describe(item));
        ok = false;
        continue;
      }
      const auto type = parseEventType(item.Scalar());
      if (!type) {
        std::string upper = item.Scalar();
        std::transform(upper.begin(), upper.end(), upper.begin(),
                       [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
        diagnostics_.error(mark, "unknown event type '" + item.Scalar() + "'; expected one of: " +
                                     eventTypeNameList() + " (CLASSIFICATION = REGIME)" +
                                     didYouMean(upper, eventTypeNames()));
        ok = false;
        continue;
      }
      types.add(*type);
    }
    if (ok) adapter.events = Located<EventTypeSet>{types, entry.value_mark};
  }

  static std::vector<std::string_view> eventTypeNames() {
    std::vector<std::string_view> names;
    for (unsigned i = 1; i < kEventTypeCount; ++i) {
      names.push_back(eventTypeName(static_cast<EventType>(i)));
    }
    names.push_back("CLASSIFICATION");
    return names;
  }

  std::string file_;
  const routing::AdapterRegistry& registry_;
  Diagnostics& diagnostics_;
};

// Counts the documents in `text`, stopping at kMaxDocuments. yaml-cpp 0.7's LoadAll must not be
// used on outside input: on some malformed text (",#\na: 1") its document loop never ends and
// allocates until the machine runs out of memory. The parser's own event stream, read a bounded
// number of times, is safe.
struct DocumentCount {
  std::size_t count = 0;
  YAML::Mark second_start = YAML::Mark::null_mark();
};

DocumentCount countDocuments(const std::string& text) {
  constexpr std::size_t kMaxDocuments = 2;
  class Starts final : public YAML::EventHandler {
   public:
    std::vector<YAML::Mark> marks;
    void OnDocumentStart(const YAML::Mark& mark) override { marks.push_back(mark); }
    void OnDocumentEnd() override {}
    void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
    void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
    void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t, const std::string&) override {}
    void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {}
    void OnSequenceEnd() override {}
    void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {}
    void OnMapEnd() override {}
  } starts;
  std::istringstream input(text);
  YAML::Parser parser(input);
  DocumentCount result;
  while (result.count < kMaxDocuments && parser.HandleNextDocument(starts)) ++result.count;
  if (starts.marks.size() > 1) result.second_start = starts.marks[1];
  return result;
}

}  // namespace

std::optional<Config> loadConfigText(std::string_view yaml_text, const std::string& file,
                                     Diagnostics& diagnostics) {
  const std::size_t errors_before = diagnostics.errorCount();
  const routing::AdapterRegistry registry = routing::builtinAdapterRegistry();
  Loader loader(file, registry, diagnostics);
  std::optional<Config> config;
  // yaml-cpp reports syntax errors, and a few malformed-node cases, by throwing: each becomes one
  // diagnostic at its mark. Nothing escapes.
  try {
    const std::string text(yaml_text);
    const DocumentCount documents = countDocuments(text);
    config = loader.load(documents.count > 0 ? YAML::Load(text) : YAML::Node(), documents.count,
                         documents.second_start);
  } catch (const YAML::Exception& e) {
    diagnostics.error(loader.markOf(e.mark), e.msg);
  } catch (const std::exception& e) {
    diagnostics.error(Mark{file, 0, 0}, std::string("cannot read the config: ") + e.what());
  }
  if (diagnostics.errorCount() > errors_before) return std::nullopt;
  return config;
}

std::optional<Config> loadConfigFile(const std::string& path, Diagnostics& diagnostics) {
  std::FILE* stream = std::fopen(path.c_str(), "rb");
  if (stream == nullptr) {
    diagnostics.error(Mark{path, 0, 0},
                      "cannot open config file '" + path + "': " + std::strerror(errno));
    return std::nullopt;
  }
  std::string text;
  char buffer[65536];
  std::size_t count = 0;
  while ((count = std::fread(buffer, 1, sizeof buffer, stream)) > 0) text.append(buffer, count);
  const int read_error = std::ferror(stream) != 0 ? errno : 0;
  std::fclose(stream);
  if (read_error != 0) {
    diagnostics.error(Mark{path, 0, 0},
                      "cannot read config file '" + path + "': " + std::strerror(read_error));
    return std::nullopt;
  }
  return loadConfigText(text, path, diagnostics);
}

}  // namespace evr::config
