#include "core/track/tracker_util.h"

#include <cmath>
#include <string>

#include "core/common/error.h"

namespace camtrack {
namespace track {

bool UsableBox(const Box& b) {
  const auto in_range = [](float v) { return std::isfinite(v) && std::fabs(v) <= kMaxBoxCoord; };
  return in_range(b.x1) && in_range(b.y1) && in_range(b.x2) && in_range(b.y2) && b.x2 > b.x1 && b.y2 > b.y1;
}

void CopyValidDetections(const Detection* dets, size_t n, const char* tracker_name, std::vector<Detection>& valid) {
  if (n > 0 && dets == nullptr) {
    throw Error(ErrorCode::kInvalidArgument, "track",
                std::string(tracker_name) + "::Update got a null detection array with n > 0",
                "pass n = 0 for a frame without detections");
  }
  valid.clear();
  for (size_t i = 0; i < n; ++i) {
    if (UsableBox(dets[i].box)) valid.push_back(dets[i]);
  }
}

void OutputTrack(int64_t id, const Box& box, float score, int32_t class_id, int64_t start_frame, bool is_new,
                 bool& lost_reported, int64_t frame, std::vector<TrackedObject>& out, TrackEventLog& events) {
  TrackedObject o;
  o.track_id = id;
  o.box = box;
  o.score = score;
  o.class_id = class_id;
  o.frames_tracked = static_cast<int32_t>(frame - start_frame + 1);
  out.push_back(o);
  if (is_new) {
    events.Push(id, TrackEvent::Kind::kNew, box, class_id, frame);
  } else if (lost_reported) {
    lost_reported = false;
    events.Push(id, TrackEvent::Kind::kRefound, box, class_id, frame);
  }
}

void ReportLost(int64_t id, const Box& box, int32_t class_id, bool& lost_reported, int64_t frame,
                TrackEventLog& events) {
  if (lost_reported) return;
  lost_reported = true;
  events.Push(id, TrackEvent::Kind::kLost, box, class_id, frame);
}

}  // namespace track
}  // namespace camtrack
