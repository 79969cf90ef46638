#include "core/analytics/speed.h"

#include <cmath>

namespace camtrack::analytics {

SpeedSample SpeedStep(const SpeedConfig& c, SpeedTrackState* s, const Box& box, int64_t ts_ms) {
  SpeedSample out;
  Point p = AnchorOf(box, c.anchor);
  if (c.has_homography) {
    p = ApplyHomography(c.homography, p);
  } else if (c.pixels_per_meter > 0) {
    p = {p.x / c.pixels_per_meter, p.y / c.pixels_per_meter};
  }
  if (s->has_prev && ts_ms > s->prev_ts) {
    const double dt = double(ts_ms - s->prev_ts) / 1000.0;
    const double vx = (p.x - s->prev.x) / dt, vy = (p.y - s->prev.y) / dt;
    if (!s->has_velocity) {
      s->vx = vx;
      s->vy = vy;
      s->has_velocity = true;
    } else {
      s->vx += c.smoothing * (vx - s->vx);
      s->vy += c.smoothing * (vy - s->vy);
    }
  }
  if (!s->has_prev || ts_ms > s->prev_ts) {  // a repeated timestamp keeps the first position
    s->prev = p;
    s->prev_ts = ts_ms;
    s->has_prev = true;
  }
  if (!s->has_velocity) return out;
  out.valid = true;
  out.speed = std::hypot(s->vx, s->vy);
  out.direction_deg = std::atan2(s->vy, s->vx) * 180.0 / M_PI;
  if (c.limit > 0) {
    if (!s->over && out.speed > c.limit) {
      s->over = true;
      out.event = true;
    } else if (s->over && out.speed < c.limit * SpeedConfig::kRearm) {
      s->over = false;
    }
  }
  return out;
}

}  // namespace camtrack::analytics
