#include "core/snapshot/draw.h"

#include <algorithm>

namespace camtrack::snapshot {
namespace {

// 3x5 digits, one row per 3 bits (MSB = left column).
constexpr uint8_t kDigits[10][5] = {
    {7, 5, 5, 5, 7}, {2, 6, 2, 2, 7}, {7, 1, 7, 4, 7}, {7, 1, 7, 1, 7}, {5, 5, 7, 1, 1},
    {7, 4, 7, 1, 7}, {7, 4, 7, 5, 7}, {7, 1, 1, 1, 1}, {7, 5, 7, 5, 7}, {7, 5, 7, 1, 7},
};

constexpr Rgb kPalette[] = {
    {255, 56, 56},  {255, 157, 151}, {255, 112, 31}, {255, 178, 29}, {207, 210, 49}, {72, 249, 10},
    {146, 204, 23}, {61, 219, 134},  {26, 147, 52},  {0, 212, 187},  {44, 153, 168}, {0, 194, 255},
    {52, 69, 147},  {100, 115, 255}, {0, 24, 236},   {132, 56, 255}, {82, 0, 133},   {203, 56, 255},
};

int Digits(int64_t v) noexcept {
  int n = 1;
  while (v >= 10) {
    v /= 10;
    ++n;
  }
  return n;
}

}  // namespace

void FillRect(const RgbView& img, int x1, int y1, int x2, int y2, Rgb c) noexcept {
  x1 = std::max(x1, 0);
  y1 = std::max(y1, 0);
  x2 = std::min(x2, img.width);
  y2 = std::min(y2, img.height);
  for (int y = y1; y < y2; ++y) {
    uint8_t* p = img.data + size_t(y) * img.stride + size_t(x1) * 3;
    for (int x = x1; x < x2; ++x, p += 3) {
      p[0] = c.r;
      p[1] = c.g;
      p[2] = c.b;
    }
  }
}

void DrawRect(const RgbView& img, int x1, int y1, int x2, int y2, int t, Rgb c) noexcept {
  if (x1 > x2) std::swap(x1, x2);
  if (y1 > y2) std::swap(y1, y2);
  t = std::max(1, std::min(t, std::min(x2 - x1 + 1, y2 - y1 + 1)));
  FillRect(img, x1, y1, x2 + 1, y1 + t, c);          // top
  FillRect(img, x1, y2 + 1 - t, x2 + 1, y2 + 1, c);  // bottom
  FillRect(img, x1, y1, x1 + t, y2 + 1, c);          // left
  FillRect(img, x2 + 1 - t, y1, x2 + 1, y2 + 1, c);  // right
}

int LabelWidth(int64_t value, int scale) noexcept {
  if (value < 0) value = 0;
  return (Digits(value) * 4 + 1) * scale;
}

int DrawNumber(const RgbView& img, int x, int y, int64_t value, int scale, Rgb fg, Rgb bg) noexcept {
  if (value < 0) value = 0;
  scale = std::max(1, scale);
  const int n = Digits(value);
  const int w = LabelWidth(value, scale);
  FillRect(img, x, y, x + w, y + LabelHeight(scale), bg);
  int64_t v = value;
  for (int i = n - 1; i >= 0; --i, v /= 10) {
    const uint8_t* glyph = kDigits[v % 10];
    const int gx = x + (1 + i * 4) * scale;
    for (int row = 0; row < 5; ++row)
      for (int col = 0; col < 3; ++col)
        if (glyph[row] & (4 >> col))
          FillRect(img, gx + col * scale, y + (1 + row) * scale, gx + (col + 1) * scale, y + (2 + row) * scale, fg);
  }
  return w;
}

Rgb ColorFor(int64_t id) noexcept {
  if (id < 0) return Rgb{255, 255, 255};
  return kPalette[size_t(id) % (sizeof(kPalette) / sizeof(kPalette[0]))];
}

}  // namespace camtrack::snapshot
