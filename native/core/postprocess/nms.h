#pragma once
// camtrack::postprocess::Nms — greedy non-maximum suppression on the CPU.
//
// Thread-safety: a pure function of its arguments; concurrent calls are fine on distinct vectors.
// Ownership: works in place on the caller's `dets`; `scratch` is caller-owned working memory (its capacity is
// reused, so a caller that keeps it between calls does not allocate in steady state).
#include <vector>

#include "core/common/geometry.h"

namespace camtrack {
namespace postprocess {

// Sorts `dets` by descending score, then keeps a detection unless a higher-scored kept detection overlaps it with
// IoU > iou_threshold (class-aware: only detections of the same class suppress each other; class_agnostic: any).
// Stops after max_detections kept (max_detections <= 0: no limit). On return `dets` holds the kept detections in
// descending score order. IoU is camtrack::IoU (continuous coordinates, no +1).
void Nms(std::vector<Detection>& dets, float iou_threshold, bool class_agnostic, int max_detections,
         std::vector<int>& scratch);

// Sorts `dets` by descending score (ties keep no particular order) and keeps the first max_detections (<= 0: all).
void SortByScoreAndTruncate(std::vector<Detection>& dets, int max_detections);

}  // namespace postprocess
}  // namespace camtrack
