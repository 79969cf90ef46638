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
#include "core/track/kalman_filter.h"
#include "core/track/strack.h"

namespace {

void RunCase(int streams, int n, int iterations) {
  using camtrack::Box;
  const camtrack::track::KalmanFilter kf;
  std::vector<int32_t> toff{0}, doff{0}, coff{0}, pairs;
  std::vector<float> means, covs, z;
  std::vector<Box> dets;
  uint32_t seed = 12345;
  auto uniform = [&seed](float lo, float hi) {
    seed = seed * 1664525u + 1013904223u;
    return lo + (hi - lo) * static_cast<float>(seed >> 8) / 16777216.f;
  };
  for (int s = 0; s < streams; ++s) {
    for (int t = 0; t < n; ++t) {
      const camtrack::track::Tlwh b{uniform(0, 1800), uniform(0, 1000), uniform(8, 200), uniform(16, 400)};
      camtrack::track::KalmanMean m;
      camtrack::track::KalmanCovariance p;
      kf.Initiate(b.ToXyah(), m, p);
      means.insert(means.end(), m.begin(), m.end());
      covs.insert(covs.end(), p.begin(), p.end());
      dets.push_back(Box{b.x + 2, b.y + 1, b.x + b.w + 2, b.y + b.h + 1});
      pairs.push_back(s * n + t);
      const auto xyah = b.ToXyah();
      z.insert(z.end(), xyah.begin(), xyah.end());
    }
    toff.push_back(toff.back() + n);
    doff.push_back(doff.back() + n);
    coff.push_back(coff.back() + n * n);
  }
  camtrack::track::AssociationBatch batch;
  batch.num_streams = streams;
  batch.total_tracks = streams * n;
  batch.total_dets = streams * n;
  batch.track_offsets = toff.data();
  batch.det_offsets = doff.data();
  batch.cost_offsets = coff.data();
  std::vector<float> cost(coff.back());
  std::vector<Box> boxes(streams * n);
  std::vector<double> ms;
  for (int i = 0; i < iterations + 5; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    camtrack::track::BatchedPredictCpu(batch, means.data(), covs.data(), nullptr, boxes.data());
    camtrack::track::BatchedIouCostCpu(batch, boxes.data(), dets.data(), nullptr, nullptr, cost.data());
    camtrack::track::BatchedUpdateCpu(streams * n, pairs.data(), z.data(), means.data(), covs.data(), boxes.data());
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
