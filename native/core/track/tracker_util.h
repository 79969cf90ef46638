#pragma once
// Internal helpers shared by the tracker implementations: input sanitation (IouTracker, SortTracker) and the
// output + kNew/kRefound/kLost bookkeeping of a track in a frame (all three). Not part of the public tracker API.
// Ownership: nothing is kept; callers own every vector passed in. Thread-safety: none needed (no shared state);
// each call touches only its arguments, which belong to one tracker instance.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/common/geometry.h"
#include "core/track/tracker.h"

namespace camtrack {
namespace track {

// Detections with a corner beyond ±kMaxBoxCoord pixels are dropped by every tracker like non-finite ones: no
// camera frame is that large, and squaring such sizes in the Kalman covariances overflows float to inf/NaN, which
// then poisons IoU costs and matching.
constexpr float kMaxBoxCoord = 1e7f;

// True when `b` has finite corners within ±kMaxBoxCoord and positive width and height.
bool UsableBox(const Box& b);

// Tracker::Update's input step: throws camtrack::Error(kInvalidArgument, "track") naming `tracker_name`
// ("IouTracker", …) when dets == nullptr with n > 0 (before touching `valid`); otherwise clears `valid` and copies
// the detections whose box is UsableBox into it, in order. `valid` keeps its
// capacity, so a tracker that reserves it up front does not allocate below its high-water mark.
void CopyValidDetections(const Detection* dets, size_t n, const char* tracker_name, std::vector<Detection>& valid);

// Appends the output row of track `id` (shown with `box` in frame `frame`; `score` and `class_id` of its last
// detection; started in frame `start_frame`) to `out` and logs its event: kNew when `is_new` (its first output),
// else kRefound when it had been reported lost (`lost_reported` is then cleared).
void OutputTrack(int64_t id, const Box& box, float score, int32_t class_id, int64_t start_frame, bool is_new,
                 bool& lost_reported, int64_t frame, std::vector<TrackedObject>& out, TrackEventLog& events);

// Logs kLost for a track that was output before and is not output in frame `frame` (`box`: its last box) and sets
// `lost_reported`; does nothing when `lost_reported` is already set (reported, not output since).
void ReportLost(int64_t id, const Box& box, int32_t class_id, bool& lost_reported, int64_t frame,
                TrackEventLog& events);

}  // namespace track
}  // namespace camtrack
