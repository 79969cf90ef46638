// GPU tests of BatchedAssociation against the CPU reference of the same batched API (BatchedPredictCpu /
// BatchedIouCostCpu / BatchedUpdateCpu, which call KalmanFilter and ByteTracker's IoU one track at a time):
//   - random batches of 1, 8 and 64 streams with varying track / detection counts (0 included): states,
//     covariances, boxes and cost matrices equal within 1e-4 relative (the kernels are written to be bit-identical;
//     the number of values that are not bit-identical is printed too);
//   (a ByteTrack-like sequence over the bytetrack_palace detections: association_palace_gpu_test.cpp);
//   - timing of predict + cost + update for 64 streams x 50 tracks, GPU vs the CPU reference.
#include <cuda_runtime_api.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "../test_assets.h"
#include "../association_workload.h"
#include "../test_main.h"
#include "association_gpu_util.h"
#include "common/error.h"
#include "core/track/gpu/batched_association.h"
#include "core/track/kalman_filter.h"
#include "core/track/lapjv.h"
#include "core/track/strack.h"
#include "cuda/buffers.h"
#include "cuda/check.h"

namespace {

using namespace ct_gpu_test;  // NOLINT: the shared helpers of association_gpu_util.h

struct AgDiff {
  double max_rel = 0;  // max |g - c| / max(|c|, 1)
  size_t not_bitwise = 0;
  size_t count = 0;
  void Add(const float* g, const float* c, size_t n) {
    for (size_t i = 0; i < n; ++i) {
      const double d = std::fabs(static_cast<double>(g[i]) - c[i]) / std::max(1.0, std::fabs(static_cast<double>(c[i])));
      if (!(d <= max_rel)) max_rel = std::isnan(d) ? INFINITY : std::max(max_rel, d);
      if (std::memcmp(&g[i], &c[i], sizeof(float)) != 0) ++not_bitwise;
    }
    count += n;
  }
};

// A random batch: per-stream counts, realistic Kalman states (initiated, then a few predict/update steps).
struct AgBatch {
  std::vector<int32_t> toff{0}, doff{0}, coff{0};
  std::vector<float> means, covs;
  std::vector<uint8_t> not_tracked;
  std::vector<Box> dets;
  std::vector<int32_t> tclass, dclass;
};

AgBatch AgMakeBatch(int streams, AgRng& rng) {
  const KalmanFilter kf;
  AgBatch b;
  for (int s = 0; s < streams; ++s) {
    // Varying counts; every 5th stream has no tracks, every 7th no detections.
    const int nt = (s % 5 == 4) ? 0 : rng.Int(1, 60);
    const int nd = (s % 7 == 6) ? 0 : rng.Int(1, 70);
    for (int t = 0; t < nt; ++t) {
      const Tlwh box{rng.Uniform(0, 1800), rng.Uniform(0, 1000), rng.Uniform(8, 200), rng.Uniform(16, 400)};
      KalmanMean m;
      KalmanCovariance p;
      kf.Initiate(box.ToXyah(), m, p);
      const int steps = rng.Int(0, 4);
      Tlwh cur = box;
      for (int k = 0; k < steps; ++k) {
        kf.Predict(m, p);
        cur.x += rng.Uniform(-6, 6);
        cur.y += rng.Uniform(-6, 6);
        cur.h *= rng.Uniform(0.97f, 1.03f);
        kf.Update(cur.ToXyah(), m, p);
      }
      b.means.insert(b.means.end(), m.begin(), m.end());
      b.covs.insert(b.covs.end(), p.begin(), p.end());
      b.not_tracked.push_back(rng.Int(0, 3) == 0 ? 1 : 0);
      b.tclass.push_back(rng.Int(0, 2));
      // A detection near this track (so costs are not all 1) when the stream has detections.
    }
    for (int d = 0; d < nd; ++d) {
      float x, y, w, h;
      const int near = nt > 0 ? rng.Int(0, nt - 1) : -1;
      if (near >= 0 && rng.Int(0, 1)) {
        const float* m = &b.means[(static_cast<size_t>(b.toff.back()) + near) * 8];
        h = m[3] * rng.Uniform(0.9f, 1.1f);
        w = m[2] * m[3] * rng.Uniform(0.9f, 1.1f);
        x = m[0] - w / 2 + rng.Uniform(-10, 10);
        y = m[1] - h / 2 + rng.Uniform(-10, 10);
      } else {
        x = rng.Uniform(0, 1800), y = rng.Uniform(0, 1000), w = rng.Uniform(8, 200), h = rng.Uniform(16, 400);
      }
      b.dets.push_back(Box{x, y, x + w, y + h});
      b.dclass.push_back(rng.Int(0, 2));
    }
    b.toff.push_back(b.toff.back() + nt);
    b.doff.push_back(b.doff.back() + nd);
    b.coff.push_back(b.coff.back() + nt * nd);
  }
  return b;
}

struct AgResult {
  AgDiff mean, cov, box, cost;
  int tracks = 0, dets = 0, pairs = 0;
};

// One frame: predict (with not_tracked and boxes), cost (plain or class-aware), update of a random half of the
// tracks with measurements near their predicted box, on the GPU and with the CPU reference; compares everything.
AgResult AgRunFrame(int streams, uint32_t seed, bool class_aware) {
  AgRng rng{seed};
  AgBatch b = AgMakeBatch(streams, rng);
  const int T = b.toff.back(), D = b.doff.back();
  AgResult res;
  res.tracks = T;
  res.dets = D;
  AssociationBatch hb;
  hb.num_streams = streams;
  hb.total_tracks = T;
  hb.total_dets = D;
  hb.track_offsets = b.toff.data();
  hb.det_offsets = b.doff.data();
  hb.cost_offsets = b.coff.data();

  // CPU reference.
  std::vector<float> cm = b.means, cp = b.covs, cc(b.coff.back());
  std::vector<Box> cbox(T);
  camtrack::track::BatchedPredictCpu(hb, cm.data(), cp.data(), b.not_tracked.data(), cbox.data());
  camtrack::track::BatchedIouCostCpu(hb, cbox.data(), b.dets.data(), class_aware ? b.tclass.data() : nullptr,
                                     class_aware ? b.dclass.data() : nullptr, cc.data());
  std::vector<int32_t> pairs;
  std::vector<float> z;
  for (int t = 0; t < T; ++t) {
    if (rng.Int(0, 1) == 0) continue;
    pairs.push_back(t);
    const Box& p = cbox[t];
    const Tlwh meas{p.x1 + rng.Uniform(-5, 5), p.y1 + rng.Uniform(-5, 5), (p.x2 - p.x1) * rng.Uniform(0.95f, 1.05f),
                    (p.y2 - p.y1) * rng.Uniform(0.95f, 1.05f)};
    const auto xyah = meas.ToXyah();
    z.insert(z.end(), xyah.begin(), xyah.end());
  }
  // Pairs in a shuffled order (the GPU runs them in parallel; order must not matter).
  for (size_t i = pairs.size(); i > 1; --i) {
    const size_t j = rng.Next() % i;
    std::swap(pairs[i - 1], pairs[j]);
    for (int k = 0; k < 4; ++k) std::swap(z[(i - 1) * 4 + k], z[j * 4 + k]);
  }
  res.pairs = static_cast<int>(pairs.size());
  camtrack::track::BatchedUpdateCpu(res.pairs, pairs.data(), z.data(), cm.data(), cp.data(), cbox.data());

  // GPU.
  Stream stream;
  DeviceBuffer d_toff = AgUpload(b.toff, stream), d_doff = AgUpload(b.doff, stream), d_coff = AgUpload(b.coff, stream);
  DeviceBuffer d_means = AgUpload(b.means, stream), d_covs = AgUpload(b.covs, stream);
  DeviceBuffer d_nt = AgUpload(b.not_tracked, stream), d_dets = AgUpload(b.dets, stream);
  DeviceBuffer d_tc = AgUpload(b.tclass, stream), d_dc = AgUpload(b.dclass, stream);
  DeviceBuffer d_pairs = AgUpload(pairs, stream), d_z = AgUpload(z, stream);
  DeviceBuffer d_boxes(std::max<size_t>(T * sizeof(Box), 16)), d_cost(std::max<size_t>(cc.size() * sizeof(float), 16));
  AssociationBatch db = hb;
  db.track_offsets = d_toff.data<int32_t>();
  db.det_offsets = d_doff.data<int32_t>();
  db.cost_offsets = d_coff.data<int32_t>();
  const BatchedAssociation gpu(64, 64);
  gpu.Predict(db, d_means.data<float>(), d_covs.data<float>(), d_nt.data<uint8_t>(), d_boxes.data<Box>(),
              stream.get());
  gpu.IouCost(db, d_boxes.data<Box>(), d_dets.data<Box>(), class_aware ? d_tc.data<int32_t>() : nullptr,
              class_aware ? d_dc.data<int32_t>() : nullptr, d_cost.data<float>(), stream.get());
  gpu.Update(res.pairs, d_pairs.data<int32_t>(), d_z.data<float>(), d_means.data<float>(), d_covs.data<float>(),
             d_boxes.data<Box>(), stream.get());
  std::vector<float> gm(cm.size()), gp(cp.size()), gc(cc.size());
  std::vector<Box> gbox(T);
  AgDownload(d_means, gm, stream);
  AgDownload(d_covs, gp, stream);
  AgDownload(d_cost, gc, stream);
  AgDownload(d_boxes, gbox, stream);
  res.mean.Add(gm.data(), cm.data(), cm.size());
  res.cov.Add(gp.data(), cp.data(), cp.size());
  res.cost.Add(gc.data(), cc.data(), cc.size());
  res.box.Add(reinterpret_cast<const float*>(gbox.data()), reinterpret_cast<const float*>(cbox.data()), 4 * T);
  return res;
}

void AgExpectFrame(int streams, uint32_t seed, bool class_aware) {
  const AgResult r = AgRunFrame(streams, seed, class_aware);
  std::printf("      S=%d%s: %d tracks, %d dets, %d pairs, %zu costs | max rel diff mean %.2g cov %.2g box %.2g cost "
              "%.2g | not bit-identical: %zu of %zu values\n",
              streams, class_aware ? " (class-aware)" : "", r.tracks, r.dets, r.pairs, r.cost.count, r.mean.max_rel,
              r.cov.max_rel, r.box.max_rel, r.cost.max_rel,
              r.mean.not_bitwise + r.cov.not_bitwise + r.box.not_bitwise + r.cost.not_bitwise,
              r.mean.count + r.cov.count + r.box.count + r.cost.count);
  CT_EXPECT(r.mean.max_rel <= kRelTol);
  CT_EXPECT(r.cov.max_rel <= kRelTol);
  CT_EXPECT(r.box.max_rel <= kRelTol);
  CT_EXPECT(r.cost.max_rel <= kRelTol);
  CT_EXPECT(r.mean.count == static_cast<size_t>(r.tracks) * 8);
}

}  // namespace

CT_TEST(gpu_association_one_stream_matches_cpu_reference) { AgExpectFrame(1, 101u, false); }

CT_TEST(gpu_association_8_streams_matches_cpu_reference) {
  AgExpectFrame(8, 202u, false);
  AgExpectFrame(8, 203u, true);
}

CT_TEST(gpu_association_64_streams_matches_cpu_reference) {
  AgExpectFrame(64, 303u, false);
  AgExpectFrame(64, 304u, true);
}

CT_TEST(gpu_association_empty_batch_and_bad_calls) {
  const BatchedAssociation gpu(8, 8);
  Stream stream;
  // Nothing to do: no launch, no error, even with null pointers.
  AssociationBatch empty;
  gpu.Predict(empty, nullptr, nullptr, nullptr, nullptr, stream.get());
  gpu.IouCost(empty, nullptr, nullptr, nullptr, nullptr, nullptr, stream.get());
  gpu.Update(0, nullptr, nullptr, nullptr, nullptr, nullptr, stream.get());
  stream.Synchronize();
  camtrack::ErrorCode code = camtrack::ErrorCode::kInternal;
  try {
    AssociationBatch b;
    b.num_streams = 1;
    b.total_tracks = 3;
    gpu.Predict(b, nullptr, nullptr, nullptr, nullptr, stream.get());
  } catch (const camtrack::Error& e) {
    code = e.code();
  }
  CT_EXPECT(code == camtrack::ErrorCode::kInvalidArgument);
}

CT_TEST(gpu_association_timing_64_streams_x_50_tracks) {
  const int S = 64, N = 50;
  const camtrack::testing::MatchedAssociationWorkload w = camtrack::testing::MakeMatchedAssociationWorkload(S, N, 99u);
  const std::vector<int32_t>&toff = w.toff, &doff = w.doff, &coff = w.coff, &pairs = w.pairs;
  const std::vector<float>&means = w.means, &covs = w.covs, &z = w.z;
  const std::vector<Box>& dets = w.dets;
  const AssociationBatch hb = w.Batch();
  std::vector<float> cost(coff.back());
  std::vector<Box> boxes(S * N);

  // CPU reference.
  std::vector<float> cm = means, cp = covs;
  const int cpu_iters = 50;
  const auto c0 = std::chrono::steady_clock::now();
  for (int i = 0; i < cpu_iters; ++i) {
    camtrack::track::BatchedPredictCpu(hb, cm.data(), cp.data(), nullptr, boxes.data());
    camtrack::track::BatchedIouCostCpu(hb, boxes.data(), dets.data(), nullptr, nullptr, cost.data());
    camtrack::track::BatchedUpdateCpu(S * N, pairs.data(), z.data(), cm.data(), cp.data(), boxes.data());
  }
  const double cpu_us =
      std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - c0).count() / cpu_iters;

  Stream stream;
  DeviceBuffer d_toff = AgUpload(toff, stream), d_doff = AgUpload(doff, stream), d_coff = AgUpload(coff, stream);
  DeviceBuffer d_means = AgUpload(means, stream), d_covs = AgUpload(covs, stream), d_dets = AgUpload(dets, stream);
  DeviceBuffer d_pairs = AgUpload(pairs, stream), d_z = AgUpload(z, stream);
  DeviceBuffer d_boxes(S * N * sizeof(Box)), d_cost(cost.size() * sizeof(float));
  camtrack::cuda::PinnedBuffer h_cost(cost.size() * sizeof(float)), h_dets(dets.size() * sizeof(Box)),
      h_z(z.size() * sizeof(float));
  std::memcpy(h_dets.data(), dets.data(), dets.size() * sizeof(Box));
  std::memcpy(h_z.data(), z.data(), z.size() * sizeof(float));
  AssociationBatch db = hb;
  db.track_offsets = d_toff.data<int32_t>();
  db.det_offsets = d_doff.data<int32_t>();
  db.cost_offsets = d_coff.data<int32_t>();
  const BatchedAssociation gpu(N, N);
  auto kernels = [&] {
    gpu.Predict(db, d_means.data<float>(), d_covs.data<float>(), nullptr, d_boxes.data<Box>(), stream.get());
    gpu.IouCost(db, d_boxes.data<Box>(), d_dets.data<Box>(), nullptr, nullptr, d_cost.data<float>(), stream.get());
    gpu.Update(S * N, d_pairs.data<int32_t>(), d_z.data<float>(), d_means.data<float>(), d_covs.data<float>(),
               d_boxes.data<Box>(), stream.get());
  };
  for (int i = 0; i < 10; ++i) kernels();
  stream.Synchronize();
  Event start(true), stop(true);
  const int iters = 200;
  start.Record(stream.get());
  for (int i = 0; i < iters; ++i) kernels();
  stop.Record(stream.get());
  stop.Synchronize();
  const double gpu_us = Event::ElapsedMs(start, stop) * 1000.0 / iters;
  // Per kernel.
  double part_us[3];
  for (int k = 0; k < 3; ++k) {
    start.Record(stream.get());
    for (int i = 0; i < iters; ++i) {
      if (k == 0) gpu.Predict(db, d_means.data<float>(), d_covs.data<float>(), nullptr, d_boxes.data<Box>(), stream.get());
      if (k == 1)
        gpu.IouCost(db, d_boxes.data<Box>(), d_dets.data<Box>(), nullptr, nullptr, d_cost.data<float>(), stream.get());
      if (k == 2)
        gpu.Update(S * N, d_pairs.data<int32_t>(), d_z.data<float>(), d_means.data<float>(), d_covs.data<float>(),
                   d_boxes.data<Box>(), stream.get());
    }
    stop.Record(stream.get());
    stop.Synchronize();
    part_us[k] = Event::ElapsedMs(start, stop) * 1000.0 / iters;
  }
  std::printf("      per kernel: predict %.1f us, IoU cost %.1f us, update %.1f us\n", part_us[0], part_us[1], part_us[2]);

  // With the per-frame transfers, synchronised each frame (wall clock).
  const auto w0 = std::chrono::steady_clock::now();
  for (int i = 0; i < iters; ++i) {
    CAMTRACK_CUDA_CHECK(cudaMemcpyAsync(d_dets.data(), h_dets.data(), h_dets.size(), cudaMemcpyHostToDevice,
                                        stream.get()));
    gpu.Predict(db, d_means.data<float>(), d_covs.data<float>(), nullptr, d_boxes.data<Box>(), stream.get());
    gpu.IouCost(db, d_boxes.data<Box>(), d_dets.data<Box>(), nullptr, nullptr, d_cost.data<float>(), stream.get());
    CAMTRACK_CUDA_CHECK(cudaMemcpyAsync(h_cost.data(), d_cost.data(), h_cost.size(), cudaMemcpyDeviceToHost,
                                        stream.get()));
    stream.Synchronize();  // the host needs the costs for LAPJV
    CAMTRACK_CUDA_CHECK(cudaMemcpyAsync(d_z.data(), h_z.data(), h_z.size(), cudaMemcpyHostToDevice, stream.get()));
    gpu.Update(S * N, d_pairs.data<int32_t>(), d_z.data<float>(), d_means.data<float>(), d_covs.data<float>(),
               d_boxes.data<Box>(), stream.get());
    stream.Synchronize();
  }
  const double wall_us =
      std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - w0).count() / iters;
  std::printf("      64 streams x 50 tracks x 50 dets (3200 predicts, 160000 costs, 3200 updates): CPU reference "
              "%.1f us/frame (one core), GPU kernels %.1f us/frame, GPU incl. transfers + 2 syncs %.1f us/frame\n",
              cpu_us, gpu_us, wall_us);
  CT_EXPECT(gpu_us > 0 && cpu_us > 0 && wall_us > 0);
  // Sanity of the timed GPU work: costs of matching pairs are small (det = track box shifted by (2, 1) px).
  std::vector<float> gc(cost.size());
  AgDownload(d_cost, gc, stream);
  CT_EXPECT(gc[0] < 0.2f && gc[0] >= 0.f);
}
