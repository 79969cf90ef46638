// Batched association, CPU reference (runs everywhere): the batched functions equal per-track calls of the existing
// KalmanFilter / STrack code on every stream of a flat batch (bit for bit: they call that code), the IoU distance is
// ByteTracker's "+1" convention (hand-computed values, and a ByteTracker that matches exactly when that distance is
// under matchThresh), and the batch layout / argument checks hold. The GPU kernels are tested against these
// functions in native/tests/gpu/association_gpu_test.cpp.
#include <cstdint>
#include <cstring>
#include <vector>

#include "core/common/error.h"
#include "core/track/byte_tracker.h"
#include "core/track/gpu/batched_association.h"
#include "core/track/kalman_filter.h"
#include "core/track/strack.h"
#include "test_main.h"
#include "tracker_reference.h"

namespace {

using camtrack::Box;
using camtrack::Error;
using camtrack::ErrorCode;
using camtrack::track::AssociationBatch;
using camtrack::track::KalmanCovariance;
using camtrack::track::KalmanFilter;
using camtrack::track::KalmanMean;
using camtrack::track::STrack;
using camtrack::track::Tlwh;
using ct_test::ThrowsCode;

struct AcRng {
  uint32_t s;
  float Uniform(float lo, float hi) {
    s = s * 1664525u + 1013904223u;
    return lo + (hi - lo) * static_cast<float>(s >> 8) / 16777216.f;
  }
};

Tlwh AcRandomTlwh(AcRng& rng) {
  return Tlwh{rng.Uniform(0, 1800), rng.Uniform(0, 1000), rng.Uniform(8, 200), rng.Uniform(16, 300)};
}

bool AcSameBox(const Box& a, const Box& b) {
  return std::memcmp(&a, &b, sizeof(Box)) == 0;
}

}  // namespace

CT_TEST(association_cpu_iou_distance_uses_plus_one_pixel_convention) {
  using camtrack::track::ReferenceIouDistance;
  // 10x10-pixel boxes (inclusive corners 0..9 and 5..14): overlap 5x5 = 25, union 100 + 100 - 25 = 175.
  CT_EXPECT_NEAR(ReferenceIouDistance(Box{0, 0, 9, 9}, Box{5, 5, 14, 14}), 1.0 - 25.0 / 175.0, 1e-7);
  // Touching at x = 9: one shared pixel column (1 x 10), union 190.
  CT_EXPECT_NEAR(ReferenceIouDistance(Box{0, 0, 9, 9}, Box{9, 0, 18, 9}), 1.0 - 10.0 / 190.0, 1e-7);
  // Disjoint: distance exactly 1.
  CT_EXPECT(ReferenceIouDistance(Box{0, 0, 9, 9}, Box{10, 0, 19, 9}) == 1.f);
  CT_EXPECT(ReferenceIouDistance(Box{0, 0, 9, 9}, Box{0, 20, 9, 29}) == 1.f);
  // Identical boxes: 0.
  CT_EXPECT(ReferenceIouDistance(Box{3, 4, 50, 80}, Box{3, 4, 50, 80}) == 0.f);
}

// ByteTracker (legacy mode: a track's box is its last updated box, here the frame-1 detection itself) keeps the id
// exactly when 1 - IoU(+1 convention) = 0.857 is under matchThresh. Without the +1 the distance would be 0.890.
CT_TEST(association_cpu_iou_distance_is_the_one_bytetracker_matches_with) {
  for (const float thresh : {0.87f, 0.85f}) {
    camtrack::track::ByteTrackParams p = ct_test::ReferenceByteTrackParams();
    p.match_thresh = thresh;
    p.legacy_iou_on_last_update = true;
    camtrack::track::ByteTracker tracker(p);
    std::vector<camtrack::track::TrackedObject> out;
    camtrack::Detection d;
    d.box = Box{0, 0, 9, 9};
    d.score = 0.9f;
    tracker.Update(&d, 1, out);
    CT_EXPECT(out.size() == 1 && out[0].track_id == 1);
    d.box = Box{5, 5, 14, 14};
    const float dist = camtrack::track::ReferenceIouDistance(Box{0, 0, 9, 9}, d.box);
    tracker.Update(&d, 1, out);
    if (dist < thresh) {
      CT_EXPECT(out.size() == 1 && out[0].track_id == 1);  // matched: same track
    } else {
      CT_EXPECT(out.empty());  // not matched: track 1 lost, the detection starts an unconfirmed track
    }
  }
}

CT_TEST(association_cpu_batched_predict_equals_per_track_kalman_and_strack) {
  const KalmanFilter kf;
  AcRng rng{42};
  // Three streams: 5 tracks, 0 tracks, 7 tracks.
  const std::vector<int32_t> offsets = {0, 5, 5, 12};
  const int total = offsets.back();
  std::vector<STrack> stracks(total);
  std::vector<KalmanMean> means(total);
  std::vector<KalmanCovariance> covs(total);
  std::vector<uint8_t> not_tracked(total, 0);
  for (int t = 0; t < total; ++t) {
    const Tlwh det = AcRandomTlwh(rng);
    stracks[t].Activate(kf, det, 0.9f, 0, 1, t + 1);
    kf.Initiate(det.ToXyah(), means[t], covs[t]);
    // Give the state velocities and correlations: one predict + update with a moved box, on both copies.
    Tlwh moved = det;
    moved.x += rng.Uniform(-5, 5);
    moved.h += rng.Uniform(-3, 3);
    stracks[t].Predict(kf, true);
    kf.Predict(means[t], covs[t]);
    stracks[t].Update(kf, moved, 0.9f, 0, 2);
    kf.Update(moved.ToXyah(), means[t], covs[t]);
    if (t % 3 == 1) {
      stracks[t].MarkLost();
      not_tracked[t] = 1;
    }
  }
  std::vector<KalmanMean> expect_means = means;
  std::vector<KalmanCovariance> expect_covs = covs;
  for (int t = 0; t < total; ++t) {
    if (not_tracked[t]) expect_means[t][7] = 0.f;
    kf.Predict(expect_means[t], expect_covs[t]);
    stracks[t].Predict(kf, true);
  }
  AssociationBatch batch;
  batch.num_streams = 3;
  batch.total_tracks = total;
  batch.track_offsets = offsets.data();
  std::vector<Box> boxes(total);
  camtrack::track::BatchedPredictCpu(batch, means[0].data(), covs[0].data(), not_tracked.data(), boxes.data());
  for (int t = 0; t < total; ++t) {
    CT_EXPECT(means[t] == expect_means[t]);
    CT_EXPECT(covs[t] == expect_covs[t]);
    CT_EXPECT(AcSameBox(boxes[t], stracks[t].tlbr()));  // the box STrack reports after a predict
  }
  // The lost tracks' height velocity was zeroed before the step: their height did not change.
  CT_EXPECT(means[1][3] == expect_means[1][3] && means[1][7] == 0.f);
}

CT_TEST(association_cpu_batched_update_equals_per_track_kalman_and_strack) {
  const KalmanFilter kf;
  AcRng rng{7};
  const int total = 9;
  std::vector<STrack> stracks(total);
  std::vector<KalmanMean> means(total);
  std::vector<KalmanCovariance> covs(total);
  std::vector<Tlwh> first(total);
  for (int t = 0; t < total; ++t) {
    first[t] = AcRandomTlwh(rng);
    stracks[t].Activate(kf, first[t], 0.9f, 0, 1, t + 1);
    kf.Initiate(first[t].ToXyah(), means[t], covs[t]);
    stracks[t].Predict(kf, true);
    kf.Predict(means[t], covs[t]);
  }
  // Pairs in a scrambled order, tracks 2 and 6 unmatched.
  const std::vector<int32_t> pairs = {8, 0, 5, 1, 7, 3, 4};
  std::vector<float> z;
  std::vector<KalmanMean> expect_means = means;
  std::vector<KalmanCovariance> expect_covs = covs;
  for (const int32_t t : pairs) {
    Tlwh det = first[t];
    det.x += rng.Uniform(-4, 4);
    det.y += rng.Uniform(-4, 4);
    det.w += rng.Uniform(-2, 2);
    const auto xyah = det.ToXyah();
    z.insert(z.end(), xyah.begin(), xyah.end());
    kf.Update(xyah, expect_means[t], expect_covs[t]);
    stracks[t].Update(kf, det, 0.9f, 0, 2);
  }
  std::vector<Box> boxes(total);
  camtrack::track::BatchedUpdateCpu(static_cast<int>(pairs.size()), pairs.data(), z.data(), means[0].data(),
                                    covs[0].data(), boxes.data());
  for (int t = 0; t < total; ++t) {
    CT_EXPECT(means[t] == expect_means[t]);
    CT_EXPECT(covs[t] == expect_covs[t]);
  }
  for (const int32_t t : pairs) CT_EXPECT(AcSameBox(boxes[t], stracks[t].tlbr()));
  // The update moved the mean towards the measurement (a real correction happened).
  CT_EXPECT(means[8][0] != 0.f && expect_means[8] != KalmanMean{});
}

CT_TEST(association_cpu_batched_iou_cost_layout_with_empty_streams_and_classes) {
  // Stream 0: 2 tracks x 3 dets; stream 1: 0 tracks x 2 dets; stream 2: 1 track x 0 dets; stream 3: 1 x 1.
  const std::vector<int32_t> toff = {0, 2, 2, 3, 4}, doff = {0, 3, 5, 5, 6}, coff = {0, 6, 6, 6, 7};
  const std::vector<Box> tb = {{0, 0, 9, 9}, {100, 100, 149, 199}, {5, 5, 6, 6}, {10, 10, 20, 20}};
  const std::vector<Box> db = {{5, 5, 14, 14}, {0, 0, 9, 9}, {110, 100, 159, 199}, {0, 0, 1, 1}, {2, 2, 3, 3},
                               {10, 10, 20, 20}};
  const std::vector<int32_t> tc = {0, 1, 0, 2}, dc = {0, 1, 1, 0, 0, 3};
  AssociationBatch batch;
  batch.num_streams = 4;
  batch.total_tracks = 4;
  batch.total_dets = 6;
  batch.track_offsets = toff.data();
  batch.det_offsets = doff.data();
  batch.cost_offsets = coff.data();
  std::vector<float> cost(7, -1.f);
  camtrack::track::BatchedIouCostCpu(batch, tb.data(), db.data(), nullptr, nullptr, cost.data());
  CT_EXPECT_NEAR(cost[0], 1.0 - 25.0 / 175.0, 1e-7);  // track 0 x det 0
  CT_EXPECT(cost[1] == 0.f);                          // track 0 x det 1 (same box)
  CT_EXPECT(cost[2] == 1.f);                          // far apart
  CT_EXPECT(cost[3] == 1.f);
  CT_EXPECT(cost[4] == 1.f);
  // track 1 (50x100 px) x det 2 (50x100 px, shifted 10): overlap 40x100, union 5000 + 5000 - 4000.
  CT_EXPECT_NEAR(cost[5], 1.0 - 4000.0 / 6000.0, 1e-6);
  CT_EXPECT(cost[6] == 0.f);  // stream 3: identical boxes
  // Class-aware: different classes cost kBatchedClassMismatchCost, same classes keep their distance.
  camtrack::track::BatchedIouCostCpu(batch, tb.data(), db.data(), tc.data(), dc.data(), cost.data());
  CT_EXPECT_NEAR(cost[0], 1.0 - 25.0 / 175.0, 1e-7);
  CT_EXPECT(cost[1] == camtrack::track::kBatchedClassMismatchCost);
  CT_EXPECT_NEAR(cost[5], 1.0 - 4000.0 / 6000.0, 1e-6);
  CT_EXPECT(cost[6] == camtrack::track::kBatchedClassMismatchCost);
}

CT_TEST(association_cpu_BAD_CALL_inconsistent_offsets_throw_invalid_argument) {
  const std::vector<int32_t> toff = {0, 2, 1}, doff = {0, 1, 2}, coff = {0, 2, 99};
  std::vector<float> means(16), covs(128), cost(8);
  std::vector<Box> boxes(2);
  AssociationBatch batch;
  batch.num_streams = 2;
  batch.total_tracks = 1;
  batch.total_dets = 2;
  batch.track_offsets = toff.data();
  batch.det_offsets = doff.data();
  batch.cost_offsets = coff.data();
  CT_EXPECT(ThrowsCode(ErrorCode::kInvalidArgument, [&] {
    camtrack::track::BatchedPredictCpu(batch, means.data(), covs.data(), nullptr, nullptr);
  }));  // track offsets decrease
  const std::vector<int32_t> toff_ok = {0, 1, 1};
  batch.track_offsets = toff_ok.data();
  CT_EXPECT(ThrowsCode(ErrorCode::kInvalidArgument, [&] {
    camtrack::track::BatchedIouCostCpu(batch, boxes.data(), boxes.data(), nullptr, nullptr, cost.data());
  }));  // stream 1 is 0 x 1 but cost offsets give it 97 entries
  CT_EXPECT(ThrowsCode(ErrorCode::kInvalidArgument, [&] {
    camtrack::track::BatchedUpdateCpu(1, nullptr, nullptr, means.data(), covs.data(), nullptr);
  }));
}

CT_TEST(association_gpu_object_without_cuda_or_with_bad_limits_throws) {
#if CAMTRACK_WITH_CUDA
  // No device needed: the limits are checked before any CUDA call.
  CT_EXPECT(ThrowsCode(ErrorCode::kInvalidArgument, [] { camtrack::track::BatchedAssociation bad(0, 10); }));
#else
  CT_EXPECT(ThrowsCode(ErrorCode::kUnsupported, [] { camtrack::track::BatchedAssociation gpu(64, 64); }));
#endif
}
