#include "report.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>

#include "payload.hpp"
#include "proc_info.hpp"
#include "stats.hpp"

namespace evr::bench {
namespace {

constexpr double kMiB = 1024.0 * 1024.0;

// How the numbers are made: printed under the table and kept in the JSON file.
constexpr std::array<std::string_view, 7> kMethod{
    "n: consumers, each its own process; the publisher is one more process",
    "throughput: distinct events delivered per second, summed over consumers, from the first publish call "
    "to the last delivery (steady_clock, one clock for all processes); median [min..max] over the runs",
    "latency: publish call to handler at a fixed offered rate after a warm-up, all consumers' samples merged; the median over the runs of each run's percentile",
    "CPU ns/ev: router utime+stime over a throughput run / deliveries (median over runs); RSS: router VmHWM (max)",
    "CPU per delivery, every process: the same for the publisher (first publish call to its last event taken) "
    "and the consumers (summed, from ready to their report), each process with all its threads",
    "events: 128 payload bytes; direct and nats-server carry them as the message body, zmq-relay as a "
    "length-prefixed record of a batch, bare-relay and evrouterd as a tag of a REGIME event (bench/e2e/evr_links.cpp)",
    "nats-server: throughput runs publish with libnats' default buffering, latency runs with "
    "natsOptions_SetSendAsap (NATS's best configuration for each)"};

// The numbers a row is reported by, derived from its runs.
struct Summary {
  Spread throughput;
  double p50_us = 0, p99_us = 0, p999_us = 0;
  std::size_t samples = 0;
  std::optional<double> cpu_ns_per_event;  // median over the throughput runs
  double publisher_cpu_ns = 0;              // likewise, per delivery
  double consumer_cpu_ns = 0;
  std::optional<double> peak_rss_mib;      // max over all runs
};

std::vector<const RunResult*> allRuns(const Row& row) {
  std::vector<const RunResult*> runs;
  for (const auto& run : row.throughput) runs.push_back(&run);
  for (const auto& run : row.latency) runs.push_back(&run);
  return runs;
}

Summary summarize(const Row& row) {
  Summary summary;
  std::vector<double> rates, cpu, publisher_cpu, consumer_cpu;
  for (const auto& run : row.throughput) {
    rates.push_back(run.events_per_s);
    if (run.router_cpu_ns_per_event) cpu.push_back(*run.router_cpu_ns_per_event);
    publisher_cpu.push_back(run.publisher_cpu_ns_per_event);
    consumer_cpu.push_back(run.consumer_cpu_ns_per_event);
  }
  summary.throughput = spreadOf(rates);
  if (!row.throughput.empty()) {
    summary.publisher_cpu_ns = spreadOf(publisher_cpu).median;
    summary.consumer_cpu_ns = spreadOf(consumer_cpu).median;
  }
  if (!cpu.empty()) summary.cpu_ns_per_event = spreadOf(cpu).median;
  for (const RunResult* run : allRuns(row)) {
    if (run->router_peak_rss_bytes) {
      summary.peak_rss_mib = std::max(summary.peak_rss_mib.value_or(0), static_cast<double>(*run->router_peak_rss_bytes) / kMiB);
    }
  }
  // Each latency run's percentiles, then their median over the runs: one noisy run on a busy
  // machine does not decide the row.
  std::vector<double> p50, p99, p999;
  for (const auto& run : row.latency) {
    auto samples = run.latency_ns;
    summary.samples += samples.size();
    p50.push_back(percentile(samples, 50) / 1e3);
    p99.push_back(percentile(samples, 99) / 1e3);
    p999.push_back(percentile(samples, 99.9) / 1e3);
  }
  if (!row.latency.empty()) {
    summary.p50_us = spreadOf(p50).median;
    summary.p99_us = spreadOf(p99).median;
    summary.p999_us = spreadOf(p999).median;
  }
  return summary;
}

std::string optional(const std::optional<double>& value, const char* format) {
  return value ? fmt::format(fmt::runtime(format), *value) : "n/a";
}

nlohmann::json nullable(const std::optional<double>& value) { return value ? nlohmann::json(*value) : nlohmann::json(); }

// "0", or what went missing: never silent.
std::string lossText(const Row& row) {
  const auto lost = row.total(&RunResult::lost);
  const auto duplicates = row.total(&RunResult::duplicates);
  const auto unreadable = row.total(&RunResult::unreadable);
  if (lost == 0 && duplicates == 0 && unreadable == 0) return "0";
  return fmt::format("{} LOST, {} duplicated, {} unreadable", lost, duplicates, unreadable);
}

}  // namespace

nlohmann::json runJson(const RunResult& run, std::string_view kind) {
  nlohmann::json json{{"kind", kind},
                      {"expected", run.expected},
                      {"delivered", run.delivered},
                      {"lost", run.lost},
                      {"duplicates", run.duplicates},
                      {"unreadable", run.unreadable},
                      {"seconds", run.seconds},
                      {"events_per_s", run.events_per_s},
                      {"publisher_events_per_s", run.publisher_rate},
                      {"router_cpu_ns_per_event", nullable(run.router_cpu_ns_per_event)},
                      {"publisher_cpu_ns_per_event", run.publisher_cpu_ns_per_event},
                      {"consumer_cpu_ns_per_event", run.consumer_cpu_ns_per_event},
                      {"router_peak_rss_bytes", run.router_peak_rss_bytes ? nlohmann::json(*run.router_peak_rss_bytes) : nlohmann::json()}};
  if (kind == "latency") {
    auto samples = run.latency_ns;
    json["latency_samples"] = samples.size();
    json["latency_us"] = {{"p50", percentile(samples, 50) / 1e3}, {"p99", percentile(samples, 99) / 1e3},
                          {"p99.9", percentile(samples, 99.9) / 1e3}};
  }
  if (!run.router_says.empty()) json["router_says"] = run.router_says;
  return json;
}

namespace {

// evrouterd's router.journal as the generated config has it; null: no journal.
nlohmann::json journalJson(const Scenario& scenario) {
  if (!scenario.journal) return nullptr;
  nlohmann::json json{{"fsync", fsyncName(*scenario.journal)}};
  if (*scenario.journal == JournalFsync::Interval) json["interval_ms"] = kJournalIntervalMs;
  return json;
}

nlohmann::json rowJson(const Row& row) {
  nlohmann::json json{{"system", row.scenario.systemLabel()},
                      {"pattern", patternName(row.scenario.pattern)},
                      {"note", row.scenario.note},
                      {"consumers", row.scenario.consumers.size()},
                      {"status", row.status}};
  if (row.scenario.system == System::Evrouterd) {
    json["journal"] = journalJson(row.scenario);
    json["curve"] = row.scenario.curve;  // router.security on, every link CURVE
  }
  if (!row.ok()) return json;
  const Summary summary = summarize(row);
  json["throughput_events_per_s"] = {{"median", summary.throughput.median},
                                     {"min", summary.throughput.min},
                                     {"max", summary.throughput.max}};
  json["latency_us"] = {{"p50", summary.p50_us}, {"p99", summary.p99_us}, {"p99.9", summary.p999_us},
                        {"samples", summary.samples}};
  json["router_cpu_ns_per_event"] = nullable(summary.cpu_ns_per_event);
  json["publisher_cpu_ns_per_event"] = summary.publisher_cpu_ns;
  json["consumer_cpu_ns_per_event"] = summary.consumer_cpu_ns;
  json["router_peak_rss_mib"] = nullable(summary.peak_rss_mib);
  json["expected"] = row.total(&RunResult::expected);
  json["delivered"] = row.total(&RunResult::delivered);
  json["lost"] = row.total(&RunResult::lost);
  json["duplicates"] = row.total(&RunResult::duplicates);
  json["runs"] = nlohmann::json::array();
  for (const auto& run : row.throughput) json["runs"].push_back(runJson(run, "throughput"));
  for (const auto& run : row.latency) json["runs"].push_back(runJson(run, "latency"));
  return json;
}

const Row* find(const std::vector<Row>& rows, const std::string& system_label, Pattern pattern) {
  for (const auto& row : rows) {
    if (row.scenario.systemLabel() == system_label && row.scenario.pattern == pattern && row.ok()) return &row;
  }
  return nullptr;
}

// mine / theirs; CPU only where the router's was measured for both (not "direct").
nlohmann::json ratio(const Summary& mine, const Summary& theirs) {
  nlohmann::json json{{"throughput", theirs.throughput.median > 0 ? mine.throughput.median / theirs.throughput.median : 0},
                      {"p99", theirs.p99_us > 0 ? mine.p99_us / theirs.p99_us : 0},
                      {"cpu_ns_per_event", nullptr}};
  if (mine.cpu_ns_per_event && theirs.cpu_ns_per_event && *theirs.cpu_ns_per_event > 0) {
    json["cpu_ns_per_event"] = *mine.cpu_ns_per_event / *theirs.cpu_ns_per_event;
  }
  return json;
}

// Per pattern, where both rows ran: evrouterd / bare relay and evrouterd / nats-server (the issue's
// targets), evrouterd / zmq-relay and zmq-relay / nats-server (how far evrouterd is from a ZeroMQ
// router that does nothing, and how far that is from nats-server), and each variant (journal,
// CURVE) / plain evrouterd (what the guarantee or the security costs):
// {"pipeline": {"evrouterd/nats-server": {...}, "zmq-relay/nats-server": {...},
//               "evrouterd+journal-batch/evrouterd": {...}, "evrouterd+curve/evrouterd": {...}}}.
nlohmann::json ratios(const std::vector<Row>& rows) {
  nlohmann::json json = nlohmann::json::object();
  const std::string evrouterd(systemName(System::Evrouterd));
  for (const Pattern pattern : {Pattern::Pipeline, Pattern::Broadcast, Pattern::Selective}) {
    const std::string pattern_key(patternName(pattern));
    const std::string relay(systemName(System::ZmqRelay)), nats(systemName(System::Nats));
    const Row* relay_row = find(rows, relay, pattern);
    const Row* nats_row = find(rows, nats, pattern);
    if (relay_row != nullptr && nats_row != nullptr) {
      json[pattern_key][relay + "/" + nats] = ratio(summarize(*relay_row), summarize(*nats_row));
    }
    const Row* ours = find(rows, evrouterd, pattern);
    if (ours == nullptr) continue;
    const Summary mine = summarize(*ours);
    for (const System other : {System::ZmqRelay, System::BareRelay, System::Nats}) {
      const std::string other_label(systemName(other));
      const Row* theirs = find(rows, other_label, pattern);
      if (theirs == nullptr) continue;
      json[pattern_key][evrouterd + "/" + other_label] = ratio(mine, summarize(*theirs));
    }
    for (const auto& row : rows) {
      const bool variant = row.scenario.journal || row.scenario.curve;
      if (row.scenario.system != System::Evrouterd || !variant || row.scenario.pattern != pattern || !row.ok()) continue;
      json[pattern_key][row.scenario.systemLabel() + "/" + evrouterd] = ratio(summarize(row), mine);
    }
  }
  return json;
}

}  // namespace

std::uint64_t Row::total(std::uint64_t RunResult::*count) const {
  std::uint64_t sum = 0;
  for (const RunResult* run : allRuns(*this)) sum += run->*count;
  return sum;
}

void printTable(std::ostream& out, const std::vector<Row>& rows) {
  std::size_t width = 12;  // of the system column: the longest label, e.g. "evrouterd+journal-interval"
  for (const auto& row : rows) width = std::max(width, row.scenario.systemLabel().size());
  const auto line = fmt::format("{:<{}} {:<10} {:>3}  {:>31}  {:>8} {:>8} {:>8}  {:>9} {:>8}  {}\n", "system", width,
                                "pattern", "n", "delivered events/s med [min..max]", "p50 us", "p99 us",
                                "p99.9 us", "CPU ns/ev", "RSS MiB", "lost");
  out << line << std::string(line.size() - 1, '-') << '\n';
  for (const auto& row : rows) {
    const auto system = row.scenario.systemLabel();
    const auto pattern = patternName(row.scenario.pattern);
    if (!row.ok()) {
      const auto first_line = row.status.substr(0, row.status.find('\n'));
      out << fmt::format("{:<{}} {:<10} {:>3}  {}\n", system, width, pattern, row.scenario.consumers.size(), first_line);
      continue;
    }
    const Summary s = summarize(row);
    const auto throughput = fmt::format("{:.0f} [{:.0f}..{:.0f}]", s.throughput.median, s.throughput.min, s.throughput.max);
    out << fmt::format("{:<{}} {:<10} {:>3}  {:>31}  {:>8.1f} {:>8.1f} {:>8.1f}  {:>9} {:>8}  {}\n", system, width, pattern,
                       row.scenario.consumers.size(), throughput, s.p50_us, s.p99_us, s.p999_us,
                       optional(s.cpu_ns_per_event, "{:.0f}"), optional(s.peak_rss_mib, "{:.1f}"),
                       lossText(row));
  }
  for (const auto& row : rows) {
    for (const RunResult* run : allRuns(row)) {
      for (const auto& said : run->router_says) {
        out << fmt::format("  {} {} lost events; the router says: {}\n", row.scenario.systemLabel(),
                           patternName(row.scenario.pattern), said);
      }
    }
  }
  out << "\nCPU per delivery, every process (ns, medians of the throughput runs):\n";
  for (const auto& row : rows) {
    if (!row.ok() || row.throughput.empty()) continue;
    const Summary s = summarize(row);
    const double router = s.cpu_ns_per_event.value_or(0);
    out << fmt::format("  {:<{}} {:<10} publisher {:>6.0f} + router {:>6} + consumers {:>6.0f} = {:>6.0f}\n",
                       row.scenario.systemLabel(), width, patternName(row.scenario.pattern), s.publisher_cpu_ns,
                       optional(s.cpu_ns_per_event, "{:.0f}"), s.consumer_cpu_ns,
                       s.publisher_cpu_ns + router + s.consumer_cpu_ns);
  }
  out << '\n';
  for (const auto note : kMethod) out << note << '\n';
  for (const auto& row : rows) {
    out << fmt::format("  {} {}: {}\n", row.scenario.systemLabel(), patternName(row.scenario.pattern), row.scenario.note);
  }
  const auto ratio_json = ratios(rows);
  if (!ratio_json.empty()) {
    out << "\nRatios (same pattern, medians):\n";
    for (const auto& [pattern, pairs] : ratio_json.items()) {
      for (const auto& [pair, values] : pairs.items()) {
        const auto& cpu = values.at("cpu_ns_per_event");
        out << fmt::format("  {:<10} {:<38} throughput {:.2f}x  p99 {:.2f}x  CPU ns/ev {}\n", pattern, pair,
                           values.at("throughput").get<double>(), values.at("p99").get<double>(),
                           cpu.is_null() ? "n/a" : fmt::format("{:.2f}x", cpu.get<double>()));
      }
    }
  }
}

nlohmann::json resultsJson(const std::vector<Row>& rows, const nlohmann::json& settings) {
  nlohmann::json json{{"machine", machineInfo()},
                      {"settings", settings},
                      {"payload_bytes", kPayloadSize},
                      {"method", kMethod},
                      {"rows", nlohmann::json::array()},
                      {"ratios", ratios(rows)}};
  for (const auto& row : rows) json["rows"].push_back(rowJson(row));
  return json;
}

}  // namespace evr::bench
