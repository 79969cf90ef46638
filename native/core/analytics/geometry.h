#pragma once
// Plane geometry of the analytics rules (lines, zones, speed): box anchors, the side of a directed segment, point in
// polygon (concave too), polygon self-intersection, and the 4-point homography. Pure functions, no allocation except
// where a function returns a container. Coordinates are source-frame pixels, y pointing down (image convention).
#include <cstddef>
#include <cstdint>

#include "core/common/geometry.h"

namespace camtrack::analytics {

struct Point {
  double x = 0, y = 0;
};

// The nine anchors of a box; names as in the public API ("bottom-center", …).
enum class Anchor : uint8_t {
  kTopLeft,
  kTopCenter,
  kTopRight,
  kCenterLeft,
  kCenter,
  kCenterRight,
  kBottomLeft,
  kBottomCenter,
  kBottomRight,
};
constexpr int kNumAnchors = 9;

// "top-left" … "bottom-right" → Anchor; false for any other name.
bool ParseAnchor(const char* name, Anchor* out);
const char* AnchorName(Anchor a);

Point AnchorOf(const Box& b, Anchor a);

// A box the rules can use: four finite corners with x2 ≥ x1, y2 ≥ y1. Others (NaN, ±inf: a diverged tracker, a float
// overflow) are ignored for that frame, as if the track were not seen. Huge finite coordinates (1e32) are used: the
// rules compute in double, where their products do not overflow (supervision's "far away" test case).
bool UsableBox(const Box& b);

// (b − a) × (p − a): > 0 when p is to the right of a→b as seen on the screen (y down), < 0 to its left, 0 on it.
// (The sign rule of supervision's cross_product(points, Vector(a, b)).)
inline double Cross(Point a, Point b, Point p) { return (b.x - a.x) * (p.y - a.y) - (b.y - a.y) * (p.x - a.x); }

// True when p lies inside the polygon (n ≥ 3 vertices, any orientation, concave allowed): the even-odd rule with
// half-open edges (a ray to +x; an edge covers y in [min, max)), so every crossing counts once and two polygons that
// share an edge never both contain a point on it.
bool PointInPolygon(const Point* poly, size_t n, Point p);

// True when two non-adjacent edges of the closed polygon touch or cross (a self-intersecting "bow tie"), or when a
// vertex repeats. Such polygons have no meaningful inside and are refused by the config.
bool PolygonSelfIntersects(const Point* poly, size_t n);

// Twice the signed area (shoelace); 0 for a degenerate polygon (all points on one line).
double PolygonArea2(const Point* poly, size_t n);

// True when segments p1p2 and q1q2 share at least one point.
bool SegmentsIntersect(Point p1, Point p2, Point q1, Point q2);

// The homography H (row-major 3×3, h[8] = 1) mapping src[i] → dst[i] for four point pairs, no three collinear.
// False when the points do not determine one (collinear triples, singular system).
bool SolveHomography(const Point src[4], const Point dst[4], double h[9]);
// H·p in Cartesian coordinates; p itself when the point maps to infinity.
Point ApplyHomography(const double h[9], Point p);

}  // namespace camtrack::analytics
