// camtrack_bench_association_bench: one frame of the CPU reference of the batched association (BatchedPredictCpu +
// BatchedIouCostCpu + BatchedUpdateCpu) for S streams x N tracks x N detections, every track matched, on one core.
//   camtrack_bench_association_bench [--iterations 200]      (or: node bench/native.mjs association …)
// Prints one human line per case on stderr and ONE JSON object on stdout ({"bench":"association","cases":[…]});
// `node bench/native.mjs association` stamps it as a report (src/bench/report.ts). Percentiles: nearest rank. The GPU
// counterpart (same sizes) is timed by native/tests/gpu/association_gpu_test.cpp on a GPU machine
// (docs/gpu-verification.md).
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "bench_args.h"
#include "bench_json.h"
#include "bench_stats.h"
#include "core/track/gpu/batched_association.h"
#include "tests/association_workload.h"

namespace {

void RunCase(int streams, int n, int iterations, camtrack::bench::Json& j) {
  using camtrack::Box;
  camtrack::testing::MatchedAssociationWorkload w = camtrack::testing::MakeMatchedAssociationWorkload(streams, n, 12345u);
  const camtrack::track::AssociationBatch batch = w.Batch();
  std::vector<float> cost(w.coff.back());
  std::vector<Box> boxes(streams * n);
  std::vector<double> ms;
  for (int i = 0; i < iterations + 5; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    camtrack::track::BatchedPredictCpu(batch, w.means.data(), w.covs.data(), nullptr, boxes.data());
    camtrack::track::BatchedIouCostCpu(batch, boxes.data(), w.dets.data(), nullptr, nullptr, cost.data());
    camtrack::track::BatchedUpdateCpu(streams * n, w.pairs.data(), w.z.data(), w.means.data(), w.covs.data(),
                                      boxes.data());
    const double d = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    if (i >= 5) ms.push_back(d);  // 5 warm-up frames
  }
  std::sort(ms.begin(), ms.end());
  const double med = camtrack::bench::PercentileSorted(ms, 0.5), p90 = camtrack::bench::PercentileSorted(ms, 0.9),
               best = ms.front();
  std::fprintf(stderr, "%3d streams x %3d tracks x %3d dets   median %.3f ms  p90 %.3f ms  min %.3f ms\n", streams, n,
               n, med, p90, best);
  j.Begin().Key("backend").Str("cpu").Key("streams").Int(streams).Key("tracks").Int(n).Key("dets").Int(n);
  j.Key("iterations").Int(iterations).Key("median_ms").Num(med, 4).Key("p90_ms").Num(p90, 4).Key("min_ms").Num(best, 4);
  j.End();
}

}  // namespace

int main(int argc, char** argv) {
  camtrack::bench::Args args(argc, argv, "camtrack_bench_association_bench",
                             "camtrack_bench_association_bench [--iterations 200]: CPU batched association, JSON on stdout\n");
  const int iterations = int(args.Int("iterations", 200, 1, 100000000));
  args.Done();
  camtrack::bench::Json j;
  j.Begin().Key("bench").Str("association").Key("iterations").Int(iterations).Key("cases").BeginArray();
  RunCase(1, 50, iterations, j);
  RunCase(8, 50, iterations, j);
  RunCase(64, 50, iterations, j);
  RunCase(64, 200, std::max(1, iterations / 10), j);
  j.End().End();
  std::puts(j.str().c_str());
  return 0;
}
