#pragma once
// camtrack::track::BatchedAssociation — the per-frame numeric work of ByteTrack-style association for MANY streams
// at once on the GPU: Kalman predict of every track, one IoU-distance matrix per stream (tracks x detections), and
// the Kalman update of the matched pairs. The assignment itself (LAPJV) and the track life cycle stay on the CPU.
// The same batched API is implemented on the CPU (BatchedPredictCpu, BatchedIouCostCpu, BatchedUpdateCpu) by
// calling the existing single-track code (KalmanFilter, ByteTracker's "+1" IoU); that is the reference the GPU
// kernels are tested against. The kernels evaluate every float operation in the same order and with the same IEEE
// rounding as the CPU code (no fused multiply-adds, correctly rounded division and square root), so on an x86-64
// build of the CPU code the results are bit-identical (tests allow 1e-4 relative).
//
// Flat batch layout for S streams (all arrays are owned by the caller; device memory for BatchedAssociation, host
// memory for the *Cpu functions):
//   tracks     T = track_offsets[S] in total; stream s owns tracks [track_offsets[s], track_offsets[s+1]).
//              means: T x 8 floats (cx, cy, a, h, vcx, vcy, va, vh); covariances: T x 64 floats (8x8 row-major);
//              the layout of KalmanMean / KalmanCovariance, so a std::vector<KalmanMean> can be copied as is.
//   detections D = det_offsets[S]; stream s owns detections [det_offsets[s], det_offsets[s+1]); boxes as Box (tlbr).
//   costs      stream s's matrix is rows = its track count, cols = its detection count, row-major, starting at
//              cost_offsets[s]; cost_offsets[s+1] - cost_offsets[s] == rows * cols. Streams with 0 tracks or 0
//              detections have an empty matrix.
// Offsets are int32 prefix sums with offsets[0] == 0 (non-decreasing; checked on the CPU path only).
//
// No CUDA headers here: streams are camtrack::cuda::StreamHandle (== cudaStream_t).
#include <cstdint>

#include "core/common/geometry.h"
#include "core/cuda/buffers.h"
#include "core/track/iou_cost.h"  // ReferenceIouDistance: the value of one IouCost entry (CPU tests use it)

namespace camtrack {
namespace track {

// Where one batch's per-stream ranges are. Pointers are borrowed: device pointers when passed to
// BatchedAssociation, host pointers when passed to the *Cpu functions. Totals are given on the host so that no
// launch has to read the device offsets first.
struct AssociationBatch {
  int num_streams = 0;
  int total_tracks = 0;                   // == track_offsets[num_streams]
  int total_dets = 0;                     // == det_offsets[num_streams]
  const int32_t* track_offsets = nullptr;  // num_streams + 1
  const int32_t* det_offsets = nullptr;    // num_streams + 1
  const int32_t* cost_offsets = nullptr;   // num_streams + 1 (only IouCost reads it)
};

// IoU distance given to a track/detection pair of different classes in class-aware mode (ByteTracker's value).
constexpr float kBatchedClassMismatchCost = kClassMismatchCost;

// GPU implementation. One object can serve any number of batches; it holds only the launch limits and the noise
// parameters (no device memory, no stream). Every method queues kernels on `stream` and returns at once (nothing
// synchronises); the caller keeps all buffers alive and unmodified until the stream has passed the call (record
// an Event). Thread-safety: const methods, no state changed by calls: usable from several threads on distinct
// buffers. Errors: Error(kInvalidArgument, "track") for bad sizes/null pointers, Error(kCuda) when a launch fails,
// Error(kUnsupported) from the constructor in a build without CUDA.
class BatchedAssociation {
 public:
  // max_tracks / max_dets: the tracks / detections one stream usually has at most; they size the IoU launch grid
  // (one block tile per 8 x 32 pairs of every stream). A stream with more is still computed completely (the kernel
  // loops), only with less parallelism. Must be positive. std weights as KalmanFilter's (defaults 1/20, 1/160).
  explicit BatchedAssociation(int max_tracks, int max_dets, float std_weight_position = 1.f / 20,
                              float std_weight_velocity = 1.f / 160);

  // Kalman predict (dt = 1 frame) of all batch.total_tracks tracks, in place, as KalmanFilter::Predict.
  // not_tracked (optional, T bytes): non-zero for tracks whose state is not kTracked; their vh (mean[7]) is set to
  // 0 first, as STrack::Predict does. boxes_out (optional, T boxes): the predicted box (tlbr) computed from the new
  // mean exactly as STrack does (w = a * h, x = cx - w / 2, …), ready for IouCost.
  void Predict(const AssociationBatch& batch, float* means, float* covariances, const uint8_t* not_tracked,
               Box* boxes_out, cuda::StreamHandle stream) const;

  // Per stream: cost[r][c] = 1 - IoU(track_boxes[r], det_boxes[c]) with ByteTracker's pixel-inclusive "+1"
  // convention. Class-aware when both class arrays are given (kBatchedClassMismatchCost for different classes).
  void IouCost(const AssociationBatch& batch, const Box* track_boxes, const Box* det_boxes,
               const int32_t* track_classes, const int32_t* det_classes, float* costs,
               cuda::StreamHandle stream) const;

  // Kalman update of num_pairs tracks: track pair_tracks[i] (a global track index) with the measurement
  // measurements[4 i .. 4 i + 3] = (cx, cy, a, h), as KalmanFilter::Update. Each track may appear at most once
  // (pairs are independent threads). boxes_out (optional, indexed by track): the box from the updated mean.
  void Update(int num_pairs, const int32_t* pair_tracks, const float* measurements, float* means, float* covariances,
              Box* boxes_out, cuda::StreamHandle stream) const;

  int max_tracks() const { return max_tracks_; }
  int max_dets() const { return max_dets_; }

 private:
  int max_tracks_;
  int max_dets_;
  float std_weight_position_;
  float std_weight_velocity_;
};

// CPU reference of the same batched API on host memory (the same arguments minus the stream). Implemented with
// KalmanFilter and the ByteTracker IoU, one track at a time. Throws Error(kInvalidArgument, "track") for
// inconsistent offsets. Thread-safe (no state).
void BatchedPredictCpu(const AssociationBatch& batch, float* means, float* covariances, const uint8_t* not_tracked,
                       Box* boxes_out, float std_weight_position = 1.f / 20, float std_weight_velocity = 1.f / 160);
void BatchedIouCostCpu(const AssociationBatch& batch, const Box* track_boxes, const Box* det_boxes,
                       const int32_t* track_classes, const int32_t* det_classes, float* costs);
void BatchedUpdateCpu(int num_pairs, const int32_t* pair_tracks, const float* measurements, float* means,
                      float* covariances, Box* boxes_out, float std_weight_position = 1.f / 20,
                      float std_weight_velocity = 1.f / 160);

// The box (tlbr) of a Kalman mean, exactly as STrack computes it (w = a * h, x = cx - w / 2, y = cy - h / 2).
Box BoxFromKalmanMean(const float* mean);

}  // namespace track
}  // namespace camtrack
