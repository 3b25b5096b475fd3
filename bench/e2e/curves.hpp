// The cost curves (issue 16 item 6): how evrouterd's cost grows with what users scale, each a
// parameter sweep written to OUT_DIR/<curve>.json and drawn by gnuplot to OUT_DIR/<curve>.svg
// (the script beside it, <curve>.gp). `evr_e2e_bench --curves all` (or a list) runs them.
//
//   fanout     one publisher broadcast by evrouterd to 1, 4, 16, 64, 256 consumer processes:
//              deliveries/s and evrouterd's peak RSS per consumer; nats-server beside it (one
//              subject, N subscribers) when it is installed.
//   selective  one selective adapter with 4, 64, 1,024 rules (one per route key, event.regime ==
//              label), spread round-robin over 4 consumer processes; event i hits exactly one
//              rule (key i % rules): events/s through evrouterd.
//   lockstep   one backtest step BAR -> strategy -> risk -> execution -> tracker, the next BAR
//              only after the step is done (lockstep.hpp): steps/s and per-step p50/p99, five
//              processes through evrouterd next to the same handlers on one in-process Bus.
//   size       evrouterd's pipeline with a `pad` tag of 64 B .. 64 KiB beside the 128-byte
//              payload: events/s and MB/s.
//
// Every point runs --runs times (a fresh evrouterd each run); the JSON has each run and the
// medians, the parameters, the machine (with its load average at the start) and the commit.

#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "routers.hpp"

namespace evr::bench {

struct CurveOptions {
  std::vector<std::string> curves;  // names from curveNames(); empty: all
  int runs = 3;
  // fanout: events per point = fanout_deliveries / consumers (at least min_events).
  std::vector<std::size_t> fanout_consumers{1, 4, 16, 64, 256};
  std::uint64_t fanout_deliveries = 4'000'000;
  bool fanout_nats = true;  // nats-server's points beside evrouterd's, when installed
  // selective
  std::vector<std::size_t> selective_rules{4, 64, 1024};
  std::size_t selective_consumers = 4;
  std::uint64_t selective_events = 1'000'000;
  // size: events per point = min(size_events, size_bytes / (pad + 128)), at least min_events.
  std::vector<std::size_t> pad_sizes{64, 256, 1024, 4096, 16384, 65536};
  std::uint64_t size_events = 1'000'000;
  std::uint64_t size_bytes = 2'000'000'000;
  // lockstep
  std::uint64_t lockstep_steps = 20'000;
  std::uint64_t min_events = 2'000;

  bool smoke = false;
  std::string out_dir;
  RouterOptions routers;
  double timeout_s = 120;  // per process of a run
  double idle_timeout_s = 10;
};

// "fanout", "selective", "lockstep", "size".
std::vector<std::string> curveNames();

// --smoke: every curve at toy size (about 30 s in all): 1 run per point, fan-out to 1, 4, 16,
// 4, 64, 128 rules, 2,000 events per size, 200 lockstep steps.
CurveOptions smokeSized(CurveOptions options);

// Runs the selected curves, writes their JSON, .gp and .svg files. Exit code as the benchmark's:
// 0 all ran and nothing was lost; 1 a point failed or the options are wrong; 2 loss or duplicates.
int runCurves(const CurveOptions& options);

}  // namespace evr::bench
