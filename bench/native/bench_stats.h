// bench_stats.h: the percentile of the native benchmark executables, by the same definition as the reports'
// (src/bench/report.ts percentile(): nearest rank, sorted[ceil(q * n) - 1], no interpolation), so a p99 printed by
// an executable means what a p99 of a TypeScript bench means. Pure functions.
#pragma once

#include <algorithm>
#include <cmath>
#include <vector>

namespace camtrack::bench {

// Nearest-rank percentile (q in 0..1) of a sample sorted ascending; NaN when empty.
inline double PercentileSorted(const std::vector<double>& sorted, double q) {
  if (sorted.empty()) return NAN;
  const double rank = std::ceil(q * double(sorted.size())) - 1;
  return sorted[size_t(std::clamp(rank, 0.0, double(sorted.size() - 1)))];
}

// The same of an unsorted sample (sorted here, on a copy).
inline double Percentile(std::vector<double> values, double q) {
  std::sort(values.begin(), values.end());
  return PercentileSorted(values, q);
}

}  // namespace camtrack::bench
