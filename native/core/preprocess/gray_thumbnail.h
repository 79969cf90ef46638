#pragma once
// A small grayscale copy of a decoded frame, for the motion measure (batch/motion.h): each of the `w` x `h` cells
// is the mean luma of its block of the source frame, estimated from up to kTaps x kTaps evenly spaced samples of the
// block (so a 1080p frame costs at most 64 · 36 · 16 reads, not a full pass over its 2 M pixels).
//
// Formats: any 8-bit format whose first component is luma (planar/semi-planar YUV such as yuv420p, yuvj420p,
// yuv422p, nv12, packed yuyv422, gray) reads it directly; 8-bit packed or planar RGB (rgb24, bgr24, rgba, gbrp, …)
// is converted with the BT.601 weights (77 R + 150 G + 29 B) / 256. Others (high bit depth, palettes, bitstream
// formats) return false: the caller then treats the frame as moving (it is inferred). No allocation; thread-safe.
#include <cstdint>

struct AVFrame;

namespace camtrack::preprocess {

constexpr int kGrayThumbnailTaps = 4;

// Writes `w` * `h` bytes (row-major, `w` per row) to `out`. False when the frame's format is not supported.
bool GrayThumbnail(const AVFrame& frame, int w, int h, uint8_t* out) noexcept;

}  // namespace camtrack::preprocess
