// CUDA kernels of BatchedAssociation. Each kernel is a literal transcription of the CPU code it mirrors
// (KalmanFilter::Predict / Update in kalman_filter.cpp, ReferenceIoU in core/track/iou_cost.h, STrack's box from the
// mean), with every float operation written as an explicitly rounded intrinsic (__fmul_rn, __fadd_rn, __fsub_rn,
// __fdiv_rn, __fsqrt_rn). Those are never contracted into fused multiply-adds and are IEEE round-to-nearest
// regardless of -use_fast_math, so the kernels perform the same operations in the same order with the same
// rounding as the CPU build (x86-64 g++ without -ffast-math and without FMA), i.e. bit-identical results.
#include <cuda_runtime.h>

#include <string>

#include "common/error.h"
#include "cuda/check.h"
#include "core/track/gpu/batched_association.h"

namespace camtrack {
namespace track {
namespace {

__device__ __forceinline__ float Mul(float a, float b) { return __fmul_rn(a, b); }
__device__ __forceinline__ float Add(float a, float b) { return __fadd_rn(a, b); }
__device__ __forceinline__ float Sub(float a, float b) { return __fsub_rn(a, b); }
__device__ __forceinline__ float Div(float a, float b) { return __fdiv_rn(a, b); }
__device__ __forceinline__ float Sq(float v) { return __fmul_rn(v, v); }
// std::min / std::max semantics (first argument on ties), not fminf/fmaxf.
__device__ __forceinline__ float Min(float a, float b) { return b < a ? b : a; }
__device__ __forceinline__ float Max(float a, float b) { return a < b ? b : a; }

__device__ __forceinline__ void WriteBoxFromMean(const float* mean, Box* out) {
  const float w = Mul(mean[2], mean[3]);
  const float h = mean[3];
  const float x = Sub(mean[0], Div(w, 2.f));
  const float y = Sub(mean[1], Div(h, 2.f));
  out->x1 = x;
  out->y1 = y;
  out->x2 = Add(x, w);
  out->y2 = Add(y, h);
}

// One thread per track. State in registers (the fixed-index loops unroll fully).
__global__ void PredictKernel(int total_tracks, float swp, float swv, float* __restrict__ means,
                              float* __restrict__ covs, const uint8_t* __restrict__ not_tracked,
                              Box* __restrict__ boxes_out) {
  const int t = blockIdx.x * blockDim.x + threadIdx.x;
  if (t >= total_tracks) return;
  float* gm = means + static_cast<size_t>(t) * 8;
  float* gp = covs + static_cast<size_t>(t) * 64;
  float mean[8], cov[64];
#pragma unroll
  for (int i = 0; i < 8; ++i) mean[i] = gm[i];
#pragma unroll
  for (int i = 0; i < 64; ++i) cov[i] = gp[i];
  if (not_tracked && not_tracked[t]) mean[7] = 0.f;

  const float h = mean[3];
  float q[8];
  q[0] = Sq(Mul(swp, h));
  q[1] = Sq(Mul(swp, h));
  q[2] = Sq(1e-2f);
  q[3] = Sq(Mul(swp, h));
  q[4] = Sq(Mul(swv, h));
  q[5] = Sq(Mul(swv, h));
  q[6] = Sq(1e-5f);
  q[7] = Sq(Mul(swv, h));

#pragma unroll
  for (int i = 0; i < 4; ++i) mean[i] = Add(mean[i], mean[i + 4]);

  float tm[64];
#pragma unroll
  for (int i = 0; i < 8; ++i) {
#pragma unroll
    for (int j = 0; j < 8; ++j) tm[i * 8 + j] = i < 4 ? Add(cov[i * 8 + j], cov[(i + 4) * 8 + j]) : cov[i * 8 + j];
  }
#pragma unroll
  for (int i = 0; i < 8; ++i) {
#pragma unroll
    for (int j = 0; j < 8; ++j) cov[i * 8 + j] = j < 4 ? Add(tm[i * 8 + j], tm[i * 8 + j + 4]) : tm[i * 8 + j];
    cov[i * 8 + i] = Add(cov[i * 8 + i], q[i]);
  }

#pragma unroll
  for (int i = 0; i < 8; ++i) gm[i] = mean[i];
#pragma unroll
  for (int i = 0; i < 64; ++i) gp[i] = cov[i];
  if (boxes_out) WriteBoxFromMean(mean, boxes_out + t);
}

// ReferenceIoU of core/track/iou_cost.h, then 1 - IoU.
__device__ __forceinline__ float IouDistance(const Box& a, const Box& b) {
  const float box_area = Mul(Add(Sub(b.x2, b.x1), 1.f), Add(Sub(b.y2, b.y1), 1.f));
  const float iw = Add(Sub(Min(a.x2, b.x2), Max(a.x1, b.x1)), 1.f);
  if (iw <= 0) return 1.f;
  const float ih = Add(Sub(Min(a.y2, b.y2), Max(a.y1, b.y1)), 1.f);
  if (ih <= 0) return 1.f;
  const float inter = Mul(iw, ih);
  const float ua = Sub(Add(Mul(Add(Sub(a.x2, a.x1), 1.f), Add(Sub(a.y2, a.y1), 1.f)), box_area), inter);
  return Sub(1.f, Div(inter, ua));
}

// Grid: x tiles detections (32 per block), y tiles tracks (8 per block), z = stream. Grid-stride loops cover
// streams larger than the grid. Consecutive threads write consecutive columns (coalesced).
__global__ void IouCostKernel(const int32_t* __restrict__ track_offsets, const int32_t* __restrict__ det_offsets,
                              const int32_t* __restrict__ cost_offsets, const Box* __restrict__ track_boxes,
                              const Box* __restrict__ det_boxes, const int32_t* __restrict__ track_classes,
                              const int32_t* __restrict__ det_classes, float* __restrict__ costs) {
  const int s = blockIdx.z;
  const int t0 = track_offsets[s], rows = track_offsets[s + 1] - t0;
  const int d0 = det_offsets[s], cols = det_offsets[s + 1] - d0;
  if (rows <= 0 || cols <= 0) return;
  float* out = costs + cost_offsets[s];
  const bool class_aware = track_classes != nullptr && det_classes != nullptr;
  for (int r = blockIdx.y * blockDim.y + threadIdx.y; r < rows; r += gridDim.y * blockDim.y) {
    const Box a = track_boxes[t0 + r];
    const int32_t ca = class_aware ? track_classes[t0 + r] : 0;
    for (int c = blockIdx.x * blockDim.x + threadIdx.x; c < cols; c += gridDim.x * blockDim.x) {
      float v = IouDistance(a, det_boxes[d0 + c]);
      if (class_aware && det_classes[d0 + c] != ca) v = kBatchedClassMismatchCost;
      out[static_cast<size_t>(r) * cols + c] = v;
    }
  }
}

// One thread per matched pair: KalmanFilter::Update, operation by operation.
__global__ void UpdateKernel(int num_pairs, float swp, const int32_t* __restrict__ pair_tracks,
                             const float* __restrict__ measurements, float* __restrict__ means,
                             float* __restrict__ covs, Box* __restrict__ boxes_out) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= num_pairs) return;
  const int t = pair_tracks[i];
  float* gm = means + static_cast<size_t>(t) * 8;
  float* gp = covs + static_cast<size_t>(t) * 64;
  float mean[8], cov[64], z[4];
#pragma unroll
  for (int k = 0; k < 8; ++k) mean[k] = gm[k];
#pragma unroll
  for (int k = 0; k < 64; ++k) cov[k] = gp[k];
#pragma unroll
  for (int k = 0; k < 4; ++k) z[k] = measurements[static_cast<size_t>(i) * 4 + k];

  const float h = mean[3];
  float r[4];
  r[0] = Sq(Mul(swp, h));
  r[1] = Sq(Mul(swp, h));
  r[2] = Sq(1e-1f);
  r[3] = Sq(Mul(swp, h));
  float s[16];
#pragma unroll
  for (int a = 0; a < 4; ++a) {
#pragma unroll
    for (int b = 0; b < 4; ++b) s[a * 4 + b] = cov[a * 8 + b];
    s[a * 4 + a] = Add(s[a * 4 + a], r[a]);
  }

  float l[16];
#pragma unroll
  for (int k = 0; k < 16; ++k) l[k] = 0.f;
#pragma unroll
  for (int j = 0; j < 4; ++j) {
    float d = s[j * 4 + j];
#pragma unroll
    for (int k = 0; k < j; ++k) d = Sub(d, Mul(l[j * 4 + k], l[j * 4 + k]));
    const float ljj = __fsqrt_rn(d > 0.f ? d : 0.f);
    l[j * 4 + j] = ljj;
#pragma unroll
    for (int a = j + 1; a < 4; ++a) {
      float v = s[a * 4 + j];
#pragma unroll
      for (int k = 0; k < j; ++k) v = Sub(v, Mul(l[a * 4 + k], l[j * 4 + k]));
      l[a * 4 + j] = ljj > 0.f ? Div(v, ljj) : 0.f;
    }
  }

  float x[32];
#pragma unroll
  for (int c = 0; c < 8; ++c) {
    float y[4];
#pragma unroll
    for (int a = 0; a < 4; ++a) {
      float v = cov[c * 8 + a];
#pragma unroll
      for (int k = 0; k < a; ++k) v = Sub(v, Mul(l[a * 4 + k], y[k]));
      y[a] = Div(v, l[a * 4 + a]);
    }
#pragma unroll
    for (int a = 3; a >= 0; --a) {
      float v = y[a];
#pragma unroll
      for (int k = a + 1; k < 4; ++k) v = Sub(v, Mul(l[k * 4 + a], x[k * 8 + c]));
      x[a * 8 + c] = Div(v, l[a * 4 + a]);
    }
  }

  float innovation[4];
#pragma unroll
  for (int a = 0; a < 4; ++a) innovation[a] = Sub(z[a], mean[a]);
#pragma unroll
  for (int a = 0; a < 8; ++a) {
    float v = 0.f;
#pragma unroll
    for (int rr = 0; rr < 4; ++rr) v = Add(v, Mul(innovation[rr], x[rr * 8 + a]));
    mean[a] = Add(mean[a], v);
  }

  float ks[32];
#pragma unroll
  for (int a = 0; a < 8; ++a) {
#pragma unroll
    for (int b = 0; b < 4; ++b) {
      float v = 0.f;
#pragma unroll
      for (int rr = 0; rr < 4; ++rr) v = Add(v, Mul(x[rr * 8 + a], s[rr * 4 + b]));
      ks[a * 4 + b] = v;
    }
  }
#pragma unroll
  for (int a = 0; a < 8; ++a) {
#pragma unroll
    for (int b = 0; b < 8; ++b) {
      float v = 0.f;
#pragma unroll
      for (int rr = 0; rr < 4; ++rr) v = Add(v, Mul(ks[a * 4 + rr], x[rr * 8 + b]));
      cov[a * 8 + b] = Sub(cov[a * 8 + b], v);
    }
  }

#pragma unroll
  for (int k = 0; k < 8; ++k) gm[k] = mean[k];
#pragma unroll
  for (int k = 0; k < 64; ++k) gp[k] = cov[k];
  if (boxes_out) WriteBoxFromMean(mean, boxes_out + t);
}

// Predict / Update are latency-bound chains per thread with few threads per batch (e.g. 3200): small blocks spread
// them over more SMs.
constexpr int kThreadsPerBlock = 32;

[[noreturn]] void ThrowArg(const std::string& what) {
  throw Error(ErrorCode::kInvalidArgument, "track", "BatchedAssociation: " + what,
              "pass device pointers sized as described in core/track/gpu/batched_association.h");
}

}  // namespace

BatchedAssociation::BatchedAssociation(int max_tracks, int max_dets, float std_weight_position,
                                       float std_weight_velocity)
    : max_tracks_(max_tracks),
      max_dets_(max_dets),
      std_weight_position_(std_weight_position),
      std_weight_velocity_(std_weight_velocity) {
  if (max_tracks <= 0 || max_dets <= 0) {
    ThrowArg("Expected positive integers for max_tracks and max_dets but received " + std::to_string(max_tracks) +
             " and " + std::to_string(max_dets));
  }
}

void BatchedAssociation::Predict(const AssociationBatch& batch, float* means, float* covariances,
                                 const uint8_t* not_tracked, Box* boxes_out, cuda::StreamHandle stream) const {
  if (batch.total_tracks < 0) ThrowArg("negative total_tracks");
  if (batch.total_tracks == 0) return;
  if (!means || !covariances) ThrowArg("null means or covariances");
  const int blocks = (batch.total_tracks + kThreadsPerBlock - 1) / kThreadsPerBlock;
  PredictKernel<<<blocks, kThreadsPerBlock, 0, stream>>>(batch.total_tracks, std_weight_position_,
                                                         std_weight_velocity_, means, covariances, not_tracked,
                                                         boxes_out);
  CAMTRACK_CUDA_CHECK(cudaGetLastError());
}

void BatchedAssociation::IouCost(const AssociationBatch& batch, const Box* track_boxes, const Box* det_boxes,
                                 const int32_t* track_classes, const int32_t* det_classes, float* costs,
                                 cuda::StreamHandle stream) const {
  if (batch.num_streams < 0 || batch.total_tracks < 0 || batch.total_dets < 0) ThrowArg("negative count");
  if (batch.num_streams == 0 || batch.total_tracks == 0 || batch.total_dets == 0) return;  // all matrices empty
  if (batch.num_streams > 65535) ThrowArg("more than 65535 streams in one batch");
  if (!batch.track_offsets || !batch.det_offsets || !batch.cost_offsets || !track_boxes || !det_boxes || !costs) {
    ThrowArg("null offsets, boxes or costs");
  }
  const dim3 block(32, 8);
  // Capped tiles: the kernel's grid-stride loops cover any stream size; the cap keeps gridDim.y legal.
  const int tiles_x = (max_dets_ + 31) / 32 < 1024 ? (max_dets_ + 31) / 32 : 1024;
  const int tiles_y = (max_tracks_ + 7) / 8 < 1024 ? (max_tracks_ + 7) / 8 : 1024;
  const dim3 grid(tiles_x, tiles_y, batch.num_streams);
  IouCostKernel<<<grid, block, 0, stream>>>(batch.track_offsets, batch.det_offsets, batch.cost_offsets, track_boxes,
                                            det_boxes, track_classes, det_classes, costs);
  CAMTRACK_CUDA_CHECK(cudaGetLastError());
}

void BatchedAssociation::Update(int num_pairs, const int32_t* pair_tracks, const float* measurements, float* means,
                                float* covariances, Box* boxes_out, cuda::StreamHandle stream) const {
  if (num_pairs < 0) ThrowArg("negative num_pairs");
  if (num_pairs == 0) return;
  if (!pair_tracks || !measurements || !means || !covariances) ThrowArg("null pairs, measurements or state");
  const int blocks = (num_pairs + kThreadsPerBlock - 1) / kThreadsPerBlock;
  UpdateKernel<<<blocks, kThreadsPerBlock, 0, stream>>>(num_pairs, std_weight_position_, pair_tracks, measurements,
                                                        means, covariances, boxes_out);
  CAMTRACK_CUDA_CHECK(cudaGetLastError());
}

}  // namespace track
}  // namespace camtrack
