// Prometheus text exposition of a stats snapshot (stats/prometheus_text), the histogram it
// renders (stats::LatencyHistogram).
#include <boost/test/unit_test.hpp>

#include <set>
#include <sstream>
#include <string>

#include "stats/prometheus_text.hpp"

using evr::stats::DropReason;
using evr::stats::LatencyHistogram;
using evr::stats::MetricsExtras;
using evr::stats::Snapshot;

namespace {

Snapshot sampleSnapshot() {
  Snapshot snapshot;
  snapshot.events_in = 12;
  snapshot.deliveries = 20;
  snapshot.unrouted = 1;
  snapshot.unmatched = 2;
  snapshot.drops[static_cast<std::size_t>(DropReason::QueueFull)] = 3;
  evr::stats::ContainerSnapshot source;
  source.name = "source";
  source.connected = true;
  source.declared = true;
  source.counters.events_in = 12;
  source.counters.bytes_in = 1200;
  source.counters.drops_from[static_cast<std::size_t>(DropReason::Malformed)] = 4;
  evr::stats::ContainerSnapshot sink;
  sink.name = "sink";
  sink.queue_depth = 7;
  sink.counters.events_out = 20;
  sink.counters.bytes_out = 2000;
  sink.counters.drops_to[static_cast<std::size_t>(DropReason::QueueFull)] = 3;
  sink.queue_bytes = 700;
  source.counters.rate_limited = 9;
  snapshot.connections = 1;
  snapshot.connections_limit = 1024;
  snapshot.hellos_refused_overloaded = 5;
  snapshot.containers = {source, sink};
  snapshot.adapter_matches = {{"feed", 11}};
  snapshot.adapter_unmatched = {{"feed", 2}};
  return snapshot;
}

bool hasLine(const std::string& text, const std::string& line) {
  return text.find(line + "\n") != std::string::npos &&
         (text.rfind(line + "\n", 0) == 0 || text.find("\n" + line + "\n") != std::string::npos);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(prometheus_text)

BOOST_AUTO_TEST_CASE(renders_totals_containers_adapters_and_reloads) {
  const MetricsExtras extras{3, 2, 1, 4, 12.5};
  const std::string text = evr::stats::renderPrometheus(sampleSnapshot(), extras);
  for (const char* line : {
           "evrouter_events_in_total 12",
           "evrouter_deliveries_total 20",
           "evrouter_unrouted_total 1",
           "evrouter_unmatched_total 2",
           "evrouter_drops_total{reason=\"queue_full\"} 3",
           "evrouter_drops_total{reason=\"malformed\"} 0",
           "evrouter_container_events_in_total{container=\"source\"} 12",
           "evrouter_container_events_out_total{container=\"sink\"} 20",
           "evrouter_container_bytes_in_total{container=\"source\"} 1200",
           "evrouter_container_bytes_out_total{container=\"sink\"} 2000",
           "evrouter_container_drops_total{container=\"source\",direction=\"from\",reason=\"malformed\"} 4",
           "evrouter_container_drops_total{container=\"sink\",direction=\"to\",reason=\"queue_full\"} 3",
           "evrouter_container_queue_depth{container=\"sink\"} 7",
           "evrouter_container_connected{container=\"source\"} 1",
           "evrouter_container_connected{container=\"sink\"} 0",
           "evrouter_adapter_events_total{adapter=\"feed\"} 11",
           "evrouter_adapter_unmatched_total{adapter=\"feed\"} 2",
           "evrouter_reloads_total{result=\"applied\"} 2",
           "evrouter_reloads_total{result=\"unchanged\"} 1",
           "evrouter_reloads_total{result=\"rejected\"} 4",
           "evrouter_config_generation 3",
           "evrouter_connections 1",
           "evrouter_connections_limit 1024",
           "evrouter_hellos_refused_total{reason=\"overloaded\"} 5",
           "evrouter_container_queue_bytes{container=\"sink\"} 700",
           "evrouter_container_rate_limited_total{container=\"source\"} 9",
           "evrouter_container_rate_limited_total{container=\"sink\"} 0",
           "evrouter_uptime_seconds 12.5",
       }) {
    BOOST_TEST_INFO(line);
    BOOST_CHECK(hasLine(text, line));
  }
  BOOST_CHECK(!text.empty() && text.back() == '\n');
}

BOOST_AUTO_TEST_CASE(label_values_escape_backslash_quote_and_newline) {
  BOOST_CHECK_EQUAL(evr::stats::escapeLabelValue("a\\b\"c\nd"), "a\\\\b\\\"c\\nd");
  Snapshot snapshot;
  evr::stats::ContainerSnapshot odd;
  odd.name = "we\"ird\\na\nme";
  snapshot.containers = {odd};
  const std::string text = evr::stats::renderPrometheus(snapshot, {});
  BOOST_CHECK(hasLine(text, "evrouter_container_connected{container=\"we\\\"ird\\\\na\\nme\"} 0"));
}

BOOST_AUTO_TEST_CASE(histogram_buckets_are_cumulative_and_end_at_count) {
  LatencyHistogram histogram;
  histogram.record(100);         // <= 250 ns
  histogram.record(250);         // <= 250 ns (le is inclusive)
  histogram.record(251);         // <= 500 ns
  histogram.record(3'000);       // <= 5 us
  histogram.record(20'000'000);  // over 10 ms: +Inf only
  BOOST_CHECK_EQUAL(histogram.count, 5u);
  BOOST_CHECK_EQUAL(histogram.sum_ns, 100u + 250u + 251u + 3'000u + 20'000'000u);
  BOOST_CHECK_EQUAL(histogram.counts.front(), 2u);
  BOOST_CHECK_EQUAL(histogram.counts.back(), 1u);

  Snapshot snapshot;
  snapshot.latency = histogram;
  const std::string text = evr::stats::renderPrometheus(snapshot, {});
  BOOST_CHECK(hasLine(text, "# TYPE evrouter_route_seconds histogram"));
  BOOST_CHECK(hasLine(text, "evrouter_route_seconds_bucket{le=\"2.5e-07\"} 2"));
  BOOST_CHECK(hasLine(text, "evrouter_route_seconds_bucket{le=\"5e-07\"} 3"));
  BOOST_CHECK(hasLine(text, "evrouter_route_seconds_bucket{le=\"2.5e-06\"} 3"));
  BOOST_CHECK(hasLine(text, "evrouter_route_seconds_bucket{le=\"5e-06\"} 4"));
  BOOST_CHECK(hasLine(text, "evrouter_route_seconds_bucket{le=\"0.01\"} 4"));
  BOOST_CHECK(hasLine(text, "evrouter_route_seconds_bucket{le=\"+Inf\"} 5"));
  BOOST_CHECK(hasLine(text, "evrouter_route_seconds_count 5"));
  BOOST_CHECK(hasLine(text, "evrouter_route_seconds_sum 0.020003601"));

  // Every bucket line's value is at least the one before it.
  std::istringstream lines(text);
  std::string line;
  std::uint64_t previous = 0;
  std::size_t buckets = 0;
  while (std::getline(lines, line)) {
    if (line.rfind("evrouter_route_seconds_bucket", 0) != 0) continue;
    const std::uint64_t value = std::stoull(line.substr(line.rfind(' ') + 1));
    BOOST_CHECK_GE(value, previous);
    previous = value;
    ++buckets;
  }
  BOOST_CHECK_EQUAL(buckets, LatencyHistogram::kBoundsNs.size() + 1);
}

BOOST_AUTO_TEST_CASE(every_family_has_help_and_type_before_its_samples) {
  const std::string text = evr::stats::renderPrometheus(sampleSnapshot(), {});
  std::istringstream lines(text);
  std::string line;
  std::set<std::string> helped;
  std::set<std::string> typed;
  std::size_t samples = 0;
  while (std::getline(lines, line)) {
    if (line.rfind("# HELP ", 0) == 0) {
      helped.insert(line.substr(7, line.find(' ', 7) - 7));
    } else if (line.rfind("# TYPE ", 0) == 0) {
      typed.insert(line.substr(7, line.find(' ', 7) - 7));
    } else {
      ++samples;
      std::string name = line.substr(0, line.find_first_of("{ "));
      BOOST_TEST_INFO(line);
      BOOST_CHECK(name.rfind("evrouter_", 0) == 0);
      std::string family = name;
      for (const char* suffix : {"_bucket", "_sum", "_count"}) {
        const std::string s = suffix;
        if (name.size() > s.size() && name.compare(name.size() - s.size(), s.size(), s) == 0 &&
            typed.count(name.substr(0, name.size() - s.size())) != 0) {
          family = name.substr(0, name.size() - s.size());
        }
      }
      BOOST_CHECK(helped.count(family) == 1);
      BOOST_CHECK(typed.count(family) == 1);
    }
  }
  BOOST_CHECK(helped == typed);
  BOOST_CHECK_EQUAL(helped.size(), 32u);
  BOOST_CHECK_GT(samples, helped.size());
}

BOOST_AUTO_TEST_SUITE_END()
