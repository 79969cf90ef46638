#pragma once
// CAMTRACK_CUDA_CHECK(expr): evaluate a CUDA runtime call; on failure throw camtrack::Error(kCuda, "cuda",
// "<cudaGetErrorName>: <cudaGetErrorString> in <expr> at file:line", hint, native code = the cudaError_t).
// Never aborts. Only usable in code compiled with CAMTRACK_WITH_CUDA (it needs cuda_runtime_api.h).
// Thread-safe (no state). Note: a sticky error (e.g. an illegal address in a kernel) leaves the context unusable;
// the exception still carries the call site where it was first seen.
#include "common/error.h"

#if CAMTRACK_WITH_CUDA
#include <cuda_runtime_api.h>

namespace camtrack::cuda {

// Builds and throws the Error for `err` (kept out of line so the macro stays small). Never returns.
[[noreturn]] void ThrowCudaError(cudaError_t err, const char* expr, const char* file, int line);

// A hint for the user for a given CUDA error (driver too old, no device, out of memory, …).
const char* CudaErrorHint(cudaError_t err) noexcept;

}  // namespace camtrack::cuda

#define CAMTRACK_CUDA_CHECK(expr)                                                       \
  do {                                                                                  \
    const cudaError_t camtrack_cuda_err_ = (expr);                                      \
    if (camtrack_cuda_err_ != cudaSuccess)                                              \
      ::camtrack::cuda::ThrowCudaError(camtrack_cuda_err_, #expr, __FILE__, __LINE__);  \
  } while (0)

#endif  // CAMTRACK_WITH_CUDA
