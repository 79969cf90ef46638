#include "core/batch/schedule.h"

namespace camtrack::batch {

FrameDecision InferenceSchedule::Decide(const ScheduleConfig& config, int64_t pts_ms, bool motion) noexcept {
  const auto infer = [&] {
    started_ = true;
    since_inferred_ = 0;
    inferred_pts_ms_ = pts_ms;
    motion_pending_ = false;
    return FrameDecision::kInfer;
  };
  if (!started_) return infer();
  if (config.motion && motion) motion_pending_ = true;
  if (since_inferred_ < config.interval) {
    ++since_inferred_;
    return FrameDecision::kSkipInterval;
  }
  if (since_inferred_ < 0x7fffffff) ++since_inferred_;
  if (config.motion && !motion_pending_) {
    const bool due = config.max_skip_seconds > 0 &&
                     double(pts_ms - inferred_pts_ms_) >= config.max_skip_seconds * 1000.0;
    if (!due) return FrameDecision::kSkipMotion;
  }
  return infer();
}

}  // namespace camtrack::batch
