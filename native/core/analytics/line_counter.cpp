#include "core/analytics/line_counter.h"

#include <cmath>

#include "core/common/error.h"

namespace camtrack::analytics {
namespace {

[[noreturn]] void Bad(const std::string& path, const std::string& what, const char* hint) {
  throw Error(ErrorCode::kInvalidArgument, "analytics", path + ": " + what, hint);
}

bool Finite(Point p) { return std::isfinite(p.x) && std::isfinite(p.y); }

}  // namespace

void ValidateLine(const LineConfig& c, const std::string& path) {
  if (!Finite(c.start) || !Finite(c.end)) Bad(path, "start and end must be finite numbers", "pixel coordinates");
  if (std::hypot(c.end.x - c.start.x, c.end.y - c.start.y) < 1e-6) {
    Bad(path, "start and end are the same point (a degenerate line)", "give two distinct points");
  }
  if (c.anchors.empty() || c.anchors.size() > size_t(kNumAnchors)) Bad(path, "anchors: 1 to 9 anchors", "");
  for (size_t i = 0; i < c.anchors.size(); ++i)
    for (size_t j = i + 1; j < c.anchors.size(); ++j)
      if (c.anchors[i] == c.anchors[j]) Bad(path, "anchors: an anchor is repeated", "");
  if (c.min_crossing_frames < 1 || c.min_crossing_frames > kMaxCrossingFrames) {
    Bad(path, "minCrossingFrames must be 1.." + std::to_string(kMaxCrossingFrames), "");
  }
  if (c.has_direction) {
    if (!Finite(c.direction_from) || !Finite(c.direction_to)) Bad(path, "direction must be finite", "");
    const Point d{c.direction_to.x - c.direction_from.x, c.direction_to.y - c.direction_from.y};
    const double cross = (c.end.x - c.start.x) * d.y - (c.end.y - c.start.y) * d.x;
    if (std::fabs(cross) < 1e-9 * (1 + std::hypot(d.x, d.y))) {
      Bad(path, "direction is parallel to the line (or zero): it must point from one side to the other",
          "give a vector that crosses the line");
    }
  }
}

LineGeometry LineGeometry::From(const LineConfig& c) {
  LineGeometry g;
  g.start = c.start;
  g.end = c.end;
  const double len = std::hypot(c.end.x - c.start.x, c.end.y - c.start.y);
  const double ux = (c.end.x - c.start.x) / len, uy = (c.end.y - c.start.y) / len;
  const double px = -uy, py = ux;  // perpendicular, as supervision's region-of-interest limits
  g.limit_a_from = c.start;
  g.limit_a_to = {c.start.x + px, c.start.y + py};
  g.limit_b_from = c.end;
  g.limit_b_to = {c.end.x - px, c.end.y - py};
  g.num_anchors = int(c.anchors.size());
  for (int i = 0; i < g.num_anchors; ++i) g.anchors[i] = c.anchors[size_t(i)];
  g.history_length = c.min_crossing_frames + 1 < 2 ? 2 : c.min_crossing_frames + 1;
  if (c.has_direction) {
    // Moving along the vector goes from its tail's side to its head's: "in" is arriving on the head's side. The
    // default "in" side is the left (Cross < 0); when the vector points to the right, swap.
    const Point d{c.direction_to.x - c.direction_from.x, c.direction_to.y - c.direction_from.y};
    g.flip = Cross({0, 0}, {c.end.x - c.start.x, c.end.y - c.start.y}, d) > 0;
  }
  return g;
}

Crossing LineStep(const LineGeometry& g, LineTrackState* s, const Box& box, int32_t class_id) {
  if (s->length > 0 && s->class_id != class_id) s->length = 0;  // another class: another object
  s->class_id = class_id;
  bool any_left = false, any_right = false;
  for (int i = 0; i < g.num_anchors; ++i) {
    const Point p = AnchorOf(box, g.anchors[i]);
    // Between the perpendiculars: the two limit vectors point opposite ways, so inside means equal signs.
    if ((Cross(g.limit_a_from, g.limit_a_to, p) > 0) != (Cross(g.limit_b_from, g.limit_b_to, p) > 0)) {
      s->length = 0;  // outside the limits: what comes back starts a new history (crossing beside does not count)
      return Crossing::kNone;
    }
    if (Cross(g.start, g.end, p) < 0) {
      any_left = true;
    } else {
      any_right = true;
    }
  }
  if (any_left && any_right) return Crossing::kNone;  // straddling the line: no side this frame
  const uint32_t mask = (1u << g.history_length) - 1;
  s->history = ((s->history << 1) | (any_left ? 1u : 0u)) & mask;
  if (s->length < g.history_length) ++s->length;
  if (s->length < g.history_length) return Crossing::kNone;
  const uint32_t oldest = (s->history >> (g.history_length - 1)) & 1u;
  const uint32_t newer = s->history & (mask >> 1);
  const uint32_t newer_all_other = oldest ? 0u : (mask >> 1);
  if (newer != newer_all_other) return Crossing::kNone;
  const bool in = any_left != g.flip;
  return in ? Crossing::kIn : Crossing::kOut;
}

}  // namespace camtrack::analytics
