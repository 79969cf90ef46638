#include "cuda/check.h"

#if CAMTRACK_WITH_CUDA
#include <string>

namespace camtrack::cuda {

const char* CudaErrorHint(cudaError_t err) noexcept {
  switch (err) {
    case cudaErrorInsufficientDriver:
      return "the NVIDIA driver is missing or older than this build's CUDA runtime needs (CUDA 13 needs R580+); "
             "install/upgrade the driver or use the CPU path";
    case cudaErrorNoDevice:
      return "no CUDA GPU is visible: check nvidia-smi and CUDA_VISIBLE_DEVICES, or use the CPU path";
    case cudaErrorInvalidDevice:
      return "the requested GPU index does not exist on this machine (see `camtrack doctor`)";
    case cudaErrorMemoryAllocation:
      return "GPU out of memory: lower maxBatchSize or the number of streams, or free the GPU";
    case cudaErrorNoKernelImageForDevice:
    case cudaErrorUnsupportedPtxVersion:
      return "this build has no kernel for this GPU's architecture: rebuild with CMAKE_CUDA_ARCHITECTURES "
             "including it, or update the driver";
    case cudaErrorIllegalAddress:
    case cudaErrorLaunchFailure:
      return "a kernel faulted (this is a bug; the CUDA context is now unusable): please report it with "
             "CUDA_LAUNCH_BLOCKING=1 output";
    default:
      return "re-run with CUDA_LAUNCH_BLOCKING=1 to find the failing call; `camtrack doctor` shows the CUDA setup";
  }
}

void ThrowCudaError(cudaError_t err, const char* expr, const char* file, int line) {
  std::string msg = cudaGetErrorName(err);
  msg += ": ";
  msg += cudaGetErrorString(err);
  msg += " in ";
  msg += expr;
  msg += " at ";
  msg += file;
  msg += ":";
  msg += std::to_string(line);
  throw Error(ErrorCode::kCuda, "cuda", msg, CudaErrorHint(err), static_cast<long long>(err));
}

}  // namespace camtrack::cuda
#endif  // CAMTRACK_WITH_CUDA
