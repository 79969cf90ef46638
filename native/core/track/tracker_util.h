#pragma once
// Internal helpers shared by the tracker implementations (IouTracker, SortTracker): input sanitation and the
// output + kNew/kRefound bookkeeping of a track that is output in a frame. Not part of the public tracker API.
// Ownership: nothing is kept; callers own every vector passed in. Thread-safety: none needed (no shared state);
// each call touches only its arguments, which belong to one tracker instance.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/common/geometry.h"
#include "core/track/tracker.h"

namespace camtrack {
namespace track {

// Tracker::Update's input step: throws camtrack::Error(kInvalidArgument, "track") naming `tracker_name`
// ("IouTracker", …) when dets == nullptr with n > 0 (before touching `valid`); otherwise clears `valid` and copies
// the detections whose box has finite corners and positive width and height into it, in order. `valid` keeps its capacity, so a tracker that
// reserves it up front does not allocate below its high-water mark.
void CopyValidDetections(const Detection* dets, size_t n, const char* tracker_name, std::vector<Detection>& valid);

// Appends the output row of track `t` (shown with `box` in frame `frame`) to `out` and logs its event: kNew when
// `is_new` (its first output), else kRefound when it had been reported lost (t.lost_reported is then cleared).
// TrackT needs the fields id, score, class_id, start_frame (frame of its first detection) and lost_reported.
template <class TrackT>
void OutputTrack(TrackT& t, const Box& box, bool is_new, int64_t frame, std::vector<TrackedObject>& out,
                 TrackEventLog& events) {
  TrackedObject o;
  o.track_id = t.id;
  o.box = box;
  o.score = t.score;
  o.class_id = t.class_id;
  o.frames_tracked = static_cast<int32_t>(frame - t.start_frame + 1);
  out.push_back(o);
  if (is_new) {
    events.Push(t.id, TrackEvent::Kind::kNew, box, t.class_id, frame);
  } else if (t.lost_reported) {
    t.lost_reported = false;
    events.Push(t.id, TrackEvent::Kind::kRefound, box, t.class_id, frame);
  }
}

}  // namespace track
}  // namespace camtrack
