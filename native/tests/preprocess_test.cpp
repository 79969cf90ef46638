// Tests of the CPU letterbox against the reference maths of the CUDA kernel, colour handling and resolution changes.
// (The letterbox geometry: letterbox_geometry_test.cpp; the CUDA probes: cuda_probe_test.cpp.)
extern "C" {
#include <libavcodec/version.h>
#include <libavutil/frame.h>
#include <libavutil/pixfmt.h>
}

#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "common/error.h"
#include "cuda/buffers.h"
#include "cuda/capabilities.h"
#include "cuda/device.h"
#include "cuda/letterbox_gpu.h"
#include "preprocess/letterbox.h"
#include "preprocess/letterbox_math.h"
#include "model_specs.h"
#include "test_main.h"

namespace {

using ct_test::UltralyticsSpec;
using ct_test::YoloxSpec;
using camtrack::Error;
using camtrack::ErrorCode;
using camtrack::LetterboxInfo;
using camtrack::preprocess::ChannelOrder;
using camtrack::preprocess::ComputeLetterbox;
using camtrack::preprocess::ComputeResizedSize;
using camtrack::preprocess::CpuLetterboxer;
using camtrack::preprocess::LetterboxAlign;
using camtrack::preprocess::ModelInputSpec;
using camtrack::preprocess::ReferenceLetterboxNv12;

struct FrameDeleter {
  void operator()(AVFrame* f) const { av_frame_free(&f); }
};
using FramePtr = std::unique_ptr<AVFrame, FrameDeleter>;

FramePtr MakeFrame(int w, int h, AVPixelFormat fmt) {
  FramePtr f(av_frame_alloc());
  CT_EXPECT(f != nullptr);
  f->width = w;
  f->height = h;
  f->format = fmt;
  CT_EXPECT(av_frame_get_buffer(f.get(), 0) == 0);
  return f;
}

// Smooth synthetic content (periods of hundreds of source pixels). Values stay inside the legal ranges.
uint8_t SmoothY(int x, int y, int w, int h) {
  const double v = 0.5 + 0.25 * std::sin(2 * M_PI * x / 420.0) * std::cos(2 * M_PI * y / 330.0) +
                   0.2 * (static_cast<double>(x) / w - 0.5) + 0.1 * (static_cast<double>(y) / h - 0.5);
  return static_cast<uint8_t>(std::lround(16 + 219 * v));
}
uint8_t SmoothU(int cx, int cy, int cw, int ch) {
  return static_cast<uint8_t>(std::lround(128 + 60 * std::sin(2 * M_PI * cx / 250.0 + 0.3) + 30.0 * cy / ch - 15));
}
uint8_t SmoothV(int cx, int cy, int cw, int ch) {
  return static_cast<uint8_t>(std::lround(128 + 50 * std::cos(2 * M_PI * cy / 200.0) - 40.0 * cx / cw + 20));
}

// A yuv420p frame plus the same picture as NV12 host planes (for the reference).
struct SyntheticYuv {
  FramePtr frame;
  std::vector<uint8_t> y, uv;
  int w = 0, h = 0;
};
SyntheticYuv MakeSmoothYuv420p(int w, int h) {
  SyntheticYuv s;
  s.w = w;
  s.h = h;
  s.frame = MakeFrame(w, h, AV_PIX_FMT_YUV420P);
  const int cw = (w + 1) / 2, ch = (h + 1) / 2;
  s.y.resize(static_cast<size_t>(w) * h);
  s.uv.resize(static_cast<size_t>(2 * cw) * ch);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) s.frame->data[0][y * s.frame->linesize[0] + x] = s.y[y * w + x] = SmoothY(x, y, w, h);
  for (int y = 0; y < ch; ++y)
    for (int x = 0; x < cw; ++x) {
      s.frame->data[1][y * s.frame->linesize[1] + x] = s.uv[y * 2 * cw + 2 * x] = SmoothU(x, y, cw, ch);
      s.frame->data[2][y * s.frame->linesize[2] + x] = s.uv[y * 2 * cw + 2 * x + 1] = SmoothV(x, y, cw, ch);
    }
  return s;
}

// Sharp content: pseudo-random bytes (LCG), so that any resampling difference shows: a filter that low-passes
// when downscaling or a half-pixel misalignment is far outside the tolerance (the previous swscale SWS_BILINEAR path,
// 1280x720 → 416x234: max 204, mean 42 units), while the same point bilinear agrees to float rounding (7.6e-5).
SyntheticYuv MakeNoiseYuv420p(int w, int h, AVPixelFormat fmt = AV_PIX_FMT_YUV420P) {
  SyntheticYuv s;
  s.w = w;
  s.h = h;
  s.frame = MakeFrame(w, h, fmt);
  const int cw = (w + 1) / 2, ch = (h + 1) / 2;
  s.y.resize(static_cast<size_t>(w) * h);
  s.uv.resize(static_cast<size_t>(2 * cw) * ch);
  uint32_t state = 12345u;
  auto next = [&state] {
    state = state * 1664525u + 1013904223u;
    return static_cast<uint8_t>(state >> 24);
  };
  for (auto& v : s.y) v = next();
  for (auto& v : s.uv) v = next();
  for (int y = 0; y < h; ++y) std::memcpy(s.frame->data[0] + y * s.frame->linesize[0], &s.y[y * w], w);
  for (int y = 0; y < ch; ++y)
    for (int x = 0; x < cw; ++x) {
      const uint8_t u = s.uv[y * 2 * cw + 2 * x], v = s.uv[y * 2 * cw + 2 * x + 1];
      if (fmt == AV_PIX_FMT_NV12) {
        s.frame->data[1][y * s.frame->linesize[1] + 2 * x] = u;
        s.frame->data[1][y * s.frame->linesize[1] + 2 * x + 1] = v;
      } else {
        s.frame->data[1][y * s.frame->linesize[1] + x] = u;
        s.frame->data[2][y * s.frame->linesize[2] + x] = v;
      }
    }
  return s;
}

// Fills a planar YUV frame (yuv420p / yuvj420p) with one colour.
FramePtr MakeUniformYuv420p(int w, int h, uint8_t Y, uint8_t U, uint8_t V, AVPixelFormat fmt = AV_PIX_FMT_YUV420P) {
  FramePtr f = MakeFrame(w, h, fmt);
  for (int y = 0; y < h; ++y) std::memset(f->data[0] + y * f->linesize[0], Y, w);
  for (int y = 0; y < (h + 1) / 2; ++y) {
    std::memset(f->data[1] + y * f->linesize[1], U, (w + 1) / 2);
    std::memset(f->data[2] + y * f->linesize[2], V, (w + 1) / 2);
  }
  return f;
}

struct DiffStats {
  double max_interior = 0;  // more than 2 output pixels away from the image edges
  double max_edge = 0;
  double mean = 0;
  double max() const { return std::max(max_interior, max_edge); }
};

// Compares the resized-image region of two NCHW canvases in 0..255 units (divides by a = scale/std).
DiffStats CompareImageRegion(const std::vector<float>& a, const std::vector<float>& b, const ModelInputSpec& spec,
                             const LetterboxInfo& info, int new_w, int new_h) {
  DiffStats d;
  const size_t plane = static_cast<size_t>(spec.width) * spec.height;
  const int px = static_cast<int>(info.pad_x), py = static_cast<int>(info.pad_y);
  double sum = 0;
  size_t n = 0;
  for (int c = 0; c < 3; ++c) {
    const double unit = spec.scale / spec.std[c];
    for (int y = 0; y < new_h; ++y)
      for (int x = 0; x < new_w; ++x) {
        const size_t i = c * plane + static_cast<size_t>(py + y) * spec.width + px + x;
        const double diff = std::fabs(a[i] - b[i]) / unit;
        const bool edge = x < 2 || y < 2 || x >= new_w - 2 || y >= new_h - 2;
        (edge ? d.max_edge : d.max_interior) = std::max(edge ? d.max_edge : d.max_interior, diff);
        sum += diff;
        ++n;
      }
  }
  d.mean = sum / n;
  return d;
}

// Counts canvas values outside the resized image that are not exactly the normalised pad value.
size_t CountBadPad(const std::vector<float>& out, const ModelInputSpec& spec, const LetterboxInfo& info, int new_w,
                   int new_h) {
  const size_t plane = static_cast<size_t>(spec.width) * spec.height;
  const int px = static_cast<int>(info.pad_x), py = static_cast<int>(info.pad_y);
  size_t bad = 0;
  for (int c = 0; c < 3; ++c) {
    const float expect = spec.pad_value * (spec.scale / spec.std[c]) + (-spec.mean[c] / spec.std[c]);
    for (int y = 0; y < spec.height; ++y)
      for (int x = 0; x < spec.width; ++x) {
        const bool inside = x >= px && x < px + new_w && y >= py && y < py + new_h;
        if (!inside && out[c * plane + static_cast<size_t>(y) * spec.width + x] != expect) ++bad;
      }
  }
  return bad;
}

// Runs CpuLetterboxer and the reference on the same picture; checks agreement and the exact padding.
// The CPU path computes the reference's maths (half-pixel-centre bilinear of Y and chroma, float YUV → RGB); the
// only difference is float rounding (it blends vertically first, the reference horizontally first): measured max
// 7.6e-5 units. 0.05 units leaves room for other compilers / FMA contraction and still catches any real resampling
// difference (half a pixel of shift on the noise pictures is tens of units).
void CheckCpuAgainstReference(CpuLetterboxer& lb, const SyntheticYuv& img, const ModelInputSpec& spec,
                              camtrack::preprocess::YuvColorSpace cs = camtrack::preprocess::YuvColorSpace::kBt601Limited) {
  const size_t n = 3 * static_cast<size_t>(spec.width) * spec.height;
  std::vector<float> cpu(n, -1e9f), ref(n, -2e9f);
  const LetterboxInfo info = lb.Run(*img.frame, spec, cpu.data());
  const LetterboxInfo rinfo = ReferenceLetterboxNv12(img.y.data(), img.w, img.uv.data(), 2 * ((img.w + 1) / 2),
                                                     img.w, img.h, spec, ref.data(), cs);
  CT_EXPECT(info.scale == rinfo.scale && info.pad_x == rinfo.pad_x && info.pad_y == rinfo.pad_y);
  CT_EXPECT(info.src_width == img.w && info.src_height == img.h);
  const auto rs = ComputeResizedSize(img.w, img.h, spec);
  const DiffStats d = CompareImageRegion(cpu, ref, spec, info, rs.width, rs.height);
  CT_EXPECT_NEAR(d.max(), 0.0, 0.05);
  CT_EXPECT_NEAR(d.mean, 0.0, 0.005);
  CT_EXPECT(CountBadPad(cpu, spec, info, rs.width, rs.height) == 0);
  CT_EXPECT(CountBadPad(ref, spec, info, rs.width, rs.height) == 0);
}

// Value of output plane c at canvas pixel (x, y).
float At(const std::vector<float>& out, const ModelInputSpec& spec, int c, int x, int y) {
  return out[c * static_cast<size_t>(spec.width) * spec.height + static_cast<size_t>(y) * spec.width + x];
}

}  // namespace

// ---- reference maths -----------------------------------------------------------------------------------------

CT_TEST(preprocess_reference_nv12_uniform_colour_bt601_limited) {
  // Y=126, U=90, V=200 (BT.601 limited): R = 1.16438*(110) + 1.59603*72 = 242.99,
  // G = 128.08 - 0.39176*(-38) - 0.81297*72 = 84.47, B = 128.08 + 2.01723*(-38) = 51.43.
  const int w = 64, h = 48;
  std::vector<uint8_t> y(w * h, 126), uv(w * h / 2);
  for (size_t i = 0; i < uv.size(); i += 2) uv[i] = 90, uv[i + 1] = 200;
  ModelInputSpec spec = UltralyticsSpec(32);
  spec.scale = 1.f;
  std::vector<float> out(3 * 32 * 32);
  ReferenceLetterboxNv12(y.data(), w, uv.data(), w, w, h, spec, out.data());
  // 64x48 → 32x24 centred: pad_y = 4.
  CT_EXPECT_NEAR(At(out, spec, 0, 10, 10), 242.99, 0.05);
  CT_EXPECT_NEAR(At(out, spec, 1, 10, 10), 84.47, 0.05);
  CT_EXPECT_NEAR(At(out, spec, 2, 10, 10), 51.43, 0.05);
  CT_EXPECT(At(out, spec, 0, 10, 2) == 114.f);  // top pad
  CT_EXPECT(At(out, spec, 2, 10, 29) == 114.f);  // bottom pad
}

// ---- CPU letterbox ---------------------------------------------------------------------------------------------

CT_TEST(preprocess_cpu_letterbox_yuv420p_matches_reference_yolox_416) {
  CpuLetterboxer lb;
  const SyntheticYuv img = MakeSmoothYuv420p(1280, 720);
  CheckCpuAgainstReference(lb, img, YoloxSpec());
}

CT_TEST(preprocess_cpu_letterbox_yuv420p_matches_reference_ultralytics_640) {
  CpuLetterboxer lb;
  const SyntheticYuv img = MakeSmoothYuv420p(1280, 720);
  CheckCpuAgainstReference(lb, img, UltralyticsSpec(640));
  const SyntheticYuv portrait = MakeSmoothYuv420p(810, 1080);
  CheckCpuAgainstReference(lb, portrait, UltralyticsSpec(640));
}

CT_TEST(preprocess_cpu_letterbox_follows_a_resolution_change_mid_stream) {
  CpuLetterboxer lb;  // one instance, as one stream would use it
  const SyntheticYuv a = MakeSmoothYuv420p(1280, 720);
  const SyntheticYuv b = MakeSmoothYuv420p(640, 480);
  const SyntheticYuv c = MakeSmoothYuv420p(333, 199);  // odd sizes
  const ModelInputSpec spec = UltralyticsSpec(320);
  CheckCpuAgainstReference(lb, a, spec);
  CheckCpuAgainstReference(lb, b, spec);
  CheckCpuAgainstReference(lb, c, spec);
  CheckCpuAgainstReference(lb, a, spec);
  CheckCpuAgainstReference(lb, a, YoloxSpec());  // and a spec change
}

CT_TEST(preprocess_cpu_letterbox_channel_order_and_normalisation) {
  // Uniform BT.601-limited colour (same as the reference test): R 242.99, G 84.47, B 51.43 (float maths, no rounding).
  FramePtr f = MakeUniformYuv420p(320, 240, 126, 90, 200);
  CpuLetterboxer lb;
  ModelInputSpec rgb = UltralyticsSpec(160);
  ModelInputSpec bgr = rgb;
  bgr.channel_order = ChannelOrder::kBGR;
  ModelInputSpec imagenet = rgb;  // (v/255 - mean) / std
  const float mean[3] = {0.485f, 0.456f, 0.406f}, stdv[3] = {0.229f, 0.224f, 0.225f};
  std::copy(mean, mean + 3, imagenet.mean);
  std::copy(stdv, stdv + 3, imagenet.std);
  std::vector<float> o1(3 * 160 * 160), o2(o1.size()), o3(o1.size());
  lb.Run(*f, rgb, o1.data());
  lb.Run(*f, bgr, o2.data());
  lb.Run(*f, imagenet, o3.data());
  const double expect[3] = {242.99, 84.47, 51.43};
  for (int c = 0; c < 3; ++c) {
    CT_EXPECT_NEAR(At(o1, rgb, c, 80, 80) * 255.0, expect[c], 0.05);
    CT_EXPECT(At(o2, bgr, 2 - c, 80, 80) == At(o1, rgb, c, 80, 80));  // BGR = RGB planes reversed
    CT_EXPECT_NEAR(At(o3, imagenet, c, 80, 80), (At(o1, rgb, c, 80, 80) - mean[c]) / stdv[c], 1e-5);
    CT_EXPECT_NEAR(At(o3, imagenet, c, 80, 5), (114.f / 255.f - mean[c]) / stdv[c], 1e-6);  // pad, normalised
  }
}

CT_TEST(preprocess_cpu_letterbox_honours_full_range_and_bt709_tags) {
  CpuLetterboxer lb;
  ModelInputSpec spec = UltralyticsSpec(64);
  spec.scale = 1.f;
  std::vector<float> out(3 * 64 * 64);
  // yuvj420p (JPEG, full range): Y=128 grey stays 128 (limited range would give 130.4).
  FramePtr j = MakeUniformYuv420p(128, 96, 128, 128, 128, AV_PIX_FMT_YUVJ420P);
  lb.Run(*j, spec, out.data());
  for (int c = 0; c < 3; ++c) CT_EXPECT_NEAR(At(out, spec, c, 32, 32), 128.0, 0.01);
  // Limited range: Y=128 → 1.16438*112 = 130.4.
  FramePtr l = MakeUniformYuv420p(128, 96, 128, 128, 128);
  lb.Run(*l, spec, out.data());
  for (int c = 0; c < 3; ++c) CT_EXPECT_NEAR(At(out, spec, c, 32, 32), 130.41, 0.01);
  // BT.709 limited, Y=126 U=90 V=200: R = 128.08 + 1.79274*72 = 257.2 → 255, G = 128.08 - 0.21325*(-38)
  // - 0.53291*72 = 97.81, B = 128.08 + 2.11240*(-38) = 47.81.  (BT.601 would give G 84.5, B 51.4.)
  FramePtr h = MakeUniformYuv420p(128, 96, 126, 90, 200);
  h->colorspace = AVCOL_SPC_BT709;
  lb.Run(*h, spec, out.data());
  CT_EXPECT_NEAR(At(out, spec, 0, 32, 32), 255.0, 0.01);
  CT_EXPECT_NEAR(At(out, spec, 1, 32, 32), 97.81, 0.05);
  CT_EXPECT_NEAR(At(out, spec, 2, 32, 32), 47.81, 0.05);
}

CT_TEST(preprocess_cpu_letterbox_reads_nv12_and_rgb24_frames) {
  CpuLetterboxer lb;
  ModelInputSpec spec = YoloxSpec();  // BGR, 0..255
  std::vector<float> out(3 * 416 * 416);
  // rgb24 (200, 100, 50), 640x360 → 416x234 top-left.
  FramePtr rgb = MakeFrame(640, 360, AV_PIX_FMT_RGB24);
  for (int y = 0; y < 360; ++y)
    for (int x = 0; x < 640; ++x) {
      uint8_t* p = rgb->data[0] + y * rgb->linesize[0] + 3 * x;
      p[0] = 200, p[1] = 100, p[2] = 50;
    }
  LetterboxInfo info = lb.Run(*rgb, spec, out.data());
  CT_EXPECT_NEAR(info.scale, 0.65, 1e-6);
  CT_EXPECT_NEAR(At(out, spec, 0, 100, 100), 50.0, 1e-3);  // B
  CT_EXPECT_NEAR(At(out, spec, 1, 100, 100), 100.0, 1e-3);
  CT_EXPECT_NEAR(At(out, spec, 2, 100, 100), 200.0, 1e-3);  // R
  CT_EXPECT(At(out, spec, 0, 100, 234) == 114.f);            // first pad row (bottom)
  CT_EXPECT_NEAR(At(out, spec, 0, 100, 233), 50.0, 1e-3);  // last image row
  // nv12, the same smooth picture as the reference's input: agrees like the yuv420p frame does.
  const SyntheticYuv img = MakeSmoothYuv420p(1280, 720);
  SyntheticYuv nv;
  nv.w = img.w;
  nv.h = img.h;
  nv.y = img.y;
  nv.uv = img.uv;
  nv.frame = MakeFrame(img.w, img.h, AV_PIX_FMT_NV12);
  for (int y = 0; y < img.h; ++y) std::memcpy(nv.frame->data[0] + y * nv.frame->linesize[0], &img.y[y * img.w], img.w);
  for (int y = 0; y < img.h / 2; ++y)
    std::memcpy(nv.frame->data[1] + y * nv.frame->linesize[1], &img.uv[y * img.w], img.w);
  CheckCpuAgainstReference(lb, nv, spec);
}

CT_TEST(preprocess_cpu_letterbox_rgb24_matches_rgb24_reference) {
  // Smooth RGB picture, 1280x720 → YOLOX 416 (BGR planes): the direct rgb24 path vs the float reference.
  const int w = 1280, h = 720;
  FramePtr f = MakeFrame(w, h, AV_PIX_FMT_RGB24);
  std::vector<uint8_t> tight(static_cast<size_t>(3) * w * h);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      for (int k = 0; k < 3; ++k) {
        const uint8_t v = static_cast<uint8_t>(
            std::lround(128 + 100 * std::sin(2 * M_PI * x / (300.0 + 70 * k)) * std::cos(2 * M_PI * y / 260.0)));
        f->data[0][y * f->linesize[0] + 3 * x + k] = tight[(static_cast<size_t>(y) * w + x) * 3 + k] = v;
      }
  const ModelInputSpec spec = YoloxSpec();
  std::vector<float> cpu(3 * 416 * 416), ref(cpu.size());
  CpuLetterboxer lb;
  const LetterboxInfo info = lb.Run(*f, spec, cpu.data());
  camtrack::preprocess::ReferenceLetterboxRgb24(tight.data(), 3 * w, w, h, spec, ref.data());
  const DiffStats d = CompareImageRegion(cpu, ref, spec, info, 416, 234);
  // Same bilinear as the reference; only float rounding differs (vertical blend first).
  CT_EXPECT_NEAR(d.max(), 0.0, 0.05);
  CT_EXPECT_NEAR(d.mean, 0.0, 0.005);
  CT_EXPECT(CountBadPad(cpu, spec, info, 416, 234) == 0);
  CT_EXPECT(CountBadPad(ref, spec, info, 416, 234) == 0);
}

CT_TEST(preprocess_cpu_letterbox_sharp_content_matches_reference_exactly) {
  // Pseudo-random pixels: the CPU path must resample exactly like the kernel (cv2 INTER_LINEAR semantics, no
  // antialiasing). yuv420p and nv12, both model families, down- and upscaling, odd sizes, one instance throughout
  // (resolution and format changes mid-stream).
  CpuLetterboxer lb;
  const SyntheticYuv a = MakeNoiseYuv420p(1280, 720);
  const SyntheticYuv a_nv12 = MakeNoiseYuv420p(1280, 720, AV_PIX_FMT_NV12);
  const SyntheticYuv b = MakeNoiseYuv420p(333, 199);
  const SyntheticYuv b_nv12 = MakeNoiseYuv420p(333, 199, AV_PIX_FMT_NV12);
  CheckCpuAgainstReference(lb, a, YoloxSpec());
  CheckCpuAgainstReference(lb, a, UltralyticsSpec(640));
  CheckCpuAgainstReference(lb, a_nv12, YoloxSpec());
  CheckCpuAgainstReference(lb, b, UltralyticsSpec(640));  // upscale x1.92
  CheckCpuAgainstReference(lb, b_nv12, YoloxSpec());
  CheckCpuAgainstReference(lb, a, UltralyticsSpec(320));
}

CT_TEST(preprocess_cpu_letterbox_colour_tags_match_reference_matrices) {
  using camtrack::preprocess::YuvColorSpace;
  CpuLetterboxer lb;
  SyntheticYuv img = MakeNoiseYuv420p(640, 360);
  img.frame->colorspace = AVCOL_SPC_BT709;
  CheckCpuAgainstReference(lb, img, YoloxSpec(), YuvColorSpace::kBt709Limited);
  img.frame->color_range = AVCOL_RANGE_JPEG;
  CheckCpuAgainstReference(lb, img, YoloxSpec(), YuvColorSpace::kBt709Full);
  img.frame->colorspace = AVCOL_SPC_SMPTE170M;
  CheckCpuAgainstReference(lb, img, YoloxSpec(), YuvColorSpace::kBt601Full);
  // yuvj420p is full range even untagged.
  SyntheticYuv j = MakeNoiseYuv420p(640, 360, AV_PIX_FMT_YUVJ420P);
  CheckCpuAgainstReference(lb, j, UltralyticsSpec(320), YuvColorSpace::kBt601Full);
}

CT_TEST(preprocess_cpu_letterbox_rgb24_and_bgr24_sharp_content_match_reference) {
  const int w = 333, h = 199;
  FramePtr rgb = MakeFrame(w, h, AV_PIX_FMT_RGB24);
  FramePtr bgr = MakeFrame(w, h, AV_PIX_FMT_BGR24);
  std::vector<uint8_t> tight(static_cast<size_t>(3) * w * h);
  uint32_t state = 777u;
  for (auto& v : tight) {
    state = state * 1664525u + 1013904223u;
    v = static_cast<uint8_t>(state >> 24);
  }
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      for (int k = 0; k < 3; ++k) {
        rgb->data[0][y * rgb->linesize[0] + 3 * x + k] = tight[(static_cast<size_t>(y) * w + x) * 3 + k];
        bgr->data[0][y * bgr->linesize[0] + 3 * x + 2 - k] = tight[(static_cast<size_t>(y) * w + x) * 3 + k];
      }
  CpuLetterboxer lb;
  for (const ModelInputSpec& spec : {YoloxSpec(), UltralyticsSpec(640)}) {
    const size_t n = 3 * static_cast<size_t>(spec.width) * spec.height;
    std::vector<float> o_rgb(n), o_bgr(n), ref(n);
    const LetterboxInfo info = lb.Run(*rgb, spec, o_rgb.data());
    lb.Run(*bgr, spec, o_bgr.data());
    camtrack::preprocess::ReferenceLetterboxRgb24(tight.data(), 3 * w, w, h, spec, ref.data());
    const auto rs = ComputeResizedSize(w, h, spec);
    CT_EXPECT_NEAR(CompareImageRegion(o_rgb, ref, spec, info, rs.width, rs.height).max(), 0.0, 0.05);
    CT_EXPECT(o_bgr == o_rgb);  // byte order handled, same maths
    CT_EXPECT(CountBadPad(o_rgb, spec, info, rs.width, rs.height) == 0);
  }
}

CT_TEST(preprocess_cpu_letterbox_swscale_fallback_yuv444p_and_yuv422p) {
  // Formats without a direct path: swscale converts to RGB24 at source size (no scaling), then the same bilinear.
  // Expected: the RGB24 reference on the exact BT.601-limited conversion of the same pixels, rounded to 8 bits.
  // swscale's fixed-point conversion is within ±1 of that per pixel, so ≤ 1 unit after interpolation.
  const int w = 640, h = 360;
  for (AVPixelFormat fmt : {AV_PIX_FMT_YUV444P, AV_PIX_FMT_YUV422P}) {
    FramePtr f = MakeFrame(w, h, fmt);
    const int cshift = fmt == AV_PIX_FMT_YUV422P ? 1 : 0;
    std::vector<uint8_t> rgb(static_cast<size_t>(3) * w * h);
    const auto m = camtrack::preprocess::detail::MakeYuvToRgb(camtrack::preprocess::YuvColorSpace::kBt601Limited);
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x) {
        // 4:2:2: the chroma of each pixel pair is taken at its left pixel; swscale interpolates it when upsampling,
        // so its result differs a little more there (measured mean 0.14 vs 0.005 for 4:4:4).
        const int cx = x >> cshift;
        const uint8_t Y = SmoothY(x, y, w, h), U = SmoothU(cx << cshift, y, w, h), V = SmoothV(cx << cshift, y, w, h);
        f->data[0][y * f->linesize[0] + x] = Y;
        f->data[1][y * f->linesize[1] + cx] = U;
        f->data[2][y * f->linesize[2] + cx] = V;
        const float yy = m.ky * (Y - m.y_off), u = U - m.c_off, v = V - m.c_off;
        const float c[3] = {yy + m.rv * v, yy + m.gu * u + m.gv * v, yy + m.bu * u};
        for (int k = 0; k < 3; ++k)
          rgb[(static_cast<size_t>(y) * w + x) * 3 + k] = static_cast<uint8_t>(std::lround(std::clamp(c[k], 0.f, 255.f)));
      }
    const ModelInputSpec spec = UltralyticsSpec(320);
    std::vector<float> cpu(3 * 320 * 320), ref(cpu.size());
    CpuLetterboxer lb;
    const LetterboxInfo info = lb.Run(*f, spec, cpu.data());
    camtrack::preprocess::ReferenceLetterboxRgb24(rgb.data(), 3 * w, w, h, spec, ref.data());
    const DiffStats d = CompareImageRegion(cpu, ref, spec, info, 320, 180);
    std::printf("      %s fallback vs exact conversion: max %.3f mean %.3f units\n",
                fmt == AV_PIX_FMT_YUV422P ? "yuv422p" : "yuv444p", d.max(), d.mean);
    CT_EXPECT_NEAR(d.max(), 0.0, 1.0 + 1e-3);  // measured: exactly 1.0 (one rounding step, at a tap)
    CT_EXPECT_NEAR(d.mean, 0.0, 0.3);
    CT_EXPECT(CountBadPad(cpu, spec, info, 320, 180) == 0);
  }
}

CT_TEST(preprocess_cpu_letterbox_BAD_CALL_hardware_frame_is_unsupported) {
  CpuLetterboxer lb;
  FramePtr f(av_frame_alloc());
  f->width = 1280;
  f->height = 720;
  f->format = AV_PIX_FMT_CUDA;
  std::vector<float> out(3 * 416 * 416);
  bool threw = false;
  try {
    lb.Run(*f, YoloxSpec(), out.data());
  } catch (const Error& e) {
    threw = e.code() == ErrorCode::kUnsupported && std::string(e.what()).find("cuda") != std::string::npos;
  }
  CT_EXPECT(threw);
}
