#pragma once
// camtrack::postprocess::DetectionFilter — a stream's detection options (StreamOptions.detection, declared in
// src/config/schema.ts): a score threshold, per-class thresholds, a class allow-list, bounds on the box area and
// include/exclude polygons. The pipeline applies it on the postprocess thread to each frame's detections after
// parse + NMS (whose model-level scoreThreshold stays the floor) and before the tracker, so the tracker and the
// result see the same, filtered detections.
//
// A detection is kept when, in this order:
//   1. score >= the threshold of its class (class_thresholds), else >= score_threshold;
//   2. `classes` is empty or holds its class id;
//   3. its box area (source pixels², boxes are clipped to the frame by the parser) lies in [min, max], where
//      min = max(min_area_px, min_area_fraction · frame area) and max = min(max_area_px, max_area_fraction · frame
//      area), the frame area being that of the frame the detection belongs to (resolution changes are followed);
//   4. its ANCHOR, the bottom-centre of the box ((x1 + x2) / 2, y2) — where an object stands on the ground, as
//      DeepStream's ROI filter and supervision's PolygonZone (Position.BOTTOM_CENTER) use it — lies inside at least
//      one `include` polygon (when any is given) and inside no `exclude` polygon. A point on a polygon's edge or
//      vertex counts as inside it (up to float rounding); polygons may be concave and self-intersecting (even-odd).
//
// Ownership: DetectionFilter is a plain value compiled once from a DetectionFilterConfig (per-class tables, each
// polygon's bounding box) and read-only afterwards: one instance may be read by several threads at once. Apply()
// and Keep() allocate nothing.
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "core/common/geometry.h"

namespace camtrack {
namespace postprocess {

struct Point {
  float x = 0, y = 0;
};
// A closed polygon in source-frame pixels: the last point connects back to the first. At least 3 points.
using Polygon = std::vector<Point>;

// The options as the binding delivers them: complete (src/config/ fills every default); zero-initialised only so
// that nothing is indeterminate (max_area_* of 0 would keep nothing: "no upper bound" is +infinity).
struct DetectionFilterConfig {
  float score_threshold = 0;                                // minimum score of every class without its own
  std::vector<std::pair<int32_t, float>> class_thresholds;  // class id → its minimum score (replaces the above)
  std::vector<int32_t> classes;                             // allow-list of class ids; empty = every class
  double min_area_px = 0, min_area_fraction = 0;            // lower area bound, pixels² and fraction of the frame
  double max_area_px = 0, max_area_fraction = 0;            // upper area bound (+infinity: none)
  std::vector<Polygon> include;                             // regions where detections count (empty: everywhere)
  std::vector<Polygon> exclude;                             // regions where detections are ignored
};

// The anchor tested against the polygons: the bottom-centre of the box.
inline Point AnchorOf(const Box& b) { return {0.5f * (b.x1 + b.x2), b.y2}; }

// True when `p` lies inside `polygon` (even-odd rule) or on one of its edges. Pure; `polygon` needs >= 3 points.
bool PointInPolygon(const Point& p, const Point* polygon, size_t n);

class DetectionFilter {
 public:
  // Largest class id accepted in class_thresholds / classes (the tables are indexed by class id).
  static constexpr int32_t kMaxClassId = 65535;

  // Validates and compiles `config`. Throws camtrack::Error(kInvalidArgument, "config") for a threshold outside
  // [0, 1], a class id outside [0, kMaxClassId], a negative or NaN area bound, or a polygon with fewer than 3 points
  // or a non-finite coordinate.
  explicit DetectionFilter(const DetectionFilterConfig& config);

  // True when the filter keeps every detection the parser gives (the defaults): Apply() returns at once.
  bool keeps_all() const { return keeps_all_; }

  // Whether `d` of a frame of `frame_area` pixels² is kept (rules 1–4 above).
  bool Keep(const Detection& d, double frame_area) const;

  // Removes the detections that are not kept, in place; the order of the others is unchanged.
  void Apply(std::vector<Detection>& dets, int frame_width, int frame_height) const;

 private:
  struct CompiledPolygon {
    size_t first = 0, count = 0;  // its points in points_
    float min_x = 0, min_y = 0, max_x = 0, max_y = 0;
  };
  bool InAny(const std::vector<CompiledPolygon>& polygons, const Point& p) const;

  float score_threshold_ = 0;
  std::vector<float> class_threshold_;  // by class id; < 0: none (score_threshold_ applies)
  std::vector<char> allowed_;           // by class id, when !allow_all_
  bool allow_all_ = true;
  double min_area_px_ = 0, min_area_fraction_ = 0, max_area_px_ = 0, max_area_fraction_ = 0;
  std::vector<Point> points_;  // every polygon's points, one after the other
  std::vector<CompiledPolygon> include_, exclude_;
  bool keeps_all_ = false;
};

}  // namespace postprocess
}  // namespace camtrack
