#pragma once
// The "every track matched" association workload, shared by camtrack_bench_association_bench (CPU reference timing)
// and camtrack_gpu_tests' gpu_association_timing_* (GPU vs CPU): S streams x N tracks initiated at random boxes,
// N detections per stream (each a shifted copy of its track's box), and one matched (track, measurement) pair per
// track. Deterministic for a seed. Header-only; test and bench code only.
#include <cstdint>
#include <vector>

#include "core/common/geometry.h"
#include "core/track/gpu/batched_association.h"
#include "core/track/kalman_filter.h"
#include "core/track/strack.h"

namespace camtrack::testing {

// 32-bit LCG (Numerical Recipes constants): the same sequence on every platform, unlike <random>'s distributions.
struct Lcg {
  uint32_t s;
  uint32_t Next() {
    s = s * 1664525u + 1013904223u;
    return s >> 8;
  }
  float Uniform(float lo, float hi) { return lo + (hi - lo) * static_cast<float>(Next()) / 16777216.f; }
  int Int(int lo, int hi) { return lo + static_cast<int>(Next() % static_cast<uint32_t>(hi - lo + 1)); }
};

struct MatchedAssociationWorkload {
  int streams = 0, n = 0;
  std::vector<int32_t> toff{0}, doff{0}, coff{0}, pairs;
  std::vector<float> means, covs, z;  // Kalman states (8 / 64 floats per track), measurements (xyah per pair)
  std::vector<Box> dets;

  // A batch over this object's host vectors (valid while it lives and is not moved).
  track::AssociationBatch Batch() const {
    track::AssociationBatch b;
    b.num_streams = streams;
    b.total_tracks = streams * n;
    b.total_dets = streams * n;
    b.track_offsets = toff.data();
    b.det_offsets = doff.data();
    b.cost_offsets = coff.data();
    return b;
  }
};

inline MatchedAssociationWorkload MakeMatchedAssociationWorkload(int streams, int n, uint32_t seed) {
  MatchedAssociationWorkload w;
  w.streams = streams;
  w.n = n;
  Lcg rng{seed};
  const track::KalmanFilter kf;
  for (int s = 0; s < streams; ++s) {
    for (int t = 0; t < n; ++t) {
      const track::Tlwh b{rng.Uniform(0, 1800), rng.Uniform(0, 1000), rng.Uniform(8, 200), rng.Uniform(16, 400)};
      track::KalmanMean m;
      track::KalmanCovariance p;
      kf.Initiate(b.ToXyah(), m, p);
      w.means.insert(w.means.end(), m.begin(), m.end());
      w.covs.insert(w.covs.end(), p.begin(), p.end());
      w.dets.push_back(Box{b.x + 2, b.y + 1, b.x + b.w + 2, b.y + b.h + 1});
      w.pairs.push_back(s * n + t);
      const auto xyah = b.ToXyah();
      w.z.insert(w.z.end(), xyah.begin(), xyah.end());
    }
    w.toff.push_back(w.toff.back() + n);
    w.doff.push_back(w.doff.back() + n);
    w.coff.push_back(w.coff.back() + n * n);
  }
  return w;
}

}  // namespace camtrack::testing
