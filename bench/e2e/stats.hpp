// Summaries the benchmark reports: latency percentiles of raw samples, and median/min/max over
// repeated runs. Plain functions over values; no state.

#pragma once

#include <cstdint>
#include <vector>

namespace evr::bench {

// Nearest-rank percentile (q in [0, 100]) of `samples`, which this sorts. 0 when empty.
double percentile(std::vector<std::int64_t>& samples, double q);

struct Spread {
  double median = 0;  // of an even count: the mean of the two middle values
  double min = 0;
  double max = 0;
};

Spread spreadOf(std::vector<double> values);

}  // namespace evr::bench
