#pragma once
// The per-pixel maths of the NV12 letterbox, shared word for word by the CUDA kernel (cuda/letterbox_kernel.cu)
// and ReferenceLetterboxNv12 (letterbox.cpp), so that the two agree to float rounding.
// Included by both nvcc and the host compiler; no CUDA headers needed. Internal to preprocess + cuda.
#include <cstddef>
#include <cstdint>

#include "preprocess/letterbox.h"

#if defined(__CUDACC__)
#define CAMTRACK_HD __host__ __device__ __forceinline__
#else
#define CAMTRACK_HD inline
#endif

namespace camtrack::preprocess::detail {

// R = ky*(Y-y_off) + rv*(V-128*c)        (c = 1; kept as c_off for clarity)
// G = ky*(Y-y_off) + gu*(U-c_off) + gv*(V-c_off)
// B = ky*(Y-y_off) + bu*(U-c_off)
struct YuvToRgb {
  float ky, y_off, c_off, rv, gu, gv, bu;
};

// Everything the kernel needs, computed once on the host per (source size, spec). Trivially copyable: passed to
// the kernel by value.
struct LetterboxParams {
  int src_w, src_h;    // luma size
  int dst_w, dst_h;    // model input size
  int new_w, new_h;    // resized image size inside the canvas
  int pad_x, pad_y;    // top-left of the resized image
  float inv_sx, inv_sy;  // src_w / new_w, src_h / new_h
  float a[3], b[3];    // output plane c = rgb[src_ch[c]] * a[c] + b[c]
  float pad[3];        // normalised pad value per plane
  int src_ch[3];       // 0=R,1=G,2=B feeding output plane c
  YuvToRgb m;
};

// Host only (letterbox.cpp). Validates and fills the parameters; throws Error(kInvalidArgument).
LetterboxParams MakeLetterboxParams(int src_w, int src_h, const ModelInputSpec& spec, YuvColorSpace cs);
YuvToRgb MakeYuvToRgb(YuvColorSpace cs);

CAMTRACK_HD float Clampf(float v, float lo, float hi) { return v < lo ? lo : (v > hi ? hi : v); }
CAMTRACK_HD float Lerp(float a, float b, float t) { return a + (b - a) * t; }

// Output value of plane c at canvas pixel (ox, oy), for an NV12 source. Pure function of its inputs.
CAMTRACK_HD void LetterboxNv12Pixel(const uint8_t* y, size_t y_pitch, const uint8_t* uv, size_t uv_pitch,
                                    const LetterboxParams& p, int ox, int oy, float out[3]) {
  const int rx = ox - p.pad_x, ry = oy - p.pad_y;
  if (rx < 0 || ry < 0 || rx >= p.new_w || ry >= p.new_h) {
    out[0] = p.pad[0];
    out[1] = p.pad[1];
    out[2] = p.pad[2];
    return;
  }
  // Half-pixel-centre mapping (as cv2.resize INTER_LINEAR and swscale): source coordinate of the output centre.
  const float sx = (static_cast<float>(rx) + 0.5f) * p.inv_sx - 0.5f;
  const float sy = (static_cast<float>(ry) + 0.5f) * p.inv_sy - 0.5f;

  // Luma.
  const float lx = Clampf(sx, 0.f, static_cast<float>(p.src_w - 1));
  const float ly = Clampf(sy, 0.f, static_cast<float>(p.src_h - 1));
  const int x0 = static_cast<int>(lx), y0 = static_cast<int>(ly);  // lx, ly >= 0: truncation == floor
  const int x1 = x0 + 1 < p.src_w ? x0 + 1 : x0, y1 = y0 + 1 < p.src_h ? y0 + 1 : y0;
  const float fx = lx - static_cast<float>(x0), fy = ly - static_cast<float>(y0);
  const uint8_t* r0 = y + static_cast<size_t>(y0) * y_pitch;
  const uint8_t* r1 = y + static_cast<size_t>(y1) * y_pitch;
  const float Y = Lerp(Lerp(r0[x0], r0[x1], fx), Lerp(r1[x0], r1[x1], fx), fy);

  // Chroma: one sample per 2x2 luma block, sited at its centre.
  const int cw = (p.src_w + 1) / 2, ch = (p.src_h + 1) / 2;
  const float cxf = Clampf((sx + 0.5f) * 0.5f - 0.5f, 0.f, static_cast<float>(cw - 1));
  const float cyf = Clampf((sy + 0.5f) * 0.5f - 0.5f, 0.f, static_cast<float>(ch - 1));
  const int cx0 = static_cast<int>(cxf), cy0 = static_cast<int>(cyf);
  const int cx1 = cx0 + 1 < cw ? cx0 + 1 : cx0, cy1 = cy0 + 1 < ch ? cy0 + 1 : cy0;
  const float gx = cxf - static_cast<float>(cx0), gy = cyf - static_cast<float>(cy0);
  const uint8_t* c0 = uv + static_cast<size_t>(cy0) * uv_pitch;
  const uint8_t* c1 = uv + static_cast<size_t>(cy1) * uv_pitch;
  const float U = Lerp(Lerp(c0[2 * cx0], c0[2 * cx1], gx), Lerp(c1[2 * cx0], c1[2 * cx1], gx), gy);
  const float V = Lerp(Lerp(c0[2 * cx0 + 1], c0[2 * cx1 + 1], gx), Lerp(c1[2 * cx0 + 1], c1[2 * cx1 + 1], gx), gy);

  const float yy = p.m.ky * (Y - p.m.y_off), u = U - p.m.c_off, v = V - p.m.c_off;
  float rgb[3];
  rgb[0] = Clampf(yy + p.m.rv * v, 0.f, 255.f);
  rgb[1] = Clampf(yy + p.m.gu * u + p.m.gv * v, 0.f, 255.f);
  rgb[2] = Clampf(yy + p.m.bu * u, 0.f, 255.f);
  out[0] = rgb[p.src_ch[0]] * p.a[0] + p.b[0];
  out[1] = rgb[p.src_ch[1]] * p.a[1] + p.b[1];
  out[2] = rgb[p.src_ch[2]] * p.a[2] + p.b[2];
}

}  // namespace camtrack::preprocess::detail
