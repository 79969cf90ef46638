#pragma once
// FrameResult: one delivered frame, as the consumer reads it. Lives in the pipeline's result pool (ResultRing);
// its vectors are reserved once, so filling one allocates nothing in steady state.
#include <cstdint>
#include <vector>

#include "core/analytics/analytics_engine.h"
#include "core/common/geometry.h"
#include "core/pipeline/post_track_stage.h"
#include "core/track/tracker.h"

namespace camtrack::pipeline {

struct FrameResult {
  static constexpr size_t kMaxAnnotations = 64;  // values post-track stages can attach to one frame
  int32_t stream = -1;      // stream handle
  int64_t frame_index = 0;  // 0-based index among this stream's decoded frames; continues across reconnects
  int64_t input_seq = -1;   // pushed frames: the sequence number of the push it was decoded from; else -1
  int64_t pts_ms = 0;
  int64_t decoded_at_ns = 0;  // steady clock when decode finished
  int64_t done_at_ns = 0;     // steady clock when the result entered the ring
  int64_t wall_ms = 0;        // wall clock at decode
  int32_t width = 0, height = 0;
  // false: the frame was not inferred (no detections; the tracks are the tracker's predictions).
  bool inferred = true;
  // Inferred by the circuit breaker's fallback backend (inference.breaker.fallback), not the primary one.
  bool fallback = false;
  std::vector<Detection> detections;            // capacity reserved once
  std::vector<track::TrackedObject> tracks;     // capacity reserved once
  std::vector<track::TrackEvent> track_events;  // lifecycle events of this frame (new/lost/refound/removed)
  std::vector<FrameAnnotation> annotations;     // what the stream's post-track stages attached (kMaxAnnotations)
  // The stream's analytics of this frame (after the tracker), when it has any configured (LiveConfig::analytics).
  bool has_analytics = false;
  analytics::AnalyticsFrame analytics;
};

}  // namespace camtrack::pipeline
