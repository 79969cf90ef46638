#pragma once
// CUDA letterbox: NV12 device surface (e.g. an NVDEC output) → normalised float NCHW planes of one image, written
// straight into its slot of a device batch buffer. No CUDA headers here.
#include "common/geometry.h"
#include "cuda/buffers.h"
#include "preprocess/letterbox.h"

namespace camtrack::cuda {

// One kernel launch on `stream`, asynchronous: returns as soon as it is queued. Reads the Y plane (src_w x src_h
// bytes, y.pitch) and the interleaved UV plane ((src_w+1)/2 pairs x (src_h+1)/2 rows, uv.pitch), writes
// 3 * spec.height * spec.width floats at dst_device (padding included, so the slot needs no clearing first).
// Same maths as preprocess::ReferenceLetterboxNv12 (half-pixel-centre bilinear, `color_space` YUV → RGB in float),
// so the two agree to float rounding. The caller owns all memory and keeps the inputs alive and unmodified until
// the stream reaches this point (record an Event after the call). Thread-safe (no state).
// Throws Error(kInvalidArgument) on bad sizes/pointers, Error(kCuda) if the launch fails, Error(kUnsupported)
// when built without CUDA. Returns the geometry (same as preprocess::ComputeLetterbox).
LetterboxInfo LetterboxNv12ToNchwGpu(const PlaneView& y, const PlaneView& uv, int src_w, int src_h,
                                     const preprocess::ModelInputSpec& spec, float* dst_device, StreamHandle stream,
                                     preprocess::YuvColorSpace color_space = preprocess::YuvColorSpace::kBt601Limited);

}  // namespace camtrack::cuda
