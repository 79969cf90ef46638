#pragma once
// Small value types shared by postprocess and track. No ownership, trivially copyable.
#include <cstdint>

namespace camtrack {

// Axis-aligned box in pixels, corners (x1,y1) top-left and (x2,y2) bottom-right.
struct Box {
  float x1 = 0, y1 = 0, x2 = 0, y2 = 0;
  float width() const { return x2 - x1; }
  float height() const { return y2 - y1; }
  float area() const { return (x2 > x1 && y2 > y1) ? (x2 - x1) * (y2 - y1) : 0.f; }
};

// One detection in source-frame pixel coordinates.
struct Detection {
  Box box;
  float score = 0;
  int32_t class_id = 0;
};

// How a frame was letterboxed into the model input: input = source * scale + pad.
// Postprocess maps boxes back with (v - pad) / scale.
struct LetterboxInfo {
  float scale = 1.f;
  float pad_x = 0.f;
  float pad_y = 0.f;
  int32_t src_width = 0;
  int32_t src_height = 0;
};

inline float IoU(const Box& a, const Box& b) {
  const float ix1 = a.x1 > b.x1 ? a.x1 : b.x1;
  const float iy1 = a.y1 > b.y1 ? a.y1 : b.y1;
  const float ix2 = a.x2 < b.x2 ? a.x2 : b.x2;
  const float iy2 = a.y2 < b.y2 ? a.y2 : b.y2;
  const float iw = ix2 - ix1, ih = iy2 - iy1;
  if (iw <= 0 || ih <= 0) return 0.f;
  const float inter = iw * ih;
  const float uni = a.area() + b.area() - inter;
  return uni > 0 ? inter / uni : 0.f;
}

}  // namespace camtrack
