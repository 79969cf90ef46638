#pragma once
// camtrack::track::IouTracker — a plain IoU tracker (in the spirit of Bochinski et al., "High-Speed
// Tracking-by-Detection Without Using Image Information", AVSS 2017), without a motion model: each frame, tracks
// (represented by the box of their last matched detection) are matched to detections by IoU, either optimally
// (LAPJV, maximising the summed IoU above the threshold; default) or greedily (highest IoU first).
//   - A match needs IoU >= iou_threshold (continuous coordinates, no +1) and, if class_aware, the same class.
//   - An unmatched detection starts a tentative track; it is confirmed after min_hits matches in a row (its first
//     detection counts as one) and gets its id then (ids 1, 2, … without gaps). A tentative track that misses a
//     frame is dropped.
//   - A confirmed track is output in every frame where it is matched; when unmatched it is kept (not output) for up
//     to max_age frames, still matchable at its last box, and deleted when frames since its last match > max_age
//     (frames of the stream: a frame that was not inferred, Predict(), ages a lost track too; see Tracker::Predict).
// Ownership: the tracker owns its tracks and scratch vectors (reserved up front, grow only past the high-water
// mark), so a steady-state Update() does not allocate. Thread-safety: none; one instance per stream.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/track/lapjv.h"
#include "core/track/tracker.h"

namespace camtrack {
namespace track {

// No defaults (zero-initialised; min_hits 0 is invalid): camtrack's are in src/config/schema.ts.
struct IouParams {
  float iou_threshold = 0;   // minimum IoU of a match
  int max_age = 0;           // frames a confirmed track is kept without a match
  int min_hits = 0;          // consecutive matches (first detection included) before a track is confirmed, >= 1
  bool greedy = false;         // greedy highest-IoU-first matching instead of the optimal assignment
  bool class_aware = false;    // if true, a track only matches detections of its own class
};

class IouTracker : public Tracker {
 public:
  // Throws camtrack::Error(kInvalidArgument, "track") for iou_threshold outside [0, 1], max_age < 0 or
  // min_hits < 1.
  explicit IouTracker(const IouParams& params);
  ~IouTracker() override;
  // The constructor's checks, without a tracker (throws the same errors).
  static void Validate(const IouParams& params);
  // Changes the parameters from the next Update() on, keeping every track, its id and state (a stream's live
  // reconfiguration). Throws like the constructor, and then changes nothing.
  void SetParams(const IouParams& params);

  void Update(const Detection* dets, size_t n, std::vector<TrackedObject>& out) override;
  void Predict(std::vector<TrackedObject>& out) override;

 private:
  void ResetState() override;
  struct Track {
    Box box;
    int64_t id;  // 0 while tentative
    int64_t start_frame;
    int time_since_update;
    int hits;
    float score;
    int32_t class_id;
    bool lost_reported;
  };
  struct Pair {
    float iou;
    int track;
    int det;
  };
  void Associate();

  IouParams params_;
  int64_t frame_ = 0;
  int64_t next_id_ = 1;
  std::vector<Track> tracks_;

  // Per-update scratch (cleared, capacity kept).
  std::vector<Detection> dets_;
  std::vector<float> cost_;
  std::vector<Pair> pairs_;
  std::vector<Match> matches_;  // row = track, col = detection
  std::vector<int> unmatched_tracks_, unmatched_dets_;
  std::vector<char> det_used_, trk_used_;
  LapjvSolver lapjv_;
};

}  // namespace track
}  // namespace camtrack
