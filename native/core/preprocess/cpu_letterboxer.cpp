// CpuLetterboxer: the CPU letterbox with the maths of ReferenceLetterboxNv12 / the CUDA kernel (letterbox_math.h):
// half-pixel-centre bilinear (cv2.resize INTER_LINEAR semantics, no antialiasing) of Y and of chroma sampled
// directly at each output pixel, YUV → RGB in float, clamp 0..255, normalise, write NCHW planes. See letterbox.h.
//
// Paths (chosen per frame from the pixel format and colour tags):
//   - yuv420p / yuvj420p / nv12 with BT.601 or BT.709 (or untagged) colour: direct. Per output row, the two source
//     rows are blended vertically into float scratch rows (contiguous, auto-vectorised), then each output pixel
//     takes its two horizontal taps from those rows through per-column index/weight tables (built once per
//     geometry and reused). Equals the reference up to float rounding (the reference blends horizontally first).
//   - rgb24 / bgr24: the same bilinear on the packed RGB rows (= ReferenceLetterboxRgb24).
//   - everything else swscale can read (yuv422p, yuv444p, 10-bit, rgba, gray, FCC/SMPTE240M/BT.2020-tagged
//     yuv, …): swscale converts the frame to packed RGB24 at SOURCE size (no scaling, so no low-pass filter; colour
//     from the frame's tags), then the rgb24 path. Slower (one full-size conversion), but the same resampling.
extern "C" {
#include <libavutil/frame.h>
#include <libavutil/mem.h>
#include <libavutil/pixdesc.h>
#include <libswscale/swscale.h>
}

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "common/error.h"
#include "preprocess/letterbox.h"
#include "preprocess/letterbox_math.h"

namespace camtrack::preprocess {
namespace {

using detail::LetterboxParams;

// The deprecated yuvj* formats are the same layouts as yuv* with full range; swscale warns on them, so map them.
AVPixelFormat NormaliseFormat(AVPixelFormat fmt, bool* full_range) {
  switch (fmt) {
    case AV_PIX_FMT_YUVJ420P: *full_range = true; return AV_PIX_FMT_YUV420P;
    case AV_PIX_FMT_YUVJ422P: *full_range = true; return AV_PIX_FMT_YUV422P;
    case AV_PIX_FMT_YUVJ444P: *full_range = true; return AV_PIX_FMT_YUV444P;
    case AV_PIX_FMT_YUVJ440P: *full_range = true; return AV_PIX_FMT_YUV440P;
    case AV_PIX_FMT_YUVJ411P: *full_range = true; return AV_PIX_FMT_YUV411P;
    default: return fmt;
  }
}

int SwsColorspace(AVColorSpace cs) {
  switch (cs) {
    case AVCOL_SPC_BT709: return SWS_CS_ITU709;
    case AVCOL_SPC_FCC: return SWS_CS_FCC;
    case AVCOL_SPC_SMPTE240M: return SWS_CS_SMPTE240M;
    case AVCOL_SPC_BT2020_NCL:
    case AVCOL_SPC_BT2020_CL: return SWS_CS_BT2020;
    default: return SWS_CS_ITU601;  // BT470BG, SMPTE170M, unspecified: swscale's default
  }
}

// The matrices the direct path implements (those of the kernel). False for FCC / SMPTE240M / BT.2020 tags, which go
// through swscale instead.
bool DirectColorSpace(AVColorSpace cs, bool full_range, YuvColorSpace* out) {
  switch (cs) {
    case AVCOL_SPC_BT709:
      *out = full_range ? YuvColorSpace::kBt709Full : YuvColorSpace::kBt709Limited;
      return true;
    case AVCOL_SPC_FCC:
    case AVCOL_SPC_SMPTE240M:
    case AVCOL_SPC_BT2020_NCL:
    case AVCOL_SPC_BT2020_CL:
      return false;
    default:  // BT470BG, SMPTE170M, unspecified (as swscale): BT.601
      *out = full_range ? YuvColorSpace::kBt601Full : YuvColorSpace::kBt601Limited;
      return true;
  }
}

struct AvFreeDeleter {
  void operator()(uint8_t* p) const noexcept { av_free(p); }
};

// Everything that forces a new swscale context (fallback path) when it changes.
struct ScaleKey {
  int src_w = 0, src_h = 0;
  int src_fmt = -1;
  int colorspace = -1;
  int full_range = -1;
  bool operator==(const ScaleKey& o) const {
    return src_w == o.src_w && src_h == o.src_h && src_fmt == o.src_fmt && colorspace == o.colorspace &&
           full_range == o.full_range;
  }
};

// Output-plane pointers and affine normalisation for the R, G and B values of one canvas row.
struct RowOut {
  float* r;
  float* g;
  float* b;
  float ar, br, ag, bg, ab, bb;  // out = v * a + b
};

// Vertical blend of two 8-bit rows into floats: out[i] = r0[i] + (r1[i] - r0[i]) * t. Auto-vectorised.
inline void BlendRows(const uint8_t* __restrict r0, const uint8_t* __restrict r1, float t, int n,
                      float* __restrict out) {
  for (int i = 0; i < n; ++i) {
    const float a = r0[i], b = r1[i];
    out[i] = a + (b - a) * t;
  }
}

// Same for the interleaved UV row of NV12, de-interleaving into separate U and V rows.
inline void BlendRowsUv(const uint8_t* __restrict r0, const uint8_t* __restrict r1, float t, int n,
                        float* __restrict u, float* __restrict v) {
  for (int i = 0; i < n; ++i) {
    const float u0 = r0[2 * i], u1 = r1[2 * i], v0 = r0[2 * i + 1], v1 = r1[2 * i + 1];
    u[i] = u0 + (u1 - u0) * t;
    v[i] = v0 + (v1 - v0) * t;
  }
}

// out[x] = row[i0[x]] + (row[i1[x]] - row[i0[x]]) * f[x]: the horizontal bilinear taps of one row.
void HorizontalTaps(const float* __restrict row, const int* __restrict i0, const int* __restrict i1,
                    const float* __restrict f, int n, float* __restrict out) {
  for (int x = 0; x < n; ++x) {
    const float a = row[i0[x]], b = row[i1[x]];
    out[x] = a + (b - a) * f[x];
  }
}
// The same for two rows sharing the taps (U and V).
void HorizontalTaps2(const float* __restrict ra, const float* __restrict rb, const int* __restrict i0,
                     const int* __restrict i1, const float* __restrict f, int n, float* __restrict oa,
                     float* __restrict ob) {
  for (int x = 0; x < n; ++x) {
    const int j0 = i0[x], j1 = i1[x];
    const float t = f[x];
    const float a0 = ra[j0], a1 = ra[j1], b0 = rb[j0], b1 = rb[j1];
    oa[x] = a0 + (a1 - a0) * t;
    ob[x] = b0 + (b1 - b0) * t;
  }
}

// YUV (float rows) → RGB, clamped to 0..255, normalised into three output rows. Separate function with restrict
// parameters and branch-free clamps so that the compiler vectorises it.
inline float Clamp255(float v) {
  v = v < 0.f ? 0.f : v;
  return v > 255.f ? 255.f : v;
}
void ConvertRow(const float* __restrict ty, const float* __restrict tu, const float* __restrict tv, int n,
                const detail::YuvToRgb& m, float* __restrict dr, float* __restrict dg, float* __restrict db,
                const RowOut& o) {
  const float ky = m.ky, y_off = m.y_off, c_off = m.c_off, rv = m.rv, gu = m.gu, gv = m.gv, bu = m.bu;
  const float ar = o.ar, br = o.br, ag = o.ag, bg = o.bg, ab = o.ab, bb = o.bb;
  for (int x = 0; x < n; ++x) {
    const float yy = ky * (ty[x] - y_off), u = tu[x] - c_off, v = tv[x] - c_off;
    dr[x] = Clamp255(yy + rv * v) * ar + br;
    dg[x] = Clamp255(yy + gu * u + gv * v) * ag + bg;
    db[x] = Clamp255(yy + bu * u) * ab + bb;
  }
}

}  // namespace

struct CpuLetterboxer::State {
  // Sampling tables of the current geometry (source size, resized size): per output column / row of the resized
  // image, the two source taps and the weight of the second, for luma and chroma. Computed by the helpers of
  // detail::LetterboxNv12Pixel (SourceCoord, ChromaCoord, Tap), so indices and weights are bit-identical to the
  // kernel's.
  int geo_src_w = 0, geo_src_h = 0, geo_new_w = 0, geo_new_h = 0;
  std::vector<int> lx0, lx1, cx0, cx1, ly0, ly1, cy0, cy1;
  std::vector<float> lfx, cfx, lfy, cfy;
  std::vector<int> rgb_x0, rgb_x1;  // 3 * lx0, 3 * lx1 (offsets into a packed RGB row)
  // Float scratch rows (vertical blends), sized per geometry.
  std::vector<float> yrow, urow, vrow, rgbrow;
  std::vector<float> hy, hu, hv;  // Y, U, V of one resized row (new_w each)

  // Fallback: swscale to packed RGB24 at source size.
  SwsContext* sws = nullptr;
  ScaleKey sws_key;
  std::unique_ptr<uint8_t, AvFreeDeleter> rgb;  // src_h rows of rgb_stride bytes
  size_t rgb_capacity = 0;
  int rgb_stride = 0;

  ~State() { sws_freeContext(sws); }

  // Rebuilds the tables when the geometry changes (the only allocations besides the fallback buffer).
  void UpdateGeometry(const LetterboxParams& p) {
    if (p.src_w == geo_src_w && p.src_h == geo_src_h && p.new_w == geo_new_w && p.new_h == geo_new_h) return;
    const int cw = (p.src_w + 1) / 2, ch = (p.src_h + 1) / 2;
    auto axis = [](int n_out, float inv, int n_src, int n_chroma, std::vector<int>& l0, std::vector<int>& l1,
                   std::vector<float>& lf, std::vector<int>& c0, std::vector<int>& c1, std::vector<float>& cf) {
      l0.resize(n_out), l1.resize(n_out), lf.resize(n_out), c0.resize(n_out), c1.resize(n_out), cf.resize(n_out);
      for (int r = 0; r < n_out; ++r) {
        const float s = detail::SourceCoord(r, inv);
        const detail::AxisTap l = detail::Tap(s, n_src), c = detail::Tap(detail::ChromaCoord(s), n_chroma);
        l0[r] = l.i0, l1[r] = l.i1, lf[r] = l.f;
        c0[r] = c.i0, c1[r] = c.i1, cf[r] = c.f;
      }
    };
    axis(p.new_w, p.inv_sx, p.src_w, cw, lx0, lx1, lfx, cx0, cx1, cfx);
    axis(p.new_h, p.inv_sy, p.src_h, ch, ly0, ly1, lfy, cy0, cy1, cfy);
    rgb_x0.resize(p.new_w);
    rgb_x1.resize(p.new_w);
    for (int x = 0; x < p.new_w; ++x) rgb_x0[x] = 3 * lx0[x], rgb_x1[x] = 3 * lx1[x];
    yrow.assign(p.src_w, 0.f);
    urow.assign(cw, 0.f);
    vrow.assign(cw, 0.f);
    hy.assign(p.new_w, 0.f);
    hu.assign(p.new_w, 0.f);
    hv.assign(p.new_w, 0.f);
    rgbrow.clear();  // sized on first use by the RGB path (3 * src_w)
    geo_src_w = p.src_w, geo_src_h = p.src_h, geo_new_w = p.new_w, geo_new_h = p.new_h;
  }

  // Converts `frame` to packed RGB24 at source size with swscale (fallback path). Returns the buffer.
  const uint8_t* ConvertToRgb24(const AVFrame& frame, AVPixelFormat src_fmt, bool yuv, bool full_range) {
    ScaleKey key;
    key.src_w = frame.width;
    key.src_h = frame.height;
    key.src_fmt = src_fmt;
    key.colorspace = yuv ? SwsColorspace(frame.colorspace) : -1;
    key.full_range = yuv ? (full_range ? 1 : 0) : -1;
    if (!sws || !(key == sws_key)) {
      // Re-created only on a size / format / colour change; a failure leaves the object usable for the next frame.
      sws_freeContext(sws);
      sws = nullptr;
      if (!sws_isSupportedInput(src_fmt))
        throw Error(ErrorCode::kUnsupported, "preprocess",
                    std::string("swscale cannot read pixel format ") + av_get_pix_fmt_name(src_fmt),
                    "transcode the source to yuv420p (e.g. ffmpeg -i in -pix_fmt yuv420p -c:v libx264 out.mp4)");
      // Same size in and out: swscale only converts (chroma upsampling + matrix); ACCURATE_RND and FULL_CHR_H_INT
      // keep it within rounding of the exact conversion.
      sws = sws_getContext(key.src_w, key.src_h, src_fmt, key.src_w, key.src_h, AV_PIX_FMT_RGB24,
                           SWS_BILINEAR | SWS_FULL_CHR_H_INT | SWS_ACCURATE_RND, nullptr, nullptr, nullptr);
      if (!sws)
        throw Error(ErrorCode::kInternal, "preprocess",
                    "sws_getContext failed for " + std::to_string(key.src_w) + "x" + std::to_string(key.src_h) +
                        " " + av_get_pix_fmt_name(src_fmt) + " -> rgb24");
      if (yuv) {
        // Source matrix and range from the frame's tags; RGB output full range; neutral brightness/contrast.
        sws_setColorspaceDetails(sws, sws_getCoefficients(key.colorspace), key.full_range,
                                 sws_getCoefficients(SWS_CS_DEFAULT), 1, 0, 1 << 16, 1 << 16);
      }
      rgb_stride = FFALIGN(key.src_w * 3, 64);
      const size_t need = static_cast<size_t>(rgb_stride) * key.src_h + 64;  // +64: SIMD writers may overrun
      if (need > rgb_capacity) {
        rgb.reset(static_cast<uint8_t*>(av_malloc(need)));
        if (!rgb) {
          rgb_capacity = 0;
          sws_freeContext(sws);
          sws = nullptr;
          throw Error(ErrorCode::kInternal, "preprocess", "out of memory for the letterbox RGB buffer");
        }
        rgb_capacity = need;
      }
      sws_key = key;
    }
    uint8_t* planes[4] = {rgb.get(), nullptr, nullptr, nullptr};
    int linesize[4] = {rgb_stride, 0, 0, 0};
    const int rows = sws_scale(sws, frame.data, frame.linesize, 0, frame.height, planes, linesize);
    if (rows != frame.height)
      throw Error(ErrorCode::kInternal, "preprocess",
                  "sws_scale wrote " + std::to_string(rows) + " rows, expected " + std::to_string(frame.height), {},
                  rows);
    return rgb.get();
  }

  // One resized-image row from YUV 4:2:0 (planar, or NV12 when `uv` is set). Row pointers may have any pitch
  // (including negative).
  void YuvRow(const AVFrame& f, bool nv12, const LetterboxParams& p, int ry, const RowOut& o, int* last_l,
              int* last_c) {
    const uint8_t* const* d = f.data;
    const ptrdiff_t lp = f.linesize[0];
    const int cw = (p.src_w + 1) / 2;
    // Vertical blends (skipped when this row uses the same taps as the previous one, as when upscaling).
    const int pl = *last_l, pc = *last_c;
    if (pl < 0 || ly0[pl] != ly0[ry] || ly1[pl] != ly1[ry] || lfy[pl] != lfy[ry]) {
      BlendRows(d[0] + ly0[ry] * lp, d[0] + ly1[ry] * lp, lfy[ry], p.src_w, yrow.data());
    }
    *last_l = ry;
    if (pc < 0 || cy0[pc] != cy0[ry] || cy1[pc] != cy1[ry] || cfy[pc] != cfy[ry]) {
      if (nv12) {
        const ptrdiff_t cp = f.linesize[1];
        BlendRowsUv(d[1] + cy0[ry] * cp, d[1] + cy1[ry] * cp, cfy[ry], cw, urow.data(), vrow.data());
      } else {
        const ptrdiff_t up = f.linesize[1], vp = f.linesize[2];
        BlendRows(d[1] + cy0[ry] * up, d[1] + cy1[ry] * up, cfy[ry], cw, urow.data());
        BlendRows(d[2] + cy0[ry] * vp, d[2] + cy1[ry] * vp, cfy[ry], cw, vrow.data());
      }
    }
    *last_c = ry;

    // Horizontal taps into float rows (gathers), then colour conversion, clamp and normalisation in a separate
    // loop without gathers, which the compiler vectorises.
    HorizontalTaps(yrow.data(), lx0.data(), lx1.data(), lfx.data(), p.new_w, hy.data());
    HorizontalTaps2(urow.data(), vrow.data(), cx0.data(), cx1.data(), cfx.data(), p.new_w, hu.data(), hv.data());
    ConvertRow(hy.data(), hu.data(), hv.data(), p.new_w, p.m, o.r, o.g, o.b, o);
  }

  // One resized-image row from packed 24-bit RGB (`swap` for BGR byte order).
  void RgbRow(const uint8_t* base, ptrdiff_t pitch, bool swap, const LetterboxParams& p, int ry, const RowOut& o) {
    const int n = 3 * p.src_w;
    if (rgbrow.size() != static_cast<size_t>(n)) rgbrow.assign(n, 0.f);  // first RGB frame of a geometry only
    BlendRows(base + ly0[ry] * pitch, base + ly1[ry] * pitch, lfy[ry], n, rgbrow.data());
    const float* __restrict row = rgbrow.data();
    const int* __restrict x0 = rgb_x0.data();
    const int* __restrict x1 = rgb_x1.data();
    const float* __restrict fx = lfx.data();
    float* __restrict d_first = swap ? o.b : o.r;  // byte 0 of a pixel
    float* __restrict dg = o.g;
    float* __restrict d_last = swap ? o.r : o.b;
    const float a_first = swap ? o.ab : o.ar, b_first = swap ? o.bb : o.br;
    const float a_last = swap ? o.ar : o.ab, b_last = swap ? o.br : o.bb;
    for (int x = 0; x < p.new_w; ++x) {
      const float* s0 = row + x0[x];
      const float* s1 = row + x1[x];
      const float t = fx[x];
      d_first[x] = (s0[0] + (s1[0] - s0[0]) * t) * a_first + b_first;
      dg[x] = (s0[1] + (s1[1] - s0[1]) * t) * o.ag + o.bg;
      d_last[x] = (s0[2] + (s1[2] - s0[2]) * t) * a_last + b_last;
    }
  }
};

CpuLetterboxer::CpuLetterboxer() : state_(std::make_unique<State>()) {}
CpuLetterboxer::~CpuLetterboxer() = default;
CpuLetterboxer::CpuLetterboxer(CpuLetterboxer&&) noexcept = default;
CpuLetterboxer& CpuLetterboxer::operator=(CpuLetterboxer&&) noexcept = default;

LetterboxInfo CpuLetterboxer::Run(const AVFrame& frame, const ModelInputSpec& spec, float* dst) {
  if (!state_) throw Error(ErrorCode::kInvalidState, "preprocess", "CpuLetterboxer used after move");
  if (!dst) throw Error(ErrorCode::kInvalidArgument, "preprocess", "null destination");
  const auto raw_fmt = static_cast<AVPixelFormat>(frame.format);
  const AVPixFmtDescriptor* desc = av_pix_fmt_desc_get(raw_fmt);
  if (!desc)
    throw Error(ErrorCode::kInvalidArgument, "preprocess",
                "frame has no valid pixel format (" + std::to_string(frame.format) + ")");
  if (desc->flags & AV_PIX_FMT_FLAG_HWACCEL)
    throw Error(ErrorCode::kUnsupported, "preprocess",
                std::string("CpuLetterboxer needs a software frame, got hardware format ") + desc->name,
                "download the frame (av_hwframe_transfer_data) or use the CUDA letterbox");
  if (!frame.data[0]) throw Error(ErrorCode::kInvalidArgument, "preprocess", "frame has no pixel data");
  const int src_w = frame.width, src_h = frame.height;
  State& s = *state_;

  bool full_range = frame.color_range == AVCOL_RANGE_JPEG;
  const AVPixelFormat src_fmt = NormaliseFormat(raw_fmt, &full_range);
  const bool yuv = !(desc->flags & AV_PIX_FMT_FLAG_RGB) && desc->nb_components >= 3;

  // Pick the path.
  enum class Path { kYuv420p, kNv12, kRgb24, kBgr24, kSwscale } path = Path::kSwscale;
  YuvColorSpace cs = YuvColorSpace::kBt601Limited;
  if ((src_fmt == AV_PIX_FMT_YUV420P || src_fmt == AV_PIX_FMT_NV12) &&
      DirectColorSpace(frame.colorspace, full_range, &cs) && frame.data[1] &&
      (src_fmt == AV_PIX_FMT_NV12 || frame.data[2])) {
    path = src_fmt == AV_PIX_FMT_NV12 ? Path::kNv12 : Path::kYuv420p;
  } else if (src_fmt == AV_PIX_FMT_RGB24) {
    path = Path::kRgb24;
  } else if (src_fmt == AV_PIX_FMT_BGR24) {
    path = Path::kBgr24;
  }
  // Validates sizes and spec (throws kInvalidArgument) and gives geometry, matrix and normalisation.
  const LetterboxParams p = detail::MakeLetterboxParams(src_w, src_h, spec, cs);
  const LetterboxInfo info = ComputeLetterbox(src_w, src_h, spec);
  s.UpdateGeometry(p);

  const uint8_t* rgb_base = nullptr;
  ptrdiff_t rgb_pitch = 0;
  if (path == Path::kRgb24 || path == Path::kBgr24) {
    rgb_base = frame.data[0];
    rgb_pitch = frame.linesize[0];
  } else if (path == Path::kSwscale) {
    rgb_base = s.ConvertToRgb24(frame, src_fmt, yuv, full_range);
    rgb_pitch = s.rgb_stride;
  }

  // Output planes: plane c holds source channel p.src_ch[c] (0=R, 1=G, 2=B).
  const int W = spec.width, H = spec.height;
  const size_t plane = static_cast<size_t>(W) * H;
  float* planes[3] = {dst, dst + plane, dst + 2 * plane};
  float* ch_plane[3];
  float ch_a[3], ch_b[3];
  for (int c = 0; c < 3; ++c) {
    ch_plane[p.src_ch[c]] = planes[c];
    ch_a[p.src_ch[c]] = p.a[c];
    ch_b[p.src_ch[c]] = p.b[c];
  }

  // Canvas, row by row: top pad rows, then [left pad | resized row | right pad], then bottom pad rows.
  const int right = W - p.pad_x - p.new_w;
  const size_t top = static_cast<size_t>(p.pad_y) * W;
  for (int c = 0; c < 3; ++c) std::fill_n(planes[c], top, p.pad[c]);
  int last_l = -1, last_c = -1;
  for (int ry = 0; ry < p.new_h; ++ry) {
    const size_t row = static_cast<size_t>(p.pad_y + ry) * W;
    for (int c = 0; c < 3; ++c) {
      std::fill_n(planes[c] + row, p.pad_x, p.pad[c]);
      std::fill_n(planes[c] + row + p.pad_x + p.new_w, right, p.pad[c]);
    }
    const size_t at = row + p.pad_x;
    const RowOut o{ch_plane[0] + at, ch_plane[1] + at, ch_plane[2] + at, ch_a[0], ch_b[0],
                   ch_a[1],          ch_b[1],          ch_a[2],          ch_b[2]};
    if (path == Path::kYuv420p || path == Path::kNv12)
      s.YuvRow(frame, path == Path::kNv12, p, ry, o, &last_l, &last_c);
    else
      s.RgbRow(rgb_base, rgb_pitch, path == Path::kBgr24, p, ry, o);
  }
  const size_t bottom_start = static_cast<size_t>(p.pad_y + p.new_h) * W;
  for (int c = 0; c < 3; ++c) std::fill_n(planes[c] + bottom_start, plane - bottom_start, p.pad[c]);
  return info;
}

}  // namespace camtrack::preprocess
