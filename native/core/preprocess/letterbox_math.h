#pragma once
// The per-pixel maths of the NV12 letterbox, shared word for word by the CUDA kernel (cuda/letterbox_kernel.cu)
// and ReferenceLetterboxNv12 (letterbox.cpp), so that the two agree to float rounding. Its sampling helpers
// (SourceCoord, ChromaCoord, Tap) also serve ReferenceLetterboxRgb24 and CpuLetterboxer's tap tables.
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

// True when canvas pixel (rx, ry), relative to the resized image's top-left corner, lies outside the resized image
// (the pixel is padding).
CAMTRACK_HD bool IsPad(const LetterboxParams& p, int rx, int ry) {
  return rx < 0 || ry < 0 || rx >= p.new_w || ry >= p.new_h;
}

// Half-pixel-centre mapping (as cv2.resize INTER_LINEAR and swscale): source coordinate of the centre of resized
// pixel r along an axis with scale inv (source / resized size).
CAMTRACK_HD float SourceCoord(int r, float inv) { return (static_cast<float>(r) + 0.5f) * inv - 0.5f; }

// The same coordinate on the half-resolution chroma grid: one sample per 2x2 luma block, sited at its centre.
CAMTRACK_HD float ChromaCoord(float s) { return (s + 0.5f) * 0.5f - 0.5f; }

// Bilinear taps of source coordinate s on an axis of n samples: s clamped to [0, n - 1], its two neighbours i0
// (floor) and i1 (i0 + 1, or i0 at the last sample) and the weight f of i1.
struct AxisTap {
  int i0, i1;
  float f;
};
CAMTRACK_HD AxisTap Tap(float s, int n) {
  const float l = Clampf(s, 0.f, static_cast<float>(n - 1));
  const int i0 = static_cast<int>(l);  // l >= 0: truncation == floor
  return AxisTap{i0, i0 + 1 < n ? i0 + 1 : i0, l - static_cast<float>(i0)};
}

// Output value of plane c at canvas pixel (ox, oy), for an NV12 source. Pure function of its inputs.
CAMTRACK_HD void LetterboxNv12Pixel(const uint8_t* y, size_t y_pitch, const uint8_t* uv, size_t uv_pitch,
                                    const LetterboxParams& p, int ox, int oy, float out[3]) {
  const int rx = ox - p.pad_x, ry = oy - p.pad_y;
  if (IsPad(p, rx, ry)) {
    out[0] = p.pad[0];
    out[1] = p.pad[1];
    out[2] = p.pad[2];
    return;
  }
  const float sx = SourceCoord(rx, p.inv_sx);
  const float sy = SourceCoord(ry, p.inv_sy);

  // Luma.
  const AxisTap tx = Tap(sx, p.src_w), ty = Tap(sy, p.src_h);
  const uint8_t* r0 = y + static_cast<size_t>(ty.i0) * y_pitch;
  const uint8_t* r1 = y + static_cast<size_t>(ty.i1) * y_pitch;
  const float Y = Lerp(Lerp(r0[tx.i0], r0[tx.i1], tx.f), Lerp(r1[tx.i0], r1[tx.i1], tx.f), ty.f);

  // Chroma (interleaved U, V).
  const AxisTap cx = Tap(ChromaCoord(sx), (p.src_w + 1) / 2), cy = Tap(ChromaCoord(sy), (p.src_h + 1) / 2);
  const uint8_t* c0 = uv + static_cast<size_t>(cy.i0) * uv_pitch;
  const uint8_t* c1 = uv + static_cast<size_t>(cy.i1) * uv_pitch;
  const int u0 = 2 * cx.i0, u1 = 2 * cx.i1;
  const float U = Lerp(Lerp(c0[u0], c0[u1], cx.f), Lerp(c1[u0], c1[u1], cx.f), cy.f);
  const float V = Lerp(Lerp(c0[u0 + 1], c0[u1 + 1], cx.f), Lerp(c1[u0 + 1], c1[u1 + 1], cx.f), cy.f);

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
