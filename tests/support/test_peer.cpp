// evr_test_peer: a container process for integration tests, driven by its command line.
//
// Publishes a numbered stream, receives and checks streams (per-source seq must rise by exactly
// one: nothing lost, duplicated or reordered), and optionally transforms what it receives into a
// new event type and republishes it (a pipeline's middle stage), with fields set from the command
// line (`--forward-set`, also to plant one different event in a run). Prints `joined` once joined and a
// final `summary ...` line; exits 0 when every check passed, 1 on a failed check, 3 on timeout.

#include <CLI/CLI.hpp>
#include <pthread.h>
#include <signal.h>

#include <charconv>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <map>
#include <random>
#include <thread>
#include <zmq.hpp>

#include "evr/bus.hpp"
#include "evr/connection.hpp"
#include "evr/event_json.hpp"
#include "time_scale.hpp"

namespace {

using Clock = std::chrono::steady_clock;

std::int64_t wallNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

struct StreamCheck {
  std::uint64_t last_seq = 0;
  std::uint64_t count = 0;
};

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"evrouter integration-test container"};
  std::string name;
  std::string endpoint;
  std::uint64_t publish = 0;
  std::string publish_type = "BAR";
  std::uint64_t expect = 0;
  std::string forward_type;
  std::size_t payload_bytes = 0;
  double timeout_s = 60;
  std::size_t max_unacked = 65536;
  bool no_wait_join = false;
  std::size_t batch = 0;
  bool hold = false;
  std::uint64_t stall_after = 0;
  bool check_forwarded = false;
  std::vector<std::string> forward_sets;
  app.add_option("--as", name, "container name")->required();
  app.add_option("--endpoint", endpoint, "evrouterd endpoint");
  app.add_option("--publish", publish, "events to publish");
  app.add_option("--type", publish_type, "type of published events");
  app.add_option("--payload-bytes", payload_bytes, "extra bytes in a tag, to make events larger");
  app.add_option("--expect", expect, "events to receive before exiting");
  app.add_option("--forward", forward_type, "republish every received event as this type");
  app.add_option("--forward-set", forward_sets,
                 "[N:]FIELD=VALUE, repeatable: a field of every forwarded event (as evrctl send --set), or with "
                 "N: only of the one forwarded for the N-th received event (a planted difference)");
  app.add_option("--timeout", timeout_s, "give up after this many seconds (exit 3)");
  app.add_option("--max-unacked", max_unacked, "resend buffer size");
  app.add_flag("--check-forwarded", check_forwarded,
               "each received event's from_seq tag must equal its seq (a 1:1 forwarder upstream)");
  app.add_flag("--no-wait-join", no_wait_join, "publish before evrouterd is reachable");
  app.add_option("--batch", batch, "publish in evr::PublishBatch scopes of this many events");
  app.add_flag("--hold", hold, "after publishing, block (not serving the link) until SIGTERM");
  app.add_option("--stall-after", stall_after, "after this many events, stop reading (a stalled container) until SIGUSR1");
  // Event-time ordering (docs/determinism.md)
  bool ordered = false;
  bool print_order = false;
  bool until_inputs_end = false;
  std::uint64_t per_time = 1;
  unsigned jitter_us = 0;
  bool end = false;
  std::int64_t advance_to = 0;
  std::string forward_only;
  std::int64_t time_offset = 0;
  app.add_option("--time-offset", time_offset, "added to every published event time");
  app.add_flag("--ordered", ordered, "hand events to the handler in event-time order");
  app.add_flag("--print-order", print_order, "print `got TIME SOURCE SEQ TYPE` per received event");
  app.add_flag("--until-inputs-end", until_inputs_end,
               "with --ordered: run until every input has ended (not --expect)");
  app.add_option("--per-time", per_time, "published events per event time (times 1, 2, ...)");
  app.add_option("--jitter-us", jitter_us, "pause up to this many microseconds (at random) between publishes");
  app.add_flag("--end", end, "after publishing, publish END_OF_DATA at the next event time");
  app.add_option("--advance-to", advance_to,
                 "after publishing: promise nothing more up to this event time, print `advanced`");
  app.add_option("--forward-only", forward_only, "with --forward: forward only events of this type");
  CLI11_PARSE(app, argc, argv);
  try {

  const auto type = evr::parseEventType(publish_type);
  const auto forward = forward_type.empty() ? std::nullopt : evr::parseEventType(forward_type);
  const auto forward_filter = forward_only.empty() ? std::nullopt : evr::parseEventType(forward_only);
  if (!type || (!forward_type.empty() && !forward) || (!forward_only.empty() && !forward_filter) ||
      per_time == 0) {
    std::cerr << "unknown event type\n";
    return 1;
  }
  // --forward-set: the fields of every forwarded event, and those of the N-th one.
  evr::FieldValues forward_fields;
  std::map<std::uint64_t, evr::FieldValues> forward_fields_at;
  for (const auto& set : forward_sets) {
    const auto eq = set.find('=');
    const auto colon = set.find(':');
    if (eq == std::string::npos) {
      std::cerr << "--forward-set " << set << ": expected [N:]FIELD=VALUE\n";
      return 1;
    }
    if (colon != std::string::npos && colon < eq) {
      std::uint64_t n = 0;
      const auto [end, error] = std::from_chars(set.data(), set.data() + colon, n);
      if (error != std::errc() || end != set.data() + colon) {
        std::cerr << "--forward-set " << set << ": N must be a number\n";
        return 1;
      }
      forward_fields_at[n].emplace_back(set.substr(colon + 1, eq - colon - 1),
                                                                        set.substr(eq + 1));
    } else {
      forward_fields.emplace_back(set.substr(0, eq), set.substr(eq + 1));
    }
  }
  if (forward) {
    // Checked now rather than in a handler: a bad field is a usage error.
    auto all = forward_fields;
    for (const auto& [n, fields] : forward_fields_at) all.insert(all.end(), fields.begin(), fields.end());
    std::string error;
    if (!evr::tryFromFields(*forward, all, error)) {
      std::cerr << "--forward-set: " << error << '\n';
      return 1;
    }
  }
  // --timeout is a bound, scaled like every bound of the tests that start this peer.
  const auto deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                           evr::test::bound(std::chrono::duration<double>(timeout_s)));

  // Signals this peer waits for are blocked before any thread starts, so only sigwait sees them.
  sigset_t waited;
  sigemptyset(&waited);
  sigaddset(&waited, SIGUSR1);
  pthread_sigmask(SIG_BLOCK, &waited, nullptr);

  zmq::context_t context(1);
  evr::Bus bus(name);
  evr::Connection connection(context, bus, {.container = name, .endpoint = endpoint,
                                            .max_unacked = max_unacked,
                                            .ordering = ordered ? evr::Ordering::EventTime : evr::Ordering::Arrival});
  bool inputs_ended = false;
  connection.onInputsEnded([&] {
    inputs_ended = true;
    std::cout << "inputs-ended" << std::endl;
  });

  std::map<std::string, StreamCheck, std::less<>> streams;
  std::uint64_t received = 0, duplicates = 0, gaps = 0, wrong_cause = 0;  // wrong_cause: bad from_seq
  std::int64_t first_rx_ns = 0, last_rx_ns = 0;
  const std::string padding(payload_bytes, 'x');

  bus.subscribeAll([&](const evr::Event& event) {
    if (event.origin() != evr::Origin::Router) return;
    ++received;
    if (print_order) {
      std::cout << "got " << event.eventTime() << ' ' << event.source() << ' ' << event.seq() << ' '
                << evr::eventTypeName(event.type()) << std::endl;  // tests wait for these lines
    }
    if (received == stall_after) {
      // A stalled container: nothing is read while this handler blocks.
      std::cout << "stalled" << std::endl;
      int signal_number = 0;
      sigwait(&waited, &signal_number);
    }
    last_rx_ns = wallNs();
    if (first_rx_ns == 0) first_rx_ns = last_rx_ns;
    auto& stream = streams[std::string(event.source())];
    if (event.seq() <= stream.last_seq) {
      ++duplicates;
    } else if (event.seq() != stream.last_seq + 1) {
      gaps += event.seq() - stream.last_seq - 1;
    }
    stream.last_seq = std::max(stream.last_seq, event.seq());
    ++stream.count;
    // A forwarded event names the seq of the event it came from; 1:1 forwarding keeps them equal.
    for (auto tag : check_forwarded ? event.reader().getTags() : capnp::List<evr::schema::Tag>::Reader()) {
      if (tag.getKey() == "from_seq" && std::to_string(event.seq()) != tag.getValue().cStr()) {
        ++wrong_cause;
      }
    }
    if (forward && (!forward_filter || event.type() == *forward_filter)) {
      auto fields = forward_fields;
      if (const auto at = forward_fields_at.find(received); at != forward_fields_at.end()) {
        fields.insert(fields.end(), at->second.begin(), at->second.end());
      }
      evr::EventBuilder out = evr::fromFields(*forward, fields);
      out.symbol(event.symbol()).eventTime(event.eventTime());
      out.tag("from_seq", std::to_string(event.seq()));
      bus.publish(std::move(out));
    }
  });

  if (!no_wait_join && !connection.waitJoined(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()))) {
    std::cerr << name << ": could not join evrouterd at " << connection.endpoint() << '\n';
    return 3;
  }
  if (!no_wait_join) std::cout << "joined " << name << std::endl;

  std::mt19937 jitter(std::random_device{}());
  const std::int64_t publish_start_ns = wallNs();
  std::optional<evr::PublishBatch> scope;
  for (std::uint64_t i = 1; i <= publish; ++i) {
    if (batch > 0 && (i - 1) % batch == 0) {
      scope.reset();
      scope.emplace(connection);
    }
    if (jitter_us > 0) {
      // Publish timing that differs run to run, so arrival order at a consumer does too.
      const unsigned pause = static_cast<unsigned>(jitter()) % (jitter_us + 1);
      if (pause > jitter_us / 2) std::this_thread::sleep_for(std::chrono::microseconds(pause));
      if (scope) {
        scope.reset();
        scope.emplace(connection);
      }
    }
    evr::EventBuilder event(*type);
    event.symbol("SYM" + std::to_string(i % 4)).eventTime(time_offset + static_cast<std::int64_t>((i - 1) / per_time + 1));
    if (*type == evr::EventType::BAR) event.root().getPayload().getBar().setClose(static_cast<double>(i));
    if (!padding.empty()) event.tag("pad", padding);
    bus.publish(std::move(event));
    if (Clock::now() > deadline) {
      std::cerr << name << ": timed out publishing at " << i << '\n';
      return 3;
    }
  }
  if (end) {
    bus.publish(evr::EventBuilder(evr::EventType::END_OF_DATA)
                    .eventTime(time_offset + static_cast<std::int64_t>((publish + per_time - 1) / per_time + 1)));
  }
  scope.reset();
  if (advance_to != 0) {
    if (!connection.flush(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()))) {
      std::cerr << name << ": events not acknowledged before the timeout\n";
      return 3;
    }
    connection.advanceWatermark(advance_to);
    if (!connection.flush(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()))) {
      std::cerr << name << ": watermark not acknowledged before the timeout\n";
      return 3;
    }
    std::cout << "advanced " << advance_to << std::endl;
  }
  if (hold) {
    // Neither poll nor flush: what was published must already be on its way.
    sigset_t term;
    sigemptyset(&term);
    sigaddset(&term, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &term, nullptr);
    std::cout << "holding" << std::endl;
    int signal_number = 0;
    sigwait(&term, &signal_number);
  }
  if (publish > 0) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (!connection.flush(left)) {
      std::cerr << name << ": events not acknowledged before the timeout\n";
      return 3;
    }
    std::cout << "published " << publish << " start_ns=" << publish_start_ns
              << " acked_ns=" << wallNs() << std::endl;
  }

  while (until_inputs_end ? !inputs_ended : received < expect) {
    if (Clock::now() > deadline) {
      std::cerr << name << ": timed out with " << received << " of " << expect << " events\n";
      // Where the missing ones went, as far as the client knows (a test prints our stderr).
      const auto& link = connection.stats();
      std::cerr << name << ": link received=" << link.received << " duplicates=" << link.duplicates
                << " malformed=" << link.malformed << " joins=" << link.joins << '\n';
      std::cout << "summary received=" << received << " timeout=1" << std::endl;
      return 3;
    }
    connection.poll(std::chrono::milliseconds(100));
  }
  // What we forwarded must reach the daemon before we go.
  if (forward && !connection.flush(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()))) {
    std::cerr << name << ": forwarded events not acknowledged before the timeout\n";
    return 3;
  }

  std::string sources;
  for (const auto& [source, stream] : streams) {
    sources += (sources.empty() ? "" : ",") + source + ":" + std::to_string(stream.count);
  }
  const bool ok = duplicates == 0 && gaps == 0 && wrong_cause == 0;
  std::cout << "summary received=" << received << " duplicates=" << duplicates << " gaps=" << gaps << " bad_from_seq=" << wrong_cause
            << " first_rx_ns=" << first_rx_ns << " last_rx_ns=" << last_rx_ns
            << " sources=" << sources << " ok=" << (ok ? 1 : 0) << std::endl;
  return ok ? 0 : 1;
  } catch (const evr::ConnectionError& e) {
    std::cerr << "connection refused: " << e.what() << '\n';
    return 4;
  }
}
