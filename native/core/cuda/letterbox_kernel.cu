// The CUDA letterbox kernel. The per-pixel maths lives in preprocess/letterbox_math.h (shared with the reference).
#include <cuda_runtime.h>

#include <string>

#include "common/error.h"
#include "cuda/check.h"
#include "cuda/letterbox_gpu.h"
#include "preprocess/letterbox_math.h"

namespace camtrack::cuda {
namespace {

// One thread per canvas pixel; consecutive threads in x write consecutive floats of each plane (coalesced).
// Padding and image are written by the same launch, so the batch slot needs no memset first.
__global__ void LetterboxNv12Kernel(const uint8_t* __restrict__ y, size_t y_pitch, const uint8_t* __restrict__ uv,
                                    size_t uv_pitch, preprocess::detail::LetterboxParams p,
                                    float* __restrict__ dst) {
  const int ox = blockIdx.x * blockDim.x + threadIdx.x;
  const int oy = blockIdx.y * blockDim.y + threadIdx.y;
  if (ox >= p.dst_w || oy >= p.dst_h) return;
  float v[3];
  preprocess::detail::LetterboxNv12Pixel(y, y_pitch, uv, uv_pitch, p, ox, oy, v);
  const size_t plane = static_cast<size_t>(p.dst_w) * p.dst_h;
  const size_t i = static_cast<size_t>(oy) * p.dst_w + ox;
  dst[i] = v[0];
  dst[plane + i] = v[1];
  dst[2 * plane + i] = v[2];
}

}  // namespace

LetterboxInfo LetterboxNv12ToNchwGpu(const PlaneView& y, const PlaneView& uv, int src_w, int src_h,
                                     const preprocess::ModelInputSpec& spec, float* dst_device, StreamHandle stream,
                                     preprocess::YuvColorSpace color_space) {
  if (!y.data || !uv.data || !dst_device)
    throw Error(ErrorCode::kInvalidArgument, "preprocess", "LetterboxNv12ToNchwGpu: null plane or destination");
  if (y.pitch < static_cast<size_t>(src_w) || uv.pitch < static_cast<size_t>(2 * ((src_w + 1) / 2)) ||
      (y.height && y.height < src_h) || (uv.height && uv.height < (src_h + 1) / 2))
    throw Error(ErrorCode::kInvalidArgument, "preprocess",
                "LetterboxNv12ToNchwGpu: planes smaller than the " + std::to_string(src_w) + "x" +
                    std::to_string(src_h) + " frame");
  // Validates sizes and spec (throws kInvalidArgument).
  const preprocess::detail::LetterboxParams p =
      preprocess::detail::MakeLetterboxParams(src_w, src_h, spec, color_space);
  const dim3 block(32, 8);
  const dim3 grid((p.dst_w + block.x - 1) / block.x, (p.dst_h + block.y - 1) / block.y);
  LetterboxNv12Kernel<<<grid, block, 0, stream>>>(static_cast<const uint8_t*>(y.data), y.pitch,
                                                   static_cast<const uint8_t*>(uv.data), uv.pitch, p, dst_device);
  CAMTRACK_CUDA_CHECK(cudaGetLastError());
  return preprocess::ComputeLetterbox(src_w, src_h, spec);
}

}  // namespace camtrack::cuda
