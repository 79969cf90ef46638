// Without CUDA the kernel file is not compiled; this keeps BatchedAssociation linkable and makes using it a clear
// error instead of a link failure. The CPU reference (batched_association_cpu.cpp) is always built.
#include "core/common/error.h"
#include "core/track/gpu/batched_association.h"

#if !CAMTRACK_WITH_CUDA
namespace camtrack {
namespace track {

namespace {
[[noreturn]] void ThrowNoCuda() {
  throw Error(ErrorCode::kUnsupported, "track", "the GPU batched association is not available: this build has no CUDA",
              "rebuild with the CUDA toolkit (nvcc) installed, or use the CPU tracker");
}
}  // namespace

BatchedAssociation::BatchedAssociation(int max_tracks, int max_dets, float std_weight_position,
                                       float std_weight_velocity)
    : max_tracks_(max_tracks),
      max_dets_(max_dets),
      std_weight_position_(std_weight_position),
      std_weight_velocity_(std_weight_velocity) {
  ThrowNoCuda();
}

void BatchedAssociation::Predict(const AssociationBatch&, float*, float*, const uint8_t*, Box*,
                                 cuda::StreamHandle) const {
  ThrowNoCuda();
}

void BatchedAssociation::IouCost(const AssociationBatch&, const Box*, const Box*, const int32_t*, const int32_t*,
                                 float*, cuda::StreamHandle) const {
  ThrowNoCuda();
}

void BatchedAssociation::Update(int, const int32_t*, const float*, float*, float*, Box*, cuda::StreamHandle) const {
  ThrowNoCuda();
}

}  // namespace track
}  // namespace camtrack
#endif
