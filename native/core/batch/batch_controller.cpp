#include "core/batch/batch_controller.h"

#include <algorithm>
#include <cmath>

#include "core/common/error.h"

namespace camtrack::batch {

BatchController::BatchController(BatchControllerConfig config) : config_(config) {
  CAMTRACK_CHECK(config_.target_ms > 0, ErrorCode::kInvalidArgument, "pipeline", "target latency must be > 0");
  CAMTRACK_CHECK(config_.max_batch >= 1, ErrorCode::kInvalidArgument, "pipeline", "max batch must be >= 1");
  cap_ = std::clamp(config_.initial_cap, 1, config_.max_batch);
  infer_ms_.assign(size_t(config_.max_batch) + 1, -1.0);
}

void BatchController::OnLatency(double latency_ms) {
  if (settle_ > 0) {  // frames batched under the cap before the last decrease
    --settle_;
    return;
  }
  if (latency_ms > config_.target_ms) {
    // Over the target: the window's p99 (its largest sample, see the header) is over already. Shrink now.
    last_p99_ms_ = latency_ms;
    filled_ = 0;
    scarce_ = 0;
    idle_windows_ = 0;
    const int next = std::max(1, int(std::floor(cap_ * kDecrease)));
    if (next < cap_) {
      settle_ = kSettlePerCap * cap_;
      cap_ = next;
      ++decreases_;
    }
    return;
  }
  window_[filled_++] = latency_ms;
  if (filled_ == kWindow) Decide();
}

void BatchController::Decide() {
  scratch_ = window_;
  // p99 of kWindow samples: the sample at rank ceil(0.99 · n) (nearest rank).
  const int rank = int(std::ceil(0.99 * kWindow)) - 1;
  std::nth_element(scratch_.begin(), scratch_.begin() + rank, scratch_.end());
  last_p99_ms_ = scratch_[rank];
  filled_ = 0;
  const bool scarce = scarce_ > 0;
  scarce_ = 0;
  if (!scarce) {  // every frame found a position: a larger cap would only make batches wait
    if (cap_ > 1 && ++idle_windows_ >= kIdleWindows) {
      --cap_;
      ++decreases_;
      idle_windows_ = 0;
    }
    return;
  }
  idle_windows_ = 0;
  // (Every sample here is <= target: one over it shrinks the cap at once, in OnLatency.)
  if (last_p99_ms_ < kIncreaseBelow * config_.target_ms && cap_ < config_.max_batch &&
      infer_estimate_ms(cap_ + 1) < kIncreaseBelow * config_.target_ms / 2) {
    ++cap_;
    ++increases_;
  }
}

void BatchController::OnBatch(int images, double infer_ms) {
  if (images < 1 || images > config_.max_batch || !(infer_ms >= 0)) return;
  double& e = infer_ms_[size_t(images)];
  e = e < 0 ? infer_ms : e + kInferAlpha * (infer_ms - e);
}

double BatchController::infer_estimate_ms(int n) const {
  n = std::clamp(n, 1, config_.max_batch);
  if (infer_ms_[size_t(n)] >= 0) return infer_ms_[size_t(n)];
  for (int m = n - 1; m >= 1; --m)  // the largest size seen below n, scaled linearly
    if (infer_ms_[size_t(m)] >= 0) return infer_ms_[size_t(m)] * double(n) / double(m);
  for (int m = n + 1; m <= config_.max_batch; ++m)  // else the smallest seen above (an upper bound)
    if (infer_ms_[size_t(m)] >= 0) return infer_ms_[size_t(m)];
  return 0;
}

double BatchController::wait_ms() const {
  return std::max(0.0, (config_.target_ms - infer_estimate_ms(cap_)) / 2.0);
}

}  // namespace camtrack::batch
