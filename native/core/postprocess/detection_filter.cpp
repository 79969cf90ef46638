#include "core/postprocess/detection_filter.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "core/common/error.h"

namespace camtrack {
namespace postprocess {
namespace {

[[noreturn]] void Bad(const std::string& what) {
  throw Error(ErrorCode::kInvalidArgument, "config", "Invalid detection options: " + what,
              "the detection options of a stream are validated by src/config; this is a bug in the caller");
}

void CheckUnit(float v, const std::string& name) {
  if (!(v >= 0.f && v <= 1.f)) Bad("expected a number in [0, 1] for " + name + " but received " + std::to_string(v));
}

void CheckClassId(int32_t id) {
  if (id < 0 || id > DetectionFilter::kMaxClassId)
    Bad("expected a class id in [0, " + std::to_string(DetectionFilter::kMaxClassId) + "] but received " +
        std::to_string(id));
}

void CheckArea(double v, const char* name) {
  if (!(v >= 0)) Bad(std::string("expected a non-negative number for ") + name + " but received " + std::to_string(v));
}

// p on the segment a–b (collinear and within its bounding box). In double, the differences and products of float
// pixel coordinates are exact, so a point placed on an edge (a vertex, a midpoint) is found on it.
bool OnSegment(const Point& p, const Point& a, const Point& b) {
  const double cross = (double(b.x) - a.x) * (double(p.y) - a.y) - (double(b.y) - a.y) * (double(p.x) - a.x);
  if (cross != 0) return false;
  return p.x >= std::min(a.x, b.x) && p.x <= std::max(a.x, b.x) && p.y >= std::min(a.y, b.y) &&
         p.y <= std::max(a.y, b.y);
}

}  // namespace

bool PointInPolygon(const Point& p, const Point* poly, size_t n) {
  bool inside = false;
  for (size_t i = 0, j = n - 1; i < n; j = i++) {
    const Point& a = poly[i];
    const Point& b = poly[j];
    if (OnSegment(p, a, b)) return true;
    // Even-odd crossing test of a ray to +x (W. R. Franklin's PNPOLY); horizontal edges never cross.
    if ((a.y > p.y) != (b.y > p.y)) {
      const double x_cross = double(b.x - a.x) * (double(p.y) - a.y) / (double(b.y) - a.y) + a.x;
      if (double(p.x) < x_cross) inside = !inside;
    }
  }
  return inside;
}

DetectionFilter::DetectionFilter(const DetectionFilterConfig& c)
    : score_threshold_(c.score_threshold),
      min_area_px_(c.min_area_px),
      min_area_fraction_(c.min_area_fraction),
      max_area_px_(c.max_area_px),
      max_area_fraction_(c.max_area_fraction) {
  CheckUnit(c.score_threshold, "scoreThreshold");
  int32_t max_id = -1;
  for (const auto& [id, thr] : c.class_thresholds) {
    CheckClassId(id);
    CheckUnit(thr, "the threshold of class " + std::to_string(id));
    max_id = std::max(max_id, id);
  }
  class_threshold_.assign(size_t(max_id + 1), -1.f);
  for (const auto& [id, thr] : c.class_thresholds) class_threshold_[size_t(id)] = thr;
  allow_all_ = c.classes.empty();
  if (!allow_all_) {
    int32_t max_allowed = 0;
    for (int32_t id : c.classes) {
      CheckClassId(id);
      max_allowed = std::max(max_allowed, id);
    }
    allowed_.assign(size_t(max_allowed + 1), 0);
    for (int32_t id : c.classes) allowed_[size_t(id)] = 1;
  }
  CheckArea(c.min_area_px, "minArea");
  CheckArea(c.min_area_fraction, "minArea (fraction)");
  CheckArea(c.max_area_px, "maxArea");
  CheckArea(c.max_area_fraction, "maxArea (fraction)");
  const auto compile = [&](const std::vector<Polygon>& in, std::vector<CompiledPolygon>& out, const char* name) {
    out.reserve(in.size());
    for (size_t k = 0; k < in.size(); ++k) {
      const Polygon& poly = in[k];
      if (poly.size() < 3)
        Bad(std::string("expected at least 3 points in ") + name + "[" + std::to_string(k) + "] but received " +
            std::to_string(poly.size()));
      CompiledPolygon cp;
      cp.first = points_.size();
      cp.count = poly.size();
      cp.min_x = cp.min_y = std::numeric_limits<float>::infinity();
      cp.max_x = cp.max_y = -std::numeric_limits<float>::infinity();
      for (const Point& pt : poly) {
        if (!std::isfinite(pt.x) || !std::isfinite(pt.y))
          Bad(std::string("expected finite coordinates in ") + name + "[" + std::to_string(k) + "]");
        cp.min_x = std::min(cp.min_x, pt.x);
        cp.max_x = std::max(cp.max_x, pt.x);
        cp.min_y = std::min(cp.min_y, pt.y);
        cp.max_y = std::max(cp.max_y, pt.y);
        points_.push_back(pt);
      }
      out.push_back(cp);
    }
  };
  compile(c.include, include_, "include");
  compile(c.exclude, exclude_, "exclude");
  // Nothing to do for any detection the parser can give (scores are in [0, 1], classes below any table).
  keeps_all_ = score_threshold_ <= 0 && class_threshold_.empty() && allow_all_ && min_area_px_ <= 0 &&
               min_area_fraction_ <= 0 && std::isinf(max_area_px_) && std::isinf(max_area_fraction_) &&
               include_.empty() && exclude_.empty();
}

bool DetectionFilter::InAny(const std::vector<CompiledPolygon>& polygons, const Point& p) const {
  for (const CompiledPolygon& cp : polygons) {
    if (p.x < cp.min_x || p.x > cp.max_x || p.y < cp.min_y || p.y > cp.max_y) continue;
    if (PointInPolygon(p, points_.data() + cp.first, cp.count)) return true;
  }
  return false;
}

bool DetectionFilter::Keep(const Detection& d, double frame_area) const {
  const size_t cls = size_t(d.class_id);
  const float own = d.class_id >= 0 && cls < class_threshold_.size() ? class_threshold_[cls] : -1.f;
  if (d.score < (own >= 0.f ? own : score_threshold_)) return false;
  if (!allow_all_ && (d.class_id < 0 || cls >= allowed_.size() || !allowed_[cls])) return false;
  const double area = d.box.area();
  // Fractions of a frame of unknown size (0) bound nothing.
  const double min_area = frame_area > 0 ? std::max(min_area_px_, min_area_fraction_ * frame_area) : min_area_px_;
  const double max_area = frame_area > 0 ? std::min(max_area_px_, max_area_fraction_ * frame_area) : max_area_px_;
  if (area < min_area || area > max_area) return false;
  if (include_.empty() && exclude_.empty()) return true;
  const Point anchor = AnchorOf(d.box);
  if (!include_.empty() && !InAny(include_, anchor)) return false;
  return !InAny(exclude_, anchor);
}

void DetectionFilter::Apply(std::vector<Detection>& dets, int frame_width, int frame_height) const {
  if (keeps_all_) return;
  const double frame_area = double(std::max(0, frame_width)) * double(std::max(0, frame_height));
  dets.erase(std::remove_if(dets.begin(), dets.end(), [&](const Detection& d) { return !Keep(d, frame_area); }),
             dets.end());
}

}  // namespace postprocess
}  // namespace camtrack
