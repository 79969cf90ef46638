#pragma once
// camtrack::track::Tracker — the per-stream multi-object tracker interface, and what it outputs.
//
// One Tracker instance holds the state of ONE stream (tracks, Kalman states, id counter). It is not thread-safe:
// the thread that processes that stream's frames calls Update() for each frame, in frame order. Different streams
// use different instances, which share nothing and may run on different threads at the same time.
// Ownership: the tracker owns its track state; callers own the detection arrays and output vectors they pass in.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/common/geometry.h"

namespace camtrack {
namespace track {

// One confirmed track in one frame. Plain value, trivially copyable.
struct TrackedObject {
  int64_t track_id = 0;        // unique per tracker instance, starting at 1; never reused (until Reset())
  Box box;                     // the track's Kalman-state box, x1y1x2y2 in source-frame pixels (not clipped)
  float score = 0.f;           // score of the detection last matched to this track
  int32_t class_id = 0;        // class of the detection last matched to this track
  int32_t frames_tracked = 0;  // frames since the track started (1 on its first frame)
};

class Tracker {
 public:
  virtual ~Tracker();

  // Advances the tracker by one frame with that frame's detections (source pixels; `dets` may be null when n == 0).
  // `out` is cleared and filled with the confirmed tracks of this frame; its capacity is reused, so a caller that
  // keeps the vector between frames does not allocate in steady state. Call once per frame, including frames with
  // no detections (so that lost tracks age correctly).
  virtual void Update(const Detection* dets, size_t n, std::vector<TrackedObject>& out) = 0;

  // Forgets every track and restarts ids at 1 (e.g. after a stream reconnects to a different scene).
  virtual void Reset() = 0;
};

}  // namespace track
}  // namespace camtrack
