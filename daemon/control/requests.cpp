#include "control/requests.hpp"

#include <spdlog/spdlog.h>

#include <vector>

namespace evr::control {
namespace {

template <typename Texts>
void setTexts(capnp::List<capnp::Text>::Builder list, const Texts& texts) {
  unsigned i = 0;
  for (const auto& text : texts) list.set(i++, text);
}

void setDrops(capnp::List<schema::Counter>::Builder list, const std::vector<std::pair<std::string, std::uint64_t>>& drops) {
  for (unsigned i = 0; i < drops.size(); ++i) {
    list[i].setName(drops[i].first);
    list[i].setValue(drops[i].second);
  }
}

std::vector<std::pair<std::string, std::uint64_t>> nonZero(const stats::DropCounts& counts) {
  std::vector<std::pair<std::string, std::uint64_t>> out;
  for (std::size_t r = 0; r < counts.size(); ++r) {
    if (counts[r] != 0) out.emplace_back(std::string(stats::dropReasonName(static_cast<stats::DropReason>(r))), counts[r]);
  }
  return out;
}

void fillStatus(schema::Status::Builder status, const ControlContext& context) {
  const auto snapshot = context.loop.snapshot();
  status.setVersion(EVR_VERSION);
  status.setUptimeMs(static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                                    std::chrono::steady_clock::now() - context.started)
                                                    .count()));
  status.setConfigPath(context.reloader.configPath());
  status.setGeneration(context.reloader.generation());
  status.setDigest(context.reloader.digest());
  status.setInstance(context.loop.instance());
  status.setFailedReloads(context.reloader.failures());
  status.setTapEndpoint(context.tap_endpoint);
  std::vector<std::string> connected;
  for (const auto& container : snapshot.containers) {
    if (container.connected) connected.push_back(container.name);
  }
  setTexts(status.initConnected(static_cast<unsigned>(connected.size())), connected);
  std::vector<std::string> stalled;
  std::vector<std::string> held;
  std::vector<std::string> rate_limited;
  for (const auto& container : snapshot.containers) {
    if (container.rate_limited) rate_limited.push_back(container.name);
    if (container.stalled) {
      stalled.push_back(container.name + " (" + std::to_string(container.unacked) + " unacked, " +
                        std::to_string(container.queue_depth) + " queued" +
                        (container.connected ? "" : ", not connected") + ")");
    }
    if (container.held) held.push_back(container.name);
  }
  setTexts(status.initStalled(static_cast<unsigned>(stalled.size())), stalled);
  setTexts(status.initHeld(static_cast<unsigned>(held.size())), held);
  setTexts(status.initRateLimited(static_cast<unsigned>(rate_limited.size())), rate_limited);
  status.setConnections(static_cast<std::uint32_t>(snapshot.connections));
  status.setConnectionsLimit(static_cast<std::uint32_t>(snapshot.connections_limit));
  status.setHellosRefused(snapshot.hellos_refused_overloaded);
  if (const auto* journal = context.loop.journal()) {
    const auto stats = journal->stats();
    status.setJournal(std::to_string(stats.events_appended) + " events appended, " +
                      std::to_string(stats.segments) + " segments, " + std::to_string(stats.fsyncs) +
                      " fsyncs, " + std::to_string(stats.errors) + " errors");
  } else {
    status.setJournal("off");
  }
}

void fillStats(schema::Stats::Builder out, const ControlContext& context) {
  const auto snapshot = context.loop.snapshot();
  out.setEventsIn(snapshot.events_in);
  out.setDeliveries(snapshot.deliveries);
  out.setUnrouted(snapshot.unrouted);
  out.setUnmatched(snapshot.unmatched);
  out.setBackpressureHolds(snapshot.backpressure_holds);
  const auto drops = nonZero(snapshot.drops);
  setDrops(out.initDrops(static_cast<unsigned>(drops.size())), drops);
  if (snapshot.auth) {
    auto auth = out.initAuth();
    auth.setSecured(true);
    auth.setAccepted(snapshot.auth->accepted);
    std::vector<std::pair<std::string, std::uint64_t>> refused;
    for (std::size_t i = 0; i < snapshot.auth->refused.size(); ++i) {
      if (snapshot.auth->refused[i] == 0) continue;
      refused.emplace_back(stats::authRefusalName(static_cast<stats::AuthRefusal>(i)), snapshot.auth->refused[i]);
    }
    setDrops(auth.initRefused(static_cast<unsigned>(refused.size())), refused);
  }
  auto containers = out.initContainers(static_cast<unsigned>(snapshot.containers.size()));
  for (unsigned i = 0; i < snapshot.containers.size(); ++i) {
    const auto& in = snapshot.containers[i];
    auto c = containers[i];
    c.setName(in.name);
    c.setConnected(in.connected);
    c.setDeclared(in.declared);
    c.setQueueDepth(in.queue_depth);
    c.setEventsIn(in.counters.events_in);
    c.setBytesIn(in.counters.bytes_in);
    c.setEventsOut(in.counters.events_out);
    c.setBytesOut(in.counters.bytes_out);
    c.setUnrouted(in.counters.unrouted);
    c.setJoins(in.counters.joins);
    c.setUnacked(in.unacked);
    c.setRedelivered(in.counters.redelivered);
    c.setReplayed(in.counters.replayed);
    c.setStalled(in.stalled);
    c.setRateLimited(in.counters.rate_limited);
    c.setQueueBytes(in.queue_bytes);
    const auto from = nonZero(in.counters.drops_from);
    setDrops(c.initDropsFrom(static_cast<unsigned>(from.size())), from);
    const auto to = nonZero(in.counters.drops_to);
    setDrops(c.initDropsTo(static_cast<unsigned>(to.size())), to);
    c.setEverHeard(in.idle_ms.has_value());
    c.setIdleMs(in.idle_ms.value_or(0));
  }
  auto routes = out.initRoutes(static_cast<unsigned>(snapshot.routes.size()));
  for (unsigned i = 0; i < snapshot.routes.size(); ++i) {
    routes[i].setSource(snapshot.routes[i].source);
    routes[i].setTarget(snapshot.routes[i].target);
    routes[i].setEvents(snapshot.routes[i].events);
  }
  auto adapters = out.initAdapters(static_cast<unsigned>(snapshot.adapter_matches.size()));
  for (unsigned i = 0; i < snapshot.adapter_matches.size(); ++i) {
    adapters[i].setName(snapshot.adapter_matches[i].first);
    adapters[i].setMatched(snapshot.adapter_matches[i].second);
    adapters[i].setUnmatched(i < snapshot.adapter_unmatched.size() ? snapshot.adapter_unmatched[i].second : 0);
  }
}

void fillGraph(schema::Graph::Builder graph, const ControlContext& context) {
  const auto& table = context.reloader.table();
  const auto snapshot = context.loop.snapshot();
  graph.setGeneration(context.reloader.generation());
  auto nodes = graph.initContainers(static_cast<unsigned>(table.containers().size()));
  for (unsigned i = 0; i < table.containers().size(); ++i) {
    nodes[i].setName(table.containers()[i]);
    for (const auto& container : snapshot.containers) {
      if (container.name == table.containers()[i]) nodes[i].setConnected(container.connected);
    }
  }
  std::size_t count = 0;
  for (const auto& adapter : table.adapters()) count += adapter.edges.size();
  auto edges = graph.initEdges(static_cast<unsigned>(count));
  unsigned e = 0;
  for (const auto& adapter : table.adapters()) {
    for (const auto& edge : adapter.edges) {
      auto out = edges[e++];
      out.setAdapter(adapter.name);
      out.setAdapterType(adapter.type);
      out.setSource(table.name(edge.source));
      out.setTarget(table.name(edge.target));
      out.setTypes(edge.types.toString());
      if (edge.transform) out.setTransform(edge.transform->describe());
      if (edge.selective && edge.selective->chooser) {
        out.setCondition(edge.selective->chooser->edgeLabel());
      } else if (edge.selective) {
        std::string condition;
        for (const auto& rule : edge.selective->rules) {
          if (rule.target != edge.target) continue;
          condition += (condition.empty() ? "" : " or ") + rule.condition.text();
        }
        if (edge.selective->default_target == edge.target) {
          condition += condition.empty() ? "default" : " (or default)";
        }
        out.setCondition(condition);
      }
    }
  }
}

}  // namespace

void answer(schema::ControlRequest::Reader request, schema::ControlReply::Builder reply,
            const ControlContext& context) {
  // router.security: the ZAP handler lets in keys with a control role only; reload needs admin.
  const bool reload = request.which() == schema::ControlRequest::RELOAD;
  if (context.role == config::ControlRole::None ||
      (reload && context.role != config::ControlRole::Admin)) {
    ++context.loop.authCounts().refused[static_cast<std::size_t>(stats::AuthRefusal::ReadOnly)];
    spdlog::warn("control: refused a {} request from a key with control role '{}'",
                 reload ? "reload" : "control", config::controlRoleName(context.role));
    reply.setOk(false);
    reply.initErrors(1).set(0, "not authorized: this key's control role is '" +
                                   std::string(config::controlRoleName(context.role)) +
                                   "'; reload needs 'admin' (router.security.clients)");
    return;
  }
  switch (request.which()) {
    case schema::ControlRequest::STATUS:
      reply.setOk(true);
      fillStatus(reply.initStatus(), context);
      return;
    case schema::ControlRequest::STATS:
      reply.setOk(true);
      fillStats(reply.initStats(), context);
      return;
    case schema::ControlRequest::GRAPH:
      reply.setOk(true);
      fillGraph(reply.initGraph(), context);
      return;
    case schema::ControlRequest::RELOAD: {
      const auto outcome = applyReload(context.reloader, context.loop, request.getReload().cStr());
      reply.setOk(outcome.ok);
      setTexts(reply.initErrors(static_cast<unsigned>(outcome.errors.size())), outcome.errors);
      auto result = reply.initReload();
      result.setChanged(outcome.changed);
      result.setGeneration(outcome.generation);
      result.setDigest(outcome.digest);
      setTexts(result.initRoutesAdded(static_cast<unsigned>(outcome.routes_added.size())), outcome.routes_added);
      setTexts(result.initRoutesRemoved(static_cast<unsigned>(outcome.routes_removed.size())), outcome.routes_removed);
      setTexts(result.initWarnings(static_cast<unsigned>(outcome.warnings.size())), outcome.warnings);
      return;
    }
  }
  reply.setOk(false);
  reply.initErrors(1).set(0, "unknown control request (a newer evrctl?)");
}

}  // namespace evr::control
