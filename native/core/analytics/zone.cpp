#include "core/analytics/zone.h"

#include <cmath>

#include "core/common/error.h"

namespace camtrack::analytics {
namespace {

[[noreturn]] void Bad(const std::string& path, const std::string& what, const char* hint = "") {
  throw Error(ErrorCode::kInvalidArgument, "analytics", path + ": " + what, hint);
}

}  // namespace

void ValidateZone(const ZoneConfig& c, const std::string& path) {
  const size_t n = c.polygon.size();
  if (n < 3) Bad(path + ".polygon", "a polygon needs at least 3 points");
  for (const Point& p : c.polygon) {
    if (!std::isfinite(p.x) || !std::isfinite(p.y)) Bad(path + ".polygon", "coordinates must be finite numbers");
  }
  if (std::fabs(PolygonArea2(c.polygon.data(), n)) < 1e-9) {
    Bad(path + ".polygon", "the polygon has no area (all points on one line)");
  }
  if (PolygonSelfIntersects(c.polygon.data(), n)) {
    Bad(path + ".polygon", "the polygon intersects itself (or repeats a point)",
        "list the vertices in order around the zone, without crossing edges");
  }
  if (c.enter_frames < 1 || c.enter_frames > kMaxInertiaFrames) Bad(path + ".enterFrames", "must be 1..10000");
  if (c.exit_frames < 1 || c.exit_frames > kMaxInertiaFrames) Bad(path + ".exitFrames", "must be 1..10000");
  if (c.loiter_ms < 0) Bad(path + ".loiterSeconds", "must be ≥ 0");
  if (c.max_occupancy < 0) Bad(path + ".maxOccupancy", "must be ≥ 0");
}

bool ZoneAcceptsClass(const ZoneConfig& c, int32_t class_id) {
  if (c.classes.empty()) return true;
  for (int32_t k : c.classes)
    if (k == class_id) return true;
  return false;
}

ZoneTransition ZoneStep(const ZoneConfig& c, ZoneTrackState* s, bool seen, bool anchor_inside, int64_t ts_ms) {
  const bool here = seen && anchor_inside;
  if (here == s->inside) {  // as it was: any streak against it ends
    s->streak = 0;
    return ZoneTransition::kNone;
  }
  if (s->streak == 0) s->streak_ts = ts_ms;
  ++s->streak;
  if (!s->inside) {
    if (s->streak < c.enter_frames) return ZoneTransition::kNone;
    s->inside = true;
    s->loitered = false;
    s->entered_ts = s->streak_ts;
    s->streak = 0;
    return ZoneTransition::kEnter;
  }
  if (s->streak < c.exit_frames) return ZoneTransition::kNone;
  s->inside = false;
  s->streak = 0;
  return ZoneTransition::kExit;
}

bool ZoneLoiterDue(const ZoneConfig& c, ZoneTrackState* s, int64_t ts_ms) {
  if (c.loiter_ms <= 0 || !s->inside || s->loitered) return false;
  if (ts_ms - s->entered_ts < c.loiter_ms) return false;
  s->loitered = true;
  return true;
}

bool ZoneOvercrowdStep(const ZoneConfig& c, bool* armed, int32_t occupancy) {
  if (c.max_occupancy <= 0) return false;
  if (*armed) {
    if (occupancy > c.max_occupancy) {
      *armed = false;
      return true;
    }
    return false;
  }
  if (occupancy <= c.max_occupancy - 1) *armed = true;
  return false;
}

}  // namespace camtrack::analytics
