// camtrack_gpu_tests: CUDA tests (kernels against the CPU reference, RAII types). Built only with CUDA.
//   camtrack_gpu_tests [filter]
// Exit codes: 0 all passed, 1 a failure, 77 no usable CUDA device ("SKIP: no CUDA device: <reason>"), which
// test/gpu turns into a loud skip.
#include <cstdio>

#include "../test_main.h"
#include "cuda/device.h"

int main(int argc, char** argv) {
  const camtrack::cuda::CudaStatus st = camtrack::cuda::ProbeCuda();
  if (!st.available) {
    std::printf("SKIP: no CUDA device: %s\n", st.reason.c_str());
    return 77;
  }
  std::printf("CUDA runtime %d, driver %d\n", st.runtime_version, st.driver_version);
  for (const auto& d : st.devices)
    std::printf("device %d: %s (sm_%d%d, %.1f GiB)\n", d.index, d.name.c_str(), d.cc_major, d.cc_minor,
                d.total_mem / (1024.0 * 1024.0 * 1024.0));
  return ct_test::RunAll(argc, argv);
}
