#include "stats/prometheus_text.hpp"

#include <fmt/format.h>

#include <initializer_list>
#include <utility>

namespace evr::stats {

namespace {

using Label = std::pair<std::string_view, std::string_view>;

class Writer {
 public:
  void family(std::string_view name, std::string_view type, std::string_view help) {
    fmt::format_to(std::back_inserter(out_), "# HELP evrouter_{} {}\n# TYPE evrouter_{} {}\n", name,
                   help, name, type);
  }

  template <typename Value>
  void sample(std::string_view name, std::initializer_list<Label> labels, Value value) {
    out_ += "evrouter_";
    out_ += name;
    if (labels.size() != 0) {
      out_ += '{';
      bool first = true;
      for (const auto& [key, label_value] : labels) {
        if (!first) out_ += ',';
        first = false;
        out_ += key;
        out_ += "=\"";
        out_ += escapeLabelValue(label_value);
        out_ += '"';
      }
      out_ += '}';
    }
    fmt::format_to(std::back_inserter(out_), " {}\n", value);
  }

  std::string take() { return std::move(out_); }

 private:
  std::string out_;
};

// Nanoseconds as seconds; printed with {} (shortest round-trip form, e.g. 2.5e-07), which the
// text format accepts as a float.
double seconds(std::uint64_t ns) { return static_cast<double>(ns) / 1e9; }

}  // namespace

std::string escapeLabelValue(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (const char c : value) {
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '"': out += "\\\""; break;
      case '\n': out += "\\n"; break;
      default: out += c;
    }
  }
  return out;
}

std::string renderPrometheus(const Snapshot& snapshot, const MetricsExtras& extras) {
  Writer w;

  w.family("events_in_total", "counter", "Events received from containers.");
  w.sample("events_in_total", {}, snapshot.events_in);
  w.family("deliveries_total", "counter", "Events sent to targets (one per target).");
  w.sample("deliveries_total", {}, snapshot.deliveries);
  w.family("unrouted_total", "counter", "Events that no route took.");
  w.sample("unrouted_total", {}, snapshot.unrouted);
  w.family("unmatched_total", "counter",
           "Events a selective adapter saw that no rule and no default took.");
  w.sample("unmatched_total", {}, snapshot.unmatched);
  w.family("forwarded_events_total", "counter",
           "Deliveries sent in the batch they came in, without a copy (one per target, like deliveries_total).");
  w.sample("forwarded_events_total", {}, snapshot.forwarded);
  w.family("backpressure_holds_total", "counter",
           "Times a source's acks were held because a lossless target's queue was long.");
  w.sample("backpressure_holds_total", {}, snapshot.backpressure_holds);
  w.family("stalls_total", "counter",
           "Times a lossless target was found stalled (nothing acked for router.stall_timeout_ms).");
  w.sample("stalls_total", {}, snapshot.stalls);
  w.family("journal_errors_total", "counter",
           "Journal appends or syncs that failed; sources are held meanwhile.");
  w.sample("journal_errors_total", {}, snapshot.journal_errors);

  w.family("connections", "gauge", "Containers joined now.");
  w.sample("connections", {}, snapshot.connections);
  w.family("connections_limit", "gauge", "router.max_connections: containers that may be joined at once.");
  w.sample("connections_limit", {}, snapshot.connections_limit);
  w.family("hellos_refused_total", "counter", "HELLOs refused, by reason (overloaded: at router.max_connections).");
  w.sample("hellos_refused_total", {{"reason", "overloaded"}}, snapshot.hellos_refused_overloaded);

  w.family("drops_total", "counter", "Events dropped, by reason.");
  for (std::size_t i = 0; i < snapshot.drops.size(); ++i) {
    w.sample("drops_total", {{"reason", dropReasonName(static_cast<DropReason>(i))}},
             snapshot.drops[i]);
  }

  if (snapshot.auth) {  // router.security only: without it nothing is authenticated
    w.family("auth_accepted_total", "counter", "CURVE handshakes the ZAP handler let in.");
    w.sample("auth_accepted_total", {}, snapshot.auth->accepted);
    w.family("auth_refused_total", "counter",
             "Connections, HELLOs, messages and control requests refused by router.security, by reason.");
    for (std::size_t i = 0; i < snapshot.auth->refused.size(); ++i) {
      w.sample("auth_refused_total", {{"reason", authRefusalName(static_cast<AuthRefusal>(i))}},
               snapshot.auth->refused[i]);
    }
  }

  // Per container. Each family lists every container, so one loop per family.
  const auto per_container = [&](std::string_view name, std::string_view type, std::string_view help,
                                 auto value_of) {
    w.family(name, type, help);
    for (const auto& container : snapshot.containers) {
      w.sample(name, {{"container", container.name}}, value_of(container));
    }
  };
  per_container("container_events_in_total", "counter", "Events received from the container.",
                [](const ContainerSnapshot& c) { return c.counters.events_in; });
  per_container("container_events_out_total", "counter", "Events sent to the container.",
                [](const ContainerSnapshot& c) { return c.counters.events_out; });
  per_container("container_bytes_in_total", "counter", "Event bytes received from the container.",
                [](const ContainerSnapshot& c) { return c.counters.bytes_in; });
  per_container("container_bytes_out_total", "counter", "Event bytes sent to the container.",
                [](const ContainerSnapshot& c) { return c.counters.bytes_out; });
  w.family("container_drops_total", "counter",
           "Events dropped, by container, direction (from: its events; to: events meant for it) "
           "and reason.");
  for (const auto& container : snapshot.containers) {
    for (std::size_t i = 0; i < container.counters.drops_from.size(); ++i) {
      const auto reason = dropReasonName(static_cast<DropReason>(i));
      w.sample("container_drops_total",
               {{"container", container.name}, {"direction", "from"}, {"reason", reason}},
               container.counters.drops_from[i]);
      w.sample("container_drops_total",
               {{"container", container.name}, {"direction", "to"}, {"reason", reason}},
               container.counters.drops_to[i]);
    }
  }
  per_container("container_queue_depth", "gauge", "Events queued for the container.",
                [](const ContainerSnapshot& c) { return c.queue_depth; });
  per_container("container_queue_bytes", "gauge", "Event bytes queued for the container.",
                [](const ContainerSnapshot& c) { return c.queue_bytes; });
  per_container("container_rate_limited_total", "counter",
                "Events taken from the container over its rate limit (router.limits): their acks "
                "waited, so its publish did.",
                [](const ContainerSnapshot& c) { return c.counters.rate_limited; });
  per_container("container_connected", "gauge", "1 while the container is connected, else 0.",
                [](const ContainerSnapshot& c) { return c.connected ? 1 : 0; });
  per_container("container_unacked", "gauge",
                "Events sent to the container that it has not acked yet (the replay buffer).",
                [](const ContainerSnapshot& c) { return c.unacked; });
  per_container("container_redelivered_total", "counter",
                "Events sent to the container again after it joined again without acking them.",
                [](const ContainerSnapshot& c) { return c.counters.redelivered; });
  per_container("container_replayed_total", "counter",
                "Events sent to the container from the journal after a daemon restart.",
                [](const ContainerSnapshot& c) { return c.counters.replayed; });
  per_container("target_stalled", "gauge",
                "1 while a lossless target has work pending and has acked nothing for "
                "router.stall_timeout_ms.",
                [](const ContainerSnapshot& c) { return c.stalled ? 1 : 0; });

  w.family("adapter_events_total", "counter", "Events each adapter routed.");
  for (const auto& [adapter, events] : snapshot.adapter_matches) {
    w.sample("adapter_events_total", {{"adapter", adapter}}, events);
  }
  w.family("adapter_unmatched_total", "counter",
           "Selective adapters: events no rule and no default took.");
  for (const auto& [adapter, events] : snapshot.adapter_unmatched) {
    w.sample("adapter_unmatched_total", {{"adapter", adapter}}, events);
  }

  w.family("route_events_total", "counter",
           "Events delivered from one container to another since the routing table in force was "
           "installed (restarts at a reload).");
  for (const auto& route : snapshot.routes) {
    w.sample("route_events_total", {{"source", route.source}, {"target", route.target}}, route.events);
  }

  w.family("reloads_total", "counter", "Config reloads, by result.");
  w.sample("reloads_total", {{"result", "applied"}}, extras.reloads_applied);
  w.sample("reloads_total", {{"result", "unchanged"}}, extras.reloads_unchanged);
  w.sample("reloads_total", {{"result", "rejected"}}, extras.reloads_rejected);
  w.family("config_generation", "gauge", "Generation of the running config (1 at start).");
  w.sample("config_generation", {}, extras.generation);
  w.family("uptime_seconds", "gauge", "Seconds since evrouterd started.");
  w.sample("uptime_seconds", {}, extras.uptime_seconds);

  // The histogram: cumulative buckets, then +Inf (== _count), _sum in seconds.
  const LatencyHistogram& latency = snapshot.latency;
  w.family("route_seconds", "histogram",
           "Time an event spends in the router, from receipt to delivered or queued for every "
           "target.");
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i < LatencyHistogram::kBoundsNs.size(); ++i) {
    cumulative += latency.counts[i];
    const std::string le = fmt::format("{}", seconds(LatencyHistogram::kBoundsNs[i]));
    w.sample("route_seconds_bucket", {{"le", le}}, cumulative);
  }
  cumulative += latency.counts.back();
  w.sample("route_seconds_bucket", {{"le", "+Inf"}}, cumulative);
  w.sample("route_seconds_sum", {}, seconds(latency.sum_ns));
  w.sample("route_seconds_count", {}, latency.count);

  return w.take();
}

}  // namespace evr::stats
