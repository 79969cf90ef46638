#include "core/track/tracker_util.h"

#include <cmath>
#include <string>

#include "core/common/error.h"

namespace camtrack {
namespace track {

namespace {
inline bool ValidBox(const Box& b) {
  return std::isfinite(b.x1) && std::isfinite(b.y1) && std::isfinite(b.x2) && std::isfinite(b.y2) && b.x2 > b.x1 &&
         b.y2 > b.y1;
}
}  // namespace

void CopyValidDetections(const Detection* dets, size_t n, const char* tracker_name, std::vector<Detection>& valid) {
  if (n > 0 && dets == nullptr) {
    throw Error(ErrorCode::kInvalidArgument, "track",
                std::string(tracker_name) + "::Update got a null detection array with n > 0",
                "pass n = 0 for a frame without detections");
  }
  valid.clear();
  for (size_t i = 0; i < n; ++i) {
    if (ValidBox(dets[i].box)) valid.push_back(dets[i]);
  }
}

}  // namespace track
}  // namespace camtrack
