#pragma once
// Helpers shared by the batched-association GPU tests (association_gpu_test.cpp, association_palace_gpu_test.cpp):
// host vector <-> device buffer copies on a stream, the tolerance, the random generator. Test code only.
#include <cuda_runtime_api.h>

#include <algorithm>
#include <vector>

#include "../association_workload.h"
#include "core/track/gpu/batched_association.h"
#include "core/track/kalman_filter.h"
#include "core/track/strack.h"
#include "cuda/buffers.h"
#include "cuda/check.h"

namespace ct_gpu_test {

using camtrack::Box;
using camtrack::cuda::DeviceBuffer;
using camtrack::cuda::Event;
using camtrack::cuda::Stream;
using camtrack::track::AssociationBatch;
using camtrack::track::BatchedAssociation;
using camtrack::track::KalmanCovariance;
using camtrack::track::KalmanFilter;
using camtrack::track::KalmanMean;
using camtrack::track::Tlwh;

constexpr double kRelTol = 1e-4;  // |gpu - cpu| <= kRelTol * max(|cpu|, 1)

using AgRng = camtrack::testing::Lcg;

// Host vector <-> device buffer on `stream` (the Stream is non-blocking: plain cudaMemcpy would not order).
template <typename T>
inline DeviceBuffer AgUpload(const std::vector<T>& v, Stream& stream) {
  DeviceBuffer d(std::max<size_t>(v.size() * sizeof(T), 16));
  if (!v.empty())
    CAMTRACK_CUDA_CHECK(cudaMemcpyAsync(d.data(), v.data(), v.size() * sizeof(T), cudaMemcpyHostToDevice,
                                        stream.get()));
  return d;
}
template <typename T>
inline void AgDownload(const DeviceBuffer& d, std::vector<T>& v, Stream& stream) {
  if (!v.empty())
    CAMTRACK_CUDA_CHECK(cudaMemcpyAsync(v.data(), d.data(), v.size() * sizeof(T), cudaMemcpyDeviceToHost,
                                        stream.get()));
  stream.Synchronize();
}

}  // namespace ct_gpu_test
