#include "core/postprocess/nms.h"

#include <algorithm>

namespace camtrack {
namespace postprocess {

namespace {
inline bool ByScoreDesc(const Detection& a, const Detection& b) { return a.score > b.score; }
}  // namespace

void SortByScoreAndTruncate(std::vector<Detection>& dets, int max_detections) {
  std::sort(dets.begin(), dets.end(), ByScoreDesc);
  if (max_detections > 0 && dets.size() > static_cast<size_t>(max_detections)) dets.resize(max_detections);
}

void Nms(std::vector<Detection>& dets, float iou_threshold, bool class_agnostic, int max_detections,
         std::vector<int>& scratch) {
  std::sort(dets.begin(), dets.end(), ByScoreDesc);
  const size_t n = dets.size();
  const size_t limit = max_detections > 0 ? static_cast<size_t>(max_detections) : n;
  // scratch[i] != 0: suppressed. Each kept box scans only the boxes after it, so the cost is O(kept * n).
  scratch.assign(n, 0);
  size_t kept = 0;
  for (size_t i = 0; i < n && kept < limit; ++i) {
    if (scratch[i]) continue;
    const Detection keep = dets[i];
    dets[kept++] = keep;  // kept < = i: compaction never overwrites an unvisited entry
    for (size_t j = i + 1; j < n; ++j) {
      if (scratch[j]) continue;
      if (!class_agnostic && dets[j].class_id != keep.class_id) continue;
      if (IoU(keep.box, dets[j].box) > iou_threshold) scratch[j] = 1;
    }
  }
  dets.resize(kept);
}

}  // namespace postprocess
}  // namespace camtrack
