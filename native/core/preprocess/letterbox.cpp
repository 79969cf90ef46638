// Letterbox geometry, kernel parameters and the reference NV12 letterbox. No FFmpeg, no CUDA: this file is also
// compiled into the standalone GPU test build on machines without FFmpeg development libraries.
#include "preprocess/letterbox.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "common/error.h"
#include "preprocess/letterbox_math.h"

namespace camtrack::preprocess {
namespace {

void ValidateSpec(int src_w, int src_h, const ModelInputSpec& spec) {
  if (src_w <= 0 || src_h <= 0)
    throw Error(ErrorCode::kInvalidArgument, "preprocess",
                "source size must be positive, got " + std::to_string(src_w) + "x" + std::to_string(src_h));
  if (spec.width <= 0 || spec.height <= 0)
    throw Error(ErrorCode::kInvalidArgument, "preprocess",
                "model input size must be positive, got " + std::to_string(spec.width) + "x" +
                    std::to_string(spec.height));
  for (int c = 0; c < 3; ++c) {
    if (!(spec.std[c] != 0.f) || !std::isfinite(spec.std[c]) || !std::isfinite(spec.mean[c]))
      throw Error(ErrorCode::kInvalidArgument, "preprocess",
                  "normalisation std[" + std::to_string(c) + "] must be finite and non-zero");
  }
  if (!std::isfinite(spec.scale) || !std::isfinite(spec.pad_value))
    throw Error(ErrorCode::kInvalidArgument, "preprocess", "scale and pad_value must be finite");
}

double Ratio(int src_w, int src_h, const ModelInputSpec& spec) {
  // Same expression as both reference implementations: min(H / h, W / w) in double.
  return std::min(static_cast<double>(spec.height) / src_h, static_cast<double>(spec.width) / src_w);
}

// The reference letterboxes' canvas loop: pixel(ox, oy, v) gives the three output planes' values v of canvas pixel
// (ox, oy), written to the NCHW planes of dst.
template <class PixelFn>
void FillCanvas(const ModelInputSpec& spec, float* dst, PixelFn pixel) {
  const size_t plane = static_cast<size_t>(spec.width) * spec.height;
  for (int oy = 0; oy < spec.height; ++oy) {
    for (int ox = 0; ox < spec.width; ++ox) {
      float v[3];
      pixel(ox, oy, v);
      const size_t i = static_cast<size_t>(oy) * spec.width + ox;
      dst[i] = v[0];
      dst[plane + i] = v[1];
      dst[2 * plane + i] = v[2];
    }
  }
}

}  // namespace

ResizedSize ComputeResizedSize(int src_w, int src_h, const ModelInputSpec& spec) {
  ValidateSpec(src_w, src_h, spec);
  const double r = Ratio(src_w, src_h, spec);
  int nw, nh;
  if (spec.align == LetterboxAlign::kCenter) {
    // Python's round(): half to even, which std::nearbyint gives in the default rounding mode.
    nw = static_cast<int>(std::nearbyint(src_w * r));
    nh = static_cast<int>(std::nearbyint(src_h * r));
  } else {
    nw = static_cast<int>(src_w * r);  // int() truncates
    nh = static_cast<int>(src_h * r);
  }
  nw = std::clamp(nw, 1, spec.width);
  nh = std::clamp(nh, 1, spec.height);
  return {nw, nh};
}

LetterboxInfo ComputeLetterbox(int src_w, int src_h, const ModelInputSpec& spec) {
  const ResizedSize rs = ComputeResizedSize(src_w, src_h, spec);
  LetterboxInfo info;
  info.scale = static_cast<float>(Ratio(src_w, src_h, spec));
  info.src_width = src_w;
  info.src_height = src_h;
  if (spec.align == LetterboxAlign::kCenter) {
    const double dw = (spec.width - rs.width) / 2.0, dh = (spec.height - rs.height) / 2.0;
    info.pad_x = static_cast<float>(std::nearbyint(dw - 0.1));
    info.pad_y = static_cast<float>(std::nearbyint(dh - 0.1));
  } else {
    info.pad_x = 0.f;
    info.pad_y = 0.f;
  }
  return info;
}

namespace detail {

YuvToRgb MakeYuvToRgb(YuvColorSpace cs) {
  const bool bt709 = cs == YuvColorSpace::kBt709Limited || cs == YuvColorSpace::kBt709Full;
  const bool limited = cs == YuvColorSpace::kBt601Limited || cs == YuvColorSpace::kBt709Limited;
  const double kr = bt709 ? 0.2126 : 0.299, kb = bt709 ? 0.0722 : 0.114, kg = 1.0 - kr - kb;
  const double ky = limited ? 255.0 / 219.0 : 1.0, kc = limited ? 255.0 / 224.0 : 1.0;
  YuvToRgb m;
  m.ky = static_cast<float>(ky);
  m.y_off = limited ? 16.f : 0.f;
  m.c_off = 128.f;
  m.rv = static_cast<float>(2.0 * (1.0 - kr) * kc);
  m.bu = static_cast<float>(2.0 * (1.0 - kb) * kc);
  m.gu = static_cast<float>(-2.0 * (1.0 - kb) * kb / kg * kc);
  m.gv = static_cast<float>(-2.0 * (1.0 - kr) * kr / kg * kc);
  return m;
}

LetterboxParams MakeLetterboxParams(int src_w, int src_h, const ModelInputSpec& spec, YuvColorSpace cs) {
  const ResizedSize rs = ComputeResizedSize(src_w, src_h, spec);
  const LetterboxInfo info = ComputeLetterbox(src_w, src_h, spec);
  LetterboxParams p{};
  p.src_w = src_w;
  p.src_h = src_h;
  p.dst_w = spec.width;
  p.dst_h = spec.height;
  p.new_w = rs.width;
  p.new_h = rs.height;
  p.pad_x = static_cast<int>(info.pad_x);
  p.pad_y = static_cast<int>(info.pad_y);
  p.inv_sx = static_cast<float>(static_cast<double>(src_w) / rs.width);
  p.inv_sy = static_cast<float>(static_cast<double>(src_h) / rs.height);
  for (int c = 0; c < 3; ++c) {
    p.a[c] = spec.scale / spec.std[c];
    p.b[c] = -spec.mean[c] / spec.std[c];
    p.pad[c] = spec.pad_value * p.a[c] + p.b[c];
    p.src_ch[c] = spec.channel_order == ChannelOrder::kRGB ? c : 2 - c;
  }
  p.m = MakeYuvToRgb(cs);
  return p;
}

}  // namespace detail

LetterboxInfo ReferenceLetterboxNv12(const uint8_t* y, int y_pitch, const uint8_t* uv, int uv_pitch, int w, int h,
                                     const ModelInputSpec& spec, float* dst, YuvColorSpace color_space) {
  if (!y || !uv || !dst) throw Error(ErrorCode::kInvalidArgument, "preprocess", "null plane or destination");
  if (y_pitch < w || uv_pitch < 2 * ((w + 1) / 2))
    throw Error(ErrorCode::kInvalidArgument, "preprocess", "plane pitch smaller than the row");
  const detail::LetterboxParams p = detail::MakeLetterboxParams(w, h, spec, color_space);
  FillCanvas(spec, dst, [&](int ox, int oy, float v[3]) {
    detail::LetterboxNv12Pixel(y, static_cast<size_t>(y_pitch), uv, static_cast<size_t>(uv_pitch), p, ox, oy, v);
  });
  return ComputeLetterbox(w, h, spec);
}

LetterboxInfo ReferenceLetterboxRgb24(const uint8_t* rgb, int rgb_pitch, int w, int h, const ModelInputSpec& spec,
                                      float* dst) {
  if (!rgb || !dst) throw Error(ErrorCode::kInvalidArgument, "preprocess", "null image or destination");
  if (rgb_pitch < 3 * w) throw Error(ErrorCode::kInvalidArgument, "preprocess", "pitch smaller than the row");
  const detail::LetterboxParams p = detail::MakeLetterboxParams(w, h, spec, YuvColorSpace::kBt601Limited);
  FillCanvas(spec, dst, [&](int ox, int oy, float v[3]) {
    const int rx = ox - p.pad_x, ry = oy - p.pad_y;
    if (detail::IsPad(p, rx, ry)) {
      v[0] = p.pad[0], v[1] = p.pad[1], v[2] = p.pad[2];
      return;
    }
    // The luma sampling of detail::LetterboxNv12Pixel, on each of the three packed channels.
    const detail::AxisTap tx = detail::Tap(detail::SourceCoord(rx, p.inv_sx), w);
    const detail::AxisTap ty = detail::Tap(detail::SourceCoord(ry, p.inv_sy), h);
    const uint8_t* r0 = rgb + static_cast<size_t>(ty.i0) * rgb_pitch;
    const uint8_t* r1 = rgb + static_cast<size_t>(ty.i1) * rgb_pitch;
    float c[3];
    for (int k = 0; k < 3; ++k)
      c[k] = detail::Lerp(detail::Lerp(r0[3 * tx.i0 + k], r0[3 * tx.i1 + k], tx.f),
                          detail::Lerp(r1[3 * tx.i0 + k], r1[3 * tx.i1 + k], tx.f), ty.f);
    for (int k = 0; k < 3; ++k) v[k] = c[p.src_ch[k]] * p.a[k] + p.b[k];
  });
  return ComputeLetterbox(w, h, spec);
}

}  // namespace camtrack::preprocess
