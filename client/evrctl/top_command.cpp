// evrctl top: a live table of event rates, queue depths and drops per container.

#include <csignal>
#include <cstdio>
#include <ctime>
#include <map>
#include <unistd.h>

#include "control_client.hpp"

namespace evr::ctl {

Command addTopCommand(CLI::App& parent) {
  auto* app = parent.add_subcommand("top", "A live table of event rates, queue depths and drops per container, refreshed every --interval (Ctrl-C ends it).");
  auto options = std::make_shared<ControlOptions>();
  auto interval = std::make_shared<double>(1.0);
  auto iterations = std::make_shared<unsigned>(0);
  addControlEndpointOption(*app, *options);
  app->add_option("--timeout", options->timeout, "Seconds to wait for each answer")->capture_default_str();
  app->add_option("--interval", *interval, "Seconds between refreshes")->check(CLI::PositiveNumber)->capture_default_str();
  app->add_option("--iterations", *iterations, "Stop after this many refreshes (0: until Ctrl-C)")->capture_default_str();
  return {app, [options, interval, iterations]() {
            // Ctrl-C and SIGTERM end the loop cleanly: wait for them instead of sleeping.
            sigset_t stop_signals;
            sigemptyset(&stop_signals);
            sigaddset(&stop_signals, SIGINT);
            sigaddset(&stop_signals, SIGTERM);
            sigprocmask(SIG_BLOCK, &stop_signals, nullptr);
            const bool tty = ::isatty(STDOUT_FILENO) != 0;
            std::map<std::string, std::pair<std::uint64_t, std::uint64_t>> previous;  // name -> in, out
            std::uint64_t previous_in = 0, previous_out = 0;
            auto previous_time = std::chrono::steady_clock::now();
            for (unsigned n = 0; *iterations == 0 || n < *iterations; ++n) {
              capnp::MallocMessageBuilder request;
              request.initRoot<schema::ControlRequest>().setStats();
              const auto words = exchange(*options, request);
              if (!words) return kExitTimeout;
              capnp::FlatArrayMessageReader message(*words);
              const auto stats = message.getRoot<schema::ControlReply>().getStats();
              const auto now = std::chrono::steady_clock::now();
              const double seconds = n == 0 ? 0 : std::chrono::duration<double>(now - previous_time).count();
              const auto rate = [&](std::uint64_t now_count, std::uint64_t before) {
                return seconds > 0 ? static_cast<double>(now_count - before) / seconds : 0.0;
              };
              std::uint64_t drops = 0;
              for (const auto drop : stats.getDrops()) drops += drop.getValue();
              if (tty) std::printf("\x1b[H\x1b[2J");
              std::printf("evrouterd  in %.0f ev/s  delivered %.0f ev/s  unrouted %llu  unmatched %llu  drops %llu\n",
                          rate(stats.getEventsIn(), previous_in), rate(stats.getDeliveries(), previous_out),
                          static_cast<unsigned long long>(stats.getUnrouted()),
                          static_cast<unsigned long long>(stats.getUnmatched()),
                          static_cast<unsigned long long>(drops));
              std::printf("%-24s %-5s %12s %12s %8s %8s\n", "container", "conn", "in ev/s", "out ev/s", "queued", "drops");
              for (const auto c : stats.getContainers()) {
                const std::string name = c.getName().cStr();
                const auto [in_before, out_before] = previous[name];
                std::uint64_t container_drops = 0;
                for (const auto drop : c.getDropsTo()) container_drops += drop.getValue();
                for (const auto drop : c.getDropsFrom()) container_drops += drop.getValue();
                std::printf("%-24s %-5s %12.0f %12.0f %8llu %8llu\n", name.c_str(), c.getConnected() ? "yes" : "no",
                            rate(c.getEventsIn(), in_before), rate(c.getEventsOut(), out_before),
                            static_cast<unsigned long long>(c.getQueueDepth()),
                            static_cast<unsigned long long>(container_drops));
                previous[name] = {c.getEventsIn(), c.getEventsOut()};
              }
              std::fflush(stdout);
              previous_in = stats.getEventsIn();
              previous_out = stats.getDeliveries();
              previous_time = now;
              if (*iterations != 0 && n + 1 == *iterations) break;
              const auto wait = std::chrono::duration<double>(*interval);
              timespec timeout{};
              timeout.tv_sec = static_cast<time_t>(wait.count());
              timeout.tv_nsec = static_cast<long>((wait.count() - static_cast<double>(timeout.tv_sec)) * 1e9);
              if (sigtimedwait(&stop_signals, nullptr, &timeout) > 0) break;  // Ctrl-C: done
            }
            return kExitOk;
          }};
}

}  // namespace evr::ctl
