// camtrack_bench_association_bench: one frame of the CPU reference of the batched association (BatchedPredictCpu +
// BatchedIouCostCpu + BatchedUpdateCpu) for S streams x N tracks x N detections, every track matched, on one core.
//   camtrack_bench_association_bench [iterations=200]
// Prints one line per case and a JSON object per case ({"bench":"association",...}) for bench/results. The GPU
// counterpart (same sizes) is timed by native/tests/gpu/association_gpu_test.cpp on a GPU machine
// (docs/gpu-verification.md).
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "core/track/gpu/batched_association.h"
#include "tests/association_workload.h"

namespace {

void RunCase(int streams, int n, int iterations) {
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
  const double med = ms[ms.size() / 2], p90 = ms[ms.size() * 9 / 10], best = ms.front();
  std::printf("%3d streams x %3d tracks x %3d dets   median %.3f ms  p90 %.3f ms  min %.3f ms\n", streams, n, n, med,
              p90, best);
  std::printf("{\"bench\":\"association\",\"backend\":\"cpu\",\"streams\":%d,\"tracks\":%d,\"dets\":%d,"
              "\"iterations\":%d,\"median_ms\":%.4f,\"p90_ms\":%.4f,\"min_ms\":%.4f}\n",
              streams, n, n, iterations, med, p90, best);
}

}  // namespace

int main(int argc, char** argv) {
  const int iterations = argc > 1 ? std::max(1, std::atoi(argv[1])) : 200;
  RunCase(1, 50, iterations);
  RunCase(8, 50, iterations);
  RunCase(64, 50, iterations);
  RunCase(64, 200, std::max(1, iterations / 10));
  return 0;
}
