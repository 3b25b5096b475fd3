// The fault battery's short forms (issue 12, docs/delivery.md "Proof"; the long forms are
// scripts/fault_battery.py, `make soak`): real evrouterd and evrctl processes on ipc sockets in a
// temporary directory, one fault each, then the count that matters: silent loss (sent - distinct
// delivered - counted final drops) and lines a consumer printed twice within one process.
//
// Each case that needs a piece of issue 12 not built yet has a precondition that asks this build
// whether it has it (`evrouterd --check` accepts the case's config), so on a build without it the
// case is skipped, never failed. Every wait is bounded; nothing sleeps to synchronise.
#include <boost/test/unit_test.hpp>
#include <nlohmann/json.hpp>
#include <signal.h>

#include <algorithm>
#include <filesystem>
#include <set>
#include <tuple>

#include "daemon_fixture.hpp"

using namespace evr::test;

namespace {

// How long a read may take to reach its count, or a process to finish its work: a bound, not a
// wait (each read ends as soon as its count is reached; sanitizer builds scale it, time_scale.hpp).
constexpr auto kRead = 30s;

constexpr std::uint64_t kEvents = 20000;

const std::string kListen = "router:\n  listen: [\"ipc://evrouterd.sock\"]\n";

std::string pipeline(const std::string& router_extra = "") {
  return kListen + router_extra +
         "event_communication:\n  adapters:\n    - {type: pipeline, name: p, containers: [src, dst]}\n";
}

// Whether this build's evrouterd accepts `yaml` (@DIR@ is replaced by a scratch directory).
bool accepted(const std::string& yaml) {
  TempDir dir;
  std::filesystem::create_directories(dir.path() / "journal");
  std::string text = yaml;
  for (auto at = text.find("@DIR@"); at != std::string::npos; at = text.find("@DIR@")) {
    text.replace(at, 5, dir.path().string());
  }
  Process check({EVR_EVROUTERD_PATH, "--check", "-c", dir.write("check.yaml", text)});
  return check.waitFor(20s).value_or(-1) == 0;
}

boost::test_tools::assertion_result buildAccepts(const std::string& yaml, const std::string& feature) {
  boost::test_tools::assertion_result result(accepted(yaml));
  if (!result) result.message() << "not built yet: " << feature << " (evrouterd --check refuses its config)";
  return result;
}

const std::string kReplayKeys = "  replay_limit: 100000\n  stall_timeout_ms: 5000\n";
const std::string kJournalKeys = kReplayKeys + "  journal: {path: \"@DIR@/journal\", fsync: batch, types: lossless}\n";
// A short queue, so that a lossless dst2 would hold the source back within the run. The source's
// resend buffer must stay under 3/4 of it (kConflateWindow), or a lossless target slower than the
// source (dst1 or dst3 on a loaded or sanitizer build) drops queue_full before the hold stops it
// (docs/protocol.md, "Backpressure").
constexpr std::size_t kConflateWindow = 500;
const std::string kConflateDst2 = kListen + "  queue_limit: 1000\n" +
    "event_communication:\n"
    "  delivery:\n    default: lossless\n    targets: {dst2: {default: conflate}}\n"
    "  adapters:\n    - {type: broadcast, name: fan, source: src, targets: [dst1, dst2, dst3]}\n";

// (source, source instance, source seq): the identity of an event across daemon restarts. Today's
// header has no source instance; a `batch` tag set by the sender stands in for it where two
// publishers take turns under one name.
using Key = std::tuple<std::string, std::string, std::uint64_t>;

Key keyOf(const nlohmann::json& event) {
  std::string instance;
  for (const char* name : {"source_instance", "sourceInstance"}) {
    if (const auto it = event.find(name); it != event.end()) instance = it->dump();
  }
  if (instance.empty() && event.contains("tags") && event["tags"].contains("batch")) {
    instance = "batch " + event["tags"]["batch"].get<std::string>();
  }
  return {event.at("source").get<std::string>(), instance, event.at("seq").get<std::uint64_t>()};
}

// What the incarnations of one consumer printed.
struct Printed {
  std::set<Key> distinct;                 // over all incarnations
  std::uint64_t same_process_duplicates = 0;
  std::set<Key> current;                  // this incarnation's

  void take(const std::string& line) {
    const Key key = keyOf(nlohmann::json::parse(line));
    if (!current.insert(key).second) ++same_process_duplicates;
    distinct.insert(key);
  }
  void newIncarnation() { current.clear(); }
};

// Reads `consumer`'s lines into `printed` until `enough` holds or `timeout` passes.
template <typename Enough>
void readUntil(Process& consumer, Printed& printed, Enough enough, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + bound(timeout);
  while (!enough()) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left <= 0ms) return;
    if (const auto line = consumer.readLine(left)) printed.take(*line);
    else if (!consumer.running()) return;
  }
}

// Reads `consumer`'s lines until the distinct events printed plus the final drops evrouterd counted
// (`drops()`, asked whenever the consumer has been quiet for 100 ms) reach `expected`, or `timeout`
// passes. Returns the last drops() answer.
template <typename Drops>
std::uint64_t readAccounted(Process& consumer, Printed& printed, std::uint64_t expected, Drops drops,
                            std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + bound(timeout);
  std::uint64_t dropped = drops();
  while (printed.distinct.size() + dropped < expected) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left <= 0ms) break;
    if (const auto line = consumer.readLine(std::min(left, std::chrono::milliseconds(100)))) {
      printed.take(*line);
    } else {
      dropped = drops();
    }
  }
  return dropped;
}

// SIGKILL, then what it had printed and not been read yet (a line cut off by the kill is no print).
void killAndDrain(Process& consumer, Printed& printed) {
  consumer.signal(SIGKILL);
  BOOST_REQUIRE(consumer.waitFor(10s));
  const std::string rest = consumer.readAllStdout(5s);
  std::size_t begin = 0;
  for (auto end = rest.find('\n'); end != std::string::npos; begin = end + 1, end = rest.find('\n', begin)) {
    if (end > begin) printed.take(rest.substr(begin, end - begin));
  }
}

// `max_unacked`: the sender's resend buffer (0: the library's default).
std::unique_ptr<Process> sender(const RunningDaemon& daemon, std::uint64_t count, int rate,
                                const std::string& batch = "1", std::size_t max_unacked = 0) {
  std::vector<std::string> args{"send", "--as", "src", "--type", "BAR", "--set", "symbol=ACME",
                                "--set", "tag.batch=" + batch, "--count", std::to_string(count),
                                "--rate", std::to_string(rate), "--timeout", "60"};
  if (max_unacked > 0) args.insert(args.end(), {"--max-unacked", std::to_string(max_unacked)});
  return daemon.evrctl(args);
}

std::unique_ptr<Process> consumer(const RunningDaemon& daemon, const std::string& name) {
  return daemon.evrctl({"recv", "--as", name, "--json", "--timeout", "0"});
}

// sent - distinct delivered - counted final drops, signed: more delivered than sent shows as < 0.
std::int64_t silentLoss(std::uint64_t sent, std::size_t delivered, std::uint64_t drops) {
  return static_cast<std::int64_t>(sent) - static_cast<std::int64_t>(delivered) - static_cast<std::int64_t>(drops);
}

// Final drops: every reason but those the sender recovers from by resending.
std::uint64_t finalDrops(const DaemonStats& stats) {
  return stats.dropped() - stats.drop("not_joined") - stats.drop("duplicate");
}

}  // namespace

BOOST_AUTO_TEST_SUITE(delivery_fault)

BOOST_AUTO_TEST_CASE(consumer_killed_and_restarted_loses_nothing_and_repeats_nothing_within_a_process,
                     *boost::unit_test::precondition([](boost::unit_test::test_unit_id) {
                       return buildAccepts(pipeline(kReplayKeys), "the replay buffer (router.replay_limit)");
                     })) {
  RunningDaemon daemon(pipeline(kReplayKeys));
  Printed printed;
  auto first = consumer(daemon, "dst");
  auto source = sender(daemon, kEvents, 20000);
  readUntil(*first, printed, [&] { return printed.distinct.size() >= kEvents / 4; }, kRead);
  BOOST_REQUIRE_GE(printed.distinct.size(), kEvents / 4);
  killAndDrain(*first, printed);
  printed.newIncarnation();
  auto second = consumer(daemon, "dst");
  BOOST_REQUIRE_EQUAL(source->waitFor(kRead).value_or(-1), 0);  // every event acked by evrouterd
  const auto drops = readAccounted(*second, printed, kEvents,
                                   [&] { return finalDrops(statsOf(daemon.controlEndpoint())); }, kRead);
  BOOST_CHECK_EQUAL(silentLoss(kEvents, printed.distinct.size(), drops), 0);
  BOOST_CHECK_EQUAL(printed.same_process_duplicates, 0u);
  second->signal(SIGINT);
}

BOOST_AUTO_TEST_CASE(daemon_killed_with_a_journal_loses_nothing,
                     *boost::unit_test::precondition([](boost::unit_test::test_unit_id) {
                       return buildAccepts(pipeline(kJournalKeys), "the journal (router.journal)");
                     })) {
  TempDir journal_parent;
  std::string router = kJournalKeys;
  router.replace(router.find("@DIR@"), 5, journal_parent.path().string());
  std::filesystem::create_directories(journal_parent.path() / "journal");
  RunningDaemon daemon(pipeline(router));
  Printed printed;
  auto reader = consumer(daemon, "dst");
  auto source = sender(daemon, kEvents, 20000);
  readUntil(*reader, printed, [&] { return printed.distinct.size() >= kEvents / 4; }, kRead);
  BOOST_REQUIRE_GE(printed.distinct.size(), kEvents / 4);
  std::uint64_t drops = finalDrops(statsOf(daemon.controlEndpoint()));
  daemon.process().signal(SIGKILL);
  BOOST_REQUIRE(daemon.process().waitFor(10s));
  daemon.restart();  // same config, same journal directory
  BOOST_REQUIRE_EQUAL(source->waitFor(kRead).value_or(-1), 0);
  const auto later_drops = readAccounted(*reader, printed, kEvents - drops,
                                         [&] { return finalDrops(statsOf(daemon.controlEndpoint())); }, kRead);
  const auto loss = silentLoss(kEvents, printed.distinct.size(), drops + later_drops);
  BOOST_CHECK_EQUAL(loss, 0);
  BOOST_CHECK_EQUAL(printed.same_process_duplicates, 0u);
  reader->signal(SIGINT);
  if (loss != 0) {  // where they went: the restarted daemon's and the reader's own words
    BOOST_TEST_MESSAGE("evrouterd after the restart:\n" << daemon.process().seen(Process::Stream::Stderr)
                       << daemon.process().readAllStderr(1s));
    BOOST_TEST_MESSAGE("evrctl recv:\n" << reader->readAllStderr(5s));
    BOOST_TEST_MESSAGE("evrctl send:\n" << source->readAllStderr(1s));
  }
}

BOOST_AUTO_TEST_CASE(stopped_conflate_consumer_does_not_hold_the_others,
                     *boost::unit_test::precondition([](boost::unit_test::test_unit_id) {
                       return buildAccepts(kConflateDst2, "delivery policies (event_communication.delivery)");
                     })) {
  RunningDaemon daemon(kConflateDst2);
  Printed one, two, three;
  auto dst1 = consumer(daemon, "dst1");
  auto dst2 = consumer(daemon, "dst2");
  auto dst3 = consumer(daemon, "dst3");
  // One event through to all three first, so each has joined before the stop.
  auto probe = sender(daemon, 1, 0, "probe");
  BOOST_REQUIRE_EQUAL(probe->waitFor(20s).value_or(-1), 0);
  for (const auto& [process, seen] : {std::pair{dst1.get(), &one}, std::pair{dst2.get(), &two},
                                      std::pair{dst3.get(), &three}}) {
    readUntil(*process, *seen, [&] { return !seen->distinct.empty(); }, kRead);
    BOOST_REQUIRE_EQUAL(seen->distinct.size(), 1u);
  }
  dst2->signal(SIGSTOP);
  // More than dst2's queue, pipe and socket buffers hold, so a lossless dst2 would hold the source.
  constexpr std::uint64_t kMany = 3 * kEvents;
  auto source = sender(daemon, kMany, 30000, "1", kConflateWindow);
  // While dst2 stays stopped: the source finishes and the others get everything.
  BOOST_CHECK_EQUAL(source->waitFor(kRead).value_or(-1), 0);
  readUntil(*dst1, one, [&] { return one.distinct.size() >= kMany + 1; }, kRead);
  readUntil(*dst3, three, [&] { return three.distinct.size() >= kMany + 1; }, kRead);
  BOOST_CHECK_EQUAL(one.distinct.size(), kMany + 1);
  BOOST_CHECK_EQUAL(three.distinct.size(), kMany + 1);
  BOOST_CHECK(dst2->running());  // still stopped all along
  dst2->signal(SIGCONT);
  // What dst2 did not get was conflated, and counted.
  const auto drops = readAccounted(*dst2, two, kMany + 1,
                                   [&] { return finalDrops(statsOf(daemon.controlEndpoint())); }, kRead);
  BOOST_CHECK_EQUAL(silentLoss(kMany + 1, two.distinct.size(), drops), 0);
  for (auto* c : {&one, &two, &three}) BOOST_CHECK_EQUAL(c->same_process_duplicates, 0u);
  for (auto* c : {dst1.get(), dst2.get(), dst3.get()}) c->signal(SIGINT);
}

BOOST_AUTO_TEST_CASE(reload_under_load_loses_nothing) {
  // Two configs that both route src -> dst: a pipeline and a broadcast.
  const std::string broadcast =
      kListen + "event_communication:\n  adapters:\n    - {type: broadcast, name: b, source: src, targets: [dst]}\n";
  RunningDaemon daemon(pipeline());
  Printed printed;
  auto reader = consumer(daemon, "dst");
  auto source = sender(daemon, kEvents, 10000);
  readUntil(*reader, printed, [&] { return !printed.distinct.empty(); }, kRead);
  BOOST_REQUIRE(!printed.distinct.empty());
  daemon.dir().write("evrouter.yaml", broadcast);
  auto reload = daemon.evrctlControl({"reload", "--timeout", "20"});
  BOOST_REQUIRE_EQUAL(reload->waitFor(30s).value_or(-1), 0);
  BOOST_TEST_MESSAGE("reloaded after " << printed.distinct.size() << " events; source still sending: "
                                       << (source->running() ? "yes" : "no"));
  BOOST_REQUIRE_EQUAL(source->waitFor(kRead).value_or(-1), 0);
  const auto drops = readAccounted(*reader, printed, kEvents,
                                   [&] { return finalDrops(statsOf(daemon.controlEndpoint())); }, kRead);
  BOOST_CHECK_EQUAL(silentLoss(kEvents, printed.distinct.size(), drops), 0);
  BOOST_CHECK_EQUAL(printed.same_process_duplicates, 0u);
  reader->signal(SIGINT);
}

BOOST_AUTO_TEST_SUITE_END()
