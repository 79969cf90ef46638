#pragma once
// What CUDA this build and this machine offer. Value types; no CUDA headers (usable from the binding).
#include <cstddef>
#include <string>
#include <vector>

namespace camtrack::cuda {

// One visible CUDA device (index as the CUDA runtime numbers it, after CUDA_VISIBLE_DEVICES).
struct DeviceInfo {
  int index = 0;
  std::string name;
  int cc_major = 0;
  int cc_minor = 0;
  size_t total_mem = 0;  // bytes
};

struct CudaStatus {
  bool compiled = false;   // built with CAMTRACK_WITH_CUDA
  bool available = false;  // compiled and at least one device usable
  // Empty when available; otherwise the exact reason, e.g.
  // "cudaGetDeviceCount failed: cudaErrorInsufficientDriver (35): CUDA driver version is insufficient for CUDA
  // runtime version" or "built without CUDA (nvcc not found at build time, or CAMTRACK_ENABLE_CUDA=OFF)".
  std::string reason;
  int driver_version = 0;   // cudaDriverGetVersion, e.g. 13000; 0 = no driver
  int runtime_version = 0;  // cudaRuntimeGetVersion of the (static) runtime this build links
  std::vector<DeviceInfo> devices;
};

// Probes the CUDA runtime. Never throws and never aborts (a machine without driver gets available=false and the
// reason). Thread-safe (CUDA runtime calls are); cheap after the first call, which initialises the runtime.
CudaStatus ProbeCuda() noexcept;

}  // namespace camtrack::cuda
