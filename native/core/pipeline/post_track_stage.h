#pragma once
// PostTrackStage: where per-stream analytics plug in — a stage after the tracker, on the postprocess thread. Each
// stream has its own list of stages (StreamConfig::post_track_stages); every delivered frame of the stream, inferred
// or not, goes through them in order, in frame order, right after the tracker, and each stage may attach values to
// the frame's result (FrameResult::annotations).
//
// Threading and ownership: one stage instance belongs to one stream (it may keep that stream's state: counts, zone
// occupancy, line crossings); it is called from the pipeline's postprocess thread only, never concurrently. The
// pipeline holds it (shared_ptr) while the stream exists. A stage must not block, and must not allocate per frame;
// an exception it throws costs that frame (dropped.inference and a warning), as a tracker failure does.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/common/geometry.h"
#include "core/track/tracker.h"

namespace camtrack::pipeline {

// One value a stage attached to a frame's result. Plain value; the strings have static storage (the stage's).
struct FrameAnnotation {
  const char* stage = "";  // PostTrackStage::name()
  const char* key = "";    // what the value is ("count", "in", "out", …)
  int64_t track_id = 0;    // the track it is about; 0: the frame as a whole
  double value = 0;
};

// What a stage sees of one frame (borrowed for the call).
struct PostTrackFrame {
  int32_t stream = -1;
  int64_t frame_index = 0;
  int64_t pts_ms = 0;
  bool inferred = true;  // false: no detector ran on it; the tracks are the tracker's predictions
  const Detection* detections = nullptr;  // empty when not inferred
  size_t num_detections = 0;
  const track::TrackedObject* tracks = nullptr;
  size_t num_tracks = 0;
};

// The per-frame output of a stage: a bounded append into the result's annotations (their capacity is reserved once
// per pooled result, so appending never allocates).
class FrameOutput {
 public:
  FrameOutput(std::vector<FrameAnnotation>& annotations, const char* stage) : out_(annotations), stage_(stage) {}
  // Attaches one value; false (nothing attached) once the result holds FrameResult's kMaxAnnotations.
  bool Add(const char* key, double value, int64_t track_id = 0) {
    if (out_.size() >= out_.capacity()) return false;
    out_.push_back(FrameAnnotation{stage_, key, track_id, value});
    return true;
  }

 private:
  std::vector<FrameAnnotation>& out_;
  const char* stage_;
};

class PostTrackStage {
 public:
  virtual ~PostTrackStage();
  // A short name with static storage (stamped on its annotations).
  virtual const char* name() const = 0;
  // One frame of its stream, after the tracker. Postprocess thread.
  virtual void OnFrame(const PostTrackFrame& frame, FrameOutput& out) = 0;
};

}  // namespace camtrack::pipeline
