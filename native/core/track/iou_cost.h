#pragma once
// ByteTrack's IoU distance (the official ByteTrack C++ ious(), pixel-inclusive "+1" widths) and its cost for a
// track/detection pair of different classes. One definition for ByteTracker and the CPU reference of the batched
// association (gpu/batched_association_cpu.cpp), whose CUDA kernels transcribe the same expressions operation by
// operation, so the float expressions here must keep their order. Header only, no state; included (through
// gpu/batched_association.h) by nvcc as host code too.
#include <algorithm>

#include "core/common/geometry.h"

namespace camtrack {
namespace track {

// IoU distance given to a track/detection pair of different classes when class_aware: above any valid threshold
// (thresholds are in [0, 1]), far below the LAPJV's internal infinity.
constexpr float kClassMismatchCost = 1000.f;

// IoU as the reference computes it (pixel-inclusive, "+1" widths), a = track box, b = detection/other box.
inline float ReferenceIoU(const Box& a, const Box& b) {
  const float box_area = (b.x2 - b.x1 + 1) * (b.y2 - b.y1 + 1);
  const float iw = std::min(a.x2, b.x2) - std::max(a.x1, b.x1) + 1;
  if (iw <= 0) return 0.f;
  const float ih = std::min(a.y2, b.y2) - std::max(a.y1, b.y1) + 1;
  if (ih <= 0) return 0.f;
  const float ua = (a.x2 - a.x1 + 1) * (a.y2 - a.y1 + 1) + box_area - iw * ih;
  return iw * ih / ua;
}

// 1 - ReferenceIoU: the cost one entry of an association matrix holds (a = track box, b = detection box, the
// reference's argument order; the formula is symmetric up to rounding).
inline float ReferenceIouDistance(const Box& a, const Box& b) { return 1.f - ReferenceIoU(a, b); }

}  // namespace track
}  // namespace camtrack
