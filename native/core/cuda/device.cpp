#include "cuda/device.h"

#include <exception>

#if CAMTRACK_WITH_CUDA
#include <cuda_runtime_api.h>
#endif

namespace camtrack::cuda {

#if CAMTRACK_WITH_CUDA
namespace {
std::string Describe(const char* call, cudaError_t err) {
  return std::string(call) + " failed: " + cudaGetErrorName(err) + " (" + std::to_string(static_cast<int>(err)) +
         "): " + cudaGetErrorString(err);
}
}  // namespace
#endif

CudaStatus ProbeCuda() noexcept {
  CudaStatus st;
  try {
#if !CAMTRACK_WITH_CUDA
    st.reason = "built without CUDA (nvcc not found at build time, or CAMTRACK_ENABLE_CUDA=OFF)";
#else
    st.compiled = true;
    // Both succeed without a driver (driver_version is then 0).
    if (cudaDriverGetVersion(&st.driver_version) != cudaSuccess) st.driver_version = 0;
    if (cudaRuntimeGetVersion(&st.runtime_version) != cudaSuccess) st.runtime_version = 0;
    int count = 0;
    const cudaError_t err = cudaGetDeviceCount(&count);
    if (err != cudaSuccess) {
      cudaGetLastError();  // clear the (non-sticky) error so later calls do not report it again
      st.reason = Describe("cudaGetDeviceCount", err);
      return st;
    }
    if (count == 0) {
      st.reason = "no CUDA device visible (cudaGetDeviceCount returned 0; check CUDA_VISIBLE_DEVICES)";
      return st;
    }
    for (int i = 0; i < count; ++i) {
      cudaDeviceProp prop{};
      const cudaError_t perr = cudaGetDeviceProperties(&prop, i);
      if (perr != cudaSuccess) {
        cudaGetLastError();
        if (st.reason.empty()) st.reason = Describe("cudaGetDeviceProperties", perr);
        continue;
      }
      DeviceInfo d;
      d.index = i;
      d.name = prop.name;
      d.cc_major = prop.major;
      d.cc_minor = prop.minor;
      d.total_mem = prop.totalGlobalMem;
      st.devices.push_back(std::move(d));
    }
    st.available = !st.devices.empty();
    if (st.available) st.reason.clear();
#endif
  } catch (const std::exception& e) {  // only std::bad_alloc is possible here
    st.available = false;
    st.reason = std::string("CUDA probe failed: ") + e.what();
  }
  return st;
}

}  // namespace camtrack::cuda
