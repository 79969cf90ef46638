#include "core/analytics/geometry.h"

#include <cmath>
#include <cstring>

namespace camtrack::analytics {
namespace {

constexpr const char* kAnchorNames[kNumAnchors] = {
    "top-left", "top-center", "top-right", "center-left", "center", "center-right", "bottom-left", "bottom-center",
    "bottom-right",
};

int Orientation(Point a, Point b, Point c) {
  const double v = Cross(a, b, c);
  return v > 0 ? 1 : (v < 0 ? -1 : 0);
}

bool OnSegment(Point a, Point b, Point p) {  // p collinear with a, b: inside their bounding box?
  return std::fmin(a.x, b.x) <= p.x && p.x <= std::fmax(a.x, b.x) && std::fmin(a.y, b.y) <= p.y &&
         p.y <= std::fmax(a.y, b.y);
}

}  // namespace

bool ParseAnchor(const char* name, Anchor* out) {
  for (int i = 0; i < kNumAnchors; ++i) {
    if (std::strcmp(name, kAnchorNames[i]) == 0) {
      *out = static_cast<Anchor>(i);
      return true;
    }
  }
  return false;
}

const char* AnchorName(Anchor a) { return kAnchorNames[static_cast<int>(a)]; }

Point AnchorOf(const Box& b, Anchor a) {
  const double cx = (double(b.x1) + b.x2) / 2, cy = (double(b.y1) + b.y2) / 2;
  switch (a) {
    case Anchor::kTopLeft: return {b.x1, b.y1};
    case Anchor::kTopCenter: return {cx, b.y1};
    case Anchor::kTopRight: return {b.x2, b.y1};
    case Anchor::kCenterLeft: return {b.x1, cy};
    case Anchor::kCenter: return {cx, cy};
    case Anchor::kCenterRight: return {b.x2, cy};
    case Anchor::kBottomLeft: return {b.x1, b.y2};
    case Anchor::kBottomCenter: return {cx, b.y2};
    case Anchor::kBottomRight: return {b.x2, b.y2};
  }
  return {cx, cy};
}

bool UsableBox(const Box& b) {
  const float v[4] = {b.x1, b.y1, b.x2, b.y2};
  for (float f : v) {
    if (!std::isfinite(f)) return false;
  }
  return b.x2 >= b.x1 && b.y2 >= b.y1;
}

bool PointInPolygon(const Point* poly, size_t n, Point p) {
  // Even-odd ray cast to +x with half-open edges (y in [min, max)): each crossing counted once, concave or not.
  bool inside = false;
  for (size_t i = 0, j = n - 1; i < n; j = i++) {
    const Point a = poly[i], b = poly[j];
    if ((a.y > p.y) != (b.y > p.y)) {
      const double x = a.x + (p.y - a.y) * (b.x - a.x) / (b.y - a.y);
      if (p.x < x) inside = !inside;
    }
  }
  return inside;
}

bool SegmentsIntersect(Point p1, Point p2, Point q1, Point q2) {
  const int o1 = Orientation(p1, p2, q1), o2 = Orientation(p1, p2, q2);
  const int o3 = Orientation(q1, q2, p1), o4 = Orientation(q1, q2, p2);
  if (o1 != o2 && o3 != o4) return true;
  if (o1 == 0 && OnSegment(p1, p2, q1)) return true;
  if (o2 == 0 && OnSegment(p1, p2, q2)) return true;
  if (o3 == 0 && OnSegment(q1, q2, p1)) return true;
  if (o4 == 0 && OnSegment(q1, q2, p2)) return true;
  return false;
}

bool PolygonSelfIntersects(const Point* poly, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    for (size_t j = i + 1; j < n; ++j) {
      if (poly[i].x == poly[j].x && poly[i].y == poly[j].y) return true;
    }
  }
  for (size_t i = 0; i < n; ++i) {
    const Point a1 = poly[i], a2 = poly[(i + 1) % n];
    for (size_t j = i + 1; j < n; ++j) {
      // Adjacent edges share a vertex by construction; only a fold back onto the neighbour counts for them.
      const bool adjacent = j == i + 1 || (i == 0 && j == n - 1);
      const Point b1 = poly[j], b2 = poly[(j + 1) % n];
      if (adjacent) {
        const Point shared = (j == i + 1) ? a2 : a1;
        const Point other_a = (j == i + 1) ? a1 : a2;
        const Point other_b = (j == i + 1) ? b2 : b1;
        // Collinear and pointing back: the edges overlap beyond the shared vertex.
        if (Cross(other_a, shared, other_b) == 0 &&
            ((other_b.x - shared.x) * (other_a.x - shared.x) + (other_b.y - shared.y) * (other_a.y - shared.y)) > 0)
          return true;
        continue;
      }
      if (SegmentsIntersect(a1, a2, b1, b2)) return true;
    }
  }
  return false;
}

double PolygonArea2(const Point* poly, size_t n) {
  double s = 0;
  for (size_t i = 0, j = n - 1; i < n; j = i++) s += (poly[j].x * poly[i].y - poly[i].x * poly[j].y);
  return s;
}

bool SolveHomography(const Point src[4], const Point dst[4], double h[9]) {
  for (int i = 0; i < 4; ++i) {
    for (int j = i + 1; j < 4; ++j) {
      for (int k = j + 1; k < 4; ++k) {
        if (Cross(src[i], src[j], src[k]) == 0 || Cross(dst[i], dst[j], dst[k]) == 0) return false;
      }
    }
  }
  // 8 unknowns h0..h7 (h8 = 1): for each pair, x' (h6 x + h7 y + 1) = h0 x + h1 y + h2, likewise y'.
  double m[8][9];
  for (int i = 0; i < 4; ++i) {
    const double x = src[i].x, y = src[i].y, u = dst[i].x, v = dst[i].y;
    const double r1[9] = {x, y, 1, 0, 0, 0, -u * x, -u * y, u};
    const double r2[9] = {0, 0, 0, x, y, 1, -v * x, -v * y, v};
    std::memcpy(m[2 * i], r1, sizeof r1);
    std::memcpy(m[2 * i + 1], r2, sizeof r2);
  }
  for (int c = 0; c < 8; ++c) {  // Gaussian elimination with partial pivoting
    int piv = c;
    for (int r = c + 1; r < 8; ++r)
      if (std::fabs(m[r][c]) > std::fabs(m[piv][c])) piv = r;
    if (std::fabs(m[piv][c]) < 1e-12) return false;
    if (piv != c)
      for (int k = 0; k < 9; ++k) std::swap(m[c][k], m[piv][k]);
    for (int r = 0; r < 8; ++r) {
      if (r == c) continue;
      const double f = m[r][c] / m[c][c];
      for (int k = c; k < 9; ++k) m[r][k] -= f * m[c][k];
    }
  }
  for (int i = 0; i < 8; ++i) h[i] = m[i][8] / m[i][i];
  h[8] = 1;
  for (int i = 0; i < 9; ++i)
    if (!std::isfinite(h[i])) return false;
  return true;
}

Point ApplyHomography(const double h[9], Point p) {
  const double w = h[6] * p.x + h[7] * p.y + h[8];
  if (w == 0 || !std::isfinite(w)) return p;
  return {(h[0] * p.x + h[1] * p.y + h[2]) / w, (h[3] * p.x + h[4] * p.y + h[5]) / w};
}

}  // namespace camtrack::analytics
