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

#include "config/host_port.hpp"
#include "evr/link_messages.hpp"
#include "routing/adapter_registry.hpp"

namespace evr::config {
namespace {

// Key lists, sorted: they are printed in "expected one of" messages.
constexpr std::string_view kTopLevelKeys[] = {
    "classifiers", "containers",    "event_communication", "organization",
    "portfolios",  "risk_profiles", "router",              "strategies"};
// Organization sections: lists of declared containers. An entry of any of them but `containers:`
// may nest kNestedSections lists (the spec nests classifier > risk profiles > portfolios >
// strategies) and carry free-form parameters; `containers:` is flat and strict.
constexpr std::string_view kOrganizationSections[] = {"classifiers", "containers", "portfolios",
                                                      "risk_profiles", "strategies"};
// Sections an organization entry may nest, whatever its own section.
constexpr std::string_view kNestedSections[] = {"portfolios", "risk_profiles", "strategies"};
constexpr std::string_view kContainerKeys[] = {"name", "produces", "role"};
// Roles a `containers:` entry may give: the organization roles, and the infrastructure roles the
// generated default adapters look for (topology/organization.hpp).
constexpr std::string_view kRoles[] = {"classifier", "data",      "execution",
                                       "indicators", "performance_tracker", "portfolio",
                                       "risk",       "risk_manager", "strategy"};
constexpr std::string_view kRuleKeys[] = {"condition", "field", "operator", "target", "value"};
constexpr std::string_view kModes[] = {"first", "all"};
constexpr std::string_view kTransformKeys[] = {"retype", "tags"};
// Structured rule operators and their condition-language spelling.
struct RuleOperator {
  std::string_view name;
  std::string_view text;
  bool list = false;  // takes a list value
};
constexpr RuleOperator kRuleOperators[] = {
    {"equals", "=="},  {"not_equals", "!="},        {"gt", ">"},
    {"gte", ">="},     {"lt", "<"},                 {"lte", "<="},
    {"in", "in", true}, {"not_in", "not in", true}, {"contains", "contains"},
    {"matches", "matches"}};
constexpr std::string_view kRouterKeys[] = {"control",          "control_allow_remote",
                                            "heartbeat_ms",     "listen",
                                            "max_hops",         "max_message_size",
                                            "metrics",          "queue_limit",
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
  // `text` is the document's text: it tells where a quoted or block scalar's text starts.
  Loader(std::string file, std::string_view text, const routing::AdapterRegistry& registry,
         Diagnostics& diagnostics)
      : file_(std::move(file)), text_(text), registry_(registry), diagnostics_(diagnostics) {
    // yaml-cpp's positions do not count a UTF-8 byte order mark.
    if (text_.starts_with("\xEF\xBB\xBF")) text_.remove_prefix(3);
  }

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
        loadOrganizationSection(entry, config);
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
      } else if (entry.key == "control") {
        if (!entry.value.IsScalar()) {
          diagnostics_.error(entry.value_mark, "expected an endpoint for 'control', got " + describe(entry.value));
        } else if (const auto problem = checkEndpoint(entry.value.Scalar())) {
          diagnostics_.error(entry.value_mark, *problem);
        } else {
          router.control = Located<std::string>{entry.value.Scalar(), entry.value_mark};
        }
      } else if (entry.key == "control_allow_remote") {
        const std::string text = entry.value.IsScalar() ? entry.value.Scalar() : "";
        if (text == "true" || text == "false") {
          router.control_allow_remote = text == "true";
        } else {
          diagnostics_.error(entry.value_mark, "control_allow_remote must be true or false, got " +
                                                   describe(entry.value));
        }
      } else if (entry.key == "metrics") {
        // "off", or host:port (config/host_port.hpp; main parses it again to start the server).
        if (!entry.value.IsScalar()) {
          diagnostics_.error(entry.value_mark,
                             "expected \"host:port\" or \"off\" for 'metrics', got " +
                                 describe(entry.value));
        } else if (entry.value.Scalar() != "off" && !parseHostPort(entry.value.Scalar())) {
          diagnostics_.error(entry.value_mark,
                             "metrics must be \"host:port\" (port 0..65535; \"[::1]:9464\" for "
                             "IPv6) or \"off\", got '" + entry.value.Scalar() + "'");
        } else {
          router.metrics = entry.value.Scalar();
          if (router.metrics != "off" &&
              !isLoopbackHost(parseHostPort(router.metrics)->host)) {
            diagnostics_.warning(entry.value_mark,
                                 "metrics endpoint '" + router.metrics +
                                     "' is not on loopback: /metrics can be read from other "
                                     "machines");
          }
        }
      } else {
        unknownKey(entry, "key", "router", kRouterKeys);
      }
    }
    // The admin plane stays on this machine unless the operator says otherwise.
    if (router.control && !router.control_allow_remote && !isLocalEndpoint(router.control->value)) {
      diagnostics_.error(router.control->mark,
                         "control endpoint '" + router.control->value +
                             "' is not on loopback; evrctl could be reached from other machines. "
                             "Use 127.0.0.1/[::1]/localhost, an ipc endpoint, or set "
                             "control_allow_remote: true");
    }
  }

  // ipc and inproc endpoints, and tcp on a loopback address.
  static bool isLocalEndpoint(const std::string& endpoint) {
    if (endpoint.rfind("tcp://", 0) != 0) return true;
    const std::string rest = endpoint.substr(6);
    return rest.rfind("127.", 0) == 0 || rest.rfind("localhost:", 0) == 0 || rest.rfind("[::1]:", 0) == 0;
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
      } else if (entry.key == "containers" || entry.key == "targets" ||
                 entry.key == "children") {
        auto& names = entry.key == "containers" ? adapter.containers
                      : entry.key == "targets"  ? adapter.targets
                                                : adapter.children;
        names = readContainerList(entry);
        if (entry.value.IsSequence()) {
          list_sizes[entry.key] = {entry.value_mark, entry.value.size()};
        }
      } else if (entry.key == "source") {
        adapter.source = readContainerName(entry);
      } else if (entry.key == "parent") {
        adapter.parent = readContainerName(entry);
      } else if (entry.key == "default") {
        adapter.default_target = readContainerName(entry);
      } else if (entry.key == "context_events") {
        adapter.context_events = readEventTypes(entry, false);
      } else if (entry.key == "result_events") {
        adapter.result_events = readEventTypes(entry, false);
      } else if (entry.key == "rules") {
        loadRules(entry, adapter);
        if (entry.value.IsSequence()) {
          list_sizes[entry.key] = {entry.value_mark, entry.value.size()};
        }
      } else if (entry.key == "mode") {
        if (const auto mode = readString(entry, "a mode")) {
          if (contains(kModes, *mode)) {
            adapter.mode_all = *mode == "all";
          } else {
            diagnostics_.error(entry.value_mark, "unknown mode '" + *mode + "'; accepted: " +
                                                     join(kModes) + didYouMean(*mode, kModes));
          }
        }
      } else if (entry.key == "transform") {
        adapter.transform = loadTransform(entry);
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

    // A selective adapter needs somewhere to send: a rule, or at least its `default:` target.
    if (kind != nullptr && kind->findKey("rules") != nullptr && kind->findKey("default") != nullptr &&
        adapter.rules.empty() && !adapter.default_target) {
      const auto rules = std::find_if(keys.begin(), keys.end(),
                                      [](const Entry& e) { return e.key == "rules"; });
      if (rules == keys.end()) {
        diagnostics_.error(mark, adapter.type + " adapter '" + adapter.name +
                                     "' needs 'rules' (or a 'default' target)");
      } else if (rules->value.IsSequence() && rules->value.size() == 0) {
        diagnostics_.error(rules->value_mark, adapter.type + " adapter '" + adapter.name +
                                                  "' needs at least 1 rule (or a 'default' target)");
      }
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

  // Where the text of a scalar starts: yaml-cpp marks a quoted scalar at its opening quote, a
  // tagged one at its tag and a block scalar at its `|` or `>`. Condition errors are reported at
  // an offset from this place, so it must be the text's first character.
  Mark textMark(const YAML::Node& node) const {
    Mark mark = markOf(node);
    const YAML::Mark raw = node.Mark();
    if (mark.line == 0 || raw.pos < 0 || static_cast<std::size_t>(raw.pos) >= text_.size()) {
      // No text to look at: yaml-cpp 0.7 tags quoted (and block) scalars "!", plain ones "?".
      if (node.Tag() == "!") ++mark.column;
      return mark;
    }
    std::size_t pos = static_cast<std::size_t>(raw.pos);
    const auto skip = [&](auto&& predicate) {
      while (pos < text_.size() && predicate(text_[pos])) {
        ++pos;
        ++mark.column;
      }
    };
    if (text_[pos] == '!' || text_[pos] == '&') {  // a tag or an anchor before the scalar
      skip([](char c) { return c != ' ' && c != '\t' && c != '\n' && c != '\r'; });
      skip([](char c) { return c == ' ' || c == '\t'; });
    }
    if (pos >= text_.size()) return mark;
    if (text_[pos] == '"' || text_[pos] == '\'') {
      ++mark.column;
    } else if (text_[pos] == '|' || text_[pos] == '>') {
      // A block scalar's text starts on the first non-blank line after the indicator line.
      std::size_t line_start = text_.find('\n', pos);
      std::uint32_t line = mark.line;
      while (line_start != std::string_view::npos) {
        ++line_start;
        ++line;
        std::size_t first = line_start;
        while (first < text_.size() && text_[first] == ' ') ++first;
        if (first < text_.size() && text_[first] != '\n' && text_[first] != '\r') {
          mark.line = line;
          mark.column = static_cast<std::uint32_t>(first - line_start) + 1;
          break;
        }
        line_start = text_.find('\n', line_start);
      }
    }
    return mark;
  }

  // ---- selective rules ------------------------------------------------------------------------

  void loadRules(const Entry& entry, AdapterConfig& adapter) {
    if (!entry.value.IsSequence()) {
      diagnostics_.error(entry.value_mark,
                         "expected a list of rules for 'rules', got " + describe(entry.value));
      return;
    }
    for (const auto& item : entry.value) {
      if (auto rule = loadRule(item, item.IsNull() ? entry.value_mark : markOf(item))) {
        adapter.rules.push_back(std::move(*rule));
      }
    }
  }

  // `{condition: "...", target: x}` or the structured `{field, operator, value, target}`, which
  // becomes the condition text `event.<field> <op> <literal>`.
  std::optional<SelectiveRuleConfig> loadRule(const YAML::Node& node, const Mark& mark) {
    if (!node.IsMap()) {
      diagnostics_.error(mark, "expected a rule (a map with 'condition' and 'target'), got " +
                                   describe(node));
      return std::nullopt;
    }
    SelectiveRuleConfig rule;
    rule.mark = mark;
    bool ok = true;
    const Entry* condition = nullptr;
    const Entry* field = nullptr;
    const Entry* op = nullptr;
    const Entry* value = nullptr;
    bool has_target = false;
    const std::vector<Entry> keys = entries(node);
    for (const auto& entry : keys) {
      if (entry.key == "condition") {
        condition = &entry;
      } else if (entry.key == "field") {
        field = &entry;
      } else if (entry.key == "operator") {
        op = &entry;
      } else if (entry.key == "value") {
        value = &entry;
      } else if (entry.key == "target") {
        has_target = true;
        if (auto target = readContainerName(entry)) {
          rule.target = std::move(*target);
        } else {
          ok = false;
        }
      } else {
        unknownKey(entry, "key", "selective rule", kRuleKeys);
        ok = false;
      }
    }
    if (!has_target) {
      diagnostics_.error(mark, "a selective rule needs a 'target'");
      ok = false;
    }

    if (condition != nullptr) {
      for (const Entry* structured : {field, op, value}) {
        if (structured == nullptr) continue;
        diagnostics_.error(structured->key_mark,
                           "a rule has either 'condition' or 'field', 'operator' and 'value', "
                           "not both");
        ok = false;
      }
      const auto text = readString(*condition, "a condition");
      if (!text) return std::nullopt;
      if (text->find_first_not_of(" \t\r\n") == std::string::npos) {
        diagnostics_.error(condition->value_mark, "empty condition");
        return std::nullopt;
      }
      rule.condition = ConditionText{*text, textMark(condition->value)};
    } else if (field != nullptr || op != nullptr || value != nullptr) {
      auto text = structuredCondition(mark, field, op, value);
      if (!text) return std::nullopt;
      rule.condition = ConditionText{std::move(*text), textMark(field->value)};
      rule.structured = true;
    } else {
      diagnostics_.error(mark, "a selective rule needs a 'condition' (or 'field', 'operator' and "
                               "'value')");
      return std::nullopt;
    }
    if (!ok) return std::nullopt;
    return rule;
  }

  std::optional<std::string> structuredCondition(const Mark& mark, const Entry* field,
                                                 const Entry* op, const Entry* value) {
    bool ok = true;
    for (const auto& [entry, key] :
         {std::pair{field, "field"}, std::pair{op, "operator"}, std::pair{value, "value"}}) {
      if (entry == nullptr) {
        diagnostics_.error(mark, std::string("a structured rule needs '") + key +
                                     "' (or write a 'condition' instead)");
        ok = false;
      }
    }
    if (!ok) return std::nullopt;

    std::string name;
    if (const auto text = readString(*field, "a field name")) {
      name = *text;
      if (name.starts_with("event.")) name.erase(0, 6);
      const bool valid =
          !name.empty() && (std::isalpha(static_cast<unsigned char>(name[0])) != 0 || name[0] == '_') &&
          std::all_of(name.begin(), name.end(), [](unsigned char c) {
            return std::isalnum(c) != 0 || c == '_' || c == '.';
          });
      if (!valid) {
        diagnostics_.error(field->value_mark, "'" + *text + "' is not a field name (fields: "
                                              "docs/events.md)");
        ok = false;
      }
    } else {
      ok = false;
    }

    const RuleOperator* found = nullptr;
    if (const auto text = readString(*op, "an operator")) {
      for (const auto& candidate : kRuleOperators) {
        if (candidate.name == *text) found = &candidate;
      }
      if (found == nullptr) {
        std::vector<std::string_view> names;
        for (const auto& candidate : kRuleOperators) names.push_back(candidate.name);
        diagnostics_.error(op->value_mark, "unknown operator '" + *text + "'; expected one of: " +
                                               join(names) + didYouMean(*text, names));
        ok = false;
      }
    } else {
      ok = false;
    }
    if (!ok) return std::nullopt;

    std::string literal;
    const bool as_text = found->name == "matches";  // a regex is always a string
    if (found->list) {
      if (!value->value.IsSequence() || value->value.size() == 0) {
        diagnostics_.error(value->value_mark, "operator '" + std::string(found->name) +
                                                  "' needs a non-empty list value, e.g. [BULL, "
                                                  "BEAR], got " + describe(value->value));
        return std::nullopt;
      }
      literal = "[";
      for (const auto& item : value->value) {
        const auto one = literalOf(item, item.IsNull() ? value->value_mark : markOf(item), false);
        if (!one) return std::nullopt;
        if (literal.size() > 1) literal += ", ";
        literal += *one;
      }
      literal += "]";
    } else {
      if (value->value.IsSequence() || value->value.IsMap()) {
        diagnostics_.error(value->value_mark, "operator '" + std::string(found->name) +
                                                  "' needs a single value, got " +
                                                  describe(value->value) +
                                                  " (use 'in' to compare with a list)");
        return std::nullopt;
      }
      const auto one = literalOf(value->value, value->value_mark, as_text);
      if (!one) return std::nullopt;
      literal = *one;
    }
    return "event." + name + " " + std::string(found->text) + " " + literal;
  }

  // A structured rule's value as a condition literal: a plain number or true/false as it is,
  // anything else (and anything quoted) as a single-quoted string with `\` and `'` escaped.
  std::optional<std::string> literalOf(const YAML::Node& node, const Mark& mark, bool as_text) {
    if (!node.IsScalar()) {
      diagnostics_.error(mark, "expected a value (a string, number or true/false), got " +
                                   describe(node));
      return std::nullopt;
    }
    const std::string& text = node.Scalar();
    const bool plain = node.Tag() == "?";
    if (plain && !as_text) {
      std::string lower = text;
      std::transform(lower.begin(), lower.end(), lower.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      if (lower == "true" || lower == "false") return lower;
      if (auto number = numberLiteral(text)) return number;
    }
    std::string quoted = "'";
    for (const char c : text) {
      if (c == '\\' || c == '\'') quoted += '\\';
      quoted += c;
    }
    quoted += '\'';
    return quoted;
  }

  // "12", "-0.5", "1e6" as the condition language writes them; nullopt when `text` is not a
  // decimal number.
  static std::optional<std::string> numberLiteral(std::string_view text) {
    if (!text.empty() && text.front() == '+') text.remove_prefix(1);
    if (text.empty()) return std::nullopt;
    const bool negative = text.front() == '-';
    const std::string_view digits = negative ? text.substr(1) : text;
    if (digits.empty()) return std::nullopt;
    if (std::all_of(digits.begin(), digits.end(),
                    [](unsigned char c) { return std::isdigit(c) != 0; })) {
      return std::string(text);  // an integer, kept exactly
    }
    if (std::isdigit(static_cast<unsigned char>(digits.front())) == 0 && digits.front() != '.') {
      return std::nullopt;  // "inf", "nan", ".inf": not numbers a condition can compare
    }
    double value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
    char buffer[64];
    const auto [out, out_ec] = std::to_chars(buffer, buffer + sizeof buffer, value);
    if (out_ec != std::errc()) return std::nullopt;
    std::string canonical(buffer, out);
    // "0.5" stays; "5" (from "5.") gains a fraction so that it reads as a float.
    if (canonical.find_first_of(".eE") == std::string::npos) canonical += ".0";
    return canonical;
  }

  // ---- pipeline transform -------------------------------------------------------------------

  std::optional<TransformConfig> loadTransform(const Entry& entry) {
    if (!entry.value.IsMap()) {
      diagnostics_.error(entry.value_mark, "expected a map with 'retype' and/or 'tags' for "
                                           "'transform', got " + describe(entry.value));
      return std::nullopt;
    }
    TransformConfig transform;
    transform.mark = entry.value_mark;
    bool ok = true;
    for (const auto& part : entries(entry.value)) {
      if (part.key == "retype") {
        ok = loadRetype(part, transform) && ok;
      } else if (part.key == "tags") {
        ok = loadTags(part, transform) && ok;
      } else {
        unknownKey(part, "key", "transform", kTransformKeys);
        ok = false;
      }
    }
    if (!ok) return std::nullopt;
    return transform;
  }

  bool loadRetype(const Entry& entry, TransformConfig& transform) {
    if (!entry.value.IsMap()) {
      diagnostics_.error(entry.value_mark, "expected a map FROM: TO of event types for 'retype' "
                                           "(e.g. {INDICATOR: SIGNAL}), got " +
                                               describe(entry.value));
      return false;
    }
    bool ok = true;
    for (const auto& pair : entries(entry.value)) {
      const auto from = readEventType(YAML::Node(pair.key), pair.key_mark);
      const auto to = readEventType(pair.value, pair.value_mark);
      if (!from || !to) {
        ok = false;
        continue;
      }
      const auto same = std::find_if(transform.retype.begin(), transform.retype.end(),
                                     [&](const auto& other) { return other.first.value == *from; });
      if (same != transform.retype.end()) {
        diagnostics_.error(pair.key_mark, "transform retypes " +
                                              std::string(eventTypeName(*from)) +
                                              " twice (first at " +
                                              lineColumn(same->first.mark) + ")");
        ok = false;
        continue;
      }
      transform.retype.emplace_back(Located<EventType>{*from, pair.key_mark},
                                    Located<EventType>{*to, pair.value_mark});
    }
    return ok;
  }

  bool loadTags(const Entry& entry, TransformConfig& transform) {
    if (!entry.value.IsMap()) {
      diagnostics_.error(entry.value_mark, "expected a map key: value for 'tags' (e.g. {stage: "
                                           "enriched}), got " + describe(entry.value));
      return false;
    }
    bool ok = true;
    for (const auto& pair : entries(entry.value)) {
      if (pair.key.empty()) {
        diagnostics_.error(pair.key_mark, "empty tag name");
        ok = false;
        continue;
      }
      if (!pair.value.IsScalar()) {
        diagnostics_.error(pair.value_mark, "expected a tag value (a string) for '" + pair.key +
                                                "', got " + describe(pair.value));
        ok = false;
        continue;
      }
      transform.tags.emplace_back(Located<std::string>{pair.key, pair.key_mark},
                                  Located<std::string>{pair.value.Scalar(), pair.value_mark});
    }
    return ok;
  }

  // ---- organization sections ----------------------------------------------------------------

  static std::string roleOfSection(std::string_view section) {
    if (section == "strategies") return "strategy";
    if (section == "classifiers") return "classifier";
    if (section == "risk_profiles") return "risk";
    if (section == "portfolios") return "portfolio";
    return "";
  }

  // A top-level organization section: a list of entries, each declaring a container.
  void loadOrganizationSection(const Entry& section, Config& config) {
    loadSectionEntries(section, config, "", true);
  }

  // `parent`: the nearest named entry this section is nested in ("" at the top level).
  void loadSectionEntries(const Entry& section, Config& config, const std::string& parent,
                          bool top_level) {
    if (section.value.IsNull()) return;  // `strategies:` with nothing in it
    if (!section.value.IsSequence()) {
      diagnostics_.error(section.value_mark, "expected a list of " + sectionNoun(section.key) +
                                                 " for '" + section.key + "', got " +
                                                 describe(section.value));
      return;
    }
    for (const auto& item : section.value) {
      loadSectionEntry(section.key, item, item.IsNull() ? section.value_mark : markOf(item), config,
                       parent, top_level);
    }
  }

  static std::string sectionNoun(std::string_view section) {
    if (section == "strategies") return "strategies";
    if (section == "classifiers") return "classifiers";
    if (section == "risk_profiles") return "risk profiles";
    if (section == "portfolios") return "portfolios";
    return "containers";
  }

  void loadSectionEntry(const std::string& section, const YAML::Node& node, const Mark& mark,
                        Config& config, const std::string& parent, bool top_level) {
    ContainerDecl decl;
    decl.role = roleOfSection(section);
    decl.parent = parent;
    const bool strict = section == "containers";
    // Grouping levels of the spec's nested shape (a classifier's risk profiles, their
    // portfolios) may be unnamed; a top-level entry or a strategy must have a name.
    const bool name_required = top_level || section == "strategies";

    if (node.IsScalar()) {  // `- strategy_a`: a name alone
      if (const auto name = readContainerName(Entry{section, node, mark, mark})) {
        decl.name = *name;
        declare(std::move(decl), config);
      }
      return;
    }
    if (!node.IsMap()) {
      diagnostics_.error(mark, "expected a name or a map with 'name' in '" + section + "', got " +
                                   describe(node));
      return;
    }
    const std::vector<Entry> keys = entries(node);
    bool named = false;
    for (const auto& entry : keys) {
      if (entry.key == "name") {
        if (auto name = readContainerName(entry)) {
          decl.name = std::move(*name);
          named = true;
        }
      } else if (entry.key == "produces") {
        decl.produces = readEventTypes(entry, true);
      } else if (strict && entry.key == "role") {
        if (const auto role = readString(entry, "a role")) {
          if (contains(kRoles, *role)) {
            decl.role = *role;
          } else {
            diagnostics_.error(entry.value_mark, "unknown role '" + *role + "'; expected one of: " +
                                                     join(kRoles) + didYouMean(*role, kRoles));
          }
        }
      } else if (strict) {
        unknownKey(entry, "key", "containers", kContainerKeys);
      }
      // Other keys of organization entries are the container's own parameters (the spec's
      // "# ... classifier config"): evrouterd does not read them.
    }
    const bool name_missing =
        std::none_of(keys.begin(), keys.end(), [](const Entry& e) { return e.key == "name"; });
    if (name_missing && name_required) {
      diagnostics_.error(mark, "an entry of '" + section + "' needs a 'name'");
    }
    const std::string nested_parent = named ? decl.name.value : parent;
    if (named) declare(std::move(decl), config);
    if (strict) return;
    for (const auto& entry : keys) {
      if (contains(kNestedSections, entry.key)) {
        loadSectionEntries(entry, config, nested_parent, false);
      }
    }
  }

  // Adds a declared container; a name declared twice, or one no container could join under, is
  // an error.
  void declare(ContainerDecl decl, Config& config) {
    if (const std::string why = checkContainerName(decl.name.value); !why.empty()) {
      diagnostics_.error(decl.name.mark, "'" + decl.name.value + "': " + why);
      return;
    }
    const auto same = std::find_if(config.containers.begin(), config.containers.end(),
                                   [&](const ContainerDecl& other) {
                                     return other.name.value == decl.name.value;
                                   });
    if (same != config.containers.end()) {
      diagnostics_.error(decl.name.mark, "container '" + decl.name.value +
                                             "' is declared twice (first at " +
                                             lineColumn(same->name.mark) + ")");
      return;
    }
    config.containers.push_back(std::move(decl));
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
    adapter.events = readEventTypes(entry, false);
  }

  // One event type name or a list of them. `allow_empty`: whether `[]` is a valid (empty) set;
  // for a routing filter it is not, since it would route nothing.
  std::optional<Located<EventTypeSet>> readEventTypes(const Entry& entry, bool allow_empty) {
    const auto listed = scalarOrList(entry, "an event type", "event types");
    if (!listed) return std::nullopt;
    const std::vector<YAML::Node>& items = *listed;
    if (items.empty() && !allow_empty) {
      diagnostics_.error(entry.value_mark, "an empty '" + entry.key +
                                               "' filter would route nothing; leave '" +
                                               entry.key + "' out to route every type");
      return std::nullopt;
    }
    EventTypeSet types;
    bool ok = true;
    for (const auto& item : items) {
      const Mark mark = item.IsNull() ? entry.value_mark : markOf(item);
      const auto type = readEventType(item, mark);
      if (type) {
        types.add(*type);
      } else {
        ok = false;
      }
    }
    if (!ok) return std::nullopt;
    return Located<EventTypeSet>{types, entry.value_mark};
  }

  // One event type name (case-insensitive; CLASSIFICATION is REGIME); reported when bad.
  std::optional<EventType> readEventType(const YAML::Node& item, const Mark& mark) {
    if (!item.IsScalar()) {
      diagnostics_.error(mark, "expected an event type name, got " + describe(item));
      return std::nullopt;
    }
    const auto type = parseEventType(item.Scalar());
    if (!type) {
      std::string upper = item.Scalar();
      std::transform(upper.begin(), upper.end(), upper.begin(),
                     [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
      diagnostics_.error(mark, "unknown event type '" + item.Scalar() + "'; expected one of: " +
                                   eventTypeNameList() + " (CLASSIFICATION = REGIME)" +
                                   didYouMean(upper, eventTypeNames()));
    }
    return type;
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
  std::string_view text_;
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
  Loader loader(file, yaml_text, registry, diagnostics);
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
