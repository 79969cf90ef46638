#pragma once
// Which frames of a stream are inferred (docs/scheduling.md): the inference interval and motion gating. A frame that
// is not inferred still produces a result (inferred = false) with the tracks the tracker predicts
// (pipeline/live_config.h Postprocess → Tracker::Predict), so skipping saves inference, not results.
//
// The rule, per admitted frame (after the fps limit), in this order:
//   1. The stream's first frame (and the first after Reset()) is inferred.
//   2. Interval (DeepStream's `interval`): after an inferred frame the next `interval` frames are skipped
//      (kSkipInterval): with no motion gating, frames are inferred every interval + 1 frames.
//   3. Motion gating (when enabled): a frame is skipped (kSkipMotion) unless motion was seen on it or on any frame
//      since the last inferred one (motion on a frame the interval skipped is not lost), or max_skip_seconds of
//      stream time (pts) have passed since the last inferred frame (a periodic check on what stands still).
//   4. Otherwise the frame is inferred, and the interval and motion state start again from it.
// Pure logic: no clock (stream time comes in), no allocation. One instance per stream, its source thread only.
#include <cstdint>

namespace camtrack::batch {

enum class FrameDecision { kInfer, kSkipInterval, kSkipMotion };

struct ScheduleConfig {
  int interval = 0;              // frames skipped after each inferred one (0: every frame)
  bool motion = false;           // motion gating on
  double max_skip_seconds = 0;   // with motion gating: infer at least this often (stream time); 0: no bound
};

class InferenceSchedule {
 public:
  // `motion`: whether the motion measure found motion on this frame (ignored without motion gating).
  FrameDecision Decide(const ScheduleConfig& config, int64_t pts_ms, bool motion) noexcept;
  void Reset() noexcept { started_ = false; }

 private:
  bool started_ = false;
  int since_inferred_ = 0;       // frames since the last inferred one
  int64_t inferred_pts_ms_ = 0;  // pts of the last inferred frame
  bool motion_pending_ = false;  // motion seen since the last inferred frame
};

}  // namespace camtrack::batch
