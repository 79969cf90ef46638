#pragma once
// A small drawer on packed RGB24 pictures for snapshots with boxes: rectangle outlines and non-negative integers
// (track ids) in a built-in 3x5 digit font, scaled by whole pixels. No text library, no allocation; everything is
// clipped to the picture. Pure functions over an RgbView; thread-safe on distinct pictures.
#include <cstdint>

namespace camtrack::snapshot {

struct RgbView {
  uint8_t* data = nullptr;
  int width = 0, height = 0;
  int stride = 0;  // bytes per row (>= 3 * width)
};

struct Rgb {
  uint8_t r = 0, g = 0, b = 0;
};

// The outline of [x1, x2] x [y1, y2] (inclusive pixel coordinates, any order), `thickness` pixels wide, inside it.
void DrawRect(const RgbView& img, int x1, int y1, int x2, int y2, int thickness, Rgb color) noexcept;
// A filled rectangle [x1, x2) x [y1, y2).
void FillRect(const RgbView& img, int x1, int y1, int x2, int y2, Rgb color) noexcept;
// `value` in decimal, on a filled `bg` label whose top-left corner is (x, y); each font pixel is `scale` x `scale`.
// Returns the label's width in pixels.
int DrawNumber(const RgbView& img, int x, int y, int64_t value, int scale, Rgb fg, Rgb bg) noexcept;
// The label size DrawNumber uses for `value` at `scale` (width; height is LabelHeight(scale)).
int LabelWidth(int64_t value, int scale) noexcept;
inline int LabelHeight(int scale) noexcept { return 7 * scale; }
// A distinct, stable colour per track id (a fixed palette); ids < 0 (untracked detections) are white.
Rgb ColorFor(int64_t id) noexcept;

}  // namespace camtrack::snapshot
