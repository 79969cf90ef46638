#pragma once
// Speed and heading of a track from its anchor's motion between frames, on the stream's timestamps, smoothed with an
// exponential moving average (EMA) of the velocity. In pixels/s always; in metres/s when a scale is configured:
// pixels_per_meter (a flat, fronto-parallel view), or a 4-point image→ground homography (points on the ground plane
// in the image and their positions in metres), which is right for a tilted camera looking at a road.
// Per-track state is a value (SpeedTrackState), SpeedStep() a pure function of (previous state, box, timestamp).
#include <cstdint>

#include "core/analytics/geometry.h"

namespace camtrack::analytics {

struct SpeedConfig {
  bool enabled = false;
  Anchor anchor = Anchor::kBottomCenter;  // on the ground: what a homography of the ground plane maps right
  double smoothing = 0.3;                 // EMA weight of the newest velocity, (0, 1]
  double pixels_per_meter = 0;            // > 0: metres by a flat scale
  bool has_homography = false;
  double homography[9] = {1, 0, 0, 0, 1, 0, 0, 0, 1};  // image → ground (metres)
  double limit = 0;                       // > 0: 'speed' event above it (in the reported unit: m/s with a scale)
  static constexpr double kRearm = 0.9;   // re-armed below limit × kRearm
  bool metric() const { return has_homography || pixels_per_meter > 0; }
};

struct SpeedTrackState {
  bool has_prev = false;
  bool has_velocity = false;
  bool over = false;  // above the limit since the last event (hysteresis)
  Point prev;         // previous anchor, in the measuring plane (pixels, or metres under a homography)
  int64_t prev_ts = 0;
  double vx = 0, vy = 0;  // smoothed velocity in the measuring plane, units/s
};

struct SpeedSample {
  bool valid = false;      // a velocity exists (two frames at different timestamps seen)
  double speed = 0;        // in the reported unit (m/s with a scale, else px/s)
  double direction_deg = 0;  // heading: atan2(vy, vx) in degrees, 0 = +x (right), 90 = +y (down in the image)
  bool event = false;      // crossed the limit now
};

// One frame of one track seen with a usable box.
SpeedSample SpeedStep(const SpeedConfig& c, SpeedTrackState* s, const Box& box, int64_t ts_ms);

}  // namespace camtrack::analytics
