#include "config/config_loader.hpp"

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <sstream>
#include <vector>

#include "config/sections.hpp"
#include "config/yaml_reader.hpp"
#include "routing/adapter_registry.hpp"

namespace evr::config {
namespace {

// Top-level keys, sorted: they are printed in "expected one of" messages.
constexpr std::string_view kTopLevelKeys[] = {
    "classifiers", "containers",    "event_communication", "organization",
    "portfolios",  "risk_profiles", "router",              "strategies"};
// Organization sections: lists of declared containers (config/organization_section.cpp).
constexpr std::string_view kOrganizationSections[] = {"classifiers", "containers", "portfolios",
                                                      "risk_profiles", "strategies"};

// Reads one document into a Config: each top-level key goes to its section's reader
// (config/sections.hpp). Keeps going after an error so that one run shows them all.
//
// `root` is the first document; `documents` how many the text holds (counted up to a bound), and
// `second_document` where the second one starts.
Config loadDocument(YamlReader& reader, const routing::AdapterRegistry& registry,
                    const YAML::Node& root, std::size_t documents,
                    const YAML::Mark& second_document) {
  Diagnostics& diagnostics = reader.diagnostics();
  Config config;
  config.file = reader.file();
  config.router.mark = Mark{reader.file(), 0, 0};
  config.adapters_mark = config.router.mark;
  if (documents == 0) return config;  // empty file or only comments: every default
  if (documents > 1) {
    diagnostics.error(reader.markOf(second_document),
                      "a config is one YAML document; found more than one (remove the extra '---')");
  }
  if (root.IsNull()) return config;
  if (!root.IsMap()) {
    diagnostics.error(reader.markOf(root), "expected a map of config sections at the top level, got " +
                                               describe(root));
    return config;
  }
  config.router.mark = reader.markOf(root);
  config.adapters_mark = config.router.mark;

  for (const auto& entry : reader.entries(root)) {
    if (entry.key == "router") {
      config.router.mark = entry.key_mark;
      loadRouterSection(reader, entry, config.router);
    } else if (entry.key == "event_communication") {
      loadEventCommunicationSection(reader, entry, registry, config);
    } else if (entry.key == "organization") {
      loadOrganizationName(reader, entry, config);
    } else if (contains(kOrganizationSections, entry.key)) {
      loadOrganizationSection(reader, entry, config);
    } else {
      reader.unknownKey(entry, "top-level key", "", kTopLevelKeys);
    }
  }
  return config;
}

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
  YamlReader reader(file, yaml_text, diagnostics);
  std::optional<Config> config;
  // yaml-cpp reports syntax errors, and a few malformed-node cases, by throwing: each becomes one
  // diagnostic at its mark. Nothing escapes.
  try {
    const std::string text(yaml_text);
    const DocumentCount documents = countDocuments(text);
    config = loadDocument(reader, registry, documents.count > 0 ? YAML::Load(text) : YAML::Node(),
                          documents.count, documents.second_start);
  } catch (const YAML::Exception& e) {
    diagnostics.error(reader.markOf(e.mark), e.msg);
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
