// CPU reference of the batched association API: every track goes through the existing single-track code
// (KalmanFilter, ByteTracker's IoU formula, STrack's box from the mean), so the GPU kernels can be checked against
// what the CPU tracker does.
#include <cstring>
#include <string>

#include "core/common/error.h"
#include "core/track/gpu/batched_association.h"
#include "core/track/iou_cost.h"
#include "core/track/kalman_filter.h"
#include "core/track/strack.h"

namespace camtrack {
namespace track {

namespace {

void CheckOffsets(const int32_t* offsets, int num_streams, int total, const char* name) {
  if (!offsets) {
    throw Error(ErrorCode::kInvalidArgument, "track", std::string("batched association: null ") + name,
                "pass num_streams + 1 prefix sums");
  }
  if (offsets[0] != 0 || offsets[num_streams] != total) {
    throw Error(ErrorCode::kInvalidArgument, "track",
                std::string("batched association: ") + name + " must start at 0 and end at the total (" +
                    std::to_string(total) + ") but runs from " + std::to_string(offsets[0]) + " to " +
                    std::to_string(offsets[num_streams]));
  }
  for (int s = 0; s < num_streams; ++s) {
    if (offsets[s + 1] < offsets[s]) {
      throw Error(ErrorCode::kInvalidArgument, "track",
                  std::string("batched association: ") + name + " decreases at stream " + std::to_string(s));
    }
  }
}

void CheckBatch(const AssociationBatch& b) {
  if (b.num_streams < 0 || b.total_tracks < 0 || b.total_dets < 0) {
    throw Error(ErrorCode::kInvalidArgument, "track", "batched association: negative stream/track/detection count");
  }
  CheckOffsets(b.track_offsets, b.num_streams, b.total_tracks, "track_offsets");
}

}  // namespace

Box BoxFromKalmanMean(const float* mean) { return Tlwh::FromKalmanMean(mean).ToBox(); }

void BatchedPredictCpu(const AssociationBatch& batch, float* means, float* covariances, const uint8_t* not_tracked,
                       Box* boxes_out, float std_weight_position, float std_weight_velocity) {
  CheckBatch(batch);
  if (batch.total_tracks > 0 && (!means || !covariances)) {
    throw Error(ErrorCode::kInvalidArgument, "track", "BatchedPredictCpu: null means or covariances");
  }
  const KalmanFilter kf(std_weight_position, std_weight_velocity);
  KalmanMean mean;
  KalmanCovariance cov;
  for (int t = 0; t < batch.total_tracks; ++t) {
    float* m = means + static_cast<size_t>(t) * 8;
    float* p = covariances + static_cast<size_t>(t) * 64;
    std::memcpy(mean.data(), m, sizeof mean);
    std::memcpy(cov.data(), p, sizeof cov);
    if (not_tracked && not_tracked[t]) mean[7] = 0.f;  // STrack::Predict
    kf.Predict(mean, cov);
    std::memcpy(m, mean.data(), sizeof mean);
    std::memcpy(p, cov.data(), sizeof cov);
    if (boxes_out) boxes_out[t] = BoxFromKalmanMean(m);
  }
}

void BatchedIouCostCpu(const AssociationBatch& batch, const Box* track_boxes, const Box* det_boxes,
                       const int32_t* track_classes, const int32_t* det_classes, float* costs) {
  CheckBatch(batch);
  CheckOffsets(batch.det_offsets, batch.num_streams, batch.total_dets, "det_offsets");
  if (!batch.cost_offsets) {
    throw Error(ErrorCode::kInvalidArgument, "track", "BatchedIouCostCpu: null cost_offsets");
  }
  const bool class_aware = track_classes && det_classes;
  for (int s = 0; s < batch.num_streams; ++s) {
    const int t0 = batch.track_offsets[s], rows = batch.track_offsets[s + 1] - t0;
    const int d0 = batch.det_offsets[s], cols = batch.det_offsets[s + 1] - d0;
    const int32_t c0 = batch.cost_offsets[s];
    if (batch.cost_offsets[s + 1] - c0 != static_cast<int64_t>(rows) * cols) {
      throw Error(ErrorCode::kInvalidArgument, "track",
                  "BatchedIouCostCpu: cost_offsets of stream " + std::to_string(s) + " hold " +
                      std::to_string(batch.cost_offsets[s + 1] - c0) + " entries for a " + std::to_string(rows) +
                      " x " + std::to_string(cols) + " matrix");
    }
    for (int r = 0; r < rows; ++r) {
      for (int c = 0; c < cols; ++c) {
        float v = ReferenceIouDistance(track_boxes[t0 + r], det_boxes[d0 + c]);
        if (class_aware && track_classes[t0 + r] != det_classes[d0 + c]) v = kBatchedClassMismatchCost;
        costs[c0 + static_cast<int64_t>(r) * cols + c] = v;
      }
    }
  }
}

void BatchedUpdateCpu(int num_pairs, const int32_t* pair_tracks, const float* measurements, float* means,
                      float* covariances, Box* boxes_out, float std_weight_position, float std_weight_velocity) {
  if (num_pairs < 0 || (num_pairs > 0 && (!pair_tracks || !measurements || !means || !covariances))) {
    throw Error(ErrorCode::kInvalidArgument, "track", "BatchedUpdateCpu: negative count or null array");
  }
  const KalmanFilter kf(std_weight_position, std_weight_velocity);
  KalmanMean mean;
  KalmanCovariance cov;
  KalmanMeasurement z;
  for (int i = 0; i < num_pairs; ++i) {
    const int t = pair_tracks[i];
    float* m = means + static_cast<size_t>(t) * 8;
    float* p = covariances + static_cast<size_t>(t) * 64;
    std::memcpy(mean.data(), m, sizeof mean);
    std::memcpy(cov.data(), p, sizeof cov);
    std::memcpy(z.data(), measurements + static_cast<size_t>(i) * 4, sizeof z);
    kf.Update(z, mean, cov);
    std::memcpy(m, mean.data(), sizeof mean);
    std::memcpy(p, cov.data(), sizeof cov);
    if (boxes_out) boxes_out[t] = BoxFromKalmanMean(m);
  }
}

}  // namespace track
}  // namespace camtrack
