#pragma once
// Letterbox preprocessing: fit a decoded frame into a model's fixed input, keeping the aspect ratio, padding the
// rest, converting to float NCHW planes with the model's channel order and normalisation.
//
// Three implementations share ONE definition of the geometry (ComputeLetterbox) and of the maths:
//   - CpuLetterboxer: the CPU production path (the same maths as the reference, sampled directly from yuv420p /
//     nv12 / rgb24 frames; other formats converted by swscale at source size first).
//   - camtrack::cuda::LetterboxNv12ToNchwGpu (cuda/letterbox_gpu.h): the CUDA kernel on NVDEC surfaces.
//   - ReferenceLetterboxNv12: plain C++, the exact maths of the CUDA kernel (tests compare against it).
//
// This header includes no FFmpeg or CUDA headers (AVFrame / SwsContext are forward-declared).
#include <cstddef>
#include <cstdint>
#include <memory>

#include "common/geometry.h"

struct AVFrame;
struct SwsContext;

namespace camtrack::preprocess {

// Order of the three output planes: kRGB → planes R,G,B (Ultralytics); kBGR → planes B,G,R (YOLOX, OpenCV).
enum class ChannelOrder { kRGB, kBGR };

// Where the resized image sits on the canvas.
//   kCenter:  Ultralytics LetterBox: new size round(w*r) x round(h*r), pad left = round(dw-0.1), top = round(dh-0.1).
//   kTopLeft: YOLOX preproc: new size int(w*r) x int(h*r), pasted at (0,0); padding right and bottom only.
enum class LetterboxAlign { kCenter, kTopLeft };

// YUV → RGB matrix of the source (ITU-R BT.601 / BT.709, limited 16..235 or full 0..255 range).
enum class YuvColorSpace { kBt601Limited, kBt709Limited, kBt601Full, kBt709Full };

// What a model wants as input. Plain value type. Output value of a channel with 0..255 value v:
//   out = (v * scale - mean[c]) / std[c]      (c = output plane index, i.e. in channel_order)
// e.g. YOLOX: {416, 416, kBGR, kTopLeft, 114, 1.f}; Ultralytics: {640, 640, kRGB, kCenter, 114, 1/255.f}.
struct ModelInputSpec {
  int width = 640;
  int height = 640;
  ChannelOrder channel_order = ChannelOrder::kRGB;
  LetterboxAlign align = LetterboxAlign::kCenter;
  float pad_value = 114.f;  // 0..255, before normalisation
  float scale = 1.f / 255.f;
  float mean[3] = {0.f, 0.f, 0.f};
  float std[3] = {1.f, 1.f, 1.f};
};

// Geometry of letterboxing a src_w x src_h frame into `spec` (pure function, thread-safe).
// Result: scale = r, pad_x/pad_y = left/top padding in model-input pixels, src size. Boxes map back with
// x_src = (x_in - pad_x) / scale. Throws Error(kInvalidArgument) on non-positive sizes.
LetterboxInfo ComputeLetterbox(int src_w, int src_h, const ModelInputSpec& spec);

// Size of the resized (un-padded) image inside the canvas: the same rounding as ComputeLetterbox.
struct ResizedSize {
  int width;
  int height;
};
ResizedSize ComputeResizedSize(int src_w, int src_h, const ModelInputSpec& spec);

// Reference letterbox of an NV12 host image (Y plane + interleaved UV plane at half resolution), with the exact
// maths of the CUDA kernel: half-pixel-centre bilinear sampling of Y and of UV (chroma sited at the centre of
// its 2x2 luma block), edge clamping, YUV → RGB with `color_space` in float (no rounding), clamped to 0..255,
// then normalised. Writes 3 * spec.height * spec.width floats (NCHW planes of one image) to dst.
// Slow (for tests and as documentation of the maths); thread-safe; caller owns all buffers.
LetterboxInfo ReferenceLetterboxNv12(const uint8_t* y, int y_pitch, const uint8_t* uv, int uv_pitch, int w, int h,
                                     const ModelInputSpec& spec, float* dst,
                                     YuvColorSpace color_space = YuvColorSpace::kBt601Limited);

// Reference letterbox of a packed RGB24 host image (rgb_pitch bytes per row), same sampling as the NV12 one
// (half-pixel-centre bilinear, edge clamping, float, no rounding). Slow; thread-safe; caller owns all buffers.
LetterboxInfo ReferenceLetterboxRgb24(const uint8_t* rgb, int rgb_pitch, int w, int h, const ModelInputSpec& spec,
                                      float* dst);

// The CPU production path. One instance per stream (or per thread): NOT thread-safe.
// Owns per-geometry sampling tables and float scratch rows (rebuilt only when the source size or the resized size
// changes; a resolution change mid-stream is supported) and, for the swscale fallback, a context and an RGB24
// buffer at source size. After the first frame of a given geometry and format, Run() performs no heap allocation.
class CpuLetterboxer {
 public:
  CpuLetterboxer();
  ~CpuLetterboxer();
  CpuLetterboxer(const CpuLetterboxer&) = delete;
  CpuLetterboxer& operator=(const CpuLetterboxer&) = delete;
  CpuLetterboxer(CpuLetterboxer&&) noexcept;
  CpuLetterboxer& operator=(CpuLetterboxer&&) noexcept;

  // Letterboxes one software frame (any pixel format swscale reads: yuv420p, yuvj420p, nv12, rgb24, …; not a
  // hardware frame) into dst: 3 * spec.height * spec.width floats, the NCHW planes of ONE image (the caller
  // points dst at slot k of its batch buffer and keeps ownership). The frame is only read during the call.
  // Maths of ReferenceLetterboxNv12 (half-pixel-centre bilinear as cv2 INTER_LINEAR, no antialiasing; float YUV →
  // RGB; clamp; normalise): yuv420p / yuvj420p / nv12 tagged BT.601, BT.709 or untagged are sampled directly
  // (equal to the reference up to float rounding); rgb24 / bgr24 as ReferenceLetterboxRgb24; every other format
  // (and FCC / SMPTE240M / BT.2020 tags) is converted to RGB24 at source size by swscale, then the same bilinear.
  // YUV sources use the frame's colorspace/color_range tags (untagged = BT.601 limited, yuvj* = full range).
  // Throws Error(kInvalidArgument) for a bad frame/spec, Error(kUnsupported) for a hardware frame or a pixel
  // format swscale cannot read.
  LetterboxInfo Run(const AVFrame& frame, const ModelInputSpec& spec, float* dst);

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace camtrack::preprocess
