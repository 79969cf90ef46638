// Without CUDA the kernel file is not compiled; this keeps LetterboxNv12ToNchwGpu linkable and makes calling it
// a clear error instead of a link failure.
#include "common/error.h"
#include "cuda/letterbox_gpu.h"

#if !CAMTRACK_WITH_CUDA
namespace camtrack::cuda {

LetterboxInfo LetterboxNv12ToNchwGpu(const PlaneView&, const PlaneView&, int, int, const preprocess::ModelInputSpec&,
                                     float*, StreamHandle, preprocess::YuvColorSpace) {
  throw Error(ErrorCode::kUnsupported, "preprocess", "the CUDA letterbox is not available: this build has no CUDA",
              "rebuild with the CUDA toolkit (nvcc) installed, or use the CPU path");
}

}  // namespace camtrack::cuda
#endif
